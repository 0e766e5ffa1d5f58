"""Review before issue (web/views/review.py) and issuing with frozen documents (rectify/issue.py).

The platform fixture's current round already has its items (issue_round in conftest) but no Issuance; the tests that
issue build their own small done round (make_round) on the platform's units and websites."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.urls import reverse

from govinspect.rectify.issue import IssueError, issue, issued_dir, sanity
from govinspect.rectify.models import Issuance, Item, ItemEvent
from govinspect.rounds.models import Finding, Ignore, Round, RoundJob, RoundSite

SCRIPT = "<script>alert('review')</script>"
ISSUED_ON = dt.date(2026, 11, 16)


@pytest.fixture(autouse=True)
def own_storage(tmp_path, monkeypatch):
    """Each test its own storage (frozen documents, reports): round ids repeat between tests."""
    monkeypatch.setenv("GOVINSPECT_STORAGE_DIR", str(tmp_path / "store"))
    return tmp_path / "store"


def add_finding(rnd, rs, rule, unit, url, detail, match="", kind="page", severity="medium"):
    from govinspect.engine.finding import Evidence, Finding as EF, Location, Subject

    ef = EF(rule=rule, detail=detail, subject=Subject(kind=kind, site=rs.website.name, unit=unit.name),
            location=Location(url=url), evidence=Evidence(), match=match)
    row = Finding.from_engine(ef, None, round=rnd, job=rs.job, round_site=rs, responsible_unit=unit)
    row.severity = severity
    row.save()
    return row


def site_row(rnd, site, status="checked", verdict="pass", publications=0):
    job = RoundJob.objects.create(round=rnd, kind="site", target=site.pk, label=site.name, state="done")
    return RoundSite.objects.create(round=rnd, job=job, website=site, status=status, verdict=verdict,
                                    score=None if status != "checked" else 90, pages_fetched=50,
                                    publication_count=publications,
                                    reason="首页无法访问（连接超时）" if status != "checked" else "")


def make_round(p, name="2026年第四季度检查", as_of=dt.date(2026, 11, 10), unknown=("town",)):
    """A done, not issued round: sites portal/a/b/town (town could not be checked), findings of units A and B: a typo
    whose detail carries a <script> (crawled text), two dead links under /a/old/, one under /b/old/, an expression."""
    rnd = Round.objects.create(name=name, as_of=as_of, status="done", region="测试县", office="测试县人民政府办公室")
    rs = {k: site_row(rnd, s, status="could_not_check" if k in unknown else "checked",
                      verdict="unknown" if k in unknown else "pass") for k, s in p.sites.items()}
    U = p.units
    rnd.f = {
        "typo": add_finding(rnd, rs["a"], "content.typo", U["a"], "http://127.0.0.1:9/a/new/1.html",
                            f"疑似错别字：“部署”误为“布署”{SCRIPT}", match="布署", severity="low"),
        "old1": add_finding(rnd, rs["a"], "link.dead", U["a"], "http://127.0.0.1:9/a/old/2.html",
                            "链接无法访问：http://127.0.0.1:9/a/gone-2.html"),
        "old2": add_finding(rnd, rs["a"], "link.dead", U["a"], "http://127.0.0.1:9/a/old/3.html",
                            "链接无法访问：http://127.0.0.1:9/a/gone-3.html"),
        "b_old": add_finding(rnd, rs["b"], "link.dead", U["b"], "http://127.0.0.1:9/b/old/4.html",
                             "链接无法访问：http://127.0.0.1:9/b/gone-4.html"),
        "b_expr": add_finding(rnd, rs["b"], "content.expression", U["b"], "http://127.0.0.1:9/b/7.html",
                              "表述不规范：“国务院办公室”", match="国务院办公室"),
    }
    rnd.rs = rs
    return rnd


def _messages(r) -> list[str]:
    return [str(m) for m in r.context["messages"]] if r.context else []


# ------------------------------------------------------------------------------------------------------------ preview
def test_preview_shows_the_composed_bulletin_escaped(platform, client_for, django_assert_max_num_queries):
    from govinspect.reports.bulletin import compose
    from govinspect.reports.data import round_data

    rnd = make_round(platform)
    composed = compose(round_data(rnd))
    c = client_for("office")
    for name in ("web:review", "web:review_preview"):
        with django_assert_max_num_queries(75):  # 53 measured (round_data + compose: the reports module)
            r = c.get(reverse(name, args=[rnd.pk]))
        assert r.status_code == 200
        body = r.content.decode()
        assert composed["title"] in body
        assert composed["groups"], composed
        assert composed["groups"][0][0] in body
        assert SCRIPT not in body  # crawled text is escaped, never markup
        assert "&lt;script&gt;alert(&#x27;review&#x27;)&lt;/script&gt;" in body
    # the typical-example list names the finding escaped too, and the could-not-check warning is shown
    page = c.get(reverse("web:review", args=[rnd.pk])).content.decode()
    assert f'name="example" value="{rnd.f["typo"].pk}"' in page
    assert "未能检查" in page


def test_review_page_queries_do_not_grow_with_findings(platform, client_for, django_assert_max_num_queries):
    rnd = make_round(platform)
    c = client_for("office")
    url = reverse("web:review", args=[rnd.pk])
    c.get(url)  # warm caches (rules)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    for i in range(40):
        add_finding(rnd, rnd.rs["a"], "link.dead", platform.units["a"], f"http://127.0.0.1:9/a/many/{i}.html",
                    f"链接无法访问：http://127.0.0.1:9/a/lost-{i}.html")
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        r = c.get(url)
    assert r.status_code == 200
    assert r.content.decode().count('name="example"') == 20 + 2  # link.dead: the first 20 of 43; typo 1, expression 1


# ----------------------------------------------------------------------------------------------------------- settings
def test_settings_saved_and_validated(platform, client_for):
    rnd = make_round(platform)
    c = client_for("office")
    url = reverse("web:review_settings", args=[rnd.pk])
    r = c.post(url, {"recipients": "各镇人民政府，县政府各部门", "doc_number": "测政办〔2026〕30号",
                     "office": "测试县人民政府办公室", "rectify_days": "15"})
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert (rnd.recipients, rnd.doc_number, rnd.rectify_days) == ("各镇人民政府，县政府各部门", "测政办〔2026〕30号", 15)
    for bad in ({"rectify_days": "0"}, {"rectify_days": "61"}, {"rectify_days": "x"}, {"office": "  "},
                {"doc_number": "号" * 101}):
        form = {"recipients": "甲", "doc_number": "乙", "office": "丙", "rectify_days": "20", **bad}
        r = c.post(url, form)
        assert r.status_code == 400, bad
        rnd.refresh_from_db()
        assert (rnd.recipients, rnd.rectify_days) == ("各镇人民政府，县政府各部门", 15), bad  # nothing saved
    r = c.post(url, {"recipients": "", "doc_number": "", "office": "测试县人民政府办公室", "rectify_days": ""})
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert rnd.rectify_days is None  # empty: the scheme's period
    # the composed bulletin carries the settings
    c.post(url, {"recipients": "各镇人民政府", "doc_number": "测政办〔2026〕31号", "office": "测试县政务公开办", "rectify_days": "10"})
    body = c.get(reverse("web:review_preview", args=[rnd.pk])).content.decode()
    assert "测政办〔2026〕31号" in body and "各镇人民政府：" in body and "测试县政务公开办" in body


# ----------------------------------------------------------------------------------------------------------- examples
def test_examples_saved_and_invalid_ids_refused(platform, client_for):
    rnd = make_round(platform)
    c = client_for("office")
    url = reverse("web:review_examples", args=[rnd.pk])
    r = c.post(url, {"example": [rnd.f["old2"].pk, rnd.f["typo"].pk]})
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert rnd.examples == {"link.dead": [rnd.f["old2"].pk], "content.typo": [rnd.f["typo"].pk]}
    page = c.get(reverse("web:review", args=[rnd.pk])).content.decode()
    assert f'value="{rnd.f["old2"].pk}" id="ex-{rnd.f["old2"].pk}" checked' in page
    other = platform.findings["b1"]  # a finding of another round
    for bad in ([other.pk], [rnd.f["typo"].pk, "x"], [rnd.f["typo"].pk, 10 ** 12]):
        r = c.post(url, {"example": bad}, follow=True)
        assert any("未保存" in m for m in _messages(r)), bad
        rnd.refresh_from_db()
        assert rnd.examples == {"link.dead": [rnd.f["old2"].pk], "content.typo": [rnd.f["typo"].pk]}
    many = [add_finding(rnd, rnd.rs["a"], "link.dead", platform.units["a"], f"http://127.0.0.1:9/a/x/{i}.html",
                        f"链接无法访问：http://127.0.0.1:9/a/y-{i}.html").pk for i in range(5)]
    r = c.post(url, {"example": [rnd.f["old1"].pk, *many]}, follow=True)  # 6 of one type
    assert any("最多选5个" in m for m in _messages(r))
    rnd.refresh_from_db()
    assert rnd.examples["link.dead"] == [rnd.f["old2"].pk]
    r = c.post(url, {})  # nothing chosen: automatic examples again
    rnd.refresh_from_db()
    assert rnd.examples == {}


# ------------------------------------------------------------------------------------------------------- bulk clearing
def test_bulk_clear_by_pattern_previews_then_ignores_with_the_reason(platform, client_for):
    rnd = make_round(platform)
    other = make_round(platform, name="另一轮", as_of=dt.date(2026, 10, 31))  # the same URLs in another round
    c = client_for("office")
    url = reverse("web:review_clear", args=[rnd.pk])
    r = c.post(url, {"mode": "pattern", "pattern": "*/old/*", "reason": ""})
    assert r.status_code == 400 and not Ignore.objects.exists()  # the reason is required
    r = c.post(url, {"mode": "pattern", "pattern": "*/old/*", "reason": "旧栏目已下线，链接检查误报"})
    assert r.status_code == 200
    assert r.context["clear_preview"]["total"] == 3
    body = r.content.decode()
    shown = body[body.index('id="clear-preview"'):body.index('id="examples"')]
    assert 'id="clear-count">3<' in shown and "/b/old/4.html" in shown and "/a/new/1.html" not in shown
    assert not Ignore.objects.exists()  # a preview changes nothing
    r = c.post(url, {"mode": "pattern", "pattern": "*/old/*", "reason": "旧栏目已下线，链接检查误报", "confirm": "yes"})
    assert r.status_code == 302
    ignored = set(Finding.objects.filter(round=rnd, ignored_by__isnull=False).values_list("id", flat=True))
    assert ignored == {rnd.f["old1"].pk, rnd.f["old2"].pk, rnd.f["b_old"].pk}
    assert not Finding.objects.filter(round=other, ignored_by__isnull=False).exists()  # only this round
    igs = list(Ignore.objects.all())
    assert len(igs) == 3 and {i.reason for i in igs} == {"旧栏目已下线，链接检查误报"}
    assert {i.created_by for i in igs} == {"office"} and all(i.created_at for i in igs)
    assert {i.scope for i in igs} == {"hit"}


def test_bulk_clear_by_host_and_substring(platform, client_for):
    rnd = make_round(platform)
    c = client_for("office")
    url = reverse("web:review_clear", args=[rnd.pk])
    r = c.post(url, {"mode": "host", "host": "www.elsewhere.example", "reason": "误报"})
    assert r.status_code == 400  # not a host of the round
    r = c.post(url, {"mode": "pattern", "pattern": "*", "reason": "误报"})
    assert r.status_code == 400  # everything: refused
    r = c.post(url, {"mode": "host", "host": "127.0.0.1:9", "reason": "测试环境"})
    assert r.context["clear_preview"]["total"] == 5
    r = c.post(url, {"mode": "pattern", "pattern": "/b/", "reason": "教育局网站改版"})
    assert r.context["clear_preview"]["total"] == 2
    c.post(url, {"mode": "pattern", "pattern": "/b/", "reason": "教育局网站改版", "confirm": "yes"})
    assert set(Finding.objects.filter(round=rnd, ignored_by__isnull=False).values_list("id", flat=True)) == \
        {rnd.f["b_old"].pk, rnd.f["b_expr"].pk}


# ----------------------------------------------------------------------------------------------------------- sanity
def test_sanity_unknown_share_and_missing_settings(platform):
    rnd = make_round(platform)  # 1 of 4 websites could not be checked: 25 %
    w = sanity(rnd)
    assert any("未能检查" in x and "25%" in x for x in w), w
    assert "主送单位未填写" in w and "文号未填写" in w
    rnd.recipients, rnd.doc_number = "各镇人民政府", "测政办〔2026〕1号"
    rnd.save()
    ok = make_round(platform, name="全部检查", unknown=())
    ok.recipients, ok.doc_number = "各镇人民政府", "测政办〔2026〕2号"
    ok.save()
    assert sanity(ok) == []
    assert not any("主送" in x or "文号" in x for x in sanity(rnd))


def test_sanity_long_problem_section(platform):
    from govinspect.reports.bulletin import compose
    from govinspect.reports.data import round_data

    rnd = make_round(platform, unknown=())
    rnd.recipients, rnd.doc_number = "各镇人民政府", "测政办〔2026〕3号"
    rnd.save()
    assert sanity(rnd) == []
    long = "表述不规范：" + "“某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某”" * 12
    add_finding(rnd, rnd.rs["b"], "content.expression", platform.units["b"], "http://127.0.0.1:9/b/8.html", long,
                match=long[6:200])
    groups = compose(round_data(rnd))["groups"]
    assert len(groups) >= 2, groups
    w = sanity(rnd)
    assert any("问题部分" in x and "倍" in x for x in w), (w, [(t, len(x)) for t, x in groups])


def test_sanity_praise_of_a_unit_with_problems(platform):
    from govinspect.registry.models import Website
    from govinspect.reports.bulletin import compose
    from govinspect.reports.data import round_data

    U = platform.units
    extra = {"a_child": Website.objects.create(name="疾控中心网站", home_url="http://127.0.0.1:9/cdc/", owner=U["a_child"]),
             "town_child": Website.objects.create(name="社区服务中心网站", home_url="http://127.0.0.1:9/sq/",
                                                  owner=U["town_child"])}
    rnd = Round.objects.create(name="发布量排名轮", as_of=dt.date(2026, 11, 10), period_start=dt.date(2026, 10, 1),
                               status="done", region="测试县", office="测试县人民政府办公室", recipients="各部门",
                               doc_number="测政办〔2026〕9号")
    counts = {"a": 50, "b": 40, "a_child": 2, "town_child": 30, "portal": 100, "town": 20}
    sites = {**platform.sites, **extra}
    rs = {k: site_row(rnd, s, publications=counts[k]) for k, s in sites.items()}
    composed = compose(round_data(rnd))
    assert any("表扬" in p and "教育局" in p for p in composed["overview"]), composed["overview"]
    w = sanity(rnd)
    # 卫健局 is praised and still has open items of the platform's current round; 教育局 too (b1, b2)
    assert any("卫生健康局" in x and "整改事项" in x for x in w), w
    assert any("教育局" in x and "整改事项" in x for x in w), w
    assert not any("社区服务中心" in x for x in w), w  # praised, nothing against it
    add_finding(rnd, rs["town_child"], "content.typo", U["town_child"], "http://127.0.0.1:9/sq/1.html",
                "疑似错别字：“部署”误为“布署”", match="布署", severity="low")
    w = sanity(rnd)
    assert any("社区服务中心" in x and "本轮有1个问题" in x for x in w), w


# -------------------------------------------------------------------------------------------------------------- issue
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def test_issue_creates_items_and_frozen_files(platform, client_for, settings, tmp_path):
    from govinspect.storage import storage

    rnd = make_round(platform)
    rnd.doc_number, rnd.recipients = "测政办〔2026〕40号", "各镇人民政府"
    rnd.save()
    items_before = Item.objects.count()
    iss = issue(rnd, "office", issued_on=ISSUED_ON, rectify_days=12)
    assert iss.items_created == 5 and Item.objects.count() == items_before + 5
    rnd.refresh_from_db()
    assert rnd.rectify_days == 12 and iss.rectify_days == 12
    items = list(Item.objects.filter(round_issued=rnd))
    assert len(items) == 5 and {i.deadline for i in items} == {items[0].deadline} and items[0].deadline > ISSUED_ON
    assert ItemEvent.objects.filter(item__in=items, action="issue").count() == 5
    names = {f["name"] for f in iss.files}
    assert {"通报.docx", "附件.xlsx", "round.json"} <= names and any(n.startswith("整改清单/") for n in names)
    store = storage()
    for f in iss.files:
        assert f["key"] == f"rectify/issued/{rnd.pk}/{f['name']}"
        data = store.path(f["key"]).read_bytes()
        assert _sha(data) == f["sha256"] and len(data) == f["size"]
    assert issued_dir(rnd) == store.path(f"rectify/issued/{rnd.pk}")
    # the 整改清单 rows carry the item ids: written after the items
    from openpyxl import load_workbook

    wb_file = next(f for f in iss.files if f["name"].startswith("整改清单/"))
    cells = " ".join(f"{c.value} {c.hyperlink.target if c.hyperlink else ''}"
                     for ws in load_workbook(store.path(wb_file["key"])).worksheets for row in ws.iter_rows() for c in row)
    unit_items = [i for i in items if i.unit.name in wb_file["name"]]
    assert unit_items and all(f"/rectify/items/{i.pk}/" in cells for i in unit_items), cells[:2000]

    # issuing twice is refused, nothing changes
    with pytest.raises(IssueError, match="已下发"):
        issue(rnd, "office", issued_on=ISSUED_ON)
    assert Issuance.objects.filter(round=rnd).count() == 1 and Item.objects.count() == items_before + 5

    # the downloads serve the frozen copies: a later 文号 does not change the issued 通报
    c = client_for("office")
    bulletin = next(f for f in iss.files if f["name"] == "通报.docx")
    r = c.get(reverse("web:round_download", args=[rnd.pk, "bulletin"]))
    got = b"".join(r.streaming_content)
    from govinspect.reports.data import cn_date

    assert _sha(got) == bulletin["sha256"] and "测政办〔2026〕40号" in _docx_text(got)
    assert cn_date(items[0].deadline) in _docx_text(got)  # the items' deadline: written after them
    c.post(reverse("web:review_settings", args=[rnd.pk]), {"recipients": "县政府各部门", "doc_number": "测政办〔2026〕99号",
                                                          "office": "测试县人民政府办公室", "rectify_days": "12"})
    rnd.refresh_from_db()
    assert rnd.doc_number == "测政办〔2026〕99号"
    r = c.get(reverse("web:round_download", args=[rnd.pk, "bulletin"]))
    got = b"".join(r.streaming_content)
    text = _docx_text(got)
    assert _sha(got) == bulletin["sha256"] and "测政办〔2026〕40号" in text and "99号" not in text
    assert "县政府各部门" not in text
    # the preview follows the round, the downloads do not
    assert "测政办〔2026〕99号" in c.get(reverse("web:review_preview", args=[rnd.pk])).content.decode()
    r = c.get(reverse("web:round_download", args=[rnd.pk, "rectification"]))
    assert r.status_code == 200
    # the review page checks the frozen files against their SHA-256
    review = reverse("web:review", args=[rnd.pk])
    assert 'id="tampered"' not in c.get(review).content.decode()
    store.path(f"rectify/issued/{rnd.pk}/附件.xlsx").write_bytes(b"changed")
    body = c.get(review).content.decode()
    assert 'id="tampered"' in body and "附件.xlsx" in body[body.index('id="tampered"'):][:300]


def test_review_of_a_round_not_done(platform, client_for):
    rnd = make_round(platform)
    Round.objects.filter(pk=rnd.pk).update(status="running")
    c = client_for("office")
    r = c.get(reverse("web:review", args=[rnd.pk]))
    assert r.status_code == 200
    body = r.content.decode()
    assert "检查完成后才能审核通报" in body and 'id="issue-start"' not in body and 'id="bulletin-preview"' not in body
    assert c.get(reverse("web:review_preview", args=[rnd.pk])).status_code == 409
    r = c.post(reverse("web:review_issue", args=[rnd.pk]), {"issued_on": ISSUED_ON.isoformat(), "confirm": "yes"},
               follow=True)
    assert any("检查完成后" in m for m in _messages(r)) and not Issuance.objects.exists()


def test_issue_refuses_rounds_that_cannot_be_issued(platform):
    prev = platform.rounds["previous"]
    recheck = Round.objects.create(name="复查", as_of=dt.date(2026, 10, 20), status="done", recheck_of=prev)
    running = make_round(platform, name="进行中")
    Round.objects.filter(pk=running.pk).update(status="running")
    running.refresh_from_db()
    n = Item.objects.count()
    for rnd, why in ((recheck, "复查轮次"), (running, "检查完成后")):
        with pytest.raises(IssueError, match=why):
            issue(rnd, "office", issued_on=ISSUED_ON)
    rnd = make_round(platform)
    with pytest.raises(IssueError, match="1至60"):
        issue(rnd, "office", issued_on=ISSUED_ON, rectify_days=0)
    with pytest.raises(IssueError, match="节假日安排"):  # a deadline in a year without a holiday calendar
        issue(rnd, "office", issued_on=dt.date(2031, 12, 20))
    assert Item.objects.count() == n and not Issuance.objects.exists()


def test_issue_is_all_or_nothing(platform, monkeypatch):
    """A failure while writing the documents (after the items were made): no items, no Issuance, no files."""
    from govinspect import reports
    from govinspect.storage import storage

    rnd = make_round(platform)
    n, events = Item.objects.count(), ItemEvent.objects.count()

    def broken(rnd, out_dir, *a, **k):
        (out_dir.parent / "half.docx").write_bytes(b"half")
        raise OSError("磁盘已满")

    real = reports.write_reports
    monkeypatch.setattr(reports, "write_reports", broken)
    with pytest.raises(OSError):
        issue(rnd, "office", issued_on=ISSUED_ON, rectify_days=9)
    rnd.refresh_from_db()
    assert Item.objects.count() == n and ItemEvent.objects.count() == events and not Issuance.objects.exists()
    assert rnd.rectify_days is None
    root = storage().path("rectify/issued")
    assert not root.exists() or list(root.iterdir()) == []
    monkeypatch.setattr(reports, "write_reports", real)
    iss = issue(rnd, "office", issued_on=ISSUED_ON)  # and it can be issued afterwards
    assert iss.items_created == 5


def test_issue_through_the_page_with_a_confirmation_step(platform, client_for):
    rnd = make_round(platform)
    c = client_for("office")
    url = reverse("web:review_issue", args=[rnd.pk])
    r = c.post(url, {"issued_on": ISSUED_ON.isoformat()})
    assert r.status_code == 200 and "确认下发" in r.content.decode()
    assert not Issuance.objects.filter(round=rnd).exists()  # the first step only asks
    r = c.post(url, {"issued_on": "2026-13-40", "confirm": "yes"}, follow=True)
    assert any("通报日期不正确" in m for m in _messages(r)) and not Issuance.objects.filter(round=rnd).exists()
    r = c.post(url, {"issued_on": ISSUED_ON.isoformat(), "confirm": "yes"}, follow=True)
    assert r.status_code == 200
    iss = Issuance.objects.get(round=rnd)
    assert iss.issued_by == "office" and iss.issued_on == ISSUED_ON
    body = r.content.decode()
    assert "已下发" in body and iss.files[0]["sha256"] in body and 'id="issue-start"' not in body
    r = c.post(url, {"issued_on": ISSUED_ON.isoformat(), "confirm": "yes"}, follow=True)
    assert any("不能重复下发" in m for m in _messages(r))
    assert Issuance.objects.filter(round=rnd).count() == 1
    # the round page links to the review as issued
    assert "已下发 2026-11-16" in c.get(reverse("web:round", args=[rnd.pk])).content.decode()
    # after issue, examples and bulk clears are refused (the documents are frozen)
    r = c.post(reverse("web:review_clear", args=[rnd.pk]), {"mode": "pattern", "pattern": "/old/", "reason": "x",
                                                            "confirm": "yes"}, follow=True)
    assert any("已下发" in m for m in _messages(r)) and not Ignore.objects.exists()


@pytest.mark.parametrize("who", ["readonly", "supervisor", "unit_a", "unit_b"])
def test_non_office_roles_are_refused(platform, client_for, who):
    rnd = make_round(platform)
    c = client_for(who)
    for name in ("web:review", "web:review_preview"):
        assert c.get(reverse(name, args=[rnd.pk])).status_code in (403, 404)
    for name, data in (("web:review_settings", {"recipients": "x", "office": "y", "doc_number": "z"}),
                       ("web:review_examples", {"example": [rnd.f["typo"].pk]}),
                       ("web:review_clear", {"mode": "pattern", "pattern": "/old/", "reason": "x", "confirm": "yes"}),
                       ("web:review_issue", {"issued_on": ISSUED_ON.isoformat(), "confirm": "yes"})):
        assert c.post(reverse(name, args=[rnd.pk]), data).status_code in (403, 404), name
    rnd.refresh_from_db()
    assert rnd.recipients == "" and rnd.examples == {} and not Ignore.objects.exists()
    assert not Issuance.objects.exists()


# ------------------------------------------------------------------------------------------------------------ browser
_BROWSER_SETUP = """
import datetime as dt
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from govinspect.engine.finding import Evidence, Finding as EF, Location, Subject
from govinspect.registry.models import Unit, Website
from govinspect.rounds.models import Finding, Round, RoundJob, RoundSite
from govinspect.web.accounts import add_account

