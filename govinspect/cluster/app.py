"""The Celery app of cluster mode.

    celery -A govinspect.cluster.app worker     (or `govinspect worker`, which sets the usual options)

Reliability: a job's message is acknowledged only after the job ended (acks_late), and put back when the worker process
running it dies (task_reject_on_worker_lost); each worker process reserves one message at a time (prefetch 1, -O fair).
A message a whole worker took with it when it died (SIGKILL, machine lost) is given to another worker after the Redis
visibility timeout (GOVINSPECT_VISIBILITY_TIMEOUT, default 43200 s = 12 h: longer than the longest site job, or a
running job's message would be delivered a second time; the second delivery then finds the job running and leaves it).
No result backend: the state of rounds and jobs lives in the database.
"""

from __future__ import annotations

import importlib.util
import os

from celery import Celery

from . import broker_url

DEFAULT_VISIBILITY_TIMEOUT = 43200
QUEUE = "govinspect"


def _setup_django() -> None:
    """Worker and beat processes load Django once, before any task module imports models."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govinspect.settings")
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


def visibility_timeout() -> int:
    try:
        return max(1, int(float(os.environ.get("GOVINSPECT_VISIBILITY_TIMEOUT") or DEFAULT_VISIBILITY_TIMEOUT)))
    except ValueError:
        return DEFAULT_VISIBILITY_TIMEOUT


def _beat_schedule() -> dict:
    """THE schedules (govinspect/schedules.py) plus the sweep that dispatches queued rounds every 10 s (listed there
    too; added here only when missing)."""
    schedule: dict = {}
    if importlib.util.find_spec("govinspect.schedules") is not None:
        from ..schedules import celery_beat_schedule

        schedule = dict(celery_beat_schedule())
    if not any(e.get("task") == "govinspect.cluster.tasks.claim_queued_rounds" for e in schedule.values()):
        schedule["claim-queued-rounds"] = {"task": "govinspect.cluster.tasks.claim_queued_rounds", "schedule": 10.0,
                                           "options": {"expires": 30}}
    return schedule


def _include() -> list[str]:
    mods = ["govinspect.cluster.tasks", "govinspect.cluster.scheduled"]
    return [m for m in mods if importlib.util.find_spec(m) is not None]


def make_app() -> Celery:
    _setup_django()
    from django.conf import settings

    vt = visibility_timeout()
    app = Celery("govinspect", include=_include())
    app.conf.update(
        broker_url=broker_url() or None,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": vt,
            # how often a worker looks for messages whose visibility timeout passed (kombu's default, every 10th of
            # its 10 s ticks, would add 100 s to a short test timeout)
            "unacked_restore_interval": max(1, min(60, vt // 10)),
            "unacked_restore_throttle": 1,
        },
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone=settings.TIME_ZONE,
        enable_utc=True,
        beat_schedule=_beat_schedule(),
    )
    return app


app = make_app()
