"""The rectification screens (issue 18): the unit's and the office's queues, the item page with its acts, uploads,
captures, files, the progress table and the audit workbook. Built on the `platform` fixture (its current round issued:
unit A owns the items privacy/still/new_a, unit B b1/b2)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from browser_util import BUILD_PLATFORM, Watch, act, new_page, serving, shot, sign_in

# a real 1×1 PNG
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PASSWORD = "Test-Passw0rd-42"  # tests/web/conftest.py (not imported: tests/conftest.py is a `conftest` module too)
B_MARKERS = ("中华人民共和国国务院", "www.bad.top", "测试县教育局")


def upload(name: str, data: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def item_url(item, name="web:rectify_item", *extra):
    return reverse(name, args=[item.pk, *extra])


def text(r) -> str:
    return r.content.decode("utf-8")


def item_links(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'href="/rectify/items/(\d+)/"', html)}


def state_of(item) -> str:
    item.refresh_from_db()
    return item.state


# --------------------------------------------------------------------------------------------------- queues
def test_unit_queue_lists_only_its_items_by_tab(platform, client_for, django_assert_max_num_queries):
    I = platform.items
    c = client_for("unit_a")
    with django_assert_max_num_queries(15):
        r = c.get(reverse("web:rectify"))
    assert r.status_code == 200
    html = text(r)
    assert item_links(html) == {I["privacy"].pk, I["still"].pk, I["new_a"].pk}
    assert not [m for m in B_MARKERS if m in html]
    assert "待处理（3）" in html and "等待复查（0）" in html and "已办结（0）" in html
    assert "整改期限" in html and "剩余工作日" in html
    # the same items are not offered in the other tabs
    assert item_links(text(c.get(reverse("web:rectify") + "?tab=waiting"))) == set()
    # another unit's item: 404, not its content
    r = c.get(item_url(I["b1"]))
    assert r.status_code == 404 and "中华人民共和国国务院" not in text(r)


def test_nav_has_the_rectify_link_for_every_role(platform, client_for):
    for who in ("office", "readonly", "supervisor", "unit_a"):
        assert 'href="/rectify/"' in text(client_for(who).get(reverse("web:rectify"))), who


def test_unit_portal_shows_its_counts(platform, client_for):
    html = text(client_for("unit_a").get(reverse("web:portal")))
    assert "整改事项" in html and 'href="/rectify/"' in html
    box = html[html.index("portal-rectify"):]
    box = box[:box.index("</section>")]
    assert re.search(r"待处理</div><div class=\"value\"><a [^>]*>3</a>", box), box


def test_unit_cannot_act_on_another_units_item(platform, client_for):
    I = platform.items
    c = client_for("unit_a")
    for name, body in (("web:rectify_claim", {"note": "已整改"}), ("web:rectify_dispute", {"reason": "不是问题"})):
        r = c.post(item_url(I["b1"], name), body)
        assert r.status_code == 404, name
    assert state_of(I["b1"]) == "open"
    # the office judges but never answers for a unit
    r = client_for("office").post(item_url(I["b1"], "web:rectify_claim"), {"note": "x"})
    assert r.status_code == 403 and state_of(I["b1"]) == "open"


def test_csrf_is_enforced_on_the_acts(platform):
    from django.contrib.auth.models import User
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(User.objects.get(username="unit_a"))
    r = c.post(item_url(platform.items["privacy"], "web:rectify_claim"), {"note": "已删除"})
    assert r.status_code == 403 and state_of(platform.items["privacy"]) == "open"
    # and only POST: a GET of an act does nothing
    assert c.get(item_url(platform.items["privacy"], "web:rectify_claim")).status_code == 405



def test_supervisor_and_readonly_read_their_scope_without_actions(platform, client_for):
    I = platform.items
    sup = client_for("supervisor")
    html = text(sup.get(reverse("web:rectify")))
    assert item_links(html) == {I["town"].pk} and "待审核" not in html and "只读" in html
    assert sup.get(item_url(I["b1"])).status_code == 404
    page = text(sup.get(item_url(I["town"])))
    assert "<form method=\"post\" action=\"/rectify/" not in page and "只读" in page
    assert sup.post(item_url(I["town"], "web:rectify_claim"), {"note": "x"}).status_code == 403
    ro = client_for("readonly")
    html = text(ro.get(reverse("web:rectify")))
    assert item_links(html) == {i.pk for i in I.values()} and "待审核" not in html
    assert ro.post(item_url(I["b1"], "web:rectify_accept"), {"note": "x"}).status_code == 403
    assert state_of(I["b1"]) == "open"


def test_office_list_filters(platform, client_for):
    I = platform.items
    o = client_for("office")
    base = reverse("web:rectify")
    assert item_links(text(o.get(base + f"?unit={platform.units['b'].pk}"))) == {I["b1"].pk, I["b2"].pk}
    assert item_links(text(o.get(base + "?rule=link.illegal"))) == {I["b2"].pk}
    assert item_links(text(o.get(base + "?state=fixed"))) == set()
    assert item_links(text(o.get(base + f"?round={platform.rounds['current'].pk}"))) == {i.pk for i in I.values()}
    assert item_links(text(o.get(base + f"?round={platform.rounds['previous'].pk}"))) == set()
    assert o.get(base + "?unit=²&round=1e9&page=x").status_code == 200  # bad values ignored, no 500

# --------------------------------------------------------------------------------------------------- claim and files
def test_claim_with_a_png_then_recheck_answers_unverified(platform, client_for, settings):
    from govinspect.rectify.models import Attachment
    from govinspect.rectify.services import run_item_recheck
    from govinspect.storage import storage

    item = platform.items["privacy"]
    a = client_for("unit_a")
    page = text(a.get(item_url(item)))
    assert "已整改，申请复查" in page and "申诉" in page and 'enctype="multipart/form-data"' in page
    r = a.post(item_url(item, "web:rectify_claim"), {"note": "已删除该页面中的身份证号", "files": [upload("整改后截图.png", PNG)]})
    assert r.status_code == 302 and r.headers["Location"] == item_url(item)
    item.refresh_from_db()
    assert item.state == "claimed" and item.recheck_round_id is not None
    att = Attachment.objects.get(item=item)
    assert (att.name, att.content_type, att.size) == ("整改后截图.png", "image/png", len(PNG))
    stored = storage().path(att.key).resolve()
    assert stored.read_bytes() == PNG
    # kept in the data directory, never where the web server serves files or templates from
    import govinspect.web as web_pkg

    for served in (Path(settings.STATIC_ROOT).resolve(), Path(web_pkg.__file__).resolve().parent):
        assert not stored.is_relative_to(served), (stored, served)
    page = text(a.get(item_url(item)))
    assert "已反馈" in page and "等待复查" in page and "整改后截图.png" in page and 'data-waiting="1"' in page
    assert "已删除该页面中的身份证号" in page
    assert reverse("web:rectify_attachment", args=[att.pk]) in page

    # the file: to the owner unit and the office, as a download with its checked type; 404 for another unit
    for who in ("unit_a", "office"):
        r = client_for(who).get(reverse("web:rectify_attachment", args=[att.pk]))
        assert r.status_code == 200, who
        assert b"".join(r.streaming_content) == PNG
        assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
        assert r["Content-Disposition"].startswith("attachment;")
    r = client_for("unit_b").get(reverse("web:rectify_attachment", args=[att.pk]))
    assert r.status_code == 404

    # the queued re-check runs (the platform's sites are on 127.0.0.1:9, where nothing listens): 未能复查, with why
    run_item_recheck(item.recheck_round)
    item.refresh_from_db()
    assert item.state == "unverified" and item.recheck_round_id is None
    last = item.events.order_by("-id").first()
    assert last.action == "recheck" and last.note
    page = text(client_for("unit_a").get(item_url(item)))
    assert "未能复查" in page and last.note in page and 'data-waiting="0"' in page
    # it came back to the unit: highlighted in its 待处理 tab, and it may claim again
    queue = text(client_for("unit_a").get(reverse("web:rectify")))
    row = next(tr for tr in queue.split("<tr")[1:] if f'href="/rectify/items/{item.pk}/"' in tr)
    assert row.startswith(' class="came-back') and "已退回" in row
    assert "已整改，申请复查" in page


def test_html_renamed_png_is_refused_and_the_note_kept(platform, client_for):
    from govinspect.rectify.models import Attachment

    item = platform.items["still"]
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    r = client_for("unit_a").post(item_url(item, "web:rectify_claim"),
                                  {"note": "已修复死链<备注>", "files": [upload("截图.png", html)]})
    assert r.status_code == 400
    page = text(r)
    assert "只能上传图片" in page  # UploadError's message, shown
    assert "已修复死链&lt;备注&gt;</textarea>" in page  # what the user typed stays in the form, escaped
    assert state_of(item) == "open" and not Attachment.objects.filter(item=item).exists()
    assert not item.events.filter(action="claim").exists()  # nothing half-done: the claim was rolled back


def test_oversized_file_is_refused(platform, client_for):
    item = platform.items["still"]
    big = PNG + b"\x00" * (10 * 1024 * 1024 + 1)
    r = client_for("unit_a").post(item_url(item, "web:rectify_claim"), {"note": "已修复", "files": [upload("大图.png", big)]})
    assert r.status_code == 400
    page = text(r)
    assert "超过10MB，已拒收" in page and "已修复</textarea>" in page
    assert state_of(item) == "open"


def test_claim_without_a_note_is_refused(platform, client_for):
    item = platform.items["still"]
    r = client_for("unit_a").post(item_url(item, "web:rectify_claim"), {"note": "  "})
    assert r.status_code == 400 and "请说明整改情况" in text(r) and state_of(item) == "open"


# --------------------------------------------------------------------------------------------------- disputes, sign-off
def test_dispute_then_office_accepts_it_as_an_audited_ignore(platform, client_for):
    I = platform.items
    b = client_for("unit_b")
    r = b.post(item_url(I["b1"], "web:rectify_dispute"), {"reason": "该表述为正式引用的文件标题", "files": [upload("依据.png", PNG)]})
    assert r.status_code == 302 and state_of(I["b1"]) == "disputed"
    o = client_for("office")
    queue = text(o.get(reverse("web:rectify")))
    review = queue[queue.index("review-queue"):queue.index("</section>", queue.index("review-queue"))]
    assert item_links(review) == {I["b1"].pk} and "申诉中" in review
    page = text(o.get(item_url(I["b1"])))
    assert "同意申诉" in page and "驳回申诉" in page and "依据.png" in page
    # a reason is required: refused, nothing changed
    r = o.post(item_url(I["b1"], "web:rectify_accept"), {"note": ""})
    assert r.status_code == 400 and "同意申诉须说明理由" in text(r) and state_of(I["b1"]) == "disputed"
    r = o.post(item_url(I["b1"], "web:rectify_accept"), {"note": "核实为引用的文件标题"})
    assert r.status_code == 302 and state_of(I["b1"]) == "accepted"
    f = platform.findings["b1"]
    f.refresh_from_db()
    assert f.ignored_by is not None and "核实为引用的文件标题" in f.ignored_by.reason and f.ignored_by.created_by == "office"
    page = text(o.get(item_url(I["b1"])))
    assert "申诉成立" in page and "同意申诉" in page  # the trail's action
    assert item_links(text(o.get(reverse("web:rectify"))).split("全部整改事项")[0]) == set()


def test_dispute_rejected_goes_back_to_the_unit(platform, client_for):
    from django.utils import timezone

    I = platform.items
    client_for("unit_b").post(item_url(I["b2"], "web:rectify_dispute"), {"reason": "不是非法网站"})
    r = client_for("office").post(item_url(I["b2"], "web:rectify_reject"), {"note": "经核实为非法网站"})
    assert r.status_code == 302
    I["b2"].refresh_from_db()
    assert I["b2"].state == ("overdue" if I["b2"].deadline < timezone.localdate() else "open")
    page = text(client_for("unit_b").get(item_url(I["b2"])))
    assert "驳回申诉" in page and "经核实为非法网站" in page and "已整改，申请复查" in page


def _signoff_required(rnd):
    """The round's rules with rectify.toml `signoff = true` (as a scheme's [rectify] would set it)."""
    from govinspect.rounds.models import Round
    from govinspect.rules.ruleset import RuleSet

    snap = RuleSet.load(rnd.scheme).snapshot()
    snap["files"]["rectify"] = {**snap["files"]["rectify"], "signoff": True}
    Round.objects.filter(pk=rnd.pk).update(rules_snapshot=snap, rules_hash=RuleSet.from_snapshot(snap).hash)


def test_signoff_offered_only_when_the_scheme_requires_it(platform, client_for):
    from govinspect.rectify.services import transition

    item = platform.items["new_a"]
    o = client_for("office")
    transition(item, "fixed", "system", "recheck", note="复查未再发现该问题")
    assert "确认整改</button>" not in text(o.get(item_url(item)))
    assert item.pk not in item_links(text(o.get(reverse("web:rectify")) ).split("全部整改事项")[0])
    r = o.post(item_url(item, "web:rectify_signoff"), {})
    assert r.status_code == 400 and "不需要" in text(r)  # the scheme does not ask for it: refused
    item.refresh_from_db()
    assert item.signed_off_at is None
    _signoff_required(platform.rounds["current"])
    page = text(o.get(item_url(item)))
    assert "确认整改</button>" in page
    queue = text(o.get(reverse("web:rectify"))).split("全部整改事项")[0]
    assert item_links(queue) == {item.pk} and "待确认" in queue
    assert "确认整改</button>" not in text(client_for("unit_a").get(item_url(item)))  # the unit does not sign off
    o = client_for("office")  # one test client: signed in again as the office
    r = o.post(item_url(item, "web:rectify_signoff"), {"note": "已确认"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.signed_off_at is not None and item.signed_off_by == "office"
    assert item_links(text(o.get(reverse("web:rectify"))).split("全部整改事项")[0]) == set()
    assert "确认整改</button>" not in text(o.get(item_url(item)))


# --------------------------------------------------------------------------------------------------- item page, captures
def test_item_page_escapes_crawled_text_and_shows_the_trail(platform, client_for):
    item = platform.items["new_a"]
    r = client_for("unit_a").get(item_url(item))
    html = text(r)
    assert "<script>alert('x')</script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "错别字" in html or "content.typo" in html
    assert "下发" in html and "待整改" in html and "office" in html  # the issue event: who, what, to which state
    assert "Content-Security-Policy" in r.headers and "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert "<script>" not in html.replace('<script src="/static/web/rectify.js">', "")


def test_capture_of_an_event_renders_sandboxed(platform, client_for):
    item = platform.items["privacy"]
    issue = item.events.order_by("id").first()
    c = client_for("unit_a")
    page = text(c.get(item_url(item)))
    url = reverse("web:rectify_capture", args=[item.pk, issue.pk, "before"])
    assert url in page
    r = c.get(url)
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert "110101199003074518" in text(r)  # the page as captured (the WARC record)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # an event without that capture: said so, no page; another unit's item: 404
    r = c.get(reverse("web:rectify_capture", args=[item.pk, issue.pk, "after"]))
    assert r.status_code == 200 and "没有网页存档" in text(r)
    assert c.get(reverse("web:rectify_capture", args=[item.pk, issue.pk, "sideways"])).status_code == 404
    b1 = platform.items["b1"]
    ev_b = b1.events.order_by("id").first()
    assert c.get(reverse("web:rectify_capture", args=[b1.pk, ev_b.pk, "before"])).status_code == 404
    assert c.get(reverse("web:rectify_capture", args=[item.pk, ev_b.pk, "before"])).status_code == 404


def test_recheck_present_shows_before_and_after_captures(platform, client_for):
    """A re-check event's evidence {before, after}: both captures linked and rendered."""
    from govinspect.rectify.services import finding_evidence, transition

    item = platform.items["privacy"]
    before = finding_evidence(platform.findings["privacy"])
    after = {k: before[k] for k in ("warc_file", "warc_offset", "captured_at")}
    after.update(url=platform.findings["privacy"].url, http_status=200, excerpt="张三，身份证号 110101********4518")
    transition(item, "present", "system", "recheck", note="复查时问题仍然存在",
               evidence={"before": before, "after": after, "recheck_round": 0})
    ev = item.events.order_by("-id").first()
    c = client_for("unit_a")
    page = text(c.get(item_url(item)))
    for side in ("before", "after"):
        url = reverse("web:rectify_capture", args=[item.pk, ev.pk, side])
        assert url in page
        assert "110101199003074518" in text(c.get(url))
    assert "复查时问题仍然存在" in page and "复查网址" in page and "110101********4518" in page


