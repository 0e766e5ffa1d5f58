"""Rounds as per-target jobs: run_job commits one target at a time, twice is once, a failure is recorded and retried,
the rule set is fixed per round (hash), an unchanged rerun reproduces the findings, and worker processes agree with one."""

import re

import pytest

from govinspect.registry.models import Website
from govinspect.registry.xlsx import import_registry
from govinspect.rounds import jobs
from govinspect.rounds.jobs import previous_crawl, run_job
from govinspect.rounds.models import Finding, Round, RoundJob, RoundSite
from govinspect.rounds.services import resume_round, run_round, start_round
from govinspect.rules import RULES_DIR
from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer


@pytest.fixture(scope="module")
def small():
    county = generate_county(seed=7, n_sites=2, pages_per_site=40)
    with SandboxServer(county) as srv:
        yield county, srv


def _round(county, name="第四季度检查") -> Round:
    return Round.objects.create(name=name, as_of=county.as_of, allow_networks="127.0.0.0/8")


def _two_rounds(county, srv, tmp_path, first: dict, second: dict) -> tuple[Round, Round]:
    """The registry imported, then two rounds of the same county run with the given runner settings."""
    import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
    crawl = srv.crawl_settings(check_links=False)
    a, b = _round(county, "甲"), _round(county, "乙")
    run_round(a, crawl=crawl, accounts=False, **first)
    run_round(b, crawl=crawl, accounts=False, **second)
    return a, b


def _findings(rnd: Round) -> list:
    return sorted((f.fingerprint, f.rule, f.detail, repr(sorted(f.facts.items())), f.round_site.website.home_url if f.round_site_id else "")
                  for f in Finding.objects.filter(round=rnd).select_related("round_site__website"))


@pytest.mark.django_db
def test_a_job_run_twice_stores_its_target_once_and_failures_are_recorded(small, tmp_path, monkeypatch):
    county, srv = small
    import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
    rnd = _round(county)
    planned = start_round(rnd, crawl=srv.crawl_settings(check_links=False), accounts=False)
    assert [j.kind for j in planned] == ["site", "site"] and all(j.state == "queued" for j in planned)
    assert len(rnd.rules_hash) == 64 and rnd.rules_snapshot["scheme"] == "national-2019"
    job = run_job(planned[0].pk)
    assert job.state == "done" and job.attempts == 1 and job.finished_at and job.progress["pages"] > 0
    n = Finding.objects.filter(job=job).count()
    assert n > 0 and RoundSite.objects.filter(round=rnd).count() == 1
    assert run_job(planned[0].pk).attempts == 1  # a finished job is left alone
    RoundJob.objects.filter(pk=job.pk).update(state="queued")  # delivered again (a queue's redelivery)
    again = run_job(job.pk)
    assert again.attempts == 2 and Finding.objects.filter(job=job).count() == n  # replaced, not doubled
    assert RoundSite.objects.filter(round=rnd).count() == 1
    # every stored finding has a fingerprint, a typed location and for pages a WARC record
    for f in Finding.objects.filter(job=job):
        assert len(f.fingerprint) == 32 and (f.url or f.file)
        if f.subject_kind == "page":
            assert f.evidence.get("warc_file") and f.evidence.get("warc_offset") is not None, f.rule
            assert not f.evidence["warc_file"].startswith("/")  # a storage key, not a path of this machine

    def broken(job, rules):
        raise RuntimeError("模拟的程序错误")

    monkeypatch.setitem(jobs.WORK, "site", broken)
    bad = run_job(planned[1].pk)
    assert bad.state == "failed" and "模拟的程序错误" in bad.reason
    rs = RoundSite.objects.get(round=rnd, job=bad)
    assert rs.status == "could_not_check" and rs.verdict == "unknown" and not rs.findings.exists()
    monkeypatch.undo()
    resume_round(rnd)  # only the failed job runs again
    assert dict(rnd.jobs.values_list("pk", "state")) == {planned[0].pk: "done", planned[1].pk: "done"}
    assert RoundJob.objects.get(pk=planned[0].pk).attempts == 2 and RoundJob.objects.get(pk=bad.pk).attempts == 2
    assert rnd.sites.filter(status="checked").count() == 2


@pytest.mark.django_db
def test_unchanged_rerun_reproduces_the_findings_and_a_threshold_changes_the_hash(small, tmp_path, monkeypatch):
    county, srv = small
    a, b = _two_rounds(county, srv, tmp_path, {"processes": 1}, {"processes": 1})
    crawl = srv.crawl_settings(check_links=False)
    assert a.rules_hash == b.rules_hash
    assert _findings(a) == _findings(b) and _findings(a)
    # the second round found the first one's crawl through the storage (its job's artifacts), not by a guessed path
    site = Website.objects.order_by("pk").first()
    assert previous_crawl(b, site) is not None
    # one threshold changed by the operator: another rule set, recorded as such
    text = (RULES_DIR / "freshness.toml").read_text(encoding="utf-8")
    over = tmp_path / "rules"
    over.mkdir()
    (over / "freshness.toml").write_text(text + "\n# 运营方修改\n", encoding="utf-8")
    monkeypatch.setenv("GOVINSPECT_RULES_DIR", str(over))
    c = _round(county, "丙")
    start_round(c, crawl=crawl, accounts=False)
    assert c.rules_hash == a.rules_hash  # a comment is not a rule: the parsed rules are hashed
    links = (RULES_DIR / "links.toml").read_text(encoding="utf-8")
    m = int(re.search(r"max_external = (\d+)", links).group(1))
    (over / "links.toml").write_text(links.replace(f"max_external = {m}", f"max_external = {m + 1}", 1), encoding="utf-8")
    d = _round(county, "丁")
    start_round(d, crawl=crawl, accounts=False)
    assert d.rules_hash != a.rules_hash and d.rules_snapshot["files"]["links"]["dead"]["max_external"] == m + 1


