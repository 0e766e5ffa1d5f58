"""The round and job tasks of cluster mode. They call the same functions as the embedded runner (rounds/jobs.py run_job,
rounds/services.py _begin/finish_round, rectify/services.py run_item_recheck): no second runner.

    start_round_task(round_id)       claim a queued round (queued → running, owner "cluster"), enqueue its jobs
    run_job_task(job_id)             run one job (requeued first when its owner is gone), end the round after its last job
    run_item_recheck_task(round_id)  an item re-check round (Round.item_recheck) as one task
    claim_queued_rounds()            every 10 s (celery beat): rounds queued by the web, and the sweep that repairs what a
                                     lost worker or a restarted broker left behind (see sweep())

A cluster round's owner is {"host": "cluster", "phase": …}: "dispatching" while its jobs are being enqueued,
"dispatched" once they all are, "ending" while the one worker that saw its last job finish ends it. Rounds owned so are
never taken for dead by mark_interrupted (that host is no machine's name).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone

from .app import app

log = logging.getLogger(__name__)

CLUSTER = "cluster"
MAX_RETRIES = 5
ENDING_STALE_SECONDS = 300  # a round whose ender died this long ago is ended by the sweep
DISPATCH_STALE_SECONDS = 120  # a round whose dispatcher died this long ago is dispatched again by the sweep
DB_ERRORS = (OperationalError, InterfaceError)


def owner(phase: str, **extra) -> dict:
    return {"host": CLUSTER, "phase": phase, "at": time.time(), **extra}


def is_cluster_owned(rnd) -> bool:
    return (rnd.owner or {}).get("host") == CLUSTER


def _reset_connections() -> None:
    """A dropped database connection (server restarted, pg_terminate_backend) is closed, so the next query reconnects."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - it is broken already
            conn.connection = None


def _backoff(retries: int) -> int:
    return min(60, 2 ** (retries + 1))


# ------------------------------------------------------------------------------------------------ starting a round
def start_round(round_id: int, claimed: bool = False) -> bool:
    """Claim a queued round for the cluster and enqueue a run_job_task per job still to run. Also finishes the dispatch
    of a round whose dispatcher died (phase "dispatching"). False when the round is not ours to start."""
    from ..rounds.jobs import largest_first, requeue_abandoned
    from ..rounds.models import Round, RoundEvent
    from ..rounds.services import _begin

    fresh = not claimed and bool(Round.objects.filter(pk=round_id, status="queued", cancel_requested__isnull=True)
                                 .update(status="running", owner=owner("dispatching")))
    if not fresh:  # a redelivered start, or the sweep: finish a dispatch whose dispatcher died (not one under way)
        rnd = Round.objects.filter(pk=round_id).first()
        o = (rnd.owner or {}) if rnd is not None else {}
        if (rnd is None or rnd.status != "running" or o.get("phase") != "dispatching"
                or time.time() - float(o.get("at") or 0) < DISPATCH_STALE_SECONDS):
            return False
    rnd = Round.objects.get(pk=round_id)
    if rnd.item_recheck:  # one task re-checks its items (rounds/recheck.py has no per-target jobs)
        Round.objects.filter(pk=round_id).update(owner=owner("dispatched", item_recheck=True))
        run_item_recheck_task.delay(round_id)
        return True
    requeue_abandoned(rnd)
    # failed jobs run again; queued now, so that the round cannot look complete while they wait for a worker
    rnd.jobs.filter(state="failed").update(state="queued")
    todo = [j.pk for j in largest_first(rnd, list(rnd.jobs.filter(state="queued").order_by("id")))]
    if fresh:
        total = rnd.jobs.count()
        resume = RoundEvent.objects.filter(round=rnd, kind__in=("start", "resume")).exists()
        _begin(rnd, "resume" if resume else "start",
               f"已完成{total - len(todo)}项检查任务，其余{len(todo)}项分发给工作进程" if resume
               else f"检查任务{len(todo)}项，分发给工作进程", owner=owner("dispatching"))
    for pk in todo:
        run_job_task.delay(pk)
    Round.objects.filter(pk=round_id, status="running", owner__host=CLUSTER).update(owner=owner("dispatched"))
    finish_if_complete(round_id)  # nothing to run (every job done before), or all finished while we were enqueuing
    return True


@app.task(name="govinspect.cluster.tasks.start_round_task", bind=True, max_retries=MAX_RETRIES)
def start_round_task(self, round_id: int) -> bool:
    try:
        return start_round(round_id)
    except DB_ERRORS as e:
        _reset_connections()
        raise self.retry(exc=e, countdown=_backoff(self.request.retries))


# ------------------------------------------------------------------------------------------------ one job
def abandoned(job) -> bool:
    """A job marked running that nobody runs: its owner process is gone (on this machine), its heartbeat stopped long
    ago, or its owner is this very process (which runs one task at a time: a try of it that lost its database
    connection ended without storing)."""
    from ..rounds.jobs import STALE_SECONDS, _me, owner_alive

    if job.state != "running":
        return False
    if job.owner == _me() or owner_alive(job.owner) is False:
        return True
    stale = timezone.now() - dt.timedelta(seconds=STALE_SECONDS)
    return job.heartbeat is not None and job.heartbeat < stale


