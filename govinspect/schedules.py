"""THE list of schedules: what runs by itself, when, in both modes.

    cluster mode   celery beat (`govinspect beat`) sends each schedule's task (cluster/scheduled.py) at its times:
                   celery_beat_schedule() is the Celery app's beat_schedule (cluster/app.py)
    embedded mode  the local runner's loop (rounds/runner.py) calls run_due() every few seconds: due(now, last_runs)
                   says which schedules are due, each runs in the runner's process and is recorded as a ScheduleRun

Both call the same functions (SCHEDULES[i].func). Every function is idempotent for its period: a schedule sent twice
(beat restarted, two runners) starts one daily round, one calendar round per date.

Settings (environment):
    GOVINSPECT_SCHEDULES           embedded mode: which schedules the local runner runs — "all", or names separated by
                                   commas (e.g. "probe-sites,daily-crawl"); empty (default): none besides rectification
                                   housekeeping, which the runner always does. Cluster mode: default "all".
    GOVINSPECT_DAILY_CRAWL_AT      when the daily incremental crawl starts, HH:MM Asia/Shanghai (default 01:00)
    GOVINSPECT_ROUND_CALENDAR      full rounds on a calendar: cron expressions (minute hour day month weekday, Asia/
                                   Shanghai) separated by ";", e.g. "0 2 10 1,4,7,10 *" (02:00 on 10 Jan/Apr/Jul/Oct)
    GOVINSPECT_ROUND_TEMPLATE      the round a calendar round copies (name, scope, scheme, crawl settings); default the
                                   latest finished full round
    GOVINSPECT_PROBE_MINUTES       minutes between availability probe cycles (default 72: 20 a day)
    GOVINSPECT_HOUSEKEEPING_MINUTES  minutes between rectification housekeeping runs (default 10)
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import socket
import traceback
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Schedule:
    name: str
    func: str  # dotted path of the function both modes call (no arguments)
    task: str  # the Celery task (cluster/scheduled.py or cluster/tasks.py)
    description: str  # Chinese: shown in the web and the admin
    every: float | None = None  # seconds between runs
    at: str | None = None  # "HH:MM" once a day (Asia/Shanghai)
    cluster_only: bool = False  # runs on celery beat only (the local runner has its own way)
    runner_builtin: bool = False  # the local runner does it itself (rounds/runner.py housekeeping): not run twice

    @property
    def enabled(self) -> bool:
        return self.name in enabled_names()


def _minutes(var: str, default: float) -> float:
    try:
        return 60 * float(os.environ.get(var) or default)
    except ValueError:
        return 60 * default


def schedules() -> list[Schedule]:
    """THE list (settings read now)."""
    return [
        Schedule("probe-sites", "govinspect.monitor.services.scheduled_probe", "govinspect.cluster.scheduled.probe_sites",
                 "可用性监测：访问名录中全部网站首页和参照目标（每72分钟一轮，每天20次），结果用于各轮次的可用性判断",
                 every=_minutes("GOVINSPECT_PROBE_MINUTES", 72)),
        Schedule("daily-crawl", "govinspect.schedules.daily_crawl", "govinspect.cluster.scheduled.daily_crawl",
                 "日常监测：每天对全部网站做一次增量抓取（条件请求），新增和变化的页面检查个人信息、错误表述和违法链接，"
                 "新发现的问题记入当天的“日常监测”轮次",
                 at=os.environ.get("GOVINSPECT_DAILY_CRAWL_AT") or "01:00"),
        Schedule("calendar-rounds", "govinspect.schedules.start_calendar_rounds",
                 "govinspect.cluster.scheduled.start_calendar_rounds",
                 "定期检查：按设定的日程（GOVINSPECT_ROUND_CALENDAR）以模板轮次为准创建并排队全面检查轮次",
                 every=300),
        Schedule("rectify-housekeeping", "govinspect.rectify.services.housekeeping",
                 "govinspect.cluster.scheduled.rectify_housekeeping",
                 "整改例行处理：逾期标记、到期提醒、未能复查的整改事项重新复查",
                 every=_minutes("GOVINSPECT_HOUSEKEEPING_MINUTES", 10), runner_builtin=True),
        Schedule("claim-queued-rounds", "govinspect.cluster.tasks.claim_queued_rounds",
                 "govinspect.cluster.tasks.claim_queued_rounds",
                 "集群模式：领取平台上排队的轮次并分发给工作进程（每10秒）", every=10, cluster_only=True),
    ]


def _cluster_mode() -> bool:
    try:
        from .cluster import enabled
    except ImportError:  # pragma: no cover
        return bool(os.environ.get("GOVINSPECT_BROKER_URL"))
    return enabled()


def enabled_names() -> set[str]:
    raw = os.environ.get("GOVINSPECT_SCHEDULES")
    names = {s.name for s in schedules()}
    if raw is None:
        raw = "all" if _cluster_mode() else ""
    raw = raw.strip().lower()
    if raw in ("all", "1", "on", "yes"):
        return names
    return {n.strip() for n in raw.split(",") if n.strip() in names}


def celery_beat_schedule() -> dict:
    """beat_schedule of the Celery app (cluster/app.py): every enabled schedule (all by default in cluster mode), and
    always claim_queued_rounds (every 10 s) and the rectification housekeeping. A message not taken by a worker before
    90 % of its period expires (the next one is on its way)."""
    from celery.schedules import crontab

    out = {}
    names = enabled_names()
    for s in schedules():
        if not (s.cluster_only or s.runner_builtin or s.name in names):  # the sweep and housekeeping always run
            continue
        if s.at:
            hour, minute = (int(x) for x in s.at.split(":"))
            when = crontab(hour=hour, minute=minute)
        else:
            when = float(s.every)
        out[s.name] = {"task": s.task, "schedule": when, "options": {"expires": 0.9 * (s.every or 3600)}}
    return out


# ------------------------------------------------------------------------------------------- embedded: due()
def due(now: dt.datetime, last_runs: dict[str, dt.datetime | None], names: set[str] | None = None) -> list[Schedule]:
    """The schedules to run now on the local runner: enabled (or in `names`), not cluster-only, not done by the runner
    itself, and either never run, or run `every` seconds ago, or (daily ones) not run since today's time passed."""
    names = enabled_names() if names is None else names
    out = []
    for s in schedules():
        if s.name not in names or s.cluster_only or s.runner_builtin:
            continue
        last = last_runs.get(s.name)
        if s.at:
            hour, minute = (int(x) for x in s.at.split(":"))
            local = now.astimezone(TZ)
            slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if slot > local:
                slot -= dt.timedelta(days=1)  # the latest time it should have run
            if last is None or last < slot:
                out.append(s)
        elif last is None or (now - last).total_seconds() >= s.every:
            out.append(s)
    return out


