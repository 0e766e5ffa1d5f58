"""Submitting rounds to the cluster and looking into the broker.

    submit_round(rnd, progress, resume)   the CLI's round (services.run_jobs in cluster mode): queued, start_round_task
                                          enqueued, then wait for its end with a progress bar read from the database;
                                          Ctrl+C asks the round to be cancelled (Round.cancel_requested)
    pending_job_ids()                     the job ids that have a message in the broker (queued or taken by a worker)
    queue_length()                        messages waiting in the queue

Rounds launched from the web are queued by the web and claimed by the periodic claim_queued_rounds (tasks.py).
"""

from __future__ import annotations

import base64
import json
import sys
import time

from django.db import InterfaceError, OperationalError, connections
from django.db.models import Count
from django.utils import timezone

POLL_SECONDS = 1.0
WAIT_HINT_SECONDS = 30
DB_PATIENCE_SECONDS = 300
RESUMABLE = ("pending", "queued", "interrupted", "failed", "cancelled")
JOB_TASK = "govinspect.cluster.tasks.run_job_task"


def submit_round(rnd, progress: bool = False, resume: bool = False):
    """Queue a planned round for the cluster's workers and wait for its end (the jobs run there, not here)."""
    from ..cliutil import CliError
    from ..rounds.models import Round
    from ..rounds.services import event
    from .tasks import start_round_task

    if not Round.objects.filter(pk=rnd.pk, status__in=RESUMABLE).update(status="queued", cancel_requested=None,
                                                                        error=""):
        rnd.refresh_from_db()
        raise CliError(f"第{rnd.pk}轮的状态为“{rnd.get_status_display()}”，不能提交到集群")
    left = rnd.jobs.exclude(state__in=("done", "could_not_check")).count()
    event(rnd, "queue", f"命令行{'继续' if resume else '开始'}本轮：{left}项检查任务提交到集群，等待工作进程执行")
    try:
        start_round_task.delay(rnd.pk)
    except Exception as e:  # noqa: BLE001 - the broker is down: the periodic claim_queued_rounds will take the round
        print(f"提示：暂时无法连接消息队列（{type(e).__name__}: {e}）；本轮已排队，celery beat 运行后由工作进程领取",
              file=sys.stderr)
    return wait_for_round(rnd, progress)


def wait_for_round(rnd, progress: bool = False):
    """Poll the round until it ends; Ctrl+C (or SIGTERM, turned into KeyboardInterrupt by the CLI) asks for it to be
    cancelled and says so. A cancelled round is an error for the CLI (no reports of a round cut short)."""
    from tqdm import tqdm

    from ..cliutil import CliError
    from ..rounds.models import Round

    total = rnd.jobs.count()
    bar = tqdm(total=total, desc="检查（集群）", unit="项", disable=not progress, dynamic_ncols=True)
    hinted, since, lost = False, time.monotonic(), None
    try:
        while True:
            try:
                rnd.refresh_from_db()
                states = {r["state"]: r["n"] for r in rnd.jobs.order_by().values("state").annotate(n=Count("id"))}
                lost = None
            except (OperationalError, InterfaceError) as e:  # the database restarted or dropped us: wait, reconnect
                connections.close_all()
                lost = lost or time.monotonic()
                if time.monotonic() - lost > DB_PATIENCE_SECONDS:
                    raise CliError(f"无法连接数据库已超过{DB_PATIENCE_SECONDS}秒（{type(e).__name__}: {e}）；第{rnd.pk}轮"
                                   "仍由工作进程继续执行，可在平台上查看进度") from None
                time.sleep(POLL_SECONDS)
                continue
            finished = sum(states.get(s, 0) for s in ("done", "could_not_check", "failed"))
            bar.update(max(0, finished - bar.n))
            bar.set_postfix_str(f"运行中{states.get('running', 0)}项，排队{states.get('queued', 0)}项")
            if rnd.status not in ("queued", "running"):
                break
            if (rnd.status == "queued" and not hinted and time.monotonic() - since > WAIT_HINT_SECONDS):
                hinted = True
                print(f"\n第{rnd.pk}轮仍在排队：请确认工作进程（govinspect worker）和 govinspect beat 正在运行，"
                      "且 GOVINSPECT_BROKER_URL 指向同一消息队列", file=sys.stderr)
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        bar.close()
        now = timezone.now()
        Round.objects.filter(pk=rnd.pk, status__in=("queued", "running")).update(cancel_requested=now)
        if Round.objects.filter(pk=rnd.pk, status="queued").update(status="cancelled", finished_at=now):
            from ..rounds.services import event

            event(rnd, "cancel", "操作员在命令行中断了等待，本轮尚未开始检查，已取消")
        print(f"\n已请求取消第{rnd.pk}轮：工作进程不再开始新的检查任务，正在运行的任务完成后本轮记为已取消；"
              f"已完成的检查任务结果保留，可用 govinspect round --resume {rnd.pk} 继续", file=sys.stderr)
        raise
    bar.close()
    if rnd.status == "cancelled":
        raise CliError(f"第{rnd.pk}轮已被取消（已完成的检查任务结果保留，可用 govinspect round --resume {rnd.pk} 继续）")
    return rnd


# ------------------------------------------------------------------------------------------------ the broker
def _redis_channel(conn):
    ch = conn.default_channel
    if not hasattr(ch, "_q_for_pri") or not hasattr(ch, "client"):
        return None
    return ch


def queue_length() -> int | None:
    """Messages waiting in the cluster's queue (None when the broker cannot be asked)."""
    from .app import QUEUE, app

    try:
        with app.connection_for_read() as conn:
            ch = _redis_channel(conn)
            if ch is None:
                return None
            return sum(ch.client.llen(ch._q_for_pri(QUEUE, p)) for p in ch.priority_steps)
    except Exception:  # noqa: BLE001
        return None


def _job_id(raw) -> int | None:
    m = json.loads(raw)
    if isinstance(m, list):  # the unacked hash: [message, exchange, routing key]
        m = m[0]
    if (m.get("headers") or {}).get("task") != JOB_TASK:
        return None
    body = m.get("body")
    if (m.get("properties") or {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return int(args[0])


def pending_job_ids() -> set[int] | None:
    """The ids of the jobs that have a run_job_task message in the broker: waiting in the queue, or delivered to a
    worker and not yet acknowledged (Redis keeps those in its "unacked" hash until the ack, or until the visibility
    timeout gives them back). None when the broker cannot be looked into (not Redis, or unreachable)."""
    from .app import QUEUE, app

    try:
        with app.connection_for_read() as conn:
            ch = _redis_channel(conn)
            if ch is None:
                return None
            raws = []
            for p in ch.priority_steps:
                raws += ch.client.lrange(ch._q_for_pri(QUEUE, p), 0, -1)
            raws += ch.client.hvals(ch.unacked_key)
    except Exception:  # noqa: BLE001
        return None
    ids = set()
    for raw in raws:
        try:
            pk = _job_id(raw)
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if pk is not None:
            ids.add(pk)
    return ids