# --------------------------------------------------------------------------------------------------- progress, audit
def test_progress_table_per_unit_scoped(platform, client_for, django_assert_max_num_queries):
    from govinspect.rectify.services import transition

    I = platform.items
    transition(I["privacy"], "fixed", "system", "recheck")
    transition(I["still"], "present", "system", "recheck")
    o = client_for("office")
    with django_assert_max_num_queries(8):
        r = o.get(reverse("web:rectify_progress"))
    html = text(r)
    row = html[html.index(platform.units["a"].name):]
    row = row[:row.index("</tr>")]
    nums = re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', row)
    # total, fixed, accepted, present, overdue, disputed, unverified, open/claimed
    assert nums == ["3", "1", "0", "1", "0", "0", "0", "1"], nums
    assert platform.units["b"].name in html
    sup = text(client_for("supervisor").get(reverse("web:rectify_progress")))
    assert platform.units["town"].name in sup and platform.units["b"].name not in sup and platform.units["a"].name not in sup
    assert client_for("unit_a").get(reverse("web:rectify_progress")).status_code == 302
    # the round filter
    prev = platform.rounds["previous"].pk
    r = client_for("office").get(reverse("web:rectify_progress") + f"?round={prev}")
    assert r.status_code == 200 and platform.units["a"].name not in text(r) and "还没有整改事项" in text(r)


