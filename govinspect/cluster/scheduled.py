"""The Celery tasks the schedules name (govinspect/schedules.py): celery beat sends them, any worker runs them. Each calls
schedules.call(name), the same function (and the same ScheduleRun record) the local runner uses in embedded mode.

    probe_sites            availability probes of every registered home page and the reference targets (20 a day)
    daily_crawl            today's daily monitoring round (incremental crawl, content checks of new pages), queued;
                           claim_queued_rounds (tasks.py) then dispatches its site jobs to the workers
    start_calendar_rounds  full rounds on the calendar (GOVINSPECT_ROUND_CALENDAR), copied from the template round
    rectify_housekeeping   overdue items, reminders, re-checks of claimed and 未能复查 items retried
"""

from __future__ import annotations

from django.db import close_old_connections

from .app import app


def _run(name: str):
    from ..schedules import call

    close_old_connections()
    try:
        result = call(name)
    finally:
        close_old_connections()
    from ..schedules import _describe

    return _describe(result)


@app.task(name="govinspect.cluster.scheduled.probe_sites", ignore_result=True)
def probe_sites():
    return _run("probe-sites")


@app.task(name="govinspect.cluster.scheduled.daily_crawl", ignore_result=True)
def daily_crawl():
    return _run("daily-crawl")


@app.task(name="govinspect.cluster.scheduled.start_calendar_rounds", ignore_result=True)
def start_calendar_rounds():
    return _run("calendar-rounds")


@app.task(name="govinspect.cluster.scheduled.rectify_housekeeping", ignore_result=True)
def rectify_housekeeping():
    return _run("rectify-housekeeping")
