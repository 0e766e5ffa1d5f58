"""The monitor command: availability probes of every registered site's home page."""

from __future__ import annotations

from ..cliutil import CliError, _add_network_args, _allow_networks, _setup_django


def register(sub) -> None:
    mo = sub.add_parser("monitor", help="可用性监测：定时访问名录中全部网站首页并记录（默认每72分钟一轮，即每天20次）")
    mo.add_argument("--interval", type=float, default=4320.0, help="两轮之间的秒数（默认4320）")
    mo.add_argument("--cycles", type=int, default=None, help="运行轮数（默认一直运行）；配合 cron 使用时填 1")
    mo.add_argument("--reference", action="append", help="参照地址（默认见 rules/availability.toml）")
    mo.add_argument("--timeout", type=float, default=None, help="超时秒数（默认15）")
    _add_network_args(mo, "探测")
    mo.set_defaults(func=cmd_monitor)


def cmd_monitor(a) -> int:
    _setup_django()
    from ..engine.fetch import CrawlConfig
    from .services import run_monitor
    from ..registry.models import Website

    if not Website.objects.exists():
        raise CliError("名录中没有网站，请先用 govinspect registry import 导入")
    cfg = CrawlConfig(allow_networks=_allow_networks(a))
    print(f"开始监测{Website.objects.count()}个网站，每{a.interval:g}秒一轮" + ("" if a.cycles else "，按 Ctrl+C 停止"))
    run_monitor(cfg, a.interval, a.cycles, a.reference, a.timeout)
    return 0