def test_audit_workbook_scoped_with_formulas_neutralised(platform, client_for):
    from openpyxl import load_workbook

    I = platform.items
    a = client_for("unit_a")
    a.post(item_url(I["privacy"], "web:rectify_claim"),
           {"note": "=HYPERLINK(\"http://evil.example\",\"点此\")", "files": [upload("截图.png", PNG)]})
    client_for("unit_b").post(item_url(I["b1"], "web:rectify_dispute"), {"reason": "教育局的申诉"})
    a = client_for("unit_a")  # one test client: signed in again as unit A
    r = a.get(reverse("web:rectify_audit"))
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["整改记录"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("事项编号", "责任单位", "问题类型", "网址", "时间", "操作人", "操作", "原状态", "新状态", "说明", "证据", "附件")
    ids = {row[0] for row in rows[1:]}
    assert ids == {I["privacy"].pk, I["still"].pk, I["new_a"].pk}  # unit A's own items only
    assert not any("教育局" in str(v) for row in rows for v in row)
    claim = next(row for row in rows[1:] if row[6] == "反馈已整改")
    assert claim[7:9] == ("待整改", "已反馈") and claim[5] == "unit_a" and claim[11] == "截图.png"
    cell = next(c for c in ws["J"] if isinstance(c.value, str) and c.value.startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.quotePrefix  # text, never a formula
    issue = next(row for row in rows[1:] if row[0] == I["privacy"].pk and row[6] == "下发")
    assert '"warc_file"' in issue[10] and issue[3] == platform.findings["privacy"].url
    files = list(wb["整改材料"].iter_rows(values_only=True))
    import hashlib

    assert files[1][4] == "截图.png" and files[1][7] == hashlib.sha256(PNG).hexdigest()
    # the office gets every unit's, optionally one round's
    rows = list(load_workbook(io.BytesIO(client_for("office").get(reverse("web:rectify_audit")).content))["整改记录"]
                .iter_rows(values_only=True))
    assert I["b1"].pk in {row[0] for row in rows[1:]}
    prev = platform.rounds["previous"].pk
    rows = list(load_workbook(io.BytesIO(client_for("office").get(reverse("web:rectify_audit") + f"?round={prev}").content))
                ["整改记录"].iter_rows(values_only=True))
    assert len(rows) == 1
    r = client_for("unit_a").get(reverse("web:rectify_audit") + f"?round={platform.rounds['current'].pk}")
    from urllib.parse import unquote

    assert r.status_code == 200 and "轮次" in unquote(r["Content-Disposition"])
    assert platform.rounds["current"].name not in unquote(r["Content-Disposition"])


def test_write_audit_signature(platform, tmp_path):
    from govinspect.rectify.audit import write_audit
    from govinspect.rectify.models import Item

    out = write_audit(Item.objects.filter(unit=platform.units["b"]), tmp_path / "x" / "审计.xlsx")
    assert out == tmp_path / "x" / "审计.xlsx" and out.is_file()


# --------------------------------------------------------------------------------------------------- at scale
def _many_items(platform, n: int):
    from govinspect.rectify.services import issue_round
    from govinspect.rounds.models import Finding, RoundSite

    cur = platform.rounds["current"]
    rs = RoundSite.objects.get(round=cur, website=platform.sites["a"])
    Finding.objects.bulk_create([Finding(round=cur, round_site=rs, job=rs.job, rule=("link.dead", "content.typo")[i % 2],
                                         subject_kind="page", subject={"kind": "page"}, url=f"http://127.0.0.1:9/a/p{i}.html",
                                         detail=f"链接无法访问 {i}", fingerprint=f"fp{i:030d}", severity="medium",
                                         responsible_unit=platform.units["a"]) for i in range(n)])
    assert issue_round(cur, "office", issued_on=cur.as_of) == n


def test_queues_are_bounded_at_2000_items(platform, client_for, django_assert_max_num_queries):
    from govinspect.rectify.models import Item

    _many_items(platform, 2000)
    # some of them disputed and found again after a claim (the highlighted rows)
    from govinspect.rectify.services import transition

    for it in Item.objects.filter(unit=platform.units["a"]).order_by("id")[:5]:
        transition(it, "disputed", "unit_a", "dispute", note="申诉")
    for it in Item.objects.filter(unit=platform.units["a"], state="open").order_by("id")[:3]:
        transition(it, "claimed", "unit_a", "claim", note="已改")
        transition(it, "present", "system", "recheck", note="仍存在")
    for who, url, bound in (("unit_a", reverse("web:rectify"), 15), ("unit_a", reverse("web:rectify") + "?tab=waiting&page=1", 15),
                            ("office", reverse("web:rectify"), 20), ("office", reverse("web:rectify") + "?state=open&page=30", 20),
                            ("readonly", reverse("web:rectify") + f"?unit={platform.units['a'].pk}&rule=link.dead", 20),
                            ("supervisor", reverse("web:rectify"), 20), ("office", reverse("web:rectify_progress"), 8)):
        c = client_for(who)
        with django_assert_max_num_queries(bound):
            r = c.get(url)
        assert r.status_code == 200, (who, url)
    html = text(client_for("unit_a").get(reverse("web:rectify")))
    assert "待处理（1998）" in html and "等待复查（5）" in html and len(item_links(html)) == 50
    assert html.count('class="came-back') == 3 and html.count("复查发现仍存在") == 3  # the first page has them (by id)
    office = text(client_for("office").get(reverse("web:rectify")))
    assert "待审核（5）" in office and "全部整改事项（2007）" in office


# --------------------------------------------------------------------------------------------------- in a real browser
_BROWSER_SETUP = BUILD_PLATFORM + """
from govinspect.rectify.services import dispute, transition
I = p.items
dispute(I["b1"], "unit_b", "该表述为正式引用的国务院文件标题，不属于表述不规范")
transition(I["b2"], "claimed", "unit_b", "claim", note="已删除该链接")
transition(I["b2"], "fixed", "system", "recheck", note="复查未再发现该问题")
print(json.dumps({k: v.pk for k, v in I.items()}))
"""


@pytest.fixture(scope="module")
def rectify_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("rectify-browser"), _BROWSER_SETUP) as srv:
        srv.items = srv.setup
        yield srv


@pytest.mark.browser
def test_browser_unit_claims_with_a_file_and_office_reviews(rectify_server, chromium, tmp_path):
    base, items = rectify_server.base, rectify_server.items
    watch = Watch()  # the unit's and the office's pages

    # ---------------------------------------------------------------- the unit: its queue, one item claimed with a file
    page = new_page(chromium, watch)
    ctx = page.context
    sign_in(page, base, "unit_a", PASSWORD)
    with page.expect_navigation():
        page.click("nav.main a[href='/rectify/']")
    assert page.url.endswith("/rectify/")
    hrefs = set(page.eval_on_selector_all("table.rectify-table a[href^='/rectify/items/']",
                                          "els => els.map(e => e.getAttribute('href'))"))
    own = {f"/rectify/items/{items[k]}/" for k in ("privacy", "still", "new_a")}
    assert hrefs == own, hrefs
    assert "待处理（3）" in page.locator("nav.subnav").inner_text()
    shot(page, "rectify-unit-queue")

    with page.expect_navigation():
        page.click(f"table.rectify-table a[href='/rectify/items/{items['privacy']}/']")
    png = tmp_path / "整改后截图.png"
    png.write_bytes(PNG)
    form = page.locator("form[action$='/claim/']")
    form.locator("textarea[name=note]").fill("已删除公示页面中的身份证号码，并重新发布脱敏后的名单。")
    form.locator("input[type=file]").set_input_files(str(png))
    assert "已选择 1 个文件" in form.locator(".file-note").inner_text()  # rectify.js ran (CSP allows our own script)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已反馈整改情况" in page.locator("ul.messages").inner_text()
    assert "整改后截图.png" in page.locator("table.rectify-trail").inner_text()
    # the runner re-checks the claim at once; the page reloads itself until the answer is in (127.0.0.1:9: 未能复查)
    page.wait_for_function("() => document.querySelector('#rectify-item').dataset.waiting === '0'", timeout=120_000)
    assert "未能复查" in page.locator("h1").inner_text()
    trail = page.locator("table.rectify-trail").inner_text()
    assert "反馈已整改" in trail and "复查" in trail
    shot(page, "rectify-item")
    # the file downloads for the unit
    with page.expect_download() as dl:
        page.click("table.rectify-trail a[href^='/rectify/attachments/']")
    assert Path(dl.value.path()).read_bytes() == PNG
    # another unit's item: the 404 page
    r = page.goto(f"{base}/rectify/items/{items['b1']}/")
    assert r.status == 404 and "中华人民共和国国务院" not in page.content()
    ctx.close()

    # ---------------------------------------------------------------- the office: its review queue, accepts the dispute
    page = new_page(chromium, watch)
    ctx = page.context
    sign_in(page, base, "office", PASSWORD)
    page.goto(f"{base}/rectify/")
    review = page.locator("section.review-queue")
    assert "待审核（1）" in review.inner_text() and "申诉中" in review.inner_text()
    listed = page.locator("section.card").nth(1).inner_text()
    assert "未能复查" in listed and "申诉中" in listed
    shot(page, "rectify-office-queue")
    with page.expect_navigation():
        review.locator(f"a[href='/rectify/items/{items['b1']}/']").first.click()
    act(page, "accept", note="经核实为引用的文件标题，不属于表述不规范")
    assert "申诉成立" in page.locator("h1").inner_text()
    page.goto(f"{base}/rectify/progress/")
    assert "测试县卫生健康局" in page.locator("table.rectify-progress").inner_text()
    shot(page, "rectify-progress")
    ctx.close()

    errors = [e for e in watch.errors if not ("404" in e and f"/rectify/items/{items['b1']}/" in e)]  # the 404 asked for
    assert not errors, errors
    assert not watch.outside(), watch.outside()[:10]