def last_runs() -> dict[str, dt.datetime]:
    from django.db.models import Max

    from .monitor.models import ScheduleRun

    return dict(ScheduleRun.objects.values("name").annotate(last=Max("started_at")).values_list("name", "last"))


def call(name: str):
    """Run one schedule now, recorded as a ScheduleRun (both modes: the runner and the Celery tasks)."""
    from django.utils import timezone

    from .monitor.models import ScheduleRun

    s = next(x for x in schedules() if x.name == name)
    run = ScheduleRun.objects.create(name=name, started_at=timezone.now(), host=f"{socket.gethostname()}:{os.getpid()}")
    module, _, attr = s.func.rpartition(".")
    try:
        result = getattr(importlib.import_module(module), attr)()
    except Exception as e:
        ScheduleRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), ok=False,
                                                     detail=f"{type(e).__name__}: {e}\n{traceback.format_exc()}"[:4000])
        raise
    ScheduleRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), ok=True, detail=_describe(result)[:4000])
    return result


def _describe(result) -> str:
    if result is None or result == []:
        return ""
    if hasattr(result, "pk") and hasattr(result, "name"):
        return f"轮次 {result.pk}：{result.name}"
    if isinstance(result, list) and result and hasattr(result[0], "pk"):
        return "；".join(_describe(r) for r in result)
    return str(result)


def run_due(now: dt.datetime | None = None, say=print) -> list[str]:
    """The local runner's hook: run every due schedule (one failing is printed and tried again at its next time)."""
    from django.utils import timezone

    names = enabled_names()
    if not names:  # embedded default: nothing scheduled (the runner's own housekeeping aside)
        return []
    now = now or timezone.now()
    ran = []
    for s in due(now, last_runs(), names):
        try:
            result = call(s.name)
            ran.append(s.name)
            say(f"运行器：计划任务“{s.description.split('：')[0]}”已运行" + (f"：{_describe(result)}" if result else ""))
        except Exception:  # noqa: BLE001  recorded as a failed ScheduleRun
            traceback.print_exc()
    return ran


# ------------------------------------------------------------------------------------------- the schedules' work
def daily_crawl():
    """Start today's daily monitoring round (monitor/daily.py), queued for the runner or the workers."""
    from .monitor.daily import start_daily_round

    return start_daily_round()


