"""The rectification loop back into the documents (issue 18 item 5) and the `govinspect rectify` commands.

A county built with the ORM as the engine stores rounds: the first round is issued with `govinspect rectify issue`
(its frozen 整改清单 carry item ids, the items' deadlines and links to the unit portal), a unit fills in the 整改情况
column of its list with openpyxl and `govinspect rectify import` turns the rows into claims and disputes (bad rows
reported, a second import does nothing); the items then go their ways (re-checked fixed, could not be re-checked,
dispute accepted, overdue by `rectify tick`, found again by the next round through `rectify sync`), and the next
round's bulletin — read back from the .docx — reports them: the 复查整改情况 paragraph, the annual-assessment
deductions and the 整改情况 table per unit. Typical examples chosen by the office replace the automatic choice.
"""

import datetime as dt
import zipfile

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook

from govinspect.cli import main
from govinspect.engine.finding import Evidence, Finding as EngineFinding
from govinspect.rectify.issue import issued_dir
from govinspect.rectify.models import Issuance, Item, ItemEvent
from govinspect.rectify.services import accept_dispute, deadline_for, transition
from govinspect.rectify.workbook import import_claims
from govinspect.registry.models import Unit, Website
from govinspect.reports import write_reports
from govinspect.reports.bulletin import compose, rectification_paragraph, write_bulletin
from govinspect.reports.data import cn_date, round_data
from govinspect.rounds.models import Finding, Round, RoundJob, RoundSite
from govinspect.rules import load_rules
from govinspect.rules.ruleset import RuleSet
from rectify_util import crawl_log

pytestmark = pytest.mark.django_db

RULES = RuleSet.load()
AS_OF_1, AS_OF_2 = dt.date(2026, 9, 30), dt.date(2026, 11, 20)
ISSUED_ON = dt.date(2026, 10, 9)
BASE = "https://zhenggai.qinghe.gov.cn"


class County:
    def __init__(self):
        self.top = Unit.objects.create(name="清河县人民政府", kind="区县")
        self.b = Unit.objects.create(name="清河县教育局", short_name="教育局", kind="部门", parent=self.top)
        self.a = Unit.objects.create(name="清河县卫生健康局", short_name="卫健局", kind="部门", parent=self.top)
        self.sites = {k: Website.objects.create(name=f"{u.name}网站", home_url=f"http://{k}.qinghe.gov.cn/", owner=u)
                      for k, u in (("a", self.a), ("b", self.b))}

    def round(self, name, as_of, unchecked=()):
        rnd = Round.objects.create(name=name, region="清河县", office="清河县人民政府办公室", as_of=as_of,
                                   period_start=as_of - dt.timedelta(days=91), status="done")
        rnd.rs = {}
        for k, site in self.sites.items():
            ok = k not in unchecked
            job = RoundJob.objects.create(round=rnd, kind="site", target=site.pk, state="done" if ok else "could_not_check")
            # the crawl log: a checked site's pages of the earlier rounds' findings fetched again (the next round
            # closes a page's item only where it fetched that page)
            pages = [site.home_url, *Finding.objects.filter(round_site__website=site).values_list("url", flat=True)] if ok else []
            rnd.rs[k] = RoundSite.objects.create(
                round=rnd, job=job, website=site, status="checked" if ok else "could_not_check",
                verdict="pass" if ok else "unknown", score=90 if ok else None, publication_count=20 if ok else 0,
                reason="" if ok else "首页无法访问（timeout after 15s），本轮未能检查", log_path=crawl_log(rnd, k, pages))
        return rnd

    def find(self, rnd, k, rule, detail, path, column=None, **facts):
        rs = rnd.rs[k]
        f = EngineFinding.at_url(rule, rs.website.home_url + path, detail, kind="column" if column else "page",
                                 site=rs.website.home_url, column=column, facts=facts)
        f.evidence = Evidence(warc_file=f"rounds/{rnd.pk}/{k}.warc.gz", warc_offset=10)
        row = Finding.from_engine(f, RULES, round=rnd, job=rs.job, round_site=rs, responsible_unit=rs.website.owner)
        row.save()
        return row


def _first_round(c: County):
    r1 = c.round("第三季度检查", AS_OF_1)
    F = {
        "b1": c.find(r1, "b", "site.homepage_stale", "首页最新信息发布于2026年9月1日，超过2周未更新", "", newest_date="2026-09-01"),
        "b2a": c.find(r1, "b", "content.typo", "《秋季开学通知》中“按装”疑为“安装”", "news/1.html"),
        "b2b": c.find(r1, "b", "content.typo", "《招生简章》中“既使”疑为“即使”", "news/2.html"),
        "b3": c.find(r1, "b", "column.empty", "栏目“教育督导”无任何信息", "dd/", column="教育督导"),
        "b4": c.find(r1, "b", "column.empty", "栏目“学前教育”无任何信息", "xq/", column="学前教育"),
        "a1": c.find(r1, "a", "column.stale", "栏目“通知公告”最新信息发布于2026年3月2日", "tzgg/", column="通知公告",
                     newest_date="2026-03-02"),
        "a2": c.find(r1, "a", "privacy.mobile", "《义诊活动报名表》公开了完整手机号码（138****0079）", "yz/1.html"),
    }
    return r1, F


