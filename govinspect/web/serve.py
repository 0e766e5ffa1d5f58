"""`govinspect serve`: the web platform and its job runner, in one command.

Runs the migrations, starts the local runner of rounds (rounds/runner.py) as a separate process (never a fork of the
threaded web server), serves the app and its static files (whitenoise) with waitress, and prints the address. Ctrl+C or
SIGTERM stops the web server and the runner (a round it was running is interrupted and can be continued).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from ..cliutil import CliError, _setup_django

RUNNER_STOP_SECONDS = 45


def register(sub) -> None:
    s = sub.add_parser("serve", help="启动检查平台（网页、接口和本地检查任务运行器）",
                       description="启动检查平台：自动升级数据库，启动本地检查任务运行器，在浏览器中打开显示的地址即可使用")
    s.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机可访问；0.0.0.0 为所有网卡）")
    s.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    s.add_argument("--threads", type=int, default=8, help="处理请求的线程数（默认 8）")
    s.add_argument("--no-runner", action="store_true", help="不启动检查任务运行器（只提供网页，轮次排队等待）")
    s.set_defaults(func=cmd_serve)


def _host_warning(host: str) -> str | None:
    from django.conf import settings

    if settings.DEBUG:
        return None
    allowed = [h.strip().lower() for h in settings.ALLOWED_HOSTS]
    if "*" in allowed:
        return None
    h = host.strip("[]").lower()
    if h in ("0.0.0.0", "::", ""):
        if set(allowed) <= {"localhost", "127.0.0.1", "::1", "[::1]"}:
            return ("提示：平台监听所有网卡，但 GOVINSPECT_ALLOWED_HOSTS 只允许本机地址，其他电脑访问会被拒绝（400）；"
                    "请把访问用的域名或 IP 写入 GOVINSPECT_ALLOWED_HOSTS（逗号分隔）")
        return None
    if h not in allowed and not any(a.startswith(".") and (h.endswith(a) or h == a[1:]) for a in allowed):
        return (f"提示：监听地址 {host} 不在 GOVINSPECT_ALLOWED_HOSTS（当前：{','.join(settings.ALLOWED_HOSTS) or '空'}）中，"
                f"用此地址访问会被拒绝（400）；请设置 GOVINSPECT_ALLOWED_HOSTS={host}")
    return None


def start_runner() -> subprocess.Popen:
    """The runner loop in its own process; it gets SIGTERM if this process dies (PR_SET_PDEATHSIG). It runs in a
    session of its own: Ctrl+C in the terminal reaches only `serve`, which then stops the runner with SIGTERM (a
    SIGINT landing on the runner while it was still importing Django printed a traceback)."""
    from ..rounds.runner import _die_with_parent

    return subprocess.Popen([sys.executable, "-m", "govinspect.rounds.runner"], preexec_fn=_die_with_parent,
                            start_new_session=True)


def stop_runner(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the runner interrupts the round it runs (resumable) and exits
    try:
        proc.wait(RUNNER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cmd_serve(a) -> int:
    _setup_django(migrate=True)
    from waitress import create_server

    from ..wsgi import application

    warning = _host_warning(a.host)
    if warning:
        print(warning, file=sys.stderr)
    try:
        proxy = os.environ.get("GOVINSPECT_TRUSTED_PROXY", "").strip()
        trust = {"trusted_proxy": proxy, "trusted_proxy_count": 1,
                 "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}} if proxy else {}
        server = create_server(application, host=a.host, port=a.port, threads=max(1, a.threads),
                               ident="govinspect", clear_untrusted_proxy_headers=True, **trust)
    except OSError as e:
        raise CliError(f"无法在 {a.host}:{a.port} 上启动：{e.strerror or e}（端口可能已被占用，可用 --port 换一个）") from None
    from ..cluster import enabled as cluster_mode

    cluster = cluster_mode()  # the cluster's workers run the rounds: no local runner beside them
    runner = None if a.no_runner or cluster else start_runner()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    host = a.host if ":" not in a.host else f"[{a.host}]"
    shown = "127.0.0.1" if a.host in ("0.0.0.0", "") else host
    port = server.effective_port
    print(f"平台已启动：http://{shown}:{port}/ （按 Ctrl+C 停止）"
          + ("；集群模式（GOVINSPECT_BROKER_URL 已设置）：不启动本地运行器，检查轮次由工作进程（govinspect worker）执行，"
             "平台上开始的轮次由 govinspect beat 分发" if cluster else
             "" if runner else "；未启动检查任务运行器（--no-runner），新的检查轮次将排队等待"), flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            server.close()
        finally:
            stop_runner(runner)
        print("平台已停止", flush=True)
    return 0
