"""Health and queue of the platform: what runs the checks, whether it is alive, what waits and what failed.

    /health/     web:health   the office and read-only users: mode (embedded / cluster), database, the local runner
                              (embedded) or the broker, its queue length and the workers (cluster), rounds and jobs
                              running and queued, failed jobs with their error (linked to their round)
    /healthz     web:healthz  anyone, for load balancers: "ok" (200) or "unavailable" (503), nothing else

Embedded mode: the local runner writes a heartbeat file in the data directory (rounds/runner.py beat/alive). Cluster
mode (GOVINSPECT_BROKER_URL set): the Celery queue "govinspect" is a Redis list (LLEN; kombu keeps messages of other
priorities in sibling lists, counted too) and messages taken by a worker but not yet acknowledged (acks_late: the
running tasks) wait in the hash "unacked"; workers answer `celery inspect ping` (1 s) and, independently of the broker,
every running job's owner writes a heartbeat into its RoundJob row (rounds/jobs.py), which is shown too.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .. import access

QUEUE = "govinspect"  # the Celery queue of the jobs (govinspect/cluster/app.py task_default_queue)
PRIORITY_SEP, PRIORITY_STEPS = "\x06\x16", (3, 6, 9)  # kombu's Redis transport: "<queue>\x06\x16<priority>" lists
PING_SECONDS = 1.0
FAILED_SHOWN = 50


def broker_url() -> str:
    return (getattr(settings, "GOVINSPECT_BROKER_URL", "") or os.environ.get("GOVINSPECT_BROKER_URL", "")).strip()


def cluster_mode() -> bool:
    try:
        from ...cluster import enabled
    except ImportError:  # the cluster package is optional for the embedded platform
        return bool(broker_url())
    return bool(enabled())


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as c:
            c.execute("SELECT 1")
            c.fetchone()
        return True, ""
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return False, f"{type(e).__name__}: {e}"[:300]


def storage_ok() -> tuple[bool, str]:
    """The storage directory (shared in a cluster) is there and readable: evidence links resolve."""
    from ...storage import storage

    try:
        root = storage().root
        if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
            return False, f"存储目录 {root} 不存在或不可读"
        return True, str(root)
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"[:300]


def _redacted(url: str) -> str:
    """The broker address without its password."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    if u.password:
        host = u.hostname + (f":{u.port}" if u.port else "")
        u = u._replace(netloc=f"{u.username or ''}:***@{host}")
    return urlunsplit(u)


def broker_state(url: str) -> dict:
    """Reachable?, jobs waiting in the queue, messages taken by workers and not yet acknowledged."""
    out = {"url": _redacted(url), "ok": False, "queued": None, "unacked": None, "error": ""}
    try:
        import redis

        r = redis.Redis.from_url(url, socket_timeout=PING_SECONDS, socket_connect_timeout=PING_SECONDS)
        try:
            r.ping()
            keys = [QUEUE] + [f"{QUEUE}{PRIORITY_SEP}{p}" for p in PRIORITY_STEPS]
            out["queued"] = sum(r.llen(k) for k in keys)
            out["unacked"] = r.hlen("unacked")
            out["ok"] = True
        finally:
            r.close()
    except Exception as e:  # noqa: BLE001 - unreachable, wrong password, not Redis: shown as is
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    return out


def _celery_app(url: str):
    """A Celery app of its own for asking the workers, on the broker the page was asked about: the process-wide app
    (cluster/app.py) keeps the broker URL it was made with — a process that imported it before GOVINSPECT_BROKER_URL
    was set would ask nobody (the broadcast protocol is the same)."""
    from celery import Celery

    return Celery("govinspect-health", broker=url, set_as_current=False)


def workers_pinged(url: str) -> tuple[list[str] | None, str]:
    """Names of the Celery workers that answered a ping within PING_SECONDS (None: could not ask)."""
    try:
        app = _celery_app(url)
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, timeout=PING_SECONDS)
            replies = app.control.ping(timeout=PING_SECONDS, connection=conn) or []
        return sorted(name for reply in replies for name in reply), ""
    except Exception as e:  # noqa: BLE001
        return None, f"{type(e).__name__}: {e}"[:300]


