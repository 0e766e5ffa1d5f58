"""The whole rectification loop in a real browser (issue 18 "Done when"), on the sandbox county served by this process:
a round run on `govinspect serve`'s own data directory; the office reviews and issues it on the review page; the test
really fixes a planted problem on the sandbox and the unit claims it fixed → the runner of `govinspect serve` re-checks
it at once → 已整改 with before/after captures (the after one is the fixed page); a claim without a fix → 仍存在 with
the new evidence; the unit's site down → 未能复查 with the reason; a dispute accepted by the office → 申诉成立 and an
audited ignore; the deadline passes (`govinspect rectify tick`) → 逾期 and a reminder mail received by a local SMTP
server; the next round follows the items by fingerprint and its bulletin has the 复查整改情况 paragraph and the 整改情况
table from the items. Screenshots of the unit's and the office's queues after the cycle."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import browser_rectify_util as U
from browser_util import ROOT, Served, Watch, act, new_page, run_py, server_env, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "Br0wser-Rectify-Passw0rd"
UNIT = "清河县人民政府办公室"  # owns the portal: privacy leaks (fixable), stale columns, misspellings, a leader's name
SITE_KEY = "portal"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
ANSWER_MS = 150_000  # the runner's answer to a claim (a re-check of one item: seconds; the page reloads every 5 s)


def _trail(page) -> str:
    return page.locator("table.rectify-trail").inner_text()


def _claim(page, base: str, item: int, note: str, png: Path | None = None) -> None:
    """The unit opens the item from its queue and claims it fixed; the page says 已反馈 (the claim is in the trail)."""
    page.goto(f"{base}/rectify/")
    with page.expect_navigation():
        page.locator(f"table.rectify-table a[href='/rectify/items/{item}/']").first.click()
    form = page.locator("form[action$='/claim/']")
    form.locator("textarea[name=note]").fill(note)
    if png is not None:
        form.locator("input[type=file]").set_input_files(str(png))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith(f"/rectify/items/{item}/"), page.url
    assert "已反馈整改情况" in page.locator("ul.messages").inner_text()
    trail = _trail(page)
    assert "已反馈" in trail and note in trail, trail


def _answered(page, served, item: int, state: str) -> str:
    """Wait until the item page (reloading itself while the re-check is queued or running) shows the runner's answer;
    returns the page's heading."""
    try:
        page.wait_for_function("() => { const e = document.querySelector('#rectify-item');"
                               " return e && e.dataset.waiting === '0'; }", timeout=ANSWER_MS)
    except Exception as e:  # playwright's TimeoutError: say what the server did
        raise AssertionError(f"item {item}: no answer from the runner: {e}\n"
                             f"serve.log: {served.log.read_text(errors='replace')[-3000:]}") from None
    h1 = page.locator("h1").inner_text()
    assert state in h1, (h1, _trail(page), served.log.read_text(errors="replace")[-2000:])
    return h1


