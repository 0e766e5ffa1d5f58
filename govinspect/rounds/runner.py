"""The local runner of rounds launched from the web platform (`govinspect serve` starts it as its own process).

    python -m govinspect.rounds.runner                  the loop: queued rounds, oldest first, one at a time
    python -m govinspect.rounds.runner --until-idle     ... and exit when nothing is queued or running (tests, cron)
    python -m govinspect.rounds.runner --round ID       run one claimed round in this process (the loop's child)

The loop never checks anything itself: each round runs in a child process (`--round ID`) with the same
services.run_jobs as `govinspect round` (its worker pool, per-job commits, resume from finished jobs). The loop polls the
round while the child runs: when the office cancels it (Round.cancel_requested, set by the web view), the child gets
SIGTERM, which services.recorded() records as an interruption (finished jobs are kept), and the loop then marks the
round "cancelled" with a RoundEvent. On start, rounds left "running" by a process that is gone become "interrupted"
(services.mark_interrupted). SIGTERM or Ctrl+C on the loop interrupts the round it runs (resumable) and exits.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 1.0
SCHEDULE_SECONDS = 30  # how often the loop looks for due schedules (govinspect/schedules.py)
STOP_GRACE_SECONDS = 30  # a child that does not end this long after SIGTERM is killed (with its workers)


def _die_with_parent() -> None:
    """preexec for the round's child: it gets SIGTERM when the loop dies (even by SIGKILL), so no round runs unowned."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


