"""Sites spread over worker processes: same results as one process, settings pickled small, children die with the parent."""

import datetime as dt
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

from govinspect.engine.content import ContentChecker
from govinspect.engine.content.leaders import Roster, Term
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Round
from govinspect.rounds.services import run_round
from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer


def test_content_checker_travels_as_its_settings():
    roster = Roster([Term("马伟", "县长", "清河县人民政府", dt.date(2020, 1, 1), dt.date(2025, 5, 1))], dt.date(2026, 11, 23))
    checker = ContentChecker(only=("content.leader", "privacy"), typos=False, roster=roster)
    blob = pickle.dumps(checker)
    assert len(blob) < 200_000  # the rules travel as their snapshot; word lists and matchers are rebuilt, not shipped
    text = "2026年3月，马伟县长主持召开会议。联系人身份证号130534199001011234。"
    copy = pickle.loads(blob)
    assert [(h.rule, h.start) for h in copy.check(text, published=dt.date(2026, 3, 5))] == \
        [(h.rule, h.start) for h in checker.check(text, published=dt.date(2026, 3, 5))]
    assert {h.rule for h in copy.check(text, published=dt.date(2026, 3, 5))} >= {"content.leader"}


@pytest.mark.django_db(transaction=True)  # worker processes commit their jobs: they must see committed rows
def test_round_in_worker_processes_finds_what_one_process_finds(tmp_path):
    county = generate_county(seed=5, n_sites=3, pages_per_site=40)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        results = []
        for procs in (1, 2):
            rnd = Round.objects.create(name=f"进程{procs}", region="清河县", as_of=county.as_of, allow_networks="127.0.0.0/8")
            run_round(rnd, crawl=srv.crawl_settings(), processes=procs)
            sites = {rs.website.home_url: (rs.status, rs.verdict, rs.pages_fetched, rs.score) for rs in rnd.sites.all()}
            findings = sorted((f.fingerprint, f.rule, f.detail) for f in rnd.findings.filter(round_site__isnull=False))
            results.append((sites, findings))
    assert results[0] == results[1]
    assert results[0][1] and any(status == "checked" for status, *_ in results[0][0].values())


def test_worker_processes_die_with_a_killed_parent():
    code = ("from govinspect.engine.pool import site_pool\n"
            "pool = site_pool(2)\n"
            "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
            "import time; time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    children = [int(p) for p in parent.stdout.readline().split()]
    assert len(children) == 2 and all(_alive(p) for p in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.time() + 10
    while any(_alive(p) for p in children) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in children)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_children_keep_what_the_parent_loaded_out_of_the_collector_and_the_parent_does_not():
    import gc

    from govinspect.engine.pool import site_pool

    loaded = [{"word": i} for i in range(1000)]  # stands for the word lists and the typo model
    pool = site_pool(1)
    try:
        assert pool.submit(gc.get_freeze_count).result() >= len(loaded)  # not visited, their pages stay shared
        assert gc.get_freeze_count() == 0  # a long-lived parent still collects what it loaded and dropped
    finally:
        pool.shutdown()
