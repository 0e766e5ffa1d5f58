"""End to end through the real console script: demo round, bulletin, attachments, check-site, report."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

BIN = Path(sys.executable).parent / "govinspect"


def run(*args, env=None, timeout=600):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout, env=e)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    r = run("demo", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r.stdout


def test_demo_writes_three_files(demo):
    out, stdout = demo
    for name in ("通报.docx", "附件.xlsx", "round.json"):
        assert (out / name).stat().st_size > 1000
    assert "生成通报" in stdout


def test_round_json_matches_ground_truth(demo):
    out, _ = demo
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    truth = json.loads((out / "ground-truth.json").read_text(encoding="utf-8"))
    s = data["summary"]
    exp = {x["home_url"]: x for x in truth["sites"]}
    assert s["sites_total"] == len(truth["sites"])
    assert s["sites_unknown"] == sum(x["expected"] == "could_not_check" for x in truth["sites"])
    assert s["pass"] == sum(x["expected_verdict"] == "pass" for x in truth["sites"])
    assert s["fail"] == sum(x["expected_verdict"] == "fail" for x in truth["sites"])
    for site in data["sites"]:
        assert site["verdict"] == (exp[site["url"]]["expected_verdict"] or "unknown")
        for col in site["columns"]:
            assert {"name", "url", "category", "newest_date", "item_count", "stale", "empty"} <= set(col)
    ev = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    for rule in ("column.stale", "column.empty"):
        assert ev[rule]["precision"] == 1.0 and ev[rule]["recall"] == 1.0
    # every rule the demo exercises, the office's registers and reply letters included, is exact
    assert {r for r, v in ev.items() if v["precision"] is not None and (v["precision"] < 1 or v["recall"] < 1)} == set()
    assert ev["document.not_published"]["tp"] == 1 and ev["reply.late"]["tp"] == 1


def test_bulletin_docx_structure_and_numbers(demo):
    out, _ = demo
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    s = data["summary"]
    doc = Document(out / "通报.docx")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.startswith("关于2026年第四季度清河县政府网站检查情况的通报")
    for heading in ("一、总体情况", "二、存在的主要问题", "三、下一步工作要求", "附件：1."):
        assert heading in text
    assert (f"对清河县{s['sites_total']}个政府网站进行全覆盖检查，合格网站{s['pass']}个，不合格网站{s['fail']}个，"
            f"检查合格率为{s['pass_rate']}%。另有{s['sites_unknown']}个网站在检查期间无法访问") in text
    assert f"发现更新不及时栏目{s['columns_stale']}个、空白栏目{s['columns_empty']}个" in text
    assert "清河县城关镇人民政府首页最新信息发布于" in text
    assert "清河县发展和改革局（首页无法访问" in text  # could not check, said as such
    # the two accounts of one duplicate pair are one example, not "A与B；B与A"
    assert text.count("清河县农业农村局在微信公众号开设多个账号") == 1
    sec = doc.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.top_margin.mm) == 37
    heads = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    assert heads == [["序号", "县直/区域", "存在的问题", "责任单位/主管单位"], ["序号", "区域", "存在的问题", "主管单位"],
                     ["序号", "区域", "开设主体", "政务新媒体名称", "存在的问题", "主管单位"]]
    web = {r.cells[3].text: (r.cells[1].text, r.cells[2].text) for r in doc.tables[1].rows[1:]}
    assert "应更新但长期未更新的栏目数量超过(含)10个" in web["清河县人力资源和社会保障局"][1]
    assert web["清河县人力资源和社会保障局"][0] == "县直部门"  # the county's own departments
    assert web["清河县城关镇人民政府"] == ("清河县城关镇", web["清河县城关镇人民政府"][1])  # a town is its own 区域
    assert "首页超过2周未更新" in web["清河县城关镇人民政府"][1]
    assert web["清河县发展和改革局"][1] == "检查期间网站无法访问，本轮未能完成检查"
    accounts = [[c.text for c in r.cells] for r in doc.tables[2].rows[1:]]
    assert ["清河县城关镇", "清河县城关镇人民政府", "清河城关镇人民政府发布（微信公众号）",
            "未在“全国政务新媒体信息报送系统”登记备案", "清河县城关镇人民政府"] in [r[1:] for r in accounts]


def test_attachment_workbook(demo):
    out, _ = demo
    wb = load_workbook(out / "附件.xlsx")
    assert len(wb.sheetnames) == 5 and wb.sheetnames[3:] == ["栏目问题明细", "网站统计"]
    ws1 = wb[wb.sheetnames[0]]
    assert [c.value for c in ws1[1]] == ["序号", "县直/区域", "存在的问题", "责任单位/主管单位"]
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    assert wb["栏目问题明细"].max_row - 1 == data["summary"]["columns_stale"] + data["summary"]["columns_empty"]
    assert ws1.freeze_panes == "A2" and ws1.auto_filter.ref
    doc = Document(out / "通报.docx")
    assert ws1.max_row == len(doc.tables[0].rows)
    stats = wb["网站统计"]
    assert stats.max_row == 1 + 9


def test_report_regenerates_without_crawling(demo, tmp_path):
    out, _ = demo
    r = run("report", "1", "--out", str(tmp_path), env={"GOVINSPECT_DATA_DIR": str(out / "data")})
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "round.json").read_text(encoding="utf-8"))["summary"] == \
        json.loads((out / "round.json").read_text(encoding="utf-8"))["summary"]
    bad = run("report", "99", "--out", str(tmp_path), env={"GOVINSPECT_DATA_DIR": str(out / "data")})
    assert bad.returncode == 2 and "没有编号为 99" in bad.stderr


def test_check_site_contract(sandbox, county, tmp_path):
    out = tmp_path / "cgz.json"
    resolve = [arg for host, (ip, port) in sandbox.resolve_map.items() for arg in ("--resolve", f"{host}={ip}:{port}")]
    r = run("check-site", sandbox.urls["cgz"], "--as-of", "2026-11-23", "--allow-network", "127.0.0.0/8", "--delay", "0",
            "--concurrency", "4", "--offline-dns", "--link-recheck", "0.2", "--reference", "http://www.gov.cn/", *resolve,
            "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text(encoding="utf-8"))
    assert {"site", "as_of", "pages_fetched", "columns", "findings"} <= set(d)
    assert d["as_of"] == "2026-11-23" and d["pages_fetched"] > 50
    assert {"name", "url", "category", "newest_date", "item_count", "stale", "empty"} <= set(d["columns"][0])
    assert {"rule", "detail", "fingerprint", "subject", "location", "facts", "evidence"} <= set(d["findings"][0])
    assert all(f["location"].get("url") and len(f["fingerprint"]) == 32 for f in d["findings"])
    assert len(d["rules_hash"]) == 64 and d["verdict"] in ("pass", "fail") and d["score"] is not None
    assert {"site.homepage_stale", "link.dead"} <= {f["rule"] for f in d["findings"]}
    assert d["checks"]["links_external"]["count"] >= 3 and d["checks"]["links_external"]["state"] == "checked"
    # without --warc-dir the crawl was kept in a temporary directory (not in memory) that is gone now: nothing points there
    assert d["warc"] is None and "govinspect-check-" not in out.read_text(encoding="utf-8")


def test_check_site_refuses_loopback_without_flag(sandbox):
    r = run("check-site", sandbox.urls["cgz"], "--as-of", "2026-11-23", "--quiet")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert d["status"] == "could_not_check" and "内网" in d["reason"] and d["findings"] == []


def test_bad_arguments_are_explained():
    r = run("check-site", "http://x.gov.cn/", "--as-of", "23/11/2026")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    r = run("registry", "import", "/nonexistent.xlsx", env={"GOVINSPECT_DATA_DIR": "/tmp/govinspect-test-cli"})
    assert r.returncode == 2 and "文件不存在" in r.stderr


def test_sandbox_eval_command():
    r = run("sandbox", "eval", "--sites", "6", "--pages", "60", "--strict")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "column.stale" in r.stdout and "1.000" in r.stdout


def test_demo_round_carries_letters_accounts_and_registers(demo):
    """The demo's round: new-media accounts, mailbox/12345 statistics, the document and proposal registers and
    the reply letters all reach round.json and the bulletin."""
    from govinspect.sandbox.registers import document_register, proposal_register
    from govinspect.sandbox.replies import LETTERS

    out, _ = demo
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    assert data["summary"]["accounts_total"] == 10 and data["summary"]["accounts_checked"] == 7
    assert data["letters"]["mailbox"]["received"] == 31 and data["letters"]["hotline"]["received"] == 240
    office = {}
    for f in data["office_findings"]:
        office.setdefault(f["rule"], 0)
        office[f["rule"]] += 1
    expected = {}
    for rules in list(document_register()[1].values()) + list(proposal_register()[1].values()):
        for r in rules:
            expected[r] = expected.get(r, 0) + 1
    for _, _, rules in LETTERS.values():
        for r in rules:
            expected[r] = expected.get(r, 0) + 1
    truth = json.loads((out / "ground-truth.json").read_text(encoding="utf-8"))
    for p in truth["problems"]:  # letters and 12345 tickets past their deadline (the sandbox's own holiday tables)
        if p["rule"] in ("letter.overdue", "ticket.overdue"):
            expected[p["rule"]] = expected.get(p["rule"], 0) + 1
    assert office == expected and expected["letter.overdue"] and expected["ticket.overdue"]
    text = "\n".join(p.text for p in Document(out / "通报.docx").paragraphs)
    assert "政务新媒体。抽查清河县10个政务新媒体运行情况，发现不合格政务新媒体" in text
    assert "公文公开。共制发文件6件，其中主动公开4件" in text and "依申请公开答复。抽查依申请公开答复书4份，3份存在问题" in text
    assert "网民留言办理情况。四季度，领导信箱共收到网民留言31件" in text and "依申请公开答复不规范" in text


def test_charts_and_rectification_lists(demo):
    out, _ = demo
    pngs = sorted((out / "图表").glob("*.png"))
    assert len(pngs) >= 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    doc = Document(out / "通报.docx")
    assert len(doc.inline_shapes) == len(pngs)  # every chart is in the bulletin
    assert any(p.text.startswith("图1 ") for p in doc.paragraphs)
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    units = {f["responsible_unit"] for f in data["findings"]}
    lists = sorted((out / "整改清单").glob("*.xlsx"))
    assert len(lists) == len(units)
    ws = load_workbook(out / "整改清单" / "清河县农业农村局.xlsx")["整改清单"]
    # the demo issues its round: each row is a rectification item (its id, its deadline, its page on the platform)
    assert [c.value for c in ws[1]][:8] == ["事项编号", "序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限", "在线办理"]
    mine = [f for f in data["findings"] if f["responsible_unit"] == "清河县农业农村局"]
    assert ws.max_row - 1 == len(mine) and ws.freeze_panes == "A2"
    from govinspect.rules.ruleset import RuleSet

    due = RuleSet.load().calendar.add_workdays(dt.date.fromisoformat(data["round"]["as_of"]), 15)  # 15 working days
    assert ws.cell(2, 7).value == f"{due.year}年{due.month}月{due.day}日"
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    assert all(str(i).split("、")[0].isdigit() for i in ids)
    assert str(ws.cell(2, 8).hyperlink.target).endswith(f"/rectify/items/{str(ids[0]).split('、')[0]}/")
    http = next(r for r in range(2, ws.max_row + 1) if str(ws.cell(r, 6).value).startswith("http"))
    assert ws.cell(http, 6).hyperlink.target == ws.cell(http, 6).value


def test_operator_template(demo, tmp_path):
    out, _ = demo
    env = {"GOVINSPECT_DATA_DIR": str(out / "data")}
    tpl = tmp_path / "模板.docx"
    r = run("report-template", "--out", str(tpl), env=env)
    assert r.returncode == 0, r.stderr
    d = Document(tpl)
    heading = next(p for p in d.paragraphs if p.text == "三、下一步工作要求")
    heading.runs[0].text = "三、整改要求"  # an office's own wording, edited as in Word
    d.paragraphs[-1].runs[0].text = "{{ date }}（此件公开发布）"
    d.save(tpl)
    r = run("report", "1", "--template", str(tpl), "--out", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr
    text = "\n".join(p.text for p in Document(tmp_path / "out" / "通报.docx").paragraphs)
    assert "三、整改要求" in text and "三、下一步工作要求" not in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日（此件公开发布）", text)
    assert text.startswith("关于") and "一、总体情况" in text and "{{" not in text
    d.paragraphs[0].runs[0].text = "{{ title "  # broken tag: a clear error, nothing written
    d.save(tpl)
    r = run("report", "1", "--template", str(tpl), "--out", str(tmp_path / "bad"), env=env)
    assert r.returncode == 2 and "通报模板" in r.stderr and not (tmp_path / "bad" / "通报.docx").exists()


def test_every_finding_in_round_json_is_the_contract(demo):
    """Every finding of the demo round: a fingerprint, a typed location (a URL or a file, never a pseudo-URL), and for
    pages the WARC record it was seen in; the round names the rule set it ran with."""
    out, _ = demo
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    assert len(data["round"]["rules_hash"]) == 64
    everything = data["findings"] + data["office_findings"] + [f for a in data["accounts"] for f in a.get("findings", [])]
    kinds = set()
    for f in everything:
        loc, subj = f["location"], f["subject"]
        kinds.add(subj["kind"])
        assert len(f["fingerprint"]) == 32, f
        assert not any(str(v).startswith(("register:", "reply:", "newmedia:")) for v in loc.values()), f
        if subj["kind"] in ("page", "link", "column", "site"):
            assert loc["url"].startswith("http"), f
            assert f["evidence"].get("warc_file") and f["evidence"].get("warc_offset") is not None, f
        if subj["kind"] in ("register_row", "reply", "letter", "ticket"):
            assert loc["file"] and "url" not in loc, f
    assert kinds >= {"page", "link", "column", "site", "account", "register_row", "reply", "letter", "ticket"}
