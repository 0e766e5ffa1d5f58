"""THE schedules (govinspect/schedules.py) in embedded mode: which are due when, the beat schedule of cluster mode, the
calendar, and the daily incremental pass on the sandbox (conditional requests; a privacy leak planted in a new page
after the first crawl is found the next day and recorded as a finding of that day's daily monitoring round)."""

import datetime as dt
import random

import pytest

from govinspect import schedules
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.crawler import _HostGate, make_gate
from govinspect.monitor.daily import daily_name, start_daily_round
from govinspect.monitor.models import ScheduleRun
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Finding, Round, RoundSite
from govinspect.rounds.services import run_jobs
from govinspect.sandbox import generate_county, ids, render
from govinspect.sandbox.county import Article, article_path
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

TZ = schedules.TZ


def _at(day: str, hm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=TZ)


def test_due_decisions(monkeypatch):
    monkeypatch.setenv("GOVINSPECT_SCHEDULES", "all")
    monkeypatch.delenv("GOVINSPECT_BROKER_URL", raising=False)
    monkeypatch.delenv("GOVINSPECT_PROBE_MINUTES", raising=False)
    monkeypatch.delenv("GOVINSPECT_DAILY_CRAWL_AT", raising=False)
    now = _at("2026-11-23", "10:00")
    names = lambda ds: sorted(s.name for s in ds)  # noqa: E731
    # never run: every embedded schedule is due; the cluster's sweep and the runner's own housekeeping never are
    assert names(schedules.due(now, {})) == ["calendar-rounds", "daily-crawl", "probe-sites"]
    # probes every 72 minutes: 71 min after the last one not due, 72 min after it due (20 a day)
    last = {"probe-sites": now - dt.timedelta(minutes=71), "calendar-rounds": now, "daily-crawl": _at("2026-11-23", "01:00")}
    assert names(schedules.due(now, last)) == []
    last["probe-sites"] = now - dt.timedelta(minutes=72)
    assert names(schedules.due(now, last)) == ["probe-sites"]
    assert 24 * 60 / (schedules.schedules()[0].every / 60) == 20
    # the daily crawl at 01:00 Asia/Shanghai: ran yesterday at 01:00 → due at 01:00 today, not at 00:59
    daily = lambda when, last: "daily-crawl" in names(schedules.due(when, {"daily-crawl": last}))  # noqa: E731
    assert not daily(_at("2026-11-23", "00:59"), _at("2026-11-22", "01:00"))
    assert daily(_at("2026-11-23", "01:00"), _at("2026-11-22", "01:00"))
    assert daily(_at("2026-11-23", "23:00"), _at("2026-11-22", "01:00"))  # the runner was down at 01:00
    assert not daily(_at("2026-11-23", "23:59"), _at("2026-11-23", "01:03"))
    # a time in UTC is the same instant: 17:00 UTC is 01:00 in Shanghai
    assert daily(dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.timezone.utc), _at("2026-11-22", "01:00"))
    assert not daily(dt.datetime(2026, 11, 22, 16, 59, tzinfo=dt.timezone.utc), _at("2026-11-22", "01:00"))
    # embedded default: nothing but the runner's own housekeeping (tests and demos never probe or crawl by themselves)
    monkeypatch.delenv("GOVINSPECT_SCHEDULES")
    assert schedules.due(now, {}) == []
    monkeypatch.setenv("GOVINSPECT_SCHEDULES", "probe-sites")
    assert names(schedules.due(now, {})) == ["probe-sites"]


