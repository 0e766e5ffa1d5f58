"""Round lifecycle (issue 14, item 3): a round killed with SIGKILL is marked interrupted at the next command, and
`round --resume` finishes it — the sites stored before the kill kept, the site in flight resumed from its stored
crawl — with the same result as a round that was never killed. A round that checked nothing exits non-zero."""

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

BIN = Path(sys.executable).parent / "govinspect"

# a round started the way `govinspect round` starts one, with the sandbox's crawl settings (its DNS, loopback allowed)
DRIVER = """
import json, sys
from govinspect.cliutil import _setup_django
_setup_django()
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Round
from govinspect.rounds.services import _from_json, run_round
a = json.loads(sys.argv[1])
import signal
from govinspect.rounds.commands import _sigterm_as_interrupt
signal.signal(signal.SIGTERM, _sigterm_as_interrupt)  # as `govinspect round` does
import_registry(a["registry"])
import datetime as dt
as_of = dt.date.fromisoformat(a["as_of"])
rnd = Round.objects.create(name="第四季度检查", as_of=as_of, period_start=as_of - dt.timedelta(days=91), allow_networks="127.0.0.0/8")
run_round(rnd, crawl=_from_json(a["crawl"]), site_concurrency=a.get("workers", 1), processes=a.get("processes", 1))
"""