def cron_matches(expr: str, when: dt.datetime) -> bool:
    """Whether a 5-field cron expression (minute hour day month weekday; *, lists, ranges, steps; weekday 0 or 7 =
    Sunday) matches the minute `when` (local time). Day and weekday both restricted: either matches (cron's rule)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"日程“{expr}”应为5项：分 时 日 月 星期")
    values = [when.minute, when.hour, when.day, when.month, (when.isoweekday() % 7)]
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]

    def match(field: str, value: int, lo: int, hi: int, weekday: bool = False) -> bool:
        for part in field.split(","):
            rng, _, step = part.partition("/")
            step = int(step) if step else 1
            if rng == "*":
                a, b = lo, hi
            elif "-" in rng:
                a, b = (int(x) for x in rng.split("-"))
            else:
                a = b = int(rng)
                if step > 1:
                    b = hi
            for v in range(a, b + 1, step):
                if v == value or (weekday and v == 7 and value == 0):
                    return True
        return False

    ok = [match(f, v, *r, weekday=(i == 4)) for i, (f, v, r) in enumerate(zip(fields, values, ranges))]
    day_ok = (ok[2] or ok[4]) if fields[2] != "*" and fields[4] != "*" else (ok[2] and ok[4])
    return ok[0] and ok[1] and ok[3] and day_ok


def calendar() -> list[str]:
    return [e.strip() for e in (os.environ.get("GOVINSPECT_ROUND_CALENDAR") or "").split(";") if e.strip()]


def last_fire(expr: str, now: dt.datetime, within: dt.timedelta = dt.timedelta(days=2)) -> dt.datetime | None:
    """The latest minute at or before `now` (within `within`) that the expression names, in Asia/Shanghai."""
    t = now.astimezone(TZ).replace(second=0, microsecond=0)
    end = t - within
    while t > end:
        if cron_matches(expr, t):
            return t
        t -= dt.timedelta(minutes=1)
    return None


def template_round():
    """The round calendar rounds copy: GOVINSPECT_ROUND_TEMPLATE, else the latest finished full round (not a re-check,
    not an item re-check, not a daily round)."""
    from .rounds.models import Round

    pk = os.environ.get("GOVINSPECT_ROUND_TEMPLATE")
    if pk:
        return Round.objects.filter(pk=int(pk)).first()
    from .rounds.models import FULL_ROUNDS

    full = list(Round.objects.filter(FULL_ROUNDS, status="done").order_by("-as_of", "-id")[:50])
    return next((r for r in full if not (r.run_options or {}).get("calendar")), full[0] if full else None)


def start_calendar_rounds(now: dt.datetime | None = None) -> list:
    """For each calendar entry whose latest time has come (in the last two days) and has no round yet: a new round
    copied from the template round (its scope, scheme, office, crawl settings), as of that date, planned and queued."""
    from django.db import transaction
    from django.utils import timezone

    from .rounds.models import Round, RoundEvent

    now = now or timezone.now()
    created = []
    for expr in calendar():
        fire = last_fire(expr, now)
        if fire is None:
            continue
        stamp = fire.isoformat()
        if any((r.run_options or {}).get("calendar") == stamp for r in Round.objects.filter(as_of=fire.date())):
            continue
        tpl = template_round()
        if tpl is None:
            continue
        with transaction.atomic():
            if any((r.run_options or {}).get("calendar") == stamp
                   for r in Round.objects.select_for_update().filter(as_of=fire.date())):
                continue
            period = None
            if tpl.period_start:
                period = fire.date() - (tpl.as_of - tpl.period_start)
            rnd = Round.objects.create(
                name=f"定期检查 {fire.date().isoformat()}", region=tpl.region, office=tpl.office, as_of=fire.date(),
                period_start=period, allow_networks=tpl.allow_networks, scheme=tpl.scheme, recipients=tpl.recipients,
                scope_unit=tpl.scope_unit, rectify_days=tpl.rectify_days,
                run_options={"crawl": (tpl.run_options or {}).get("crawl") or {}, "calendar": stamp,
                             "template": tpl.pk})
        from .web.views.rounds import plan

        jobs = plan(rnd)
        rnd.refresh_from_db()
        rnd.run_options = {**rnd.run_options, "calendar": stamp, "template": tpl.pk}
        rnd.save(update_fields=["run_options"])
        Round.objects.filter(pk=rnd.pk, status="pending").update(status="queued")
        RoundEvent.objects.create(round=rnd, kind="queue",
                                  detail=f"计划任务：按日程“{expr}”以第{tpl.pk}轮（{tpl.name}）为模板开始，检查任务{len(jobs)}项")
        rnd.refresh_from_db()
        created.append(rnd)
    return created