top = Unit.objects.create(name="浏览县人民政府", kind="区县")
units = [Unit.objects.create(name=f"浏览县{n}", short_name=n, kind="部门", parent=top) for n in ("教育局", "卫健局", "交通局")]
rnd = Round.objects.create(name="浏览器审核检查", as_of=dt.date(2026, 11, 10), status="done", region="浏览县",
                           office="浏览县人民政府办公室")
for i, u in enumerate(units):
    site = Website.objects.create(name=f"{u.name}网站", home_url=f"http://127.0.0.1:9/s{i}/", owner=u)
    job = RoundJob.objects.create(round=rnd, kind="site", target=site.pk, label=site.name, state="done")
    rs = RoundSite.objects.create(round=rnd, job=job, website=site, status="checked", verdict="pass", score=90,
                                  pages_fetched=40)
    for k in range(3):
        ef = EF(rule="link.dead", detail=f"链接无法访问：http://127.0.0.1:9/s{i}/gone-{k}.html<script>x()</script>",
                subject=Subject(kind="page", site=site.name, unit=u.name),
                location=Location(url=f"http://127.0.0.1:9/s{i}/old/{k}.html"), evidence=Evidence())
        row = Finding.from_engine(ef, None, round=rnd, job=job, round_site=rs, responsible_unit=u)
        row.severity = "medium"
        row.save()
