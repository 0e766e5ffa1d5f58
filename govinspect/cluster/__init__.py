"""Cluster mode: the same round jobs (rounds/jobs.py run_job) run by Celery workers on several machines, with Redis as
the broker and PostgreSQL as the database. On when GOVINSPECT_BROKER_URL is set; otherwise govinspect runs embedded
(SQLite, the local runner of `govinspect serve`, the forked pool of rounds/services.py run_jobs).

    app.py       the Celery app (broker and reliability settings, beat schedule)
    tasks.py     round and job tasks, the periodic claim_queued_rounds sweep
    dispatch.py  submitting a round from the CLI (and waiting for it), the broker's view of pending job messages
    commands.py  `govinspect worker`, `govinspect beat`
"""

from __future__ import annotations

import os


def broker_url() -> str:
    return (os.environ.get("GOVINSPECT_BROKER_URL") or "").strip()


def enabled() -> bool:
    """Whether this process runs in cluster mode (GOVINSPECT_BROKER_URL set)."""
    return bool(broker_url())