def _list_rows(path):
    ws = load_workbook(path)["整改清单"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    return ws, rows[0], rows[1:]


def test_the_loop_back_into_the_documents(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOVINSPECT_BASE_URL", BASE + "/")
    c = County()
    r1, F = _first_round(c)

    # before issue: the deadline is the round's working days from the as-of date (the National Day week not counted),
    # the lists are as they were (no item ids)
    before = compose(round_data(r1))
    due0 = RULES.calendar.add_workdays(AS_OF_1, load_rules("rectify")["days"])
    assert (due0 - AS_OF_1).days > 15 + 7
    assert before["deadline"] == cn_date(due0)
    assert any(f"于{cn_date(due0)}前将整改情况报清河县人民政府办公室" in p for p in before["requirements"])
    assert "rectify_days" not in load_rules("bulletin")  # one setting: rules/rectify.toml (or the round's own)
    out0 = write_reports(r1, tmp_path / "预览")
    _, head, _ = _list_rows(out0["rectification"] / "清河县教育局.xlsx")
    assert head[:6] == ["序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限"] and "事项编号" not in head

    # typical examples picked by the office replace the automatic choice (stale ids are skipped)
    typo = next(t for h, t in before["groups"] if "疑似错别字" in t or "按装" in t)
    assert "按装" in typo and "既使" in typo  # automatic: both (examples = 2)
    r1.examples = {"content.typo": [F["b2b"].pk, 999999, F["a2"].pk]}
    r1.save(update_fields=["examples"])
    data = round_data(r1)
    assert data["round"]["examples"] == {"content.typo": [F["b2b"].pk]}
    typo = next(t for h, t in compose(data)["groups"] if "既使" in t)
    assert "按装" not in typo

    # issue with the CLI: 10 working days from 9 October
    assert main(["rectify", "issue", str(r1.pk), "--date", ISSUED_ON.isoformat(), "--days", "10", "--by", "办公室张三"]) == 0
    said = capsys.readouterr().out
    iss = Issuance.objects.get(round=r1)
    due1 = deadline_for(Round.objects.get(pk=r1.pk), ISSUED_ON)
    assert iss.rectify_days == 10 and due1 == RULES.calendar.add_workdays(ISSUED_ON, 10) and str(due1) in said
    items = {k: Item.objects.get(finding=f) for k, f in F.items()}
    assert {i.deadline for i in items.values()} == {due1}
    assert main(["rectify", "issue", str(r1.pk)]) == 2 and "已下发" in capsys.readouterr().err

    # the issued bulletin prints the items' deadline; the frozen 整改清单 carry item ids, deadlines and portal links
    assert compose(round_data(r1))["deadline"] == cn_date(due1)
    frozen = issued_dir(r1)
    paragraphs = [p.text for p in Document(frozen / "通报.docx").paragraphs]
    assert any(f"于{cn_date(due1)}前将整改情况报" in p for p in paragraphs)
    listed = frozen / "整改清单" / "清河县教育局.xlsx"
    ws, head, rows = _list_rows(listed)
    assert head[:8] == ["事项编号", "序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限", "在线办理"]
    assert head[8] == "整改情况（由责任单位填写）"
    b_items = {items[k].pk for k in ("b1", "b2a", "b2b", "b3", "b4")}
    assert {r[0] for r in rows} == b_items and all(r[6] == cn_date(due1) for r in rows)
    for n, r in enumerate(rows, start=2):
        assert r[7] == f"{BASE}/rectify/items/{r[0]}/" and ws.cell(n, 8).hyperlink.target == r[7]
    ws_a = load_workbook(frozen / "整改清单" / "清河县卫生健康局.xlsx")["整改清单"]
    assert {ws_a.cell(n, 1).value for n in (2, 3)} == {items["a1"].pk, items["a2"].pk}

    # the unit fills in 整改情况 and imports its list
    row_of = {r[0]: n for n, r in enumerate(rows, start=2)}
    wb = load_workbook(listed)
    ws = wb["整改清单"]
    ws.cell(row_of[items["b1"].pk], 9).value = "已于10月12日更新首页信息\u202e"
    ws.cell(row_of[items["b2a"].pk], 9).value = "不属于问题：“按装”为引用的原文标题，不应修改"
    ws.cell(row_of[items["b3"].pk], 9).value = "已补充督导栏目内容"
    ws.cell(row_of[items["b4"].pk], 9).value = "=HYPERLINK(\"http://evil.example\",\"已整改\")"
    ws.append(["abc", "", "", "", "", "", "", "", "已整改"])  # a made-up id
    ws.append([items["a2"].pk, "", "", "", "", "", "", "", "已删除手机号码"])  # another unit's item
    filled = tmp_path / "教育局-已填写.xlsx"
    wb.save(filled)
    assert main(["rectify", "import", str(filled), "--unit", "清河县教育局", "--by", "教育局李四"]) == 1
    got = capsys.readouterr()
    assert "反馈已整改 2 项" in got.out and "申诉 1 项" in got.out and "未处理 3 处" in got.out
    assert f"第{row_of[items['b4'].pk]}行：整改情况以“=”开头，疑似公式" in got.err
    assert f"第{ws.max_row - 1}行：事项编号“abc”无效" in got.err
    assert f"第{ws.max_row}行：事项{items['a2'].pk}不属于本单位，未处理" in got.err
    for i in items.values():
        i.refresh_from_db()
    assert (items["b1"].state, items["b2a"].state, items["b3"].state) == ("claimed", "disputed", "claimed")
    assert items["b4"].state == items["a2"].state == items["b2b"].state == "open"
    claim = items["b1"].events.get(action="claim")
    assert claim.actor == "教育局李四" and claim.note == "已于10月12日更新首页信息"  # the bidirectional override removed
    assert items["b1"].recheck_round is not None and items["b1"].recheck_round.item_recheck  # re-check queued at once
    n_events = ItemEvent.objects.count()
    assert main(["rectify", "import", str(filled), "--unit", "清河县教育局"]) == 1  # the same file again: nothing new
    assert "反馈已整改 0 项" in capsys.readouterr().out and ItemEvent.objects.count() == n_events

    # hostile files: not a workbook, no 整改清单 sheet, a zip bomb — refused as a whole, nothing done
    fake = tmp_path / "假的.xlsx"
    fake.write_text("这不是表格", encoding="utf-8")
    other = tmp_path / "别的表.xlsx"
    wb2 = Workbook()
    wb2.active.title = "名单"
    wb2.save(other)
    bomb = tmp_path / "炸弹.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (8 * 1024 * 1024))
    for path, why in ((fake, "无法读取该文件"), (other, "没有“整改清单”工作表"), (bomb, "无法读取该文件"),
                      (tmp_path / "没有.xlsx", "不存在")):
        assert main(["rectify", "import", str(path)]) == 2
        assert why in capsys.readouterr().err, path
    assert ItemEvent.objects.count() == n_events
    assert main(["rectify", "import", str(out0["rectification"] / "清河县教育局.xlsx")]) == 2  # listed before issue
    assert "通报下发前生成的清单" in capsys.readouterr().err

    # the items go their ways: re-checked fixed, could not be re-checked, dispute accepted; the deadline passes
    transition(items["b1"], "fixed", "system", "recheck", note="复查未再发现该问题", recheck_round=None)
    # a new text for an item the re-check found fixed is refused with the reason; the office may import any unit's row
    ws.cell(row_of[items["b1"].pk], 9).value = "再次确认已更新"
    ws.cell(ws.max_row, 9).value = "已删除义诊报名表中的手机号码"
    wb.save(filled)
    got = import_claims(filled, "办公室张三")
    assert got["claimed"] == 1 and got["items"] == [items["a2"].pk]
    assert {"row": row_of[items["b1"].pk], "reason": f"事项{items['b1'].pk}：整改事项为“已整改”，不能反馈已整改"} in got["errors"]
    items["a2"].refresh_from_db()
    assert items["a2"].state == "claimed"
    transition(items["a2"], "present", "system", "recheck", note="复查时仍存在", recheck_round=None)
    assert main(["rectify", "tick", "--today", (due1 + dt.timedelta(days=3)).isoformat()]) == 0
    assert "标记逾期 4 项" in capsys.readouterr().out  # b2b, b4, a1, a2 (open); b3 waits for its queued re-check
    transition(items["b3"], "unverified", "system", "recheck", note="网站无法访问，将再次复查", recheck_round=None)
    accept_dispute(items["b2a"], "办公室张三", "引用原文，同意")
    assert main(["rectify", "list", "--unit", "教育局", "--state", "逾期"]) == 0
    listing = capsys.readouterr().out
    assert str(items["b2b"].pk) in listing and str(items["b4"].pk) in listing and "共 2 项" in listing
    assert main(["rectify", "list", "--state", "好了"]) == 2 and "没有“好了”这一整改状态" in capsys.readouterr().err

    # the next round finds the stale column again, not the personal data; it could not reach 教育局's website (its
    # items stay as they are: not looked at is never fixed); sync follows the items through it
    r2 = c.round("第四季度检查", AS_OF_2, unchecked=("b",))
    again = c.find(r2, "a", "column.stale", "栏目“通知公告”最新信息发布于2026年3月2日", "tzgg/", column="通知公告",
                   newest_date="2026-03-02")
    assert again.fingerprint == F["a1"].fingerprint
    snap = RULES.snapshot()
    snap["files"]["rectify"] = {**snap["files"]["rectify"], "overdue": {"points": 2, "cap": 3}}  # the scheme's deductions
    r2.rules_snapshot = snap
    r2.save(update_fields=["rules_snapshot"])
    assert main(["rectify", "sync", str(r2.pk)]) == 0
    assert "仍存在 1 项，已整改 1 项" in capsys.readouterr().out
    for i in items.values():
        i.refresh_from_db()
    states = {k: i.state for k, i in items.items()}
    # a1 was overdue when found again: it stays 逾期 (with the new evidence), never back to 仍存在
    assert states == {"b1": "fixed", "b2a": "accepted", "b2b": "overdue", "b3": "unverified", "b4": "overdue",
                      "a1": "overdue", "a2": "fixed"}

    data = round_data(r2)
    rf = data["rectification"]
    assert (rf["total"], rf["fixed"], rf["present"], rf["overdue"], rf["unverified"], rf["accepted"]) == (7, 2, 0, 3, 1, 1)
    # 2 points per overdue item, at most 3 per unit (the round's scheme)
    assert [(u["unit"], u["deduction"]) for u in rf["units"]] == [("清河县教育局", 3), ("清河县卫生健康局", 2)]
    path = write_bulletin(data, tmp_path / "第四季度" / "通报.docx")
    doc = Document(path)
    text = [p.text for p in doc.paragraphs]
    para = next(p for p in text if "复查整改情况" in p)
    assert para.endswith("复查整改情况。对第三季度检查通报的7个问题，已整改2个，逾期未整改3个，未能复查1个，申诉成立1个。"
                         "逾期未整改的问题按规定在政务公开工作年度考核中扣分：清河县教育局2个问题逾期未整改，扣3分；"
                         "清河县卫生健康局1个问题逾期未整改，扣2分。")
    assert "均已整改" not in para
    assert any("整改不到位" in p and "2个单位的3个问题未整改到位" in p for p in text)  # 2 units, present + overdue items
    assert any(p.endswith("第三季度检查通报问题整改情况") for p in text)  # the 附件 list
    table = next(t for t in doc.tables if t.rows[0].cells[1].text == "责任单位" and t.rows[0].cells[-1].text == "年度考核扣分")
    cells = [[x.text for x in r.cells] for r in table.rows]
    assert cells[0] == ["序号", "责任单位", "下发问题数", "已整改", "仍存在", "逾期", "未能复查", "申诉中/申诉成立",
                        "待整改/已反馈", "年度考核扣分"]
    assert cells[1] == ["1", "清河县教育局", "5", "1", "0", "2", "1", "0/1", "0", "3"]
    assert cells[2] == ["2", "清河县卫生健康局", "2", "1", "0", "1", "0", "0/0", "0", "2"]
    assert cells[3][1:] == ["合计", "7", "2", "0", "3", "1", "0/1", "0", "5"]

    # the audit export of the round's items
    audit = tmp_path / "整改记录.xlsx"
    assert main(["rectify", "audit", "--out", str(audit), "--round", str(r1.pk)]) == 0
    assert audit.is_file() and load_workbook(audit).sheetnames
    assert main(["rectify", "audit", "--out", str(audit), "--round", str(r2.pk)]) == 2  # r2 issued nothing


def test_paragraph_says_all_fixed_only_when_every_item_was_verified():
    tpl = load_rules("bulletin")
    rf = {"previous": "第三季度检查", "total": 3, "fixed": 3, "present": 0, "overdue": 0, "unverified": 0, "accepted": 0,
          "disputed": 0, "claimed": 0, "open": 0, "deductions": []}
    assert rectification_paragraph(rf, tpl, {}) == "复查整改情况。第三季度检查通报的3个问题均已整改。"
    # 已反馈 and 未能复查 are never fixed
    rf.update(fixed=1, claimed=1, unverified=1)
    assert rectification_paragraph(rf, tpl, {}) == ("复查整改情况。对第三季度检查通报的3个问题，已整改1个，未能复查1个，"
                                                     "已反馈待复查1个。")


def test_without_items_the_recheck_paragraph_stays(tmp_path):
    c = County()
    r1, _ = _first_round(c)
    r2 = c.round("第四季度检查", AS_OF_2)
    data = round_data(r2)
    assert data["rectification"] == {} and data["rectify"]["issued"] is False
    assert not any("复查整改情况" in p for p in compose(data)["overview"])  # no items, no re-check: nothing said