def test_beat_schedule_lists_every_schedule_in_cluster_mode(monkeypatch):
    from celery.schedules import crontab

    monkeypatch.setenv("GOVINSPECT_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("GOVINSPECT_SCHEDULES", raising=False)
    beat = schedules.celery_beat_schedule()
    assert set(beat) == {"probe-sites", "daily-crawl", "calendar-rounds", "rectify-housekeeping", "claim-queued-rounds"}
    assert beat["claim-queued-rounds"] == {"task": "govinspect.cluster.tasks.claim_queued_rounds", "schedule": 10,
                                           "options": {"expires": 9.0}}
    assert beat["probe-sites"]["schedule"] == 72 * 60 and beat["probe-sites"]["task"] == "govinspect.cluster.scheduled.probe_sites"
    assert beat["daily-crawl"]["schedule"] == crontab(hour=1, minute=0)
    assert all(s.description for s in schedules.schedules())
    # only some enabled: the sweep and the rectification housekeeping stay
    monkeypatch.setenv("GOVINSPECT_SCHEDULES", "daily-crawl")
    assert set(schedules.celery_beat_schedule()) == {"daily-crawl", "rectify-housekeeping", "claim-queued-rounds"}
    # every task the schedule names exists in the Celery app
    from govinspect.cluster.app import app

    app.loader.import_default_modules()
    assert {e["task"] for e in beat.values()} <= set(app.tasks)


def test_cron_calendar():
    m = schedules.cron_matches
    assert m("0 2 10 1,4,7,10 *", _at("2026-04-10", "02:00"))
    assert not m("0 2 10 1,4,7,10 *", _at("2026-05-10", "02:00"))
    assert not m("0 2 10 1,4,7,10 *", _at("2026-04-10", "02:01"))
    assert m("*/15 8-9 * * 1-5", _at("2026-11-23", "08:45"))  # a Monday
    assert not m("*/15 8-9 * * 1-5", _at("2026-11-22", "08:45"))  # a Sunday
    assert m("0 0 * * 0", _at("2026-11-22", "00:00")) and m("0 0 * * 7", _at("2026-11-22", "00:00"))
    assert m("0 0 1 * 1", _at("2026-11-23", "00:00"))  # day or weekday (cron's rule)
    with pytest.raises(ValueError):
        m("0 2 10", _at("2026-04-10", "02:00"))
    assert schedules.last_fire("0 2 10 1,4,7,10 *", _at("2026-04-11", "09:00")) == _at("2026-04-10", "02:00")
    assert schedules.last_fire("0 2 10 1,4,7,10 *", _at("2026-04-13", "09:00")) is None  # older than two days


@pytest.mark.django_db
def test_calendar_rounds_copy_the_template_once(monkeypatch):
    tpl = Round.objects.create(name="第三季度检查", as_of=dt.date(2026, 9, 30), period_start=dt.date(2026, 7, 1),
                               status="done", scheme="national-2019", allow_networks="127.0.0.0/8",
                               run_options={"crawl": {"delay": 0.25}})
    monkeypatch.setenv("GOVINSPECT_ROUND_CALENDAR", "0 2 10 1,4,7,10 *; 0 3 1 * *")
    monkeypatch.setattr("govinspect.web.views.rounds.plan", lambda rnd: [])  # the jobs: the web's planning (tested there)
    now = _at("2026-10-10", "02:05")
    made = schedules.start_calendar_rounds(now)
    assert [(r.name, r.as_of, r.status, r.period_start) for r in made] == [
        ("定期检查 2026-10-10", dt.date(2026, 10, 10), "queued", dt.date(2026, 7, 11))]
    r = made[0]
    assert r.run_options["calendar"] == _at("2026-10-10", "02:00").isoformat() and r.run_options["template"] == tpl.pk
    assert r.allow_networks == "127.0.0.0/8" and r.events.filter(kind="queue").exists()
    assert schedules.start_calendar_rounds(now + dt.timedelta(hours=5)) == []  # once per date
    # the monthly entry on the 1st; a round made by the calendar is not a template while a hand-made one exists
    made = schedules.start_calendar_rounds(_at("2026-11-01", "03:00"))
    assert [m.name for m in made] == ["定期检查 2026-11-01"] and made[0].run_options["template"] == tpl.pk


@pytest.mark.django_db
def test_a_failing_schedule_is_recorded_and_the_others_run(monkeypatch):
    monkeypatch.setenv("GOVINSPECT_SCHEDULES", "probe-sites,daily-crawl")
    monkeypatch.setattr("govinspect.monitor.daily.start_daily_round", lambda: (_ for _ in ()).throw(RuntimeError("坏了")))
    ran = schedules.run_due(say=lambda m: None)
    assert ran == ["probe-sites"]  # no site registered: the probe cycle says so
    runs = {r.name: r for r in ScheduleRun.objects.all()}
    assert runs["probe-sites"].ok and runs["probe-sites"].detail == "名录中没有网站"
    assert runs["daily-crawl"].ok is False and "坏了" in runs["daily-crawl"].detail
    assert schedules.due(dt.datetime.now(TZ), schedules.last_runs(), {"probe-sites", "daily-crawl"}) == []


def test_embedded_mode_keeps_the_in_process_gate(monkeypatch):
    monkeypatch.delenv("GOVINSPECT_BROKER_URL", raising=False)
    monkeypatch.delenv("GOVINSPECT_SLOTS_URL", raising=False)
    assert type(make_gate(CrawlConfig(), "a.gov.cn")) is _HostGate


# --------------------------------------------------------------------------------------------- the daily pass
def _plant_new_article(county, key: str) -> tuple[str, str]:
    """A new article with a full ID number and a link to a gambling site in a column of site `key`; (its path, the ID)."""
    site = next(s for s in county.sites if s.key == key)
    col = next(c for c in site.columns if c.kind == "list" and c.articles and c.category in ("dynamic", "notice"))
    pid = ids.make_id(random.Random(19))
    d = county.as_of + dt.timedelta(days=1)
    aid = 90000
    art = Article(aid=aid, title="关于2026年度困难群众临时救助对象的公示", date=d,
                  path=article_path(render.fam(site), col.slug, col.cid, aid, d), column_slug=col.slug,
                  paragraphs=["根据有关规定，现将临时救助对象公示如下。", f"经审核，王某某（身份证号：{pid}）符合救助条件，现予公示。",
                              "公示期为5个工作日。"],
                  related=[("便民服务", "http://www.xpj-casino888.com/")])
    col.articles.insert(0, art)
    return art.path, pid


@pytest.mark.django_db
def test_daily_incremental_pass_finds_a_leak_in_a_new_page(tmp_path, monkeypatch):
    county = generate_county(seed=11, n_sites=2, pages_per_site=40)
    keys = [s.key for s in county.sites]
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings(delay=0.0)
        day1 = county.as_of
        first = start_daily_round(day1, crawl=crawl)
        assert first.name == daily_name(day1) == f"日常监测 {day1}" and first.status == "queued"
        assert start_daily_round(day1, crawl=crawl).pk == first.pk  # sent twice: one round
        run_jobs(first)
        first.refresh_from_db()
        assert first.status == "done", first.error
        base = {rs.website.home_url: rs for rs in RoundSite.objects.filter(round=first).select_related("website")}
        assert all(rs.status == "checked" for rs in base.values())
        assert all(rs.crawl_stats["not_modified"] == 0 for rs in base.values())
        n_first = Finding.objects.filter(round=first).count()

        # the next day: a new page with a citizen's ID number on one site
        site_key = keys[0]
        path, pid = _plant_new_article(county, site_key)
        srv.refresh()
        requests_before = {k: a.requests for k, a in srv.apps.items()}
        second = start_daily_round(day1 + dt.timedelta(days=1), crawl=crawl)
        run_jobs(second)
        second.refresh_from_db()
        assert second.status == "done", second.error
        sent = {k: a.requests - requests_before[k] for k, a in srv.apps.items()}

    sites = {rs.website.home_url: rs for rs in RoundSite.objects.filter(round=second).select_related("website")}
    planted = srv.urls[site_key]
    for url, rs in sites.items():
        stats, daily = rs.crawl_stats, rs.check_stats["daily"]
        assert stats["baseline"] and stats["requests"] >= rs.pages_fetched  # every page asked for again, conditionally
        if url == planted:  # the new page, and the pages the CMS re-rendered around it (lists, "latest" boxes)
            assert rs.pages_fetched == base[url].pages_fetched + 1
            assert 0 < stats["not_modified"] < rs.pages_fetched and daily["pages_new_or_changed"] >= 1, (stats, daily)
            assert daily["pages_new_or_changed"] + stats["not_modified"] <= rs.pages_fetched
            assert daily["known_before"] > 0  # problems on the re-rendered pages, found the day before: not raised again
        else:  # nothing changed: every page answered 304 Not Modified and was reused (a WARC revisit), nothing scanned
            assert stats["not_modified"] == rs.pages_fetched == base[url].pages_fetched, stats
            assert daily["pages_new_or_changed"] == 0 and rs.check_stats["content"].get("pages_scanned", 0) == 0
    assert sum(sent.values()) > 0
    found = sorted(Finding.objects.filter(round=second), key=lambda f: f.rule)
    # exactly the new problems: the leak on the new page and its link to a casino; those found the day before are not
    # raised again, and dead links (the full rounds') are not judged here
    assert [(f.rule, f.url) for f in found] == [("link.illegal", "http://www.xpj-casino888.com/"),
                                                ("privacy.id_number", srv.urls[site_key].rstrip("/") + path)], \
        [(f.rule, f.url) for f in found]
    assert [r["page"] for r in found[0].facts["referrers"]] == [srv.urls[site_key].rstrip("/") + path]
    f = found[1]
    assert f.round_site.website.home_url == srv.urls[site_key] or f.url.startswith(srv.urls[site_key].rstrip("/"))
    assert pid not in (f.evidence.get("excerpt") or "")  # masked in the evidence
    assert f.evidence.get("warc_file") and f.evidence.get("warc_offset") is not None
    assert n_first > 0 and not Finding.objects.filter(round=first, fingerprint=f.fingerprint).exists()


# --------------------------------------------------------------------------------------------- the runner's hook
SETUP = """
import json, sys
from govinspect.cliutil import _setup_django
_setup_django()
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Round
a = json.loads(sys.argv[1])
import_registry(a["registry"])
tpl = Round.objects.create(name="第四季度检查", as_of=a["as_of"], allow_networks="127.0.0.0/8", run_options={"crawl": a["crawl"]})
print(tpl.pk)
"""


def test_the_local_runner_runs_the_daily_crawl_it_schedules(tmp_path):
    """`govinspect serve`'s runner loop with GOVINSPECT_SCHEDULES=daily-crawl: the daily round is created at once (never
    run before), queued, and run by the same loop; the schedule's run is recorded."""
    import json
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    county = generate_county(seed=3, n_sites=1, pages_per_site=20, no_default_faults=True)
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "govinspect.settings"}
    env.pop("GOVINSPECT_BROKER_URL", None)
    with SandboxServer(county) as srv:
        crawl = json.loads(json.dumps(srv.crawl_settings(check_links=False, delay=0.0), default=list))
        args = {"registry": str(write_registry(county, srv.urls, tmp_path / "名录.xlsx")), "as_of": county.as_of.isoformat(),
                "crawl": crawl}
        out = subprocess.run([sys.executable, "-c", SETUP, json.dumps(args)], env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        tpl = out.stdout.strip().splitlines()[-1]
        runner = subprocess.Popen([sys.executable, "-m", "govinspect.rounds.runner"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  env={**env, "GOVINSPECT_SCHEDULES": "daily-crawl", "GOVINSPECT_ROUND_TEMPLATE": tpl})
        try:
            deadline, rows = time.monotonic() + 240, []
            while time.monotonic() < deadline:
                con = sqlite3.connect(str(data / "govinspect.sqlite3"), timeout=30)
                try:
                    rows = con.execute("SELECT name, status FROM rounds_round WHERE name LIKE '日常监测 %'").fetchall()
                    runs = con.execute("SELECT name, ok FROM monitor_schedulerun").fetchall()
                finally:
                    con.close()
                if rows and rows[0][1] in ("done", "failed"):
                    break
                time.sleep(0.5)
        finally:
            runner.send_signal(signal.SIGTERM)
            log, _ = runner.communicate(timeout=60)
    assert len(rows) == 1 and rows[0][1] == "done", (rows, log[-3000:])
    assert runs == [("daily-crawl", 1)], runs
    assert "计划任务“日常监测”已运行" in log, log[-3000:]


@pytest.mark.django_db
def test_the_celery_tasks_call_the_same_functions(monkeypatch):
    """cluster/scheduled.py: each task runs its schedule through schedules.call (the runner's function, recorded)."""
    from govinspect.cluster import scheduled

    called = []
    monkeypatch.setattr(scheduled, "close_old_connections", lambda: None)  # a worker's, not the test's transaction
    monkeypatch.setattr("govinspect.rectify.services.housekeeping", lambda: called.append("rectify") or {"overdue": 0})
    assert scheduled.probe_sites.apply().get() == "名录中没有网站"
    assert scheduled.rectify_housekeeping.apply().get() == "{'overdue': 0}" and called == ["rectify"]
    assert scheduled.daily_crawl.apply().get() == ""  # no site registered: no daily round
    monkeypatch.delenv("GOVINSPECT_ROUND_CALENDAR", raising=False)
    assert scheduled.start_calendar_rounds.apply().get() == ""
    assert sorted(ScheduleRun.objects.values_list("name", "ok")) == [
        ("calendar-rounds", True), ("daily-crawl", True), ("probe-sites", True), ("rectify-housekeeping", True)]