MAX_KILLED_ATTEMPTS = 5  # a job whose worker died this many times (out of memory, a crash it causes) is failed


def requeue_if_abandoned(job) -> str | None:
    """Queue an abandoned job again ("queued"); one that took its worker down MAX_KILLED_ATTEMPTS times is recorded as
    failed instead ("failed": its target could not be checked), or its message would go round the workers for ever."""
    from ..rounds.jobs import _me
    from ..rounds.models import RoundJob

    if not abandoned(job):
        return None
    if job.attempts >= MAX_KILLED_ATTEMPTS and job.owner != _me():
        return "failed" if fail_killed(job) else None
    return "queued" if RoundJob.objects.filter(pk=job.pk, state="running", owner=job.owner).update(state="queued") else None


def fail_killed(job) -> bool:
    """Record a job whose worker process died at every try as failed, stored as run_job stores a failed try (a site:
    could not check, with the reason)."""
    from django.db import transaction

    from ..rounds.jobs import STORE
    from ..rounds.models import RoundJob
    from ..rounds.scoring import round_rules

    reason = f"运行本检查任务的工作进程已{job.attempts}次意外终止（如内存不足被系统结束），不再重试"
    with transaction.atomic():
        if not RoundJob.objects.select_for_update().filter(pk=job.pk, state="running", owner=job.owner).exists():
            return False
        STORE[job.kind](job, round_rules(job.round), None, RuntimeError(reason))
        RoundJob.objects.filter(pk=job.pk).update(state="failed", reason=reason, finished_at=timezone.now())
    return True


class TransientJobError(Exception):
    """A job's try failed on the database connection (recorded by run_job as failed): queued again, to be retried."""


# how run_job records a job whose work or storing failed on a database error (its "reason")
_DB_FAILURES = tuple(f"{prefix}{name}:" for prefix in ("", "保存检查结果时出错：") for name in ("OperationalError", "InterfaceError"))


def run_one_job(job_id: int, may_retry: bool = False) -> str:
    """What run_job_task does (without its retries): skip a job of a round that is cancelled or not running, requeue
    it when its last owner is gone (a redelivered message of a killed worker), run it, end the round after its last
    job. A try that failed on the database (may_retry) is queued again and TransientJobError raised. Returns what
    happened."""
    from ..rounds.jobs import run_job
    from ..rounds.models import RoundJob

    job = RoundJob.objects.select_related("round").filter(pk=job_id).first()
    if job is None:
        return "gone"
    rnd = job.round
    if rnd.cancel_requested is not None:  # the office cancelled the round: the job stays queued (resumable)
        finish_if_complete(rnd.pk)
        return "cancelled"
    if rnd.status != "running" or not is_cluster_owned(rnd):
        return "not running"  # interrupted, cancelled or ended meanwhile: a resume dispatches it again
    if requeue_if_abandoned(job) == "failed":
        finish_if_complete(rnd.pk)
        return "failed"
    job = run_job(job_id)
    if may_retry and job.state == "failed" and job.reason.startswith(_DB_FAILURES):
        if RoundJob.objects.filter(pk=job_id, state="failed", owner=job.owner).update(state="queued"):
            raise TransientJobError(job.reason[:300])
    finish_if_complete(rnd.pk)
    return job.state


@app.task(name="govinspect.cluster.tasks.run_job_task", bind=True, max_retries=MAX_RETRIES)
def run_job_task(self, job_id: int) -> str:
    close_old_connections()
    try:
        return run_one_job(job_id, may_retry=self.request.retries < MAX_RETRIES)
    except (*DB_ERRORS, TransientJobError) as e:
        # the connection dropped (database restarted, connection terminated): nothing of the try was stored; the
        # retry reconnects and finds the job owned by this process, i.e. abandoned, and runs it again
        log.warning("job %s: database error, retry %s of %s: %s", job_id, self.request.retries + 1, MAX_RETRIES, e)
        _reset_connections()
        raise self.retry(exc=e, countdown=_backoff(self.request.retries))


# ------------------------------------------------------------------------------------------------ the round's end
def finish_if_complete(round_id: int) -> str | None:
    """End a dispatched cluster round once no job of it is queued or running (exactly once: the worker whose
    conditional update marks it "ending" ends it, with services.finish_round as the local runner does). A cancelled
    round ends "cancelled" once no job of it runs. Returns the status it was ended with, else None."""
    from ..rounds.models import Round
    from ..rounds.runner import _mark_cancelled
    from ..rounds.services import finish_round

    rnd = Round.objects.filter(pk=round_id).first()
    if rnd is None or rnd.status != "running" or not is_cluster_owned(rnd):
        return None
    if rnd.cancel_requested is not None:
        if rnd.jobs.filter(state="running").exists():
            return None
        _mark_cancelled(rnd)
        rnd.refresh_from_db()
        return rnd.status if rnd.status == "cancelled" else None
    if (rnd.owner or {}).get("phase") != "dispatched" or rnd.jobs.filter(state__in=("queued", "running")).exists():
        return None
    if not Round.objects.filter(pk=round_id, status="running", owner__host=CLUSTER, owner__phase="dispatched").update(
            owner=owner("ending", pid=os.getpid())):
        return None  # another worker ends it
    rnd.refresh_from_db()
    finish_round(rnd)
    return rnd.status


