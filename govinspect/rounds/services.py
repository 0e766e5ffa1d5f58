"""Run a round: plan its per-target jobs and run them (rounds/jobs.py run_job) on the local runner, a pool of forked
worker processes; the round's lifecycle (start, resume, end, interruption) is recorded append-only."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from concurrent.futures import as_completed
from pathlib import Path

from django.db import connection, connections
from django.utils import timezone
from tqdm import tqdm

from ..registry.models import Website
from ..rules.ruleset import RuleSet
from ..storage import storage
from .jobs import largest_first, plan_jobs, requeue_abandoned, run_job
from .models import Round, RoundEvent, RoundJob


def round_dir(rnd: Round) -> Path:
    return storage().path(f"rounds/{rnd.pk}")


def _fresh_dir(rnd: Round) -> None:
    """A round that starts afresh must not resume crawls left under its number by a deleted round (the database may
    give a deleted round's number again): such a directory is set aside, not reused."""
    storage().set_aside(f"rounds/{rnd.pk}", f"orphan-{timezone.now():%Y%m%d%H%M%S%f}")


def rules_for(rnd: Round, overrides: str | Path | None = None) -> RuleSet:
    """Resolve the round's RuleSet once (shipped rules, the operator's override directory, its scheme, the admin's
    working-day table) and keep it on the round: its hash says which rules the findings were made with."""
    from ..registry.models import WorkdayOverride

    overrides = overrides if overrides is not None else os.environ.get("GOVINSPECT_RULES_DIR") or None
    calendar = WorkdayOverride.table()
    rules = RuleSet.load(rnd.scheme, overrides, calendar)
    rnd.rules_snapshot, rnd.rules_hash = rules.snapshot(), rules.hash
    rnd.save(update_fields=["rules_snapshot", "rules_hash"])
    return rules


def register_files(rnd: Round, documents: Path | None = None, proposals: Path | None = None,
                   replies: list[Path] | None = None) -> dict:
    """Copy the registers and reply letters submitted with the round into the storage; the params of its registers job."""
    store, base, out = storage(), f"rounds/{rnd.pk}/uploads", {}
    if documents:
        out["documents"] = store.put(f"{base}/documents/{Path(documents).name}", documents)
    if proposals:
        out["proposals"] = store.put(f"{base}/proposals/{Path(proposals).name}", proposals)
    if replies:
        out["replies"] = [store.put(f"{base}/replies/{Path(p).name}", p) for p in replies]
    return out


# ------------------------------------------------------------------------------------------- lifecycle
def _proc_start(pid: int) -> str:
    """When the process started (clock ticks since boot, Linux /proc): tells a live owner from a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _zombie(pid: int) -> bool:
    """A process that has ended but not been reaped (a killed round's worker whose new parent does not reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def owner_alive(owner: dict) -> bool | None:
    """True/False when the process that runs a round is / is not alive on this machine; None when we cannot tell."""
    if not owner or owner.get("host") != socket.gethostname() or not owner.get("pid"):
        return None
    pid = int(owner["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if _zombie(pid):
        return False
    started = _proc_start(pid)
    return not (owner.get("started") and started and started != owner["started"])  # the pid now belongs to another process


def event(rnd: Round, kind: str, detail: str = "") -> RoundEvent:
    return RoundEvent.objects.create(round=rnd, kind=kind, detail=detail[:2000])


def _begin(rnd: Round, kind: str, detail: str = "", owner: dict | None = None) -> None:
    """The round is running in this process from now on (or, owner given, by the cluster's workers: cluster/tasks.py):
    recorded on the round and as a start/resume event."""
    pid = os.getpid()
    rnd.owner = owner or {"host": socket.gethostname(), "pid": pid, "started": _proc_start(pid)}
    rnd.status, rnd.error, rnd.finished_at = "running", "", None
    if kind == "start" or rnd.started_at is None:
        rnd.started_at = timezone.now()
    rnd.save(update_fields=["owner", "status", "error", "finished_at", "started_at"])  # jobs write the other fields
    who = "集群工作进程" if owner else f"进程 {pid}（主机 {rnd.owner['host']}）"
    event(rnd, kind, who + (f"：{detail}" if detail else ""))


def _end(rnd: Round, status: str, detail: str = "") -> None:
    rnd.status, rnd.owner, rnd.finished_at = status, {}, timezone.now()
    if status == "failed":
        rnd.error = detail
    rnd.save(update_fields=["status", "owner", "finished_at", "error"])
    rnd.refresh_from_db()  # what the jobs stored on the round (registers) is in this object too
    event(rnd, {"done": "finish", "failed": "fail", "interrupted": "interrupt"}[status], detail)
    if status == "done":
        _summarize(rnd)
        if rnd.comparable:  # a full round follows the items; re-checks answer their own, a daily round sees new pages only
            _follow_items(rnd)


def _summarize(rnd: Round) -> None:
    """The dashboard's counts against the previous round, made once now that they are known (web/stats.py); a
    failure here never fails the round: the dashboard then makes them at its first view."""
    try:
        from ..web.stats import summarize_round

        summarize_round(rnd)
    except Exception:  # noqa: BLE001
        import logging

        logging.getLogger(__name__).exception("round %s: dashboard summary not made", rnd.pk)


def _follow_items(rnd: Round) -> None:
    """A full round done: earlier rounds' rectification items are closed or reopened by fingerprint (rectify.services
    sync_with_round). A failure is logged, never fails the round; `govinspect rectify sync` makes it again."""
    try:
        from ..rectify.services import sync_with_round

        sync_with_round(rnd)
    except Exception:  # noqa: BLE001
        import logging

        logging.getLogger(__name__).exception("round %s: rectification items not followed", rnd.pk)


@contextlib.contextmanager
def recorded(rnd: Round, interrupted: str):
    """Run a round's work: an operator's Ctrl+C or SIGTERM ends it "interrupted" (with `interrupted` as the reason),
    any other error "failed" with the error; both are recorded as events and raised again."""
    try:
        yield
    except KeyboardInterrupt:
        _end(rnd, "interrupted", interrupted)
        raise
    except Exception as e:
        _end(rnd, "failed", f"{type(e).__name__}: {e}")
        raise


def mark_interrupted() -> list[Round]:
    """Rounds still "running" whose process on this machine is gone (killed, machine restarted) become "interrupted"
    (can be continued with round --resume). Called by every command that reads or runs rounds."""
    out = []
    for rnd in Round.objects.filter(status="running"):
        if owner_alive(rnd.owner) is False:
            o = rnd.owner
            _end(rnd, "interrupted", f"运行本轮的进程 {o.get('pid')}（主机 {o.get('host')}）已不存在（被强制结束或机器重启），"
                                     f"已检查的网站结果保留，可用 govinspect round --resume {rnd.pk} 继续")
            out.append(rnd)
    return out


def _jsonable(crawl: dict | None) -> dict:
    """Crawl settings as JSON (kept on the round for a resume): tuples and sets as lists, anything else as text."""
    return json.loads(json.dumps(crawl or {}, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)))


def _from_json(crawl: dict) -> dict:
    """CrawlConfig fields as stored in JSON, with their tuples back (lists in JSON; resolve_map: host -> (ip, port))."""
    return {k: tuple(v) if isinstance(v, list) else {h: tuple(x) if isinstance(x, list) else x for h, x in v.items()}
            if isinstance(v, dict) else v for k, v in crawl.items()}


def crawl_options(rnd: Round) -> dict:
    """The crawl settings the round was started with (resume uses the same)."""
    return _from_json((rnd.run_options or {}).get("crawl") or {})


def start_round(rnd: Round, websites: list[Website] | None = None, crawl: dict | None = None, accounts: bool | None = None,
                registers: dict | None = None, letters: bool = False, processes: int | None = None,
                site_concurrency: int = 4, overrides: str | Path | None = None) -> list[RoundJob]:
    """Fix what the round will do: its rules (snapshot and hash), crawl settings, the files submitted with it (registers:
    {"documents": path, "proposals": path, "replies": [paths]}, copied into the storage) and its jobs. Nothing is
    checked yet."""
    full = websites is None
    rnd.run_options = {"crawl": _jsonable(crawl), "site_concurrency": site_concurrency, "processes": processes}
    rnd.save(update_fields=["run_options"])
    _fresh_dir(rnd)
    rules_for(rnd, overrides)
    uploads = register_files(rnd, **registers) if registers else None
    return plan_jobs(rnd, websites, accounts=full if accounts is None else accounts, registers=uploads, letters=letters)


def run_round(rnd: Round, websites: list[Website] | None = None, crawl: dict | None = None, progress: bool = False,
              site_concurrency: int = 4, processes: int | None = None, registers: dict | None = None,
              letters: bool = False, accounts: bool | None = None) -> Round:
    """Plan the round (start_round) and run its jobs (run_jobs)."""
    start_round(rnd, websites, crawl, accounts, registers, letters, processes, site_concurrency)
    return run_jobs(rnd, progress, resume=False)


def resume_round(rnd: Round, progress: bool = False) -> Round:
    """Continue an interrupted or failed round with the rules and settings it was started with: only the jobs not done
    run (a site's crawl resumes from its crawl state)."""
    return run_jobs(rnd, progress, resume=True)


def run_jobs(rnd: Round, progress: bool = False, resume: bool = False) -> Round:
    """The local runner: the round's unfinished jobs on a pool of forked worker processes (site_concurrency of them;
    processes=1: one after another in this process). Each job commits its own results; a round killed at any moment
    keeps every finished job and reruns only the others when resumed."""
    from ..cluster import enabled as cluster_mode
    from ..engine.pool import site_pool

    if cluster_mode():  # Celery workers run the jobs (cluster/dispatch.py); this process waits for the round's end
        from ..cluster.dispatch import submit_round

        return submit_round(rnd, progress, resume)
    opts = rnd.run_options or {}
    requeue_abandoned(rnd)
    todo = largest_first(rnd, list(rnd.jobs.filter(state__in=("queued", "failed")).order_by("id")))
    total = rnd.jobs.count()
    _begin(rnd, "resume" if resume else "start",
           f"已完成{total - len(todo)}项检查任务，继续其余{len(todo)}项" if resume else f"检查任务{len(todo)}项")
    workers = min(max(1, opts.get("site_concurrency") or 4), max(1, len(todo)))
    if opts.get("processes") == 1 or connection.in_atomic_block:  # children could not see this open transaction
        workers = 1
    bar = tqdm(total=total, initial=total - len(todo), desc="检查", unit="项", disable=not progress, dynamic_ncols=True)
    pool = None
    try:
        with recorded(rnd, "检查被操作员中断（Ctrl+C 或终止信号），已完成的检查任务结果保留，"
                           f"可用 govinspect round --resume {rnd.pk} 继续"):
            if workers == 1:
                for job in todo:
                    bar.set_postfix_str(f"正在检查 {job.label}")
                    run_job(job.pk)
                    bar.update(1)
            else:
                connections.close_all()  # children open their own connections
                pool = site_pool(workers)
                for fut in as_completed([pool.submit(run_job, job.pk) for job in todo]):
                    job = fut.result()
                    bar.update(1)
                    bar.set_postfix_str(f"{job.label}：{job.get_state_display()}")
                pool.shutdown(wait=True)
                pool = None
    finally:
        bar.close()
        if pool is not None:  # interrupted or failed: the jobs in flight are abandoned (requeued on resume)
            pool.shutdown(wait=False, cancel_futures=True)
    return finish_round(rnd)


def finish_round(rnd: Round) -> Round:
    """The end of a round whose jobs have all run (the local runner above, or the cluster's last job:
    cluster/tasks.py finish_if_complete): done, or failed when a job that is not a site's failed or one still runs."""
    n, checked = rnd.sites.count(), rnd.sites.filter(status="checked").count()
    detail = f"共{n}个网站，检查{checked}个，未能检查{n - checked}个"
    failed = list(rnd.jobs.filter(state="failed"))
    busy = rnd.jobs.filter(state="running").count()
    if failed:
        detail += f"；{len(failed)}项检查任务出错（见检查任务列表）：" + "；".join(f"{j.label}：{j.reason[:200]}" for j in failed[:3])
    # a site whose job failed is stored as could not check (the bulletin says so); accounts, registers or letters
    # that failed would be silently missing from the bulletin: the round then fails, to be resumed
    missing = [j for j in failed if j.kind != "site"]
    if missing or busy:
        why = (f"{busy}项检查任务仍由其他进程运行；" if busy else "") + detail
        _end(rnd, "failed", why + f"。排除原因后用 govinspect round --resume {rnd.pk} 重试未完成的任务")
        return rnd
    _end(rnd, "done", detail)
    return rnd


