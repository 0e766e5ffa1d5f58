"""The rectification loop on the sandbox county (issue 18): a real round, issued; units claim fixes and the system
re-checks each claimed item at once on the live sandbox — really fixed → 已整改 with before/after captures, claimed
without fixing → 仍存在 with the new evidence, site down → 未能复查 (retried, never fixed); disputes accepted become an
audited ignore, rejected ones go back to the unit; deadlines pass → 逾期; the next round follows items by fingerprint."""

import datetime as dt

import pytest

from govinspect.engine.fetch.warc import read_payload
from govinspect.rectify.models import Attachment, Item, ItemEvent
from govinspect.rectify.services import (TransitionError, accept_dispute, claim, dispute, issue_round, mark_overdue,
                                         reject_dispute, request_recheck, retry_unverified, run_item_recheck, sign_off)
from govinspect.rectify.uploads import UploadError
from govinspect.registry.models import Website
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Finding, Round
from govinspect.rounds.services import run_round
from govinspect.sandbox import generate_county
from govinspect.sandbox.fixes import fix_problems
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer
from govinspect.storage import storage

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _item(rule_prefix, exclude=()):
    return next(i for i in Item.objects.filter(rule__startswith=rule_prefix, finding__round_site__isnull=False)
                .select_related("finding").order_by("id") if i.pk not in exclude)


def _run(items, who):
    rounds = request_recheck(items, who) if not isinstance(items, Round) else [items]
    for r in rounds:
        run_item_recheck(Round.objects.get(pk=r.pk))