def _age(when) -> str:
    if when is None:
        return ""
    s = max(0, int((timezone.now() - when).total_seconds()))
    return f"{s}秒前" if s < 120 else f"{s // 60}分钟前" if s < 7200 else f"{s // 3600}小时前"


def jobs_state() -> dict:
    """Rounds running/queued with their job counts; running jobs with owner and heartbeat; recent failed jobs."""
    from ...rounds.jobs import STALE_SECONDS
    from ...rounds.models import Round, RoundJob

    rounds = list(Round.objects.filter(status__in=("queued", "running")).only("id", "name", "status", "started_at")
                  .order_by("id"))
    counts: dict[int, dict[str, int]] = {}
    for row in RoundJob.objects.filter(round__in=[r.pk for r in rounds]).values("round_id", "state").annotate(n=Count("id")):
        counts.setdefault(row["round_id"], {})[row["state"]] = row["n"]
    stale = timezone.now() - dt.timedelta(seconds=STALE_SECONDS)
    running = []
    for j in (RoundJob.objects.filter(state="running").select_related("round").only(
            "id", "label", "owner", "heartbeat", "started_at", "progress", "attempts", "round__id", "round__name")
              .order_by("started_at", "id")[:200]):
        running.append({"job": j, "round": j.round, "owner": j.owner, "beat": _age(j.heartbeat or j.started_at),
                        "stale": (j.heartbeat or j.started_at) is not None and (j.heartbeat or j.started_at) < stale,
                        "pages": (j.progress or {}).get("pages", "")})
    owners = {j["owner"].rsplit(":", 1)[0] for j in running if j["owner"] and not j["stale"]}
    failed = list(RoundJob.objects.filter(state="failed").select_related("round").only(
        "id", "label", "kind", "reason", "attempts", "finished_at", "round__id", "round__name", "round__status")
                  .order_by("-finished_at", "-id")[:FAILED_SHOWN])
    return {"rounds": [{"round": r, "counts": counts.get(r.pk, {}), "queued": counts.get(r.pk, {}).get("queued", 0),
                        "running": counts.get(r.pk, {}).get("running", 0),
                        "finished": sum(n for s, n in counts.get(r.pk, {}).items() if s not in ("queued", "running")),
                        "total": sum(counts.get(r.pk, {}).values())} for r in rounds],
            "running": running, "running_owners": sorted(owners),
            "queued_jobs": RoundJob.objects.filter(state="queued", round__status__in=("queued", "running")).count(),
            "failed": failed, "failed_total": RoundJob.objects.filter(state="failed").count()}


def snapshot() -> dict:
    """Everything the health page shows (also usable from a shell)."""
    cluster = cluster_mode()
    db_ok, db_error = database_ok()
    st_ok, st_detail = storage_ok()
    out = {"mode": "cluster" if cluster else "embedded", "database": {"ok": db_ok, "error": db_error,
                                                                       "vendor": connection.vendor},
           "storage": {"ok": st_ok, "detail": st_detail}, "checked_at": timezone.now()}
    if cluster:
        url = broker_url()
        out["broker"] = broker_state(url)
        out["workers"], out["workers_error"] = (workers_pinged(url) if out["broker"]["ok"]
                                                else (None, "消息队列不可达，未询问"))
    else:
        from ...rounds.runner import HEARTBEAT_FILE, alive

        try:
            beat_age = time.time() - (settings.DATA_DIR / HEARTBEAT_FILE).stat().st_mtime
        except OSError:
            beat_age = None
        out["runner"] = {"alive": alive(), "age": None if beat_age is None else int(beat_age)}
    if db_ok:
        out.update(jobs_state())
    return out


@never_cache
@access.sees_everything_required
def health(request):
    return render(request, "web/health.html", {"h": snapshot()})


@never_cache
def healthz(request):
    """For load balancers, without sign-in: the web can serve (database answers, storage directory readable)."""
    ok = database_ok()[0] and storage_ok()[0]
    return HttpResponse("ok" if ok else "unavailable", status=200 if ok else 503, content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("health/", health, name="health"),
    path("healthz", healthz, name="healthz"),
]