@pytest.mark.django_db(transaction=True)
def test_worker_processes_find_what_one_process_finds(small, tmp_path):
    county, srv = small
    one, two = _two_rounds(county, srv, tmp_path, {"processes": 1}, {"site_concurrency": 2})
    assert _findings(one) == _findings(two) and _findings(one)
    assert set(two.jobs.values_list("state", flat=True)) == {"done"} and two.status == "done"


@pytest.mark.django_db
def test_a_job_another_live_process_runs_is_left_to_it_and_store_errors_fail_the_job(small, tmp_path, monkeypatch):
    county, srv = small
    import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
    rnd = _round(county)
    planned = start_round(rnd, crawl=srv.crawl_settings(check_links=False), accounts=False, letters=True)
    site = planned[0]
    RoundJob.objects.filter(pk=site.pk).update(state="running", owner=jobs._me(), attempts=1)  # this very process: alive
    assert jobs.requeue_abandoned(rnd) == 0
    got = run_job(site.pk)
    assert (got.state, got.attempts) == ("running", 1) and not Finding.objects.filter(job=site).exists()
    import socket

    RoundJob.objects.filter(pk=site.pk).update(state="running", owner=f"{socket.gethostname()}:999999999:1")  # gone
    assert jobs.requeue_abandoned(rnd) == 1 and RoundJob.objects.get(pk=site.pk).state == "queued"

    def refuse(job, rules, result, error):
        raise ValueError("数据库拒绝写入")

    letters = next(j for j in planned if j.kind == "letters")
    monkeypatch.setitem(jobs.STORE, "letters", refuse)
    bad = run_job(letters.pk)
    assert bad.state == "failed" and "保存检查结果时出错" in bad.reason and "数据库拒绝写入" in bad.reason
    # a round whose letters (or accounts, registers) could not be stored does not end as done: the bulletin would
    # silently lack them
    from govinspect.rounds.services import run_jobs

    run_jobs(rnd)
    rnd.refresh_from_db()
    assert rnd.status == "failed" and "--resume" in rnd.error and "信件与工单" in rnd.error
    monkeypatch.undo()
    resume_round(rnd)
    rnd.refresh_from_db()
    assert rnd.status == "done" and set(rnd.jobs.values_list("state", flat=True)) <= {"done", "could_not_check"}


def test_an_ended_but_unreaped_worker_counts_as_gone():
    """A killed round's workers may linger as zombies (ended, not yet reaped by their new parent): their jobs are
    abandoned, not "run by another process"."""
    import socket
    import subprocess
    import sys
    import time

    from govinspect.rounds.services import _proc_start

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = _proc_start(child.pid)
    deadline = time.time() + 10
    while time.time() < deadline and "Z" not in open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0]:
        time.sleep(0.05)  # ended, not waited for: a zombie
    try:
        assert jobs.owner_alive(f"{socket.gethostname()}:{child.pid}:{started}") is False
        assert jobs.owner_alive(jobs._me()) is True
    finally:
        child.wait()


@pytest.mark.django_db
def test_largest_sites_are_handed_out_first():
    """Jobs go to the workers largest site first (by the pages the latest earlier round fetched): a big site started
    last keeps a round open long after the rest; other jobs first, sites never crawled last."""
    import datetime as dt

    from govinspect.registry.models import Unit, Website
    from govinspect.rounds.jobs import largest_first, plan_jobs
    from govinspect.rounds.models import Round, RoundJob, RoundSite

    u = Unit.objects.create(name="测试县政府办", kind="部门")
    small, big, new = (Website.objects.create(name=n, home_url=f"http://127.0.0.1:9/{n}/", owner=u) for n in ("s", "b", "n"))
    old = Round.objects.create(name="上一轮", as_of=dt.date(2026, 9, 30), status="done")
    for site, pages in ((small, 30), (big, 900)):
        job = RoundJob.objects.create(round=old, kind="site", target=site.pk, state="done")
        RoundSite.objects.create(round=old, job=job, website=site, status="checked", pages_fetched=pages)
    rnd = Round.objects.create(name="本轮", as_of=dt.date(2026, 11, 23))
    Account = __import__("govinspect.registry.models", fromlist=["Account"]).Account
    Account.objects.create(platform="微信", name="测试", owner=u)
    jobs = plan_jobs(rnd, [small, big, new])
    order = [(j.kind, j.target) for j in largest_first(rnd, jobs)]
    assert order == [("accounts", 0), ("site", big.pk), ("site", small.pk), ("site", new.pk)]