# ------------------------------------------------------------------------------------------- one round (the child)
def run_one(round_id: int) -> int:
    """Run a round claimed by the loop: its unfinished jobs (run_jobs), as a resume when it ran before."""
    from .models import Round, RoundEvent
    from .services import run_jobs

    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    rnd = Round.objects.get(pk=round_id)
    resume = RoundEvent.objects.filter(round=rnd, kind__in=("start", "resume")).exists()
    code = 0
    try:
        if rnd.item_recheck:  # a unit's claim: re-check its items now, then give each item its answer
            from ..rectify.services import run_item_recheck

            run_item_recheck(rnd)
        else:
            run_jobs(rnd, resume=resume)
    except KeyboardInterrupt:  # cancelled or stopped: recorded as interrupted by services.recorded()
        code = 130
    except Exception:  # recorded on the round as "failed" by services.recorded()
        import traceback

        traceback.print_exc()
        code = 1
    # end now: an interrupted pool's workers are still crawling, and the interpreter's exit would wait for them
    # (they die with this process, PR_SET_PDEATHSIG; their jobs are requeued by the runner)
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ------------------------------------------------------------------------------------------- the loop
class Runner:
    def __init__(self, python: str | None = None):
        self.python = python or sys.executable
        self.child: subprocess.Popen | None = None
        self.round_id: int | None = None
        self.stopping = False
        self.signalled: set[int] = set()
        self.next_housekeeping = 0.0
        self.next_schedules = 0.0
        self.scheduler = None  # the thread running due schedules (govinspect/schedules.py)

    def claim(self):
        """The oldest queued round, now marked running by this loop (a second runner cannot take it too). Item re-checks
        (a unit's claim, re-checked "at once", a few pages) go before queued full rounds, which take hours."""
        from .models import Round
        from .services import _proc_start

        me = {"host": __import__("socket").gethostname(), "pid": os.getpid(), "started": _proc_start(os.getpid())}
        for rnd in Round.objects.filter(status="queued", cancel_requested__isnull=True).order_by("-item_recheck", "id")[:5]:
            if Round.objects.filter(pk=rnd.pk, status="queued", cancel_requested__isnull=True).update(
                    status="running", owner=me):
                return rnd
        return None

    def start(self, rnd) -> None:
        from django.db import connections

        connections.close_all()
        self.round_id = rnd.pk
        self.child = subprocess.Popen([self.python, "-m", "govinspect.rounds.runner", "--round", str(rnd.pk)],
                                      preexec_fn=_die_with_parent, start_new_session=True)
        print(f"运行器：开始第{rnd.pk}轮（{rnd.name}），进程 {self.child.pid}", flush=True)

    def stop_child(self) -> None:
        """SIGTERM to the round's process (recorded as interrupted, finished jobs kept); killed with its workers when it
        does not end in time."""
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGTERM)
        try:
            self.child.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.child.wait()

    def finish(self) -> None:
        """After the child ended: a cancelled round is marked so; a round the child left running is interrupted;
        jobs its killed workers left running are queued again."""
        from .jobs import requeue_abandoned
        from .models import Round
        from .services import event, mark_interrupted

        rid, code = self.round_id, self.child.returncode if self.child else None
        self.child, self.round_id = None, None
        rnd = Round.objects.filter(pk=rid).first()
        if rnd is None:
            return
        if rnd.status == "running":
            if (rnd.owner or {}).get("pid") == os.getpid():  # the child ended before it took the round over
                Round.objects.filter(pk=rid, status="running").update(status="interrupted", owner={}, finished_at=_now())
                event(rnd, "interrupt", f"运行本轮的进程在开始检查前结束（退出码 {code}）")
            else:  # killed: its owner is gone
                mark_interrupted()
        # the jobs its workers were running when it ended: queued again once those workers are gone (they die with
        # the round's process, a moment later)
        deadline = time.monotonic() + 15
        while True:
            requeue_abandoned(rnd)
            if not rnd.jobs.filter(state="running").exists() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rnd.refresh_from_db()
        if rnd.cancel_requested and rnd.status in ("interrupted", "running", "failed", "queued"):
            _mark_cancelled(rnd)
        else:
            print(f"运行器：第{rid}轮结束（{rnd.get_status_display()}，退出码 {code}）", flush=True)
        if rnd.item_recheck:  # killed or cancelled before it answered its items: they are told so (未能复查, retried)
            from ..rectify.services import apply_recheck

            rnd.refresh_from_db()
            apply_recheck(rnd)

    def cancel_others(self) -> bool:
        """Rounds run by another process on this machine (`govinspect round`) whose cancel was requested on the web:
        SIGTERM to that process (it records the round as interrupted), then the round is marked cancelled."""
        from .models import Round
        from .services import owner_alive

        waiting = False
        for rnd in Round.objects.filter(cancel_requested__isnull=False, status__in=("running", "interrupted")).exclude(
                pk=self.round_id).only("id", "status", "owner", "cancel_requested", "finished_at", "name"):
            if rnd.status == "interrupted":
                _mark_cancelled(rnd)
            elif (rnd.pk not in self.signalled and owner_alive(rnd.owner) and rnd.owner.get("pid") != os.getpid()
                  and not _is_runner_loop(int(rnd.owner["pid"]))):  # another runner stops its own child
                self.signalled.add(rnd.pk)
                try:
                    os.kill(int(rnd.owner["pid"]), signal.SIGTERM)
                    print(f"运行器：第{rnd.pk}轮由进程 {rnd.owner['pid']} 运行，已请其停止", flush=True)
                except (ProcessLookupError, PermissionError):
                    pass
            waiting = waiting or rnd.pk in self.signalled
        return waiting

    def step(self) -> bool:
        """One turn of the loop; False when idle (nothing running, nothing queued)."""
        from .models import Round

        beat()
        waiting = self.cancel_others()
        if self.child is not None:
            if self.child.poll() is not None:
                self.finish()
                return True
            if Round.objects.filter(pk=self.round_id, cancel_requested__isnull=False).exists():
                self.stop_child()
                self.finish()
            return True
        rnd = self.claim()
        if rnd is None:
            return waiting
        self.start(rnd)
        return True

    def loop(self, until_idle: bool = False) -> int:
        from .services import mark_interrupted

        for rnd in mark_interrupted():
            print(f"运行器：第{rnd.pk}轮的进程已不存在，记为已中断", flush=True)
        while not self.stopping:
            self.housekeeping()
            if not until_idle:
                self.schedules()
            busy = self.step()
            if not busy and until_idle:
                return 0
            time.sleep(POLL_SECONDS)
        return 0

    def housekeeping(self) -> None:
        """The rectification loop's schedule (rectify.services.housekeeping: overdue items, reminders, re-check retries),
        every GOVINSPECT_HOUSEKEEPING_MINUTES (default 10); a failure is printed and tried again next time."""
        now = time.monotonic()
        if now < self.next_housekeeping:
            return
        self.next_housekeeping = now + 60 * float(os.environ.get("GOVINSPECT_HOUSEKEEPING_MINUTES") or 10)
        try:
            from ..rectify.services import housekeeping

            done = housekeeping()
            if any(done.values()):
                print(f"运行器：整改事项例行处理 {done}", flush=True)
        except Exception:  # noqa: BLE001
            import traceback

            traceback.print_exc()

    def schedules(self) -> None:
        """THE schedules (govinspect/schedules.py run_due: availability probes, the daily incremental crawl, calendar
        rounds — those enabled by GOVINSPECT_SCHEDULES), checked every SCHEDULE_SECONDS in a thread of this process, so
        a probe cycle never holds up the loop; the rounds they queue are run by this loop like any other."""
        import threading

        now = time.monotonic()
        if now < self.next_schedules or (self.scheduler is not None and self.scheduler.is_alive()):
            return
        self.next_schedules = now + SCHEDULE_SECONDS

        def run():
            from django.db import connection

            try:
                from ..schedules import run_due

                run_due(say=lambda m: print(m, flush=True))
            except Exception:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            finally:
                connection.close()

        self.scheduler = threading.Thread(target=run, name="schedules", daemon=True)
        self.scheduler.start()

    def shutdown(self) -> None:
        """The loop is told to stop: the round it runs is interrupted (resumable), not cancelled."""
        self.stopping = True
        if self.child is not None:
            self.stop_child()
            self.finish()