add_account("office", "office", full_name="检查员", password=args["password"], must_change=False)
print(json.dumps(rnd.pk))
"""

_ISSUED = """
from govinspect.rectify.models import Issuance, Item
iss = Issuance.objects.get(round_id=args["round"])
print(json.dumps({"items": Item.objects.filter(round_issued_id=args["round"]).count(), "files": iss.files,
                  "by": iss.issued_by, "on": iss.issued_on.isoformat()}))
"""


@pytest.mark.browser
def test_browser_office_reviews_and_issues(tmp_path, chromium):
    from browser_util import Watch, new_page, run_py, serving, shot, sign_in

    password = "Br0wser-Review-Passw0rd"
    with serving(tmp_path, _BROWSER_SETUP, {"password": password}) as srv:
        rnd, data = srv.setup, srv.data
        watch = Watch()
        page = new_page(chromium, watch)
        page.on("dialog", lambda d: watch.errors.append(f"dialog: {d.message}"))  # an injected alert() would land here

        sign_in(page, srv.base, "office", password)
        page.goto(f"{srv.base}/rounds/{rnd}/")
        with page.expect_navigation():
            page.click("#round-review")
        assert page.url.endswith(f"/rounds/{rnd}/review/")
        assert "主送单位未填写" in page.locator("#warnings").inner_text()
        assert "关于" in page.locator("#bulletin-preview .bulletin-title").inner_text()

        # settings
        page.fill("#id_recipients", "各镇人民政府，县政府各部门")
        page.fill("#id_doc_number", "浏政办〔2026〕8号")
        page.fill("#id_rectify_days", "10")
        with page.expect_navigation():
            page.click("#review-settings button[type=submit]")
        assert "已保存" in page.locator("ul.messages").inner_text()
        assert "浏政办〔2026〕8号" in page.locator("#bulletin-preview").inner_text()
        assert "主送单位未填写" not in page.locator("#warnings").inner_text()

        # typical examples: the page's script allows at most 5 per problem type
        boxes = page.locator("fieldset.example-group input[type=checkbox]")
        assert boxes.count() == 9
        for i in range(5):
            boxes.nth(i).check()
        assert boxes.nth(5).is_disabled()
        boxes.nth(4).uncheck()
        assert not boxes.nth(5).is_disabled()
        with page.expect_navigation():
            page.click("#examples-save")
        assert "已保存典型问题" in page.locator("ul.messages").inner_text()
        shot(page, "review")

        # issue: the confirmation step, then the frozen files
        page.fill("#issued-on", "2026-11-16")
        with page.expect_navigation():
            page.click("#issue-start")
        assert "确认下发" in page.locator("h1").inner_text()
        with page.expect_navigation():
            page.click("#issue-confirm")
        assert page.locator("#review-state").inner_text() == "已下发"
        issued = run_py(data, _ISSUED, {"round": rnd})
        assert issued["items"] == 9 and issued["by"] == "office" and issued["on"] == "2026-11-16"
        text = page.locator("#issued").inner_text()
        assert all(f["sha256"] in text for f in issued["files"])
        shot(page, "review-issued")
        assert page.locator("#issue-start").count() == 0  # no second issue button
        page.goto(f"{srv.base}/rounds/{rnd}/")
        assert "已下发 2026-11-16" in page.locator("#round-review").inner_text()
        assert watch.errors == [] and watch.outside() == [], (watch.errors, watch.outside())
        page.context.close()
