"""Incremental and resumable crawling: conditional requests, SIGKILL mid-crawl, no lost or doubled findings."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from govinspect.engine.inspect import inspect_site
from govinspect.sandbox import generate_county
from govinspect.sandbox.serve import SandboxServer

BIN = Path(sys.executable).parent / "govinspect"


def _keys(findings):
    """A finding's identity: rule, URL and, for content findings, the hit and where it is."""
    return sorted((f["rule"], f["fingerprint"], (f["evidence"].get("excerpt") or "")) for f in findings)


def test_second_round_transfers_far_fewer_bytes_and_finds_the_same(tmp_path):
    county = generate_county(n_sites=2, pages_per_site=80)
    with SandboxServer(county) as srv:
        app = srv.apps["portal"]
        first = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(), None, tmp_path / "r1")
        b1 = app.bytes_sent
        second = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(), None, tmp_path / "r2", previous=tmp_path / "r1")
        b2 = app.bytes_sent - b1
    assert b1 >= 10 * b2, (b1, b2)
    assert second.crawl_stats["not_modified"] >= 0.9 * first.pages_fetched
    assert _keys(f.to_dict() for f in first.findings) == _keys(f.to_dict() for f in second.findings)
    assert [c.to_dict() for c in first.columns] == [c.to_dict() for c in second.columns]


def test_rerun_of_a_finished_crawl_fetches_nothing(tmp_path):
    county = generate_county(n_sites=1, pages_per_site=30, no_default_faults=True)
    with SandboxServer(county) as srv:
        def crawled():  # the site search is a check of its own, made on every run
            return sum(v for k, v in srv.apps["portal"].counts.items() if not k.startswith("/search.html"))

        inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(check_links=False), None, tmp_path / "c")
        n = crawled()
        again = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(check_links=False), None, tmp_path / "c")
        assert crawled() == n
    assert again.crawl_stats["resumed"] == again.crawl_stats["urls"] and again.pages_fetched > 30


def test_a_damaged_crawl_state_is_set_aside_and_the_site_crawled_afresh(tmp_path):
    # what an OS crash or power loss can leave behind (commits are not flushed to the disk surface)
    county = generate_county(n_sites=1, pages_per_site=30, no_default_faults=True)
    with SandboxServer(county) as srv:
        first = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(check_links=False), None, tmp_path / "c")
        db = tmp_path / "c" / "crawl-state.sqlite"
        raw = bytearray(db.read_bytes())
        raw[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree header and cells: garbage
        db.write_bytes(bytes(raw))
        again = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(check_links=False), None, tmp_path / "c")
    aside = list((tmp_path / "c").glob("crawl-state.sqlite.damaged-*"))
    assert aside and aside[0].read_bytes()[100:110] == b"\xff" * 10  # kept as it was, for whoever wants to look
    assert again.crawl_stats["state_damaged"] == 1 and again.crawl_stats["resumed"] == 0
    assert again.pages_fetched == first.pages_fetched
    assert _keys(f.to_dict() for f in again.findings) == _keys(f.to_dict() for f in first.findings)


