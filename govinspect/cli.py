"""govinspect command line. `govinspect --help` lists the commands; messages are in Chinese.
Each app registers its own commands (govinspect/<app>/commands.py); shared argument helpers are in cliutil.py."""

from __future__ import annotations

import argparse
import sys

from .cliutil import CliError, _setup_django
from .cluster import commands as cluster
from .engine import commands as engine
from .letters import commands as letters
from .monitor import commands as monitor
from .registry import commands as registry
from .rectify import commands as rectify
from .reports import commands as reports
from .rounds import commands as rounds
from .sandbox import commands as sandbox
from .web import commands as web


def cmd_manage(a) -> int:
    _setup_django(migrate=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["govinspect manage"] + a.args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="govinspect", description="政务公开智能检查平台")
    sub = p.add_subparsers(dest="command", required=True)
    for app in (sandbox, engine, registry, rounds, monitor, letters, reports, rectify, web, cluster):
        app.register(sub)
    m = sub.add_parser("manage", help="Django 管理命令（migrate、createsuperuser、runserver 等）")
    m.add_argument("args", nargs=argparse.REMAINDER)
    m.set_defaults(func=cmd_manage)
    return p


def main(argv: list[str] | None = None) -> int:
    from .rules import RulesError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, RulesError) as e:  # a bad rules file is the operator's input: a clear message, no traceback
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
