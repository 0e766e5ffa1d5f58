"""What every command module shares: argument types, the network arguments, Django set-up, JSON output, the operator."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path


class CliError(Exception):
    pass


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{s!r}") from None


def _max_pages(s: str) -> int:
    """--max-pages: the safety limit of one site's crawl, a positive whole number of pages."""
    n = s.strip().replace(",", "")
    if not n.isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError(f"页面上限应为正整数，如 50000：{s!r}")
    return int(n)


def _network(s: str) -> str:
    """--allow-network: one network in CIDR notation (a single address is a /32 or /128)."""
    import ipaddress

    try:
        return str(ipaddress.ip_network(s.strip(), strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"网段格式应为 CIDR，如 10.1.0.0/16 或 192.168.3.7：{s!r}") from None


# what the deprecated --allow-private opens: loopback and private ranges, never link-local (169.254.169.254)
_LEGACY_PRIVATE = ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")


def _allow_networks(a) -> tuple[str, ...]:
    nets = list(getattr(a, "allow_network", None) or [])
    if getattr(a, "allow_private", False):
        print("警告：--allow-private 已停用，请改用 --allow-network 网段（可多次使用）；本次按放行 "
              + "、".join(_LEGACY_PRIVATE) + " 处理（不含 169.254.0.0/16 等链路本地地址）", file=sys.stderr)
        nets += [n for n in _LEGACY_PRIVATE if n not in nets]
    return tuple(nets)


def _add_network_args(p: argparse.ArgumentParser, what: str) -> None:
    """The network arguments of every command that fetches."""
    p.add_argument("--allow-network", action="append", type=_network, default=[], metavar="网段",
                   help=f"允许{what}的内网网段（CIDR，如 10.1.0.0/16，可多次使用）；默认禁止本机、内网和链路本地地址")
    p.add_argument("--allow-private", action="store_true", help=argparse.SUPPRESS)  # deprecated: see _allow_networks


def _setup_django(data_dir: str | None = None, migrate: bool = True) -> None:
    if data_dir:
        os.environ["GOVINSPECT_DATA_DIR"] = str(Path(data_dir).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govinspect.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)


def _print_json(obj, out: str | None) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=str)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        print(f"已写入 {out}", file=sys.stderr)
    else:
        print(text)


def _operator() -> str:
    """Who runs the command, for audit records: the login name (LOGNAME, USER ...), else the uid's account name
    (root in a container without $USER), else "root"."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no variable and no passwd entry for the uid
        return "root"