# ------------------------------------------------------------------------------------------------ item re-checks
@app.task(name="govinspect.cluster.tasks.run_item_recheck_task", bind=True, max_retries=MAX_RETRIES)
def run_item_recheck_task(self, round_id: int) -> str:
    """An item re-check round in one task (rectify.services.run_item_recheck answers its items whatever the end). A
    redelivery runs it again only when the process that ran it is gone (or is this one: a try that lost its database
    connection); cancelled before it started: answered 未能复查."""
    from ..rounds.models import Round
    from ..rounds.services import _proc_start, owner_alive

    close_old_connections()
    try:
        rnd = Round.objects.filter(pk=round_id).first()
        if rnd is None or rnd.status != "running":
            return "not running"
        o = rnd.owner or {}
        me = o.get("host") == socket.gethostname() and o.get("pid") == os.getpid()
        if not (is_cluster_owned(rnd) or me or owner_alive(o) is False):
            return "running elsewhere"
        # taken by this process (a second message of it, sent again by the sweep, finds it taken)
        if not me and not Round.objects.filter(pk=round_id, status="running", owner=o).update(
                owner={"host": socket.gethostname(), "pid": os.getpid(), "started": _proc_start(os.getpid())}):
            return "taken"
        rnd.refresh_from_db()
        if rnd.cancel_requested is not None:
            from ..rectify.services import apply_recheck
            from ..rounds.runner import _mark_cancelled

            _mark_cancelled(rnd)
            rnd.refresh_from_db()
            apply_recheck(rnd)
            return "cancelled"
        from ..rectify.services import run_item_recheck

        try:
            run_item_recheck(rnd)  # its _begin makes this process the owner (a killed worker's redelivery runs it again)
        except DB_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - recorded on the round as failed, its items answered 未能复查
            log.exception("item re-check round %s failed", round_id)
        rnd.refresh_from_db()
        return rnd.status
    except DB_ERRORS as e:
        _reset_connections()
        raise self.retry(exc=e, countdown=_backoff(self.request.retries))


# ------------------------------------------------------------------------------------------------ the sweep
def sweep() -> dict:
    """Dispatch the rounds the web queued, and repair what was lost: jobs whose worker died (requeued), queued jobs
    that have no message in the broker (a restarted Redis loses its queue) enqueued again, cancelled rounds ended,
    rounds whose dispatcher or ender died finished. Cheap when idle (a few queries)."""
    from ..rounds.models import Round
    from .dispatch import pending_job_ids

    out = {"started": 0, "requeued": 0, "enqueued": 0, "ended": 0}
    # item re-checks (a unit waits for its answer) before full rounds, as the local runner takes them
    for rnd in Round.objects.filter(status="queued", cancel_requested__isnull=True).order_by("-item_recheck", "id")[:20]:
        out["started"] += start_round(rnd.pk)
    running = list(Round.objects.filter(status="running", owner__host=CLUSTER))
    if not running:
        return out
    in_broker = None
    now = time.time()
    for rnd in running:
        o = rnd.owner or {}
        phase, age = o.get("phase"), now - float(o.get("at") or now)
        if o.get("item_recheck"):  # its task not started after DISPATCH_STALE_SECONDS: its message was lost (Redis)
            if age > DISPATCH_STALE_SECONDS and Round.objects.filter(pk=rnd.pk, status="running", owner=o).update(
                    owner=owner("dispatched", item_recheck=True)):
                run_item_recheck_task.delay(rnd.pk)
                out["enqueued"] += 1
            continue
        if phase == "dispatching":
            start_round(rnd.pk, claimed=True)  # only when its dispatcher died (the phase is stale)
            continue
        if phase == "ending":
            if age > ENDING_STALE_SECONDS and Round.objects.filter(pk=rnd.pk, status="running",
                                                                    owner=rnd.owner).update(owner=owner("dispatched")):
                out["ended"] += bool(finish_if_complete(rnd.pk))
            continue
        for job in rnd.jobs.filter(state="running"):
            if requeue_if_abandoned(job):
                out["requeued"] += 1
        queued = list(rnd.jobs.filter(state="queued").values_list("pk", flat=True))
        if queued and rnd.cancel_requested is None:
            if in_broker is None:
                in_broker = pending_job_ids()
            if in_broker is not None:
                for pk in queued:
                    if pk not in in_broker:
                        run_job_task.delay(pk)
                        out["enqueued"] += 1
        out["ended"] += bool(finish_if_complete(rnd.pk))
    return out


@app.task(name="govinspect.cluster.tasks.claim_queued_rounds", bind=True, max_retries=0)
def claim_queued_rounds(self) -> dict:
    close_old_connections()
    try:
        done = sweep()
    except DB_ERRORS:
        _reset_connections()
        raise
    if any(done.values()):
        log.info("claim_queued_rounds: %s", done)
    return done
