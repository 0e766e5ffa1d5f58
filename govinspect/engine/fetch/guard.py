"""The network guard and the one guarded request path every fetcher uses.

- AddressGuard: never fetch loopback, private, link-local or otherwise non-public addresses unless the
  operator allowed that network (`--allow-network CIDR`). IPv6 forms that carry an IPv4 address
  (IPv4-mapped, IPv4-compatible, IPv4-translated, 6to4, NAT64) are judged by the IPv4 address they carry,
  and the numeric spellings the C library accepts (2130706433, 0x7f.1, 127.1, 0177.0.0.1) are IP literals.
- GuardedResolver: every resolved address is checked too (a public name that resolves to 10.0.0.5 is
  refused), and IP literals never reach a DNS server.
- guarded_request: one request whose redirects are followed by our code, with the address check, a hop
  limit and loop detection on every hop. aiohttp is never asked to follow a redirect itself (it would
  not check IP literals on the way).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

# refused unless allowed, besides everything ipaddress does not call global (private, loopback,
# link-local, shared 100.64/10, documentation, benchmarking, reserved ...) and multicast
BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
        "0.0.0.0/8", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10", "::/128",
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): the IPv4 address may sit anywhere, so all of it
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.I)
REDIRECT_CODES = (301, 302, 303, 307, 308)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The target address is in a network the operator did not allow."""


class RedirectRefused(Exception):
    """A redirect chain we stop following: a loop, or more hops than allowed."""


def normalise_ip(addr: IPAddress) -> IPAddress:
    """The address a connection really reaches: the IPv4 address an IPv6 form carries, else itself.

    ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), ::a.b.c.d (compatible, not :: or ::1),
    2002:AABB:CCDD::/48 (6to4) and 64:ff9b::a.b.c.d (NAT64) all lead to a.b.c.d.
    """
    if isinstance(addr, ipaddress.IPv4Address):
        return addr
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    low32 = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _NAT64 or addr in _TRANSLATED:
        return low32
    if addr in _COMPATIBLE and int(addr) > 1:
        return low32
    return addr