def _tick(data: Path, today: dt.date) -> str:
    """`govinspect rectify tick --today` (cron's housekeeping) on the data directory, with the SMTP settings of the
    environment; returns what it printed."""
    out = subprocess.run([sys.executable, "-m", "govinspect.cli", "rectify", "tick", "--today", today.isoformat()],
                         env=server_env(data), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "标记逾期" in out.stdout, out.stdout
    return out.stdout


def _capture_links(page) -> dict[str, str]:
    """The before/after capture links of the item's last re-check row."""
    row = page.locator("table.rectify-trail tbody tr").filter(has_text="复查").last
    return {side: row.locator(f"a[href$='/{side}/']").get_attribute("href")
            for side in ("before", "after") if row.locator(f"a[href$='/{side}/']").count()}


def test_the_rectification_cycle_in_a_browser(tmp_path, monkeypatch, chromium):
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.fixes import fix_problems
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=11, n_sites=3, pages_per_site=40, no_default_faults=True)
    data = tmp_path / "data"
    data.mkdir()
    watch = Watch()  # the office's and the unit's pages
    with SandboxServer(county) as srv, U.LocalSmtp() as smtp:
        crawl = srv.crawl_settings(delay=0.05)
        # ------------------------------------------------------------ 1. registry, first round, accounts (own data dir)
        setup = run_py(data, U.SETUP, {"registry": str(write_registry(county, srv.urls, tmp_path / "名录.xlsx")),
                                       "as_of": county.as_of.isoformat(), "name": "第一轮检查", "crawl": crawl,
                                       "unit": UNIT, "password": PASSWORD}, timeout=300)
        r1, contact = setup["round"], setup["email"]
        assert setup["status"] == "done" and contact, setup

        # ------------------------------------------------------------ 2. govinspect serve (its runner re-checks claims)
        for k, v in smtp.env().items():  # server_env() copies os.environ: serve, its runner and run_py get the SMTP
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("GOVINSPECT_BASE_URL", "http://127.0.0.1")
        monkeypatch.setenv("GOVINSPECT_HOUSEKEEPING_MINUTES", "60")  # the deadline is passed by `rectify tick` below
        served = Served(data, tmp_path / "serve.log")
        try:
            base = served.base
            # -------------------------------------------------------- 3. the office reviews and issues the round
            office = new_page(chromium, watch)
            office_ctx = office.context
            sign_in(office, base, "office", PASSWORD)
            office.goto(f"{base}/rounds/{r1}/")
            with office.expect_navigation():
                office.click("#round-review")
            assert office.url.endswith(f"/rounds/{r1}/review/"), office.url
            office.fill("#id_recipients", "各乡镇人民政府，县政府各部门")
            office.fill("#id_doc_number", "清政办〔2026〕18号")
            with office.expect_navigation():
                office.click("#review-settings button[type=submit]")
            assert "清政办〔2026〕18号" in office.locator("#bulletin-preview").inner_text()
            issued_on = dt.date.today()  # deadlines ahead: the runner's own housekeeping (real today) marks nothing
            office.fill("#issued-on", issued_on.isoformat())
            with office.expect_navigation():
                office.click("#issue-start")
            with office.expect_navigation():
                office.click("#issue-confirm")
            assert office.locator("#review-state").inner_text() == "已下发"

            items = run_py(data, U.ITEMS, {"round": r1, "unit": UNIT})
            assert len(items) >= 5 and all(i["state"] == "open" for i in items), items
            deadline = max(dt.date.fromisoformat(i["deadline"]) for i in items)
            assert deadline > issued_on

            # -------------------------------------------------------- 4. really fixed on the sandbox → 已整改
            leak = next(i for i in items if i["rule"].startswith("privacy."))
            gone = fix_problems(county, [leak["rule"]], sites=[SITE_KEY])
            leak = next(i for i in items if i["rule"] == leak["rule"] and any(i["url"].endswith(g["path"]) for g in gone))
            planted = next(g["text"] for g in gone if leak["url"].endswith(g["path"]))  # the sentence with the leak
            assert planted
            srv.refresh()

            unit = new_page(chromium, watch)
            unit_ctx = unit.context
            sign_in(unit, base, "unit", PASSWORD)
            assert unit.url.rstrip("/").endswith("/portal"), unit.url
            unit.goto(f"{base}/rectify/")
            listed = set(unit.eval_on_selector_all("table.rectify-table a[href^='/rectify/items/']",
                                                   "els => els.map(e => e.getAttribute('href'))"))
            assert {f"/rectify/items/{i['id']}/" for i in items} <= listed, listed
            png = tmp_path / "整改后截图.png"
            png.write_bytes(PNG)
            _claim(unit, base, leak["id"], "已删除公示中的个人身份信息，并重新发布脱敏后的页面。", png)
            assert "整改后截图.png" in _trail(unit)
            _answered(unit, served, leak["id"], "已整改")
            links = _capture_links(unit)
            assert set(links) == {"before", "after"}, links
            before = unit_ctx.request.get(base + links["before"]).text()
            after = unit_ctx.request.get(base + links["after"]).text()
            assert planted in before  # the problem as found ...
            assert "清河县" in after and planted not in after  # ... and the fixed page the re-check fetched
            after_url = unit.locator("table.rectify-trail tbody tr").filter(has_text="复查").last.inner_text()
            assert urlsplit(leak["url"]).path in after_url, after_url
            with unit.expect_popup() as pop:  # the after capture opens (sandboxed) from the item page
                unit.click(f"a[href='{links['after']}']")
            popup = pop.value
            popup.wait_for_load_state()
            assert planted not in popup.content()
            popup.close()

            # -------------------------------------------------------- 5. claimed without fixing → 仍存在, new evidence
            stale = next(i for i in items if i["rule"] == "column.stale")
            _claim(unit, base, stale["id"], "已更新该栏目。")
            _answered(unit, served, stale["id"], "仍存在")
            assert "复查发现问题仍然存在" in unit.locator("p.notice").first.inner_text()
            row = unit.locator("table.rectify-trail tbody tr").filter(has_text="复查").last.inner_text()
            assert "复查网址" in row and "复查时页面" in row, row  # the new evidence: the page as re-checked
            assert set(_capture_links(unit)) == {"before", "after"}

            # -------------------------------------------------------- 6. the site down → 未能复查 with the reason
            down = next(i for i in items if i["rule"] == "content.misspelling")
            real_url = run_py(data, U.SITE_URL, {"unit": UNIT, "url": "http://127.0.0.1:9/"})
            _claim(unit, base, down["id"], "已修改错别字。")
            _answered(unit, served, down["id"], "未能复查")
            notice = unit.locator("p.notice").first.inner_text()
            assert notice.startswith("未能复查：") and len(notice) > len("未能复查：。系统将按计划再次复查，期间不计为已整改。"), notice
            assert "不计为已整改" in notice
            print(f"site down: {notice}")
            run_py(data, U.SITE_URL, {"unit": UNIT, "url": real_url})  # back up for the next round

            # -------------------------------------------------------- 7. a dispute, accepted by the office
            disputed = next(i for i in items if i["rule"] == "content.expression")
            unit.goto(f"{base}/rectify/items/{disputed['id']}/")
            act(unit, "dispute", reason="该表述引自上级文件原文，不属于表述不规范。")
            assert "申诉中" in unit.locator("h1").inner_text()

            office.goto(f"{base}/rectify/")
            review = office.locator("section.review-queue")
            assert "待审核（1）" in review.inner_text() and "申诉中" in review.inner_text()
            shot(office, "rectify-cycle-office-queue", full=False)  # the review queue at the top of the page
            with office.expect_navigation():
                review.locator(f"a[href='/rectify/items/{disputed['id']}/']").first.click()
            act(office, "accept", note="经核实为引用的上级文件原文，申诉理由成立。")
            assert "申诉成立" in office.locator("h1").inner_text()
            got = run_py(data, U.IGNORED, {"item": disputed["id"]})
            assert got["state"] == "accepted" and got["closed"], got
            assert got["ignore"] and got["ignore"]["by"] == "office" and f"事项{disputed['id']}" in got["ignore"]["reason"]
            assert ["dispute", "unit"] in got["actions"] and ["accept", "office"] in got["actions"], got["actions"]

            # -------------------------------------------------------- 8. the deadline passes → 逾期, reminder mailed
            today = deadline + dt.timedelta(days=1)
            _tick(data, today)
            states = run_py(data, U.STATES, {"ids": [i["id"] for i in items]})
            assert states[str(leak["id"])][0] == "fixed" and states[str(disputed["id"])][0] == "accepted"
            assert states[str(stale["id"])][0] == "overdue" and states[str(down["id"])][0] == "overdue", states
            unit.goto(f"{base}/rectify/")
            queue = unit.locator("table.rectify-table").inner_text()
            assert "逾期" in queue, queue
            late = {int(k) for k, v in run_py(data, U.UNIT_STATES, {"unit": UNIT}).items() if v == "overdue"}
            for tr in unit.locator("table.rectify-table tbody tr").all():
                pk = int(tr.locator("td").first.inner_text())
                assert (pk in late) == ("逾期" in tr.inner_text()), (pk, tr.inner_text())
            mails = [(to, m) for to, m in smtp.messages if contact in to]
            assert mails, (smtp.messages, run_py(data, U.REMINDERS, {"unit": UNIT}))
            body = mails[-1][1].get_body(preferencelist=("plain",)).get_content()
            assert "逾期" in mails[-1][1]["Subject"] + body and str(stale["id"]) in body, (mails[-1][1]["Subject"], body)
            sent = run_py(data, U.REMINDERS, {"unit": UNIT})
            assert ["overdue", "email", contact, True, ""] in sent, sent

            # -------------------------------------------------------- 9. the next round: items followed by fingerprint
            r2 = run_py(data, U.ROUND2, {"as_of": county.as_of.isoformat(), "name": "第二轮检查", "crawl": crawl},
                        timeout=300)
            assert r2["status"] == "done", r2
            after2 = run_py(data, U.STATES, {"ids": [i["id"] for i in items]})
            assert after2[str(leak["id"])][0] == "fixed"  # fixed stays fixed
            assert after2[str(disputed["id"])][0] == "accepted"  # ignored: not found again
            for it in (stale, down):  # still there: seen again by the new round, not fixed
                # (rectify.services.sync_with_round makes an item found again 仍存在, an overdue one too, whatever
                # the date: the next housekeeping after the deadline makes it 逾期 again)
                assert after2[str(it["id"])][0] in ("present", "overdue"), (it, after2)
                assert after2[str(it["id"])][1] == r2["round"], (it, after2)
            # the schedule after the deadline (the runner's housekeeping on that day; here the tick again): what the
            # new round found again is overdue again, what it did not find stays closed
            _tick(data, today)
            after2 = run_py(data, U.STATES, {"ids": [i["id"] for i in items]})
            assert [after2[str(i["id"])][0] for i in (leak, stale, down, disputed)] == \
                ["fixed", "overdue", "overdue", "accepted"], after2
            # its bulletin: 复查整改情况 and the 整改情况 table from the items, deductions for the overdue ones
            rep = run_py(data, U.REPORTS, {"round": r2["round"], "out": str(tmp_path / "第二轮")}, timeout=300)
            rf = rep["rectification"]
            assert rf and rf["total"] >= len(items) and rf["fixed"] >= 1 and rf["accepted"] >= 1, rf
            assert rf["overdue"] >= 2, rf
            para = next((p for p in rep["paragraphs"] if "复查整改情况" in p), None)
            assert para, rep["paragraphs"][:20]
            assert f"{rf['total']}个问题" in para, para
            for key, label in (("fixed", "已整改"), ("present", "仍存在"), ("overdue", "逾期未整改"), ("accepted", "申诉成立")):
                assert (f"{label}{rf[key]}个" in para) == bool(rf[key]), (key, para)
            mine = next(d for d in rf["deductions"] if d["unit"] == UNIT)
            assert f"{UNIT}{mine['overdue']}个问题逾期未整改" in para and "年度考核" in para, para
            table = next((t for t in rep["tables"] if t and "责任单位" in t[0] and "已整改" in t[0]), None)
            assert table, [t[0] for t in rep["tables"] if t]
            head = table[0]
            ours = next(r for r in table if UNIT in r)
            own = list(run_py(data, U.UNIT_STATES, {"unit": UNIT}).values())
            assert int(ours[head.index("已整改")]) == own.count("fixed") >= 1, (ours, own)
            assert int(ours[head.index("逾期")]) == own.count("overdue") == mine["overdue"] >= 2, (ours, own)
            assert int(ours[head.index("下发问题数")]) == len(own), (ours, own)

            # -------------------------------------------------------- 10. the queues after the cycle
            unit.goto(f"{base}/rectify/")
            assert "逾期" in unit.locator("table.rectify-table").inner_text()
            shot(unit, "rectify-cycle-unit")
            office.goto(f"{base}/rectify/progress/")
            row = office.locator("table.rectify-progress tbody tr").filter(has_text=UNIT).inner_text()
            assert row.split("\t")[:2] == [UNIT, str(len(own))], row
            shot(office, "rectify-cycle-office")
            office_ctx.close()
            unit_ctx.close()
        finally:
            served.stop()
    errors = [e for e in watch.errors if "/capture/" not in e]  # the captured pages' scripts, refused by the frame
    assert not errors, errors
    assert not watch.outside(), watch.outside()[:10]