def test_sigkill_mid_crawl_then_resume(tmp_path):
    county = generate_county(n_sites=3, pages_per_site=100)
    with SandboxServer(county) as srv:
        url = srv.urls["wjw"]
        resolve = [a for h, (ip, port) in srv.resolve_map.items() for a in ("--resolve", f"{h}={ip}:{port}")]
        args = [str(BIN), "check-site", url, "--as-of", county.as_of.isoformat(), "--allow-network", "127.0.0.0/8", "--offline-dns",
                "--link-recheck", "0.2", "--concurrency", "2", *resolve, "--quiet"]
        # an uninterrupted reference crawl
        ref = subprocess.run(args + ["--delay", "0", "--warc-dir", str(tmp_path / "ref"), "--out", str(tmp_path / "ref.json")],
                             capture_output=True, text=True, timeout=300)
        assert ref.returncode == 0, ref.stderr
        app = srv.apps["wjw"]
        app.counts.clear()
        # the same crawl, slowed down, killed with SIGKILL once it has stored some pages
        work = tmp_path / "work"
        proc = subprocess.Popen(args + ["--delay", "0.03", "--warc-dir", str(work), "--out", str(tmp_path / "out.json")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = work / "crawl-state.sqlite"
        deadline = time.time() + 120
        stored = 0
        while time.time() < deadline:
            if db.exists():
                try:
                    stored = sqlite3.connect(str(db)).execute("SELECT count(*) FROM fetched").fetchone()[0]
                except sqlite3.Error:
                    stored = 0
                if stored >= 40:
                    break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert stored >= 40 and not (tmp_path / "out.json").exists()
        con = sqlite3.connect(str(db))
        done_before = {r[0] for r in con.execute("SELECT url FROM fetched")}
        queued = con.execute("SELECT count(*) FROM frontier WHERE done=0").fetchone()[0]
        con.close()
        assert queued > 0, "the crawl must have been interrupted mid-way"
        counts_before = dict(app.counts)
        resumed = subprocess.run(args + ["--delay", "0", "--warc-dir", str(work), "--out", str(tmp_path / "out.json")],
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        after = {k: v - counts_before.get(k, 0) for k, v in app.counts.items()}
    # nothing stored before the kill was fetched again
    from urllib.parse import urlsplit
    refetched = [u for u in done_before if after.get(urlsplit(u).path + (("?" + urlsplit(u).query) if urlsplit(u).query else ""), 0)]
    assert not refetched, refetched[:5]
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    ref_out = json.loads((tmp_path / "ref.json").read_text(encoding="utf-8"))
    assert out["crawl"]["resumed"] >= 40
    assert _keys(out["findings"]) == _keys(ref_out["findings"])  # no lost, no duplicated findings
    assert len(out["findings"]) == len(set(_keys(out["findings"])))
    assert [(c["url"], c["status"], c["newest_date"]) for c in out["columns"]] == \
           [(c["url"], c["status"], c["newest_date"]) for c in ref_out["columns"]]


def test_a_page_and_the_links_it_queued_are_stored_together(tmp_path):
    from govinspect.engine.fetch.state import CrawlState

    st = CrawlState(tmp_path / "s.sqlite")
    st.queue("http://a/", 0, None, 1)
    st.store({"url": "http://a/", "status": 200, "redirects": []}, [("http://a/1", 1, "http://a/", 2), ("http://a/2", 1, "http://a/", 3)])
    try:  # a failure half-way (here a malformed frontier row) stores nothing of that page and leaves the state usable
        st.store({"url": "http://a/1", "status": 200, "redirects": []}, [("http://a/3", 2)])
    except sqlite3.Error:
        pass
    else:
        raise AssertionError("the malformed row must fail")
    st.store({"url": "http://a/2", "status": 404, "redirects": []})
    st.close()
    st = CrawlState(tmp_path / "s.sqlite")
    assert sorted(r["url"] for r in st.fetched()) == ["http://a/", "http://a/2"]
    assert [q[0] for q in st.queued()] == ["http://a/1"]  # still to fetch; http://a/3 was never queued
    st.close()


def test_backdated_page_and_defaced_home_between_rounds(tmp_path):
    import datetime as dt

    from govinspect.engine.fetch.state import CrawlState
    from govinspect.sandbox.county import Article, article_path

    county = generate_county(n_sites=1, pages_per_site=60, no_default_faults=True)
    site = county.sites[0]
    with SandboxServer(county) as srv:
        url = srv.urls["portal"]
        first = inspect_site(url, county.as_of, srv.crawl_config(), None, tmp_path / "r1")
        assert not {f.rule for f in first.findings} & {"content.backdated", "site.defaced"}
        seen = dt.date.fromisoformat(CrawlState(tmp_path / "r1" / "crawl-state.sqlite").get_meta("finished_at")[:10])
        col = site.column("tzgg")
        stated = min(col.articles[0].date, seen) - dt.timedelta(days=1)  # inside what the old list covered
        art = Article(aid=999999, title="关于进一步做好燃气安全工作的紧急通知", date=stated,
                      path=article_path("trs", col.slug, col.cid, 999999, stated), column_slug=col.slug, paragraphs=["正文。"])
        col.articles.insert(1, art)
        site.home_title = "Hacked by Someone"
        site.home_extra_html += '<span style="font-size:0"><a href="http://www.xpj-casino888.com/vip.html">百家乐</a></span>'
        srv.refresh()
        second = inspect_site(url, county.as_of, srv.crawl_config(), None, tmp_path / "r2", previous=tmp_path / "r1")
        third = inspect_site(url, county.as_of, srv.crawl_config(), None, tmp_path / "r3", previous=tmp_path / "r2")
    back = [f for f in second.findings if f.rule == "content.backdated"]
    assert [f.url for f in back] == [srv.url("portal", art.path)]
    assert back[0].facts["stated_date"] == stated.isoformat()
    defaced = next(f for f in second.findings if f.rule == "site.defaced")
    assert "Hacked by Someone" in defaced.detail and "http://www.xpj-casino888.com/vip.html" in defaced.facts["new_links"]
    from govinspect.rules.ruleset import RuleSet

    assert RuleSet.load().scheme.judge(second.status, [f.rule for f in second.findings])[0] == "fail"  # WV-1e: single veto
    # the round after: nothing new happened, nothing is reported again
    assert not {f.rule for f in third.findings} & {"content.backdated", "site.defaced"}