def wire_host(host: str) -> str:
    """The host as aiohttp will connect to it: yarl maps a non-ASCII host through IDNA/UTS-46, which turns
    fullwidth digits, 。 and circled digits (１２７.０.０.１, 127。0。0。1, ①②⑦.0.0.1) into an ASCII IP literal."""
    if host.isascii():
        return host
    try:
        return yarl.URL.build(scheme="http", host=host.strip("[]")).raw_host or host
    except (ValueError, UnicodeError):
        raise BlockedAddress(f"无法识别的主机名 {host[:100]!r}") from None


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` stands for when it is an IP literal (any spelling the C library accepts, and any Unicode
    spelling IDNA maps to one), else None."""
    h = wire_host(host).strip().strip("[]").split("%", 1)[0]
    if not h:
        return None
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(h) and any(c.isdigit() for c in h):
        try:  # 2130706433, 0x7f.1, 127.1, 0177.0.0.1: what inet_aton (and so getaddrinfo) makes of them
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _is_blocked(addr: IPAddress) -> bool:
    return (not addr.is_global) or addr.is_multicast or any(addr in n for n in BLOCKED_NETWORKS)


class AddressGuard:
    """`allow`: networks (CIDR) the operator opened, e.g. ("10.1.0.0/16",); nothing else non-public is fetched."""

    def __init__(self, allow: Iterable[str] = ()):
        self.allow = [ipaddress.ip_network(n.strip(), strict=False) for n in allow if n and n.strip()]
        self._literals: dict[str, str | None] = {}  # IP literal host -> why it is blocked (None: allowed)

    def _allowed(self, *addrs: IPAddress) -> bool:
        return any(a in n for a in addrs for n in self.allow if a.version == n.version)

    def check_address(self, addr: IPAddress) -> None:
        real = normalise_ip(addr)
        if self._allowed(real, addr):
            return
        if _is_blocked(real):
            shown = f"{real}（即 {addr}）" if real != addr else str(real)
            raise BlockedAddress(f"拒绝访问内网/本机地址 {shown}（如确需检查，请用 --allow-network 放行该网段）")

    def check_ip(self, ip: str) -> None:
        addr = ip_literal(ip)
        if addr is None:
            raise ValueError(f"not an IP address: {ip!r}")
        self.check_address(addr)

    def check_host(self, host: str) -> None:
        """Check a host that is an IP literal; names are checked by GuardedResolver after lookup."""
        why = self._literals.get(host, "?")  # asked for every request: the verdict is remembered
        if why == "?":
            why = None
            addr = ip_literal(host)
            if addr is not None:
                try:
                    self.check_address(addr)
                except BlockedAddress as e:
                    why = str(e)
            if len(self._literals) < 10_000:
                self._literals[host] = why
        if why:
            raise BlockedAddress(why)

    def check_url(self, url: str) -> None:
        """Only http(s) URLs, and their host when it is an IP literal."""
        p = urlsplit(url)
        if p.scheme not in ("http", "https") or not p.hostname:
            raise BlockedAddress(f"不访问非网页地址 {url[:200]}")
        self.check_host(p.hostname)


class GuardedResolver(AbstractResolver):
    """Resolves through the default resolver and refuses blocked addresses.

    `resolve_map` answers chosen names itself (host -> (ip, port)), as a hosts file would; with
    `offline` every other name fails like an unknown domain, without asking any DNS server (the
    sandbox and the tests use this: nothing leaves the machine). IP literals are answered here too.
    """

    def __init__(self, guard: AddressGuard, resolve_map: dict | None = None, offline: bool = False):
        self.guard = guard
        self.resolve_map = {k.lower(): v for k, v in (resolve_map or {}).items()}
        self.offline = offline
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        mapped = self.resolve_map.get(host.lower())
        literal = ip_literal(host)
        if mapped:
            ip, mport = mapped
            results = [ResolveResult(hostname=host, host=ip, port=mport or port, family=socket.AF_INET, proto=0,
                                     flags=socket.AI_NUMERICHOST)]
        elif literal is not None:
            fam = socket.AF_INET if literal.version == 4 else socket.AF_INET6
            results = [ResolveResult(hostname=host, host=str(literal), port=port, family=fam, proto=0,
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


def _canon(url: str) -> str:
    p = urlsplit(url)
    netloc = p.netloc.lower()
    if (p.scheme == "http" and netloc.endswith(":80")) or (p.scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((p.scheme.lower(), netloc, p.path or "/", p.query, ""))


def next_hop(guard: AddressGuard, current: str, location: str, visited: Iterable[str]) -> str:
    """The URL a redirect from `current` leads to, once it passed the checks every hop gets: http(s) only,
    an allowed address when the host is an IP literal (names: GuardedResolver), and not a URL of the chain
    so far (`visited`, `current` included): RedirectRefused("redirect loop at ...") then."""
    nxt = urljoin(current, location.strip()).split("#", 1)[0]
    guard.check_url(nxt)
    if _canon(nxt) in {_canon(v) for v in (*visited, current)}:
        raise RedirectRefused(f"redirect loop at {nxt}")
    return nxt


@contextlib.asynccontextmanager
async def guarded_request(session: aiohttp.ClientSession, guard: AddressGuard, method: str, url: str, *,
                          max_redirects: int = 5, gate: Callable[[str], contextlib.AbstractAsyncContextManager] | None = None,
                          headers: dict | None = None, **kwargs):
    """`async with guarded_request(...) as (response, chain)`: the final answer and the URLs redirected from.

    Redirects are followed here, hop by hop (next_hop); `gate(netloc)` (per-host politeness) is held for
    each hop, and for the final one while the caller reads the body. Raises BlockedAddress for a refused
    address (also when a name resolves to one), RedirectRefused for a loop or more than `max_redirects`.
    """
    guard.check_url(url)
    chain: list[str] = []
    current = url
    for _ in range(max_redirects + 1):
        async with contextlib.AsyncExitStack() as stack:
            if gate is not None:
                await stack.enter_async_context(gate(urlsplit(current).netloc))
            resp = await stack.enter_async_context(  # (BlockedAddress from the resolver passes through aiohttp)
                session.request(method, current, allow_redirects=False, headers=headers, **kwargs))
            location = resp.headers.get("Location") if resp.status in REDIRECT_CODES else None
            if not location:
                yield resp, chain
                return
        nxt = next_hop(guard, current, location, chain)
        chain.append(current)
        current = nxt
    raise RedirectRefused(f"redirect limit: more than {max_redirects} redirects")