def _env(data: Path) -> dict:
    return {**os.environ, "GOVINSPECT_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "govinspect.settings"}


def _db(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(data / "govinspect.sqlite3"), timeout=30)


def _query(data: Path, sql: str, *args) -> list:
    try:
        con = _db(data)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()
    except sqlite3.Error:  # not created or migrated yet
        return []


def _result(data: Path) -> dict:
    """The round as an office sees it: each site's status and verdict, and its findings per rule."""
    con = _db(data)
    sites = {url: (status, verdict) for url, status, verdict in con.execute(
        "SELECT w.home_url, s.status, s.verdict FROM rounds_roundsite s JOIN registry_website w ON w.id = s.website_id")}
    findings = collections.Counter()
    for url, rule, furl, match, fp in con.execute(
            "SELECT coalesce(w.home_url, ''), f.rule, f.url, f.match, f.fingerprint FROM rounds_finding f "
            "LEFT JOIN rounds_roundsite s ON s.id = f.round_site_id LEFT JOIN registry_website w ON w.id = s.website_id"):
        findings[(url, rule, furl, match, fp)] += 1
    con.close()
    return {"sites": sites, "findings": findings}


def test_sigkill_marks_interrupted_and_resume_finishes_the_same_round(tmp_path):
    county = generate_county(seed=11, n_sites=4, pages_per_site=50, no_default_faults=True)
    with SandboxServer(county) as srv:
        registry = write_registry(county, srv.urls, tmp_path / "名录.xlsx")
        crawl = srv.crawl_settings(delay=0.02, concurrency_per_host=2, link_recheck_interval=0.05)
        arg = json.dumps({"registry": str(registry), "as_of": county.as_of.isoformat(), "crawl": crawl})
        # the reference: the same round, never killed
        ref = tmp_path / "ref"
        done = subprocess.run([sys.executable, "-c", DRIVER, arg], env=_env(ref), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

        # the round killed with SIGKILL once one site is stored and the next one is half crawled
        data = tmp_path / "killed"
        # killed while two worker processes run jobs (the children die with it)
        two = json.dumps({**json.loads(arg), "workers": 2, "processes": None})
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, two], env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline, in_flight = time.time() + 120, None
        while time.time() < deadline and in_flight is None and proc.poll() is None:
            stored = {r[0] for r in _query(data, "SELECT website_id FROM rounds_roundsite")}
            if stored:
                for state in (data / "rounds" / "1").glob("site-*/crawl-state.sqlite"):
                    site = int(state.parent.name.split("-")[1])
                    try:
                        n = sqlite3.connect(str(state)).execute("SELECT count(*) FROM fetched").fetchone()[0]
                    except sqlite3.Error:
                        n = 0
                    if site not in stored and n >= 5:
                        in_flight = site
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert in_flight is not None, "the round must be killed between two sites"
        stored = {r[0] for r in _query(data, "SELECT website_id FROM rounds_roundsite")}
        if in_flight in stored:  # it finished storing between the look and the kill: another half-crawled site is the one
            in_flight = next((int(st.parent.name.split("-")[1]) for st in sorted((data / "rounds" / "1").glob("site-*/crawl-state.sqlite"))
                              if int(st.parent.name.split("-")[1]) not in stored
                              and sqlite3.connect(str(st)).execute("SELECT count(*) FROM fetched").fetchone()[0] >= 5), None)
        assert in_flight is not None, "a half-crawled site when the round was killed"
        assert 1 <= len(stored) < 4 and in_flight not in stored
        assert _query(data, "SELECT status FROM rounds_round") == [("running",)]  # nobody has looked yet

        # the next command finds the owner gone: interrupted, not 检查中 for ever
        subprocess.run([str(BIN), "report", "1", "--out", str(tmp_path / "report")], env=_env(data), capture_output=True,
                       text=True, timeout=300)
        assert _query(data, "SELECT status FROM rounds_round") == [("interrupted",)]
        home = {key: srv.apps[key].counts["/"] + srv.apps[key].counts["/index.html"] for key in srv.apps}

        resumed = subprocess.run([str(BIN), "round", "--resume", "1", "--quiet", "--out", str(tmp_path / "out")],
                                 env=_env(data), capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert "第1轮检查完成" in resumed.stdout
        again = {key: srv.apps[key].counts["/"] + srv.apps[key].counts["/index.html"] - home[key] for key in srv.apps}

    assert _query(data, "SELECT status FROM rounds_round") == [("done",)]
    kinds = [k for (k,) in _query(data, "SELECT kind FROM rounds_roundevent ORDER BY id")]
    assert kinds[:4] == ["start", "interrupt", "resume", "finish"], kinds
    # the sites stored before the kill were not checked again; the one in flight resumed its crawl
    urls = dict(_query(data, "SELECT id, home_url FROM registry_website"))
    for key, url in srv.urls.items():
        site = next(i for i, u in urls.items() if u.rstrip("/") == url.rstrip("/"))
        if site in stored:
            assert again[key] == 0, (key, again)
    (stats,) = _query(data, "SELECT crawl_stats FROM rounds_roundsite WHERE website_id = ?", in_flight)[0]
    assert json.loads(stats)["resumed"] >= 5
    # and the round equals the one never killed: same sites, same verdicts, same findings per rule
    got, want = _result(data), _result(ref)
    assert got["sites"] == want["sites"] and len(got["sites"]) == 4
    assert got["findings"] == want["findings"], (got["findings"] - want["findings"], want["findings"] - got["findings"])
    assert max(got["findings"].values()) == 1  # no finding stored twice
    # the jobs: every one finished; those done before the kill ran once, the one in flight ran again
    jobs = {t: (state, n) for t, state, n in _query(data, "SELECT target, state, attempts FROM rounds_roundjob WHERE kind = 'site'")}
    assert all(state in ("done", "could_not_check") for state, _ in jobs.values()), jobs
    assert all(jobs[site][1] == 1 for site in stored) and jobs[in_flight][1] == 2, jobs


def test_a_round_that_checked_nothing_exits_non_zero(tmp_path):
    county = generate_county(seed=12, n_sites=2, pages_per_site=20, no_default_faults=True)
    with SandboxServer(county) as srv:
        registry = write_registry(county, srv.urls, tmp_path / "名录.xlsx")
        env = _env(tmp_path / "data")
        assert subprocess.run([str(BIN), "registry", "import", str(registry)], env=env, capture_output=True, timeout=120).returncode == 0
        # loopback not allowed: every site is refused by the network guard, nothing is checked
        r = subprocess.run([str(BIN), "round", "--name", "第四季度检查", "--as-of", county.as_of.isoformat(), "--quiet",
                            "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "没有检查到任何网站" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "--allow-network" in r.stderr  # what to do about it


@pytest.mark.django_db
def test_a_new_round_never_resumes_crawls_left_under_its_number(tmp_path):
    """The database can give a deleted round's number again (a restored or recreated database): what is left in that
    round's directory is set aside, the new round crawls afresh."""
    import shutil

    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round
    from govinspect.rounds.services import round_dir, run_round

    county = generate_county(seed=13, n_sites=1, pages_per_site=20, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        first = Round.objects.create(name="一", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(first, crawl=srv.crawl_settings(check_links=False), processes=1)
        second = Round.objects.create(name="二", as_of=county.as_of, allow_networks="127.0.0.0/8")
        shutil.copytree(round_dir(first), round_dir(second), dirs_exist_ok=True)  # what a deleted round numbered like this one left
        before = srv.apps["portal"].requests
        run_round(second, crawl=srv.crawl_settings(check_links=False), processes=1)
        fetched = srv.apps["portal"].requests - before
    (rs,) = second.sites.all()
    assert rs.crawl_stats["resumed"] == 0 and fetched >= first.sites.get().pages_fetched
    assert list(round_dir(second).parent.glob(f"{second.pk}.orphan-*"))  # set aside, not deleted


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    env = _env(tmp_path / "data")
    r = subprocess.run([str(BIN), "round", "--resume", "7", "--quiet"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "没有编号为 7 的检查轮次" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([str(BIN), "round", "--quiet"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--name 和 --as-of" in r.stderr
    r = subprocess.run([str(BIN), "round", "--name", "一", "--as-of", "2026-11-23", "--quiet"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "名录中没有网站" in r.stderr


def test_sigterm_is_recorded_as_an_interruption_by_the_round_itself(tmp_path):
    county = generate_county(seed=14, n_sites=3, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        registry = write_registry(county, srv.urls, tmp_path / "名录.xlsx")
        crawl = srv.crawl_settings(delay=0.02, concurrency_per_host=2, check_links=False)
        arg = json.dumps({"registry": str(registry), "as_of": county.as_of.isoformat(), "crawl": crawl})
        data = tmp_path / "data"
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, arg], env=_env(data), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not _query(data, "SELECT id FROM rounds_roundsite"):
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1]
    stored = len(_query(data, "SELECT id FROM rounds_roundsite"))
    assert 1 <= stored < 3, err[-2000:]
    assert _query(data, "SELECT status FROM rounds_round") == [("interrupted",)]  # no later command needed
    events = _query(data, "SELECT kind, detail FROM rounds_roundevent ORDER BY id")
    assert [k for k, _ in events] == ["start", "interrupt"] and "--resume 1" in events[1][1]
