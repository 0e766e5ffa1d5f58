"""The platform in a real browser (Debian's chromium driven by Playwright): `govinspect serve` on its own data directory
with the sandbox county's registry; the office signs in, creates and launches a round on the form, watches its
progress update live, and opens a finding with its captured page in the sandboxed frame (nothing leaves 127.0.0.1, no
script of the captured page runs); a unit signs in, lands on its portal, sees only its own findings and gets the 404
page for another unit's. Full-page screenshots of the main pages go to $GOVINSPECT_SCREENSHOTS (else
out/screenshots)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from browser_util import Watch, new_page, run_py, serving, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "Br0wser-Test-Passw0rd"
UNIT = "清河县教育局"  # the unit account's unit: owns the 教育局 site
ROUND_NAME = "浏览器测试检查"

_SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from govinspect.registry.xlsx import import_registry
from govinspect.web.accounts import add_account
import_registry(args["registry"])
add_account("office", "office", full_name="检查员", password=args["password"], must_change=False)
add_account("edu", "unit", unit=args["unit"], full_name="教育局联系人", password=args["password"],
            must_change=False)
print(json.dumps("ok"))
"""

# the sandbox's outside world (the links of its pages to other hosts) is answered by the sandbox: the round's crawl
# settings get its DNS map, as test_rounds does, before the round is launched on the page
_CRAWL = """
from govinspect.rounds.models import Round
rnd = Round.objects.get(name=args["name"], status="pending")
crawl = {**(rnd.run_options.get("crawl") or {}), **args["crawl"]}
Round.objects.filter(pk=rnd.pk).update(run_options={**rnd.run_options, "crawl": crawl})
print(json.dumps(rnd.pk))
"""

_FINDINGS = """
from govinspect.rounds.models import Finding
from govinspect.rounds.evidence import _NOT_WEB
rows = []
qs = Finding.objects.filter(round_id=args["round"], ignored_by__isnull=True).select_related(
    "responsible_unit", "round_site__website__owner", "round_account__account__owner")
for f in qs:
    ev = f.evidence or {}
    captured = (f.subject_kind not in _NOT_WEB and (f.subject or {}).get("kind") not in _NOT_WEB
                and bool(ev.get("warc_file")) and ev.get("warc_offset") is not None)
    # whose finding it is (web/access.py): its responsible unit, else the owner of its site or account
    site_unit = f.round_site.website.owner.name if f.round_site_id and f.round_site.website.owner_id else None
    acc_unit = f.round_account.account.owner.name if f.round_account_id and f.round_account.account.owner_id else None
    owner = f.responsible_unit.name if f.responsible_unit_id else (site_unit or acc_unit)
    rows.append({"id": f.pk, "owner": owner, "captured": captured, "url": f.url, "site_unit": site_unit})
print(json.dumps(rows))
"""


@pytest.fixture(scope="module")
def platform_server(sandbox, county, tmp_path_factory):
    from govinspect.sandbox.registry import write_registry

    tmp = tmp_path_factory.mktemp("browser")
    registry = write_registry(county, sandbox.urls, tmp / "名录.xlsx")
    with serving(tmp, _SETUP, {"registry": str(registry), "password": PASSWORD, "unit": UNIT}) as srv:
        srv.state = {}
        yield srv


def own_errors(errors: list[str]) -> list[str]:
    """Console errors of the platform's own pages: those of the captured page in the frame (its refused resources,
    its blocked scripts) are asserted apart."""
    return [e for e in errors if "/page/" not in e]


def _finding_ids(page) -> set[int]:
    ids = set()
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        m = re.fullmatch(r"/findings/(\d+)/", href or "")
        if m:
            ids.add(int(m.group(1)))
    return ids


