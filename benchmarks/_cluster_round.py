"""One round of benchmarks/cluster_scale.py, in the database and storage the environment names (GOVINSPECT_DATA_DIR,
GOVINSPECT_DATABASE_URL, GOVINSPECT_BROKER_URL for cluster mode). Prints one JSON line.

    _cluster_round.py prepare REGISTRY.xlsx CRAWL.json SITE_CONCURRENCY   migrate, import, plan the round -> {"round": id}
    _cluster_round.py queue ROUND                                         embedded: queued for the local runner;
                                                                          cluster: start_round_task sent to the workers
    _cluster_round.py daily CRAWL.json DAY                                the daily incremental pass of DAY queued
                                                                          (monitor/daily.py, as the schedule starts it)
    _cluster_round.py wait ROUND [TIMEOUT]                                until the round ends -> its counts
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time


def _django(migrate: bool) -> None:
    from govinspect.cliutil import _setup_django

    _setup_django(migrate=migrate)


def prepare(registry: str, crawl_file: str, site_concurrency: str) -> dict:
    _django(True)
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round
    from govinspect.rounds.services import start_round

    import_registry(registry)
    crawl = json.loads(open(crawl_file, encoding="utf-8").read())
    rnd = Round.objects.create(name="规模测试", as_of=dt.date(2026, 11, 23), period_start=dt.date(2026, 8, 24),
                               allow_networks="127.0.0.0/8", status="pending")
    jobs = start_round(rnd, crawl=crawl, site_concurrency=int(site_concurrency))
    return {"round": rnd.pk, "jobs": len(jobs)}


def queue(round_id: str) -> dict:
    _django(False)
    from govinspect.rounds.models import Round

    Round.objects.filter(pk=int(round_id), status="pending").update(status="queued", cancel_requested=None)
    if os.environ.get("GOVINSPECT_BROKER_URL"):  # as cluster/dispatch.py submit_round does, without waiting here
        from govinspect.cluster.tasks import start_round_task

        start_round_task.delay(int(round_id))
    return {"queued": int(round_id)}


def daily(crawl_file: str, day: str) -> dict:
    _django(False)
    from govinspect.monitor.daily import start_daily_round

    crawl = json.loads(open(crawl_file, encoding="utf-8").read())
    rnd = start_daily_round(dt.date.fromisoformat(day), crawl=crawl)  # queued: the local runner takes it
    if os.environ.get("GOVINSPECT_BROKER_URL"):  # the beat's sweep would take it within 10 s; no beat here
        from govinspect.cluster.tasks import start_round_task

        start_round_task.delay(rnd.pk)
    return {"round": rnd.pk}


def wait(round_id: str, timeout: str = "86400") -> dict:
    _django(False)
    from django.db.models import Count, Sum

    from govinspect.rounds.models import Finding, Round, RoundJob

    deadline = time.monotonic() + float(timeout)
    while True:
        rnd = Round.objects.only("status").get(pk=int(round_id))
        if rnd.status in ("done", "failed", "interrupted", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    rnd = Round.objects.get(pk=int(round_id))
    sites = rnd.sites.aggregate(n=Count("id"), pages=Sum("pages_fetched"))
    jobs = dict(RoundJob.objects.filter(round=rnd).values_list("state").annotate(n=Count("id")))
    per_site = list(rnd.sites.values_list("pages_fetched", flat=True))
    # each site job's own duration against its pages: the politeness-bound rate of one site (seconds per page)
    timed = [(rs.pages_fetched, (rs.job.finished_at - rs.job.started_at).total_seconds())
             for rs in rnd.sites.select_related("job") if rs.job and rs.job.finished_at and rs.job.started_at]
    job_pages, job_seconds = sum(p for p, _ in timed), sum(t for _, t in timed)
    return {"status": rnd.status, "error": rnd.error[:500], "sites": sites["n"], "pages": sites["pages"] or 0,
            "pages_per_site": per_site, "site_job_seconds": job_seconds,
            "site_seconds_per_page": job_seconds / job_pages if job_pages else None,
            "largest_site_job": max(timed, default=(0, 0)), "findings": Finding.objects.filter(round=rnd).count(), "jobs": jobs,
            "db_seconds": (rnd.finished_at - rnd.started_at).total_seconds() if rnd.finished_at and rnd.started_at else None}


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    out = {"prepare": prepare, "queue": queue, "daily": daily, "wait": wait}[cmd](*args)
    sys.stdout.flush()
    print(json.dumps(out))
