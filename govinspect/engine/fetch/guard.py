"""Private-address guard: never fetch loopback, private or link-local addresses unless allowed.

The check runs on every resolved address (so a public name that resolves to 10.0.0.5 is refused
too) and on IP literals in URLs, which aiohttp does not pass through the resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
        "0.0.0.0/8", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10", "::/128",
    )
]


class BlockedAddress(Exception):
    """The target address is in a private range the operator did not allow."""


class AddressGuard:
    def __init__(self, allow: Iterable[str] = (), allow_private: bool = False):
        self.allow = [ipaddress.ip_network(n, strict=False) for n in allow]
        self.allow_private = allow_private
        self._literals: dict[str, str | None] = {}  # IP literal host -> why it is blocked (None: allowed)

    def check_ip(self, ip: str) -> None:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if self.allow_private or any(addr in n for n in self.allow):
            return
        if any(addr in n for n in BLOCKED_NETWORKS) or addr.is_multicast or addr.is_reserved:
            raise BlockedAddress(
                f"拒绝访问内网/本机地址 {addr}（如确需检查，请用 --allow-private 或在配置中放行该网段）"
            )

    def check_host(self, host: str) -> None:
        """Check a host that is an IP literal; names are checked by GuardedResolver after lookup."""
        why = self._literals.get(host, "?")  # asked for every request: the verdict is remembered
        if why == "?":
            why = None
            try:
                ipaddress.ip_address(host.strip("[]"))
                self.check_ip(host.strip("[]"))
            except BlockedAddress as e:
                why = str(e)
            except ValueError:  # a name, checked after lookup
                pass
            if len(self._literals) < 10_000:
                self._literals[host] = why
        if why:
            raise BlockedAddress(why)


class GuardedResolver(AbstractResolver):
    """Resolves through the default resolver and refuses blocked addresses.

    `resolve_map` answers chosen names itself (host -> (ip, port)), as a hosts file would; with
    `offline` every other name fails like an unknown domain, without asking any DNS server (the
    sandbox and the tests use this: nothing leaves the machine).
    """

    def __init__(self, guard: AddressGuard, resolve_map: dict | None = None, offline: bool = False):
        self.guard = guard
        self.resolve_map = {k.lower(): v for k, v in (resolve_map or {}).items()}
        self.offline = offline
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        mapped = self.resolve_map.get(host.lower())
        if mapped:
            ip, mport = mapped
            results = [ResolveResult(hostname=host, host=ip, port=mport or port, family=socket.AF_INET, proto=0,
                                     flags=socket.AI_NUMERICHOST)]
        elif self.offline:
            raise OSError(f"DNS 解析失败：{host}（离线模式，未知域名）")
        else:
            results = await self._inner.resolve(host, port, family)
        for r in results:
            self.guard.check_ip(r["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_connector(guard: AddressGuard, resolve_map: dict | None = None, offline: bool = False,
                      **kwargs) -> aiohttp.TCPConnector:
    """The connector every outgoing request uses: the guard checks each resolved address."""
    return aiohttp.TCPConnector(resolver=GuardedResolver(guard, resolve_map, offline), **kwargs)