def test_office_creates_a_round_watches_it_live_and_opens_a_captured_page(platform_server, chromium, sandbox):
    base = platform_server.base
    watch = Watch()
    page = new_page(chromium, watch)
    ctx = page.context

    page.goto(f"{base}/dashboard/")
    assert "/login/" in page.url  # signed out: the login page
    shot(page, "login")
    sign_in(page, base, "office", PASSWORD)
    page.goto(f"{base}/dashboard/")
    assert page.locator("h1").first.is_visible()
    shot(page, "dashboard-empty")

    # ---------------------------------------------------------------- create the round on the form and launch it
    page.goto(f"{base}/rounds/new/")
    page.fill("input[name=name]", ROUND_NAME)
    page.fill("input[name=as_of]", "2026-09-30")
    page.select_option("select[name=scope]", value="")  # the whole registry
    page.fill("input[name=allow_networks]", "127.0.0.0/8")
    page.fill("input[name=max_pages]", "200")
    with page.expect_navigation():
        page.click("form.round-form button[type=submit]")
    assert re.search(r"/rounds/\d+/$", page.url), page.url
    rnd = run_py(platform_server.data, _CRAWL, {"name": ROUND_NAME, "crawl": sandbox.crawl_settings(
        delay=0.05, concurrency_per_host=2, check_links=False)})
    platform_server.state["round"] = rnd
    assert page.url.endswith(f"/rounds/{rnd}/")
    with page.expect_navigation():
        page.click("form[action$='/launch/'] button")
    assert page.locator("#round-jobs tbody tr[data-job]").count() >= 9  # a job per site (and the accounts)

    # ---------------------------------------------------------------- live progress: rows change without a reload
    rows = "() => [...document.querySelectorAll('#round-jobs tr[data-job]')].map(tr => " \
        "tr.querySelector('[data-field=state]').className + '|' + tr.querySelector('[data-field=pages]').textContent)"
    initial = page.evaluate(f"() => {{ window.__notReloaded = true; const r = ({rows})();"
                            " window.__initial = JSON.stringify(r); return r; }")
    assert any("queued" in r or "running" in r for r in initial), initial  # rendered before the jobs ended
    progress_url = f"{base}/rounds/{rnd}/progress.json"

    def live(condition: str, what: str, timeout: int = 90_000) -> None:
        """Wait until `condition` holds on the page as it is (no reload since the launch); a reload or a timeout
        fails with the round's progress and the server's log."""
        try:
            page.wait_for_function(f"() => !window.__notReloaded || ({condition})", timeout=timeout)
            ok = page.evaluate("() => window.__notReloaded === true")
        except Exception as e:  # playwright's TimeoutError
            ok = f"timeout: {e}"
        if ok is not True:
            data = ctx.request.get(progress_url).text()
            raise AssertionError(f"{what}: {'the page reloaded first' if ok is False else ok}\nprogress: {data[:3000]}"
                                 f"\nserve.log: {platform_server.log.read_text()[-3000:]}")

    # a row's state or page count changes in place (rounds.js polls progress.json)
    live(f"JSON.stringify(({rows})()) !== window.__initial", "no row changed in place")
    # mid-run: a site done, the round still running
    live("document.querySelector('#round-jobs .badge.done') !== null", "no job ended while the page watched")
    assert page.locator("#round-jobs .badge.queued, #round-jobs .badge.running").count() > 0 or \
        "done" in page.get_attribute("#round-status", "class")
    shot(page, "round-progress-running")
    # when the round ends, the page reloads once to show the results and downloads
    page.wait_for_function("() => ['done', 'failed'].some(c => document.querySelector('#round-status')"
                           ".classList.contains(c))", timeout=240_000)
    page.wait_for_load_state()
    page.wait_for_selector("ul.downloads", timeout=30_000)
    assert "done" in page.get_attribute("#round-status", "class")
    shot(page, "round-progress-done")

    page.goto(f"{base}/rounds/")
    assert ROUND_NAME in page.content()
    shot(page, "rounds")
    page.goto(f"{base}/dashboard/")
    shot(page, "dashboard")

    # ---------------------------------------------------------------- the findings list and a captured page
    page.goto(f"{base}/findings/?round={rnd}")
    assert page.locator("table.findings tbody tr").count() > 0
    shot(page, "findings")
    findings = run_py(platform_server.data, _FINDINGS, {"round": rnd})
    platform_server.state["findings"] = findings
    assert findings, "the round found nothing in the sandbox"
    captured = [f for f in findings if f["captured"]]
    captured = [f for f in captured if f["site_unit"] == UNIT] or captured
    assert captured, "no finding with a captured page"
    f = captured[0]
    watch.requests.clear()
    page.goto(f"{base}/findings/{f['id']}/")
    frame_el = page.locator("iframe.evidence")
    assert frame_el.count() == 1 and frame_el.get_attribute("sandbox") == ""
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_load_state()
    body = frame.locator("body").inner_text(timeout=15_000)
    assert len(body.strip()) > 20 and "清河县" in body, body[:500]  # the captured page rendered in the frame
    page.wait_for_timeout(2500)  # the sandboxed frame paints late: wait before the evidence screenshot
    shot(page, "finding", tall=True)
    outside = watch.outside()
    assert not outside, f"requests left 127.0.0.1: {outside[:10]}"
    assert [u for u in watch.requests if u.endswith(f"/findings/{f['id']}/page/")], watch.requests
    # the captured page links to outside hosts (its footer): none of them was fetched (asserted above)
    links = frame.locator("a[href^='http']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert [u for u in links if urlsplit(u).hostname not in ("127.0.0.1", "localhost")], links
    # its scripts did not run: the browser says so, its resources were refused by the frame's CSP, nothing else
    frame_msgs = [e for e in watch.errors if "/page/" in e]
    assert any("Blocked script execution" in e and "sandboxed" in e for e in frame_msgs), frame_msgs
    assert all("Blocked script execution" in e or "Content Security Policy" in e for e in frame_msgs), frame_msgs
    assert not [e for e in watch.errors if e.startswith("pageerror")], watch.errors

    # ---------------------------------------------------------------- the registry's site page
    page.goto(f"{base}/registry/websites/")
    with page.expect_navigation():
        page.locator("a[href^='/registry/websites/'][href$='/']").filter(has_text=re.compile("清河县")).first.click()
    assert re.search(r"/registry/websites/\d+/$", page.url)
    shot(page, "registry-site")
    assert not own_errors(watch.errors), own_errors(watch.errors)
    assert not watch.outside(), watch.outside()[:10]
    ctx.close()


def test_unit_lands_on_its_portal_sees_only_its_findings_and_404_for_others(platform_server, chromium):
    base = platform_server.base
    rnd = platform_server.state.get("round")
    findings = platform_server.state.get("findings")
    assert rnd and findings, "the office scenario did not produce a finished round"
    own = {f["id"] for f in findings if f["owner"] == UNIT}
    # another unit's finding, on a page of its own site (its URL and unit name must not leak into the 404 page)
    others = sorted((f for f in findings if f["owner"] not in (UNIT, None) and f["url"]),
                    key=lambda f: not f["captured"])
    assert own and others, (len(own), len(others))

    watch = Watch()
    page = new_page(chromium, watch)
    ctx = page.context
    sign_in(page, base, "edu", PASSWORD)
    assert page.url.rstrip("/").endswith("/portal"), page.url  # a unit lands on its portal
    assert UNIT in page.locator("h1").inner_text()
    shot(page, "portal")
    seen = _finding_ids(page)
    # the findings list, scoped to the unit
    page.goto(f"{base}/findings/?round={rnd}")
    seen |= _finding_ids(page)
    for unit_cell in page.locator("table.findings tbody tr td:first-child").all_inner_texts():
        assert unit_cell.strip() in (UNIT, ""), unit_cell
    assert seen, "the unit sees none of its findings"
    assert seen <= own, f"findings of other units shown to {UNIT}: {sorted(seen - own)}"
    # its own finding opens; another unit's is the 404 page
    r = page.goto(f"{base}/findings/{sorted(own)[0]}/")
    assert r.status == 200
    r = page.goto(f"{base}/findings/{others[0]['id']}/")
    assert r.status == 404
    text = page.locator("body").inner_text()
    assert others[0]["url"] not in page.content() and others[0]["owner"] not in text
    assert "页面不存在" in text
    shot(page, "unit-404")
    errors = [e for e in own_errors(watch.errors) if f"/findings/{others[0]['id']}/" not in e]  # the 404 itself
    assert not errors, errors
    assert not watch.outside(), watch.outside()[:10]
    ctx.close()