def test_loop_on_the_sandbox(tmp_path):
    county = generate_county(seed=11, n_sites=3, pages_per_site=50, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings()
        r1 = Round.objects.create(name="第一轮检查", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                  allow_networks="127.0.0.0/8", period_start=county.as_of - dt.timedelta(days=91))
        run_round(r1, crawl=crawl)
        assert issue_round(r1, "office", issued_on=county.as_of) > 3
        items = Item.objects.filter(round_issued=r1)
        assert all(i.state == "open" and i.deadline > county.as_of for i in items)

        # 1. really fixed: the privacy leak taken off the sandbox page, the unit claims with a screenshot
        leak = _item("privacy.")
        site_key = next(s.key for s in county.sites if s.unit == leak.unit.name)
        gone = fix_problems(county, [leak.rule], sites=[site_key])
        assert any(leak.finding.url.endswith(g["path"]) for g in gone)
        srv.refresh()
        claim(leak, "unit-1", "已删除该页面中的个人信息", files=[("截图.png", PNG)])
        leak.refresh_from_db()
        assert leak.state == "claimed" and leak.recheck_round is not None and leak.recheck_round.item_recheck
        assert Attachment.objects.get(item=leak).content_type == "image/png"

        # 2. claimed without fixing: a stale column nobody updated
        stale = _item("column.stale")
        claim(stale, "unit-2", "已更新")
        # both claims wait in one queued re-check of round 1 (not one round per click)
        assert Round.objects.filter(item_recheck=True, status="queued").count() == 1
        _run(Round.objects.get(item_recheck=True, status="queued"), "x")

        leak.refresh_from_db()
        stale.refresh_from_db()
        assert leak.state == "fixed", leak.events.last().note
        assert stale.state == "present", stale.events.last().note
        ev = leak.events.filter(action="recheck").last().evidence
        assert ev["before"]["finding"] == leak.finding_id and ev["before"]["warc_file"]
        after = ev["after"]
        assert after["warc_file"] and after["warc_offset"] is not None and after["url"]
        page = read_payload(storage().resolve(after["warc_file"]), after["warc_offset"]).decode("utf-8", "replace")
        assert leak.finding.match not in page  # the after-capture really is the fixed page
        new = stale.events.filter(action="recheck").last().evidence["after"]
        assert new.get("warc_file") and new.get("url")  # the new evidence of a problem still there

        # 3. site down: its address now refuses connections → 未能复查 with the reason, never fixed
        other = next(i for i in Item.objects.filter(state="open").select_related("finding__round_site__website")
                     if i.finding.round_site_id and i.unit_id != leak.unit_id)
        Website.objects.filter(pk=other.finding.round_site.website_id).update(home_url="http://127.0.0.1:9/")
        claim(other, "unit-3", "已整改")
        _run(Round.objects.get(item_recheck=True, status="queued"), "x")
        other.refresh_from_db()
        assert other.state == "unverified" and other.closed_at is None
        assert "未能" in other.events.last().note or "无法" in other.events.last().note
        # retried on the schedule: not before retry_hours, then a new re-check is queued
        assert retry_unverified() == []
        later = retry_unverified(now=other.events.last().at + dt.timedelta(hours=25))
        assert len(later) == 1 and Item.objects.get(pk=other.pk).recheck_round_id == later[0].pk

    # 4. disputes: accepted → audited ignore and 申诉成立; rejected → back to the unit
    d1 = Item.objects.filter(state="open", finding__round_site__isnull=False).order_by("id").first()
    with pytest.raises(TransitionError):
        dispute(d1, "unit", "  ")
    dispute(d1, "unit", "该链接为上级单位网站，不属于问题")
    accept_dispute(d1, "office", "核实属实")
    d1.refresh_from_db()
    f = Finding.objects.get(pk=d1.finding_id)
    assert d1.state == "accepted" and d1.closed_at is not None and f.ignored_by is not None
    assert f.ignored_by.created_by == "office" and f"事项{d1.pk}" in f.ignored_by.reason
    d2 = Item.objects.filter(state="open").exclude(pk=d1.pk).order_by("id").first()
    dispute(d2, "unit", "不是问题")
    reject_dispute(d2, "office", "经核实确属问题", today=d2.deadline + dt.timedelta(days=1))
    assert Item.objects.get(pk=d2.pk).state == "overdue"  # rejected after the deadline: overdue at once

    # 5. sign-off of a fixed item, once
    sign_off(leak, "office")
    with pytest.raises(TransitionError):
        sign_off(leak, "office")
    assert leak.events.filter(action="signoff").count() == 1

    # 6. deadline passes: open and still-present items become overdue, fixed and accepted ones do not
    n = mark_overdue(max(i.deadline for i in Item.objects.all()) + dt.timedelta(days=1))
    assert n >= 2
    assert Item.objects.get(pk=stale.pk).state == "overdue"
    assert Item.objects.get(pk=leak.pk).state == "fixed" and Item.objects.get(pk=d1.pk).state == "accepted"
    # the whole trail is there, append-only
    kinds = set(ItemEvent.objects.values_list("action", flat=True))
    assert {"issue", "claim", "recheck", "dispute", "accept", "reject", "signoff", "overdue"} <= kinds


def test_uploads_are_checked_by_content(tmp_path):
    from govinspect.rectify.uploads import check, sniff

    assert sniff(PNG) == ("png", "image/png")
    assert sniff(b"%PDF-1.4\n1 0 obj\n")[1] == "application/pdf"
    for bad in (b"<html><script>alert(1)</script></html>", b"MZ\x90\x00executable", b"=cmd|' /C calc'!A0"):
        with pytest.raises(UploadError):
            sniff(bad)
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:  # an "xlsx" that is a zip bomb
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/huge.xml", b"0" * (50 * 1024 * 1024))
    with pytest.raises(UploadError, match="过大"):
        sniff(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert sniff(buf.getvalue())[0] == "docx"


@pytest.mark.django_db(transaction=True)
def test_a_claim_is_rechecked_by_the_runner_at_once(tmp_path):
    """The claim queues the item's re-check; the runner process (as `govinspect serve` starts it) runs it at once and
    the item takes its answer — here 已整改, the sandbox page having really been fixed."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.conf import settings

    county = generate_county(seed=12, n_sites=2, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        r1 = Round.objects.create(name="第一轮检查", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                  allow_networks="127.0.0.0/8")
        run_round(r1, crawl=srv.crawl_settings(), processes=1)  # the pool is tested elsewhere; here the runner
        issue_round(r1, "office", issued_on=county.as_of)
        leak = _item("privacy.")
        gone = fix_problems(county, [leak.rule], sites=[next(s.key for s in county.sites if s.unit == leak.unit.name)])
        assert any(leak.finding.url.endswith(g["path"]) for g in gone), (leak.finding.url, leak.finding.match, gone)
        srv.refresh()
        claim(leak, "unit-1", "已删除")
        env = {**os.environ, "GOVINSPECT_DATA_DIR": str(settings.DATA_DIR),
               "GOVINSPECT_DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        runner = subprocess.Popen([sys.executable, "-m", "govinspect.rounds.runner", "--until-idle"], env=env,
                                  cwd=Path(__file__).resolve().parents[1])
        try:
            runner.wait(120)
        finally:
            if runner.poll() is None:
                runner.kill()
    leak.refresh_from_db()
    assert runner.returncode == 0
    assert leak.state == "fixed" and leak.recheck_round is None, list(leak.events.values_list("note", flat=True))
    assert Round.objects.get(item_recheck=True).status == "done"


def test_a_deleted_page_fixes_its_content_but_not_a_column(tmp_path):
    """The commonest fix of a leak is deleting the page: the re-check finds it answered 404 while the site opens, and
    calls the leak 已整改; a column answering 404 is not a fixed column (could not check)."""
    from urllib.parse import urlsplit

    county = generate_county(seed=11, n_sites=2, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        r1 = Round.objects.create(name="第一轮检查", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                  allow_networks="127.0.0.0/8")
        run_round(r1, crawl=srv.crawl_settings(), processes=1)
        issue_round(r1, "office", issued_on=county.as_of)
        leak = _item("privacy.")
        path = urlsplit(leak.finding.url).path
        for site in county.sites:
            for col in site.columns:
                col.articles = [a for a in col.articles if a.path != path]
        srv.refresh()
        claim(leak, "unit-1", "已删除该页面")
        stale = next((i for i in Item.objects.filter(rule="column.stale").select_related("finding")), None)
        if stale is not None:  # the column's page taken away too: not a fix of a stale column
            cpath = urlsplit(stale.finding.url).path
            for site in county.sites:
                site.columns = [c for c in site.columns if c.path != cpath]
            srv.refresh()
            claim(stale, "unit-2", "已删除栏目")
        _run(Round.objects.get(item_recheck=True, status="queued"), "x")
    leak.refresh_from_db()
    assert leak.state == "fixed" and "已删除" in leak.events.last().note, leak.events.last().note
    if stale is not None:
        stale.refresh_from_db()
        assert stale.state != "fixed", stale.events.last().note