def _mark_cancelled(rnd) -> None:
    from .models import Round
    from .services import event

    if not Round.objects.filter(pk=rnd.pk, cancel_requested__isnull=False).exclude(status__in=("cancelled", "done")).update(
            status="cancelled", owner={}, finished_at=rnd.finished_at or _now()):
        return
    done = rnd.jobs.filter(state__in=("done", "could_not_check")).count()
    event(rnd, "cancel", f"检查单位取消了本轮：已完成的{done}项检查任务结果保留，其余{rnd.jobs.count() - done}项未运行"
                         "（可在平台上“继续”）")
    print(f"运行器：第{rnd.pk}轮已取消", flush=True)


HEARTBEAT_FILE = "runner.json"  # in the data directory: the web pages tell whether a runner is looking at the queue


def beat() -> None:
    import json
    import socket

    from django.conf import settings

    p = settings.DATA_DIR / HEARTBEAT_FILE
    tmp = p.with_name(f".{p.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}))
    os.replace(tmp, p)


def alive(max_age: float = 90) -> bool:
    """Whether a runner looked at the queue lately (its heartbeat file in the data directory)."""
    from django.conf import settings

    try:
        return time.time() - (settings.DATA_DIR / HEARTBEAT_FILE).stat().st_mtime < max_age
    except OSError:
        return False


def _is_runner_loop(pid: int) -> bool:
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return False
    return b"govinspect.rounds.runner" in args and b"--round" not in args


def _now():
    from django.utils import timezone

    return timezone.now()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govinspect.rounds.runner", description="平台的本地检查任务运行器")
    ap.add_argument("--round", type=int, help="在本进程中运行一个已认领的轮次（运行器的子进程）")
    ap.add_argument("--until-idle", action="store_true", help="没有排队或运行中的轮次时退出")
    a = ap.parse_args(argv)
    from ..cliutil import _setup_django

    _setup_django(migrate=False)
    if a.round is not None:
        return run_one(a.round)
    runner = Runner()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        return runner.loop(a.until_idle)
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough: let the round's process end cleanly
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        runner.shutdown()
        return 0


if __name__ == "__main__":
    sys.exit(main())
