"""`govinspect worker` and `govinspect beat`: the processes of cluster mode (GOVINSPECT_BROKER_URL set).

    govinspect worker [--concurrency N] [--loglevel info]   a Celery worker running round jobs (prefork pool, -O fair:
                                                            a process takes its next job only when it is free)
    govinspect beat [--loglevel info]                       celery beat: the schedules of govinspect/schedules.py and
                                                            the 10 s sweep that dispatches rounds queued from the web;
                                                            ONE beat per cluster (its schedule file in the data dir)
"""

from __future__ import annotations

import os

from ..cliutil import CliError, _setup_django

LOGLEVELS = ["debug", "info", "warning", "error"]


def register(sub) -> None:
    w = sub.add_parser("worker", help="集群模式：启动执行检查任务的工作进程（Celery worker）",
                       description="集群模式的工作进程：从消息队列领取检查任务并执行。需要设置 GOVINSPECT_BROKER_URL"
                                   "（如 redis://127.0.0.1:6379/0）和指向 PostgreSQL 的 DATABASE_URL")
    w.add_argument("--concurrency", type=int, default=None,
                   help="同时执行的检查任务数（每项一个子进程；默认为本机 CPU 核数）")
    w.add_argument("--loglevel", default="info", choices=LOGLEVELS, help="日志级别（默认 info）")
    w.add_argument("--hostname", help="工作进程名称（默认 govinspect-进程号@主机名）")
    w.set_defaults(func=cmd_worker)
    b = sub.add_parser("beat", help="集群模式：启动定时调度（celery beat，整个集群只运行一个）",
                       description="集群模式的定时调度：可用性监测、每日增量抓取、定期轮次、整改事项例行处理，"
                                   "以及每 10 秒分发平台上排队的轮次。整个集群只能运行一个")
    b.add_argument("--loglevel", default="info", choices=LOGLEVELS, help="日志级别（默认 info）")
    b.set_defaults(func=cmd_beat)


def _require_broker() -> None:
    from . import enabled

    if not enabled():
        raise CliError("未设置 GOVINSPECT_BROKER_URL：集群模式需要消息队列地址，如 "
                       "GOVINSPECT_BROKER_URL=redis://127.0.0.1:6379/0（数据库用 DATABASE_URL 指向 PostgreSQL）；"
                       "单机使用请直接运行 govinspect serve")


def _database_warning() -> str | None:
    from django.db import connection

    if connection.vendor == "sqlite":
        return ("警告：数据库是 SQLite（未设置 DATABASE_URL 或 GOVINSPECT_DATABASE_URL）；集群模式的各台机器须连接同一个 "
                "PostgreSQL 数据库")
    return None


def cmd_worker(a) -> int:
    _require_broker()
    if a.concurrency is not None and a.concurrency < 1:
        raise CliError("--concurrency 应为正整数")
    _setup_django(migrate=False)
    import sys

    warning = _database_warning()
    if warning:
        print(warning, file=sys.stderr)
    from .app import QUEUE, app

    argv = ["worker", "--pool=prefork", "-O", "fair", "-Q", QUEUE, "--loglevel", a.loglevel,
            "--hostname", a.hostname or f"govinspect-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if a.concurrency:
        argv += ["--concurrency", str(a.concurrency)]
    app.worker_main(argv=argv)
    return 0


def cmd_beat(a) -> int:
    _require_broker()
    _setup_django(migrate=False)
    from django.conf import settings

    from .app import app

    schedule = settings.DATA_DIR / "celerybeat-schedule"
    app.start(argv=["beat", "--loglevel", a.loglevel, "--schedule", str(schedule),
                    "--pidfile", str(settings.DATA_DIR / "celerybeat.pid")])
    return 0
