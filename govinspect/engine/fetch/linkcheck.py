"""Probe links: HEAD first, GET when HEAD is refused or fails; failures confirmed by a second probe.

The same guarded request path (address check on every redirect hop), resolver map and per-host
politeness as the crawler apply. Second probes are scheduled per link (first failure + interval), so
the waits overlap; an external link that failed is judged only while the reference targets answer
(a machine without a route to the internet gives no verdict on external links).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import aiohttp

from ..extract import decode_html, extract_page
from .crawler import CrawlConfig, _HostGate, _read_limited, make_gate
from .guard import AddressGuard, BlockedAddress, RedirectRefused, guarded_connector, guarded_request
from .probe import ProbeResult, probe_url

NO_ROUTE = "未能检查外部链接（检查机无法访问互联网）"


@dataclass
class Probe:
    url: str
    status: int | None = None
    error: str | None = None
    final_url: str | None = None
    content_type: str = ""
    method: str = ""
    elapsed_ms: int = 0
    checked_at: str = ""
    title: str = ""
    text: str = ""  # the first part of an HTML page, for content checks
    link_texts: list[str] | None = None
    started: float = 0.0  # epoch seconds (not in the JSON): when the probe was made

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 400)

    @property
    def unknown(self) -> bool:
        """We were not allowed to look, or could not have (no route): not evidence of anything."""
        return bool(self.error and self.error.startswith(("blocked", "offline")))

    def reason(self) -> str:
        """Why the link failed, in the words of a bulletin."""
        e = (self.error or "").lower()
        if not e:
            if self.status == 404 or self.status == 410:
                return f"页面不存在，HTTP {self.status}"
            if self.status and self.status >= 500:
                return f"服务器错误，HTTP {self.status}"
            return f"HTTP {self.status}"
        if "dns" in e or "name or service" in e or "nodename" in e:
            return "域名无法解析"
        if "redirect" in e:
            return "页面循环重定向" if "loop" in e else "重定向次数过多"
        if "timeout" in e:
            return "访问超时"
        if "connect" in e:
            return "无法连接服务器"
        return "访问出错：" + self.error[:80]

    def to_dict(self) -> dict:
        return {"url": self.url, "status": self.status, "error": self.error, "final_url": self.final_url,
                "method": self.method, "checked_at": self.checked_at, "elapsed_ms": self.elapsed_ms}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _first_seen(p: Probe) -> float:
    """When a first failure was seen (epoch seconds); a crawl's time has whole seconds: counted from its end."""
    if p.started:
        return p.started
    try:
        return dt.datetime.fromisoformat(p.checked_at).timestamp() + 1.0
    except (TypeError, ValueError):
        return time.time()


class _Network:
    """Does our own network reach the internet? The reference targets are probed when an external link has
    failed (round 0) and again when a second probe has failed too (round 1); one answer is enough."""

    def __init__(self, checker: "LinkChecker", session, references: tuple[str, ...] | list[str]):
        self.checker, self.session, self.references = checker, session, list(references)
        self.rounds: dict[int, asyncio.Task] = {}

    async def up(self, n: int) -> bool:
        if not self.references:
            return True
        if n not in self.rounds:
            self.rounds[n] = asyncio.ensure_future(self._probe())
        return await self.rounds[n]

    async def _probe(self) -> bool:
        cfg = self.checker.cfg
        results = await asyncio.gather(*(probe_url(self.session, self.checker.guard, u, cfg.timeout, cfg.max_redirects)
                                         for u in self.references))
        self.checker.reference_probes += results
        return any(r.ok for r in results)

    @property
    def down(self) -> bool:
        return any(t.done() and not t.cancelled() and t.exception() is None and not t.result() for t in self.rounds.values())


class LinkChecker:
    def __init__(self, cfg: CrawlConfig, sample_bytes: int = 262144):
        self.cfg = cfg
        self.sample_bytes = sample_bytes
        self.guard = AddressGuard(cfg.allow_networks)
        self.gates: dict[str, _HostGate] = {}
        self.reference_probes: list[ProbeResult] = []  # made by the last check()
        self.offline = False  # the last check() found the references unreachable: external failures not judged

    def gate(self, netloc: str) -> _HostGate:
        if netloc not in self.gates:
            self.gates[netloc] = make_gate(self.cfg, netloc)
        return self.gates[netloc]

    async def _request(self, session, method: str, url: str, want_body: bool) -> Probe:
        p = Probe(url=url, method=method, checked_at=_now(), started=time.time())
        t0 = time.monotonic()
        try:
            async with guarded_request(session, self.guard, method, url, max_redirects=self.cfg.max_redirects,
                                       gate=self.gate) as (r, _):
                p.status, p.final_url = r.status, str(r.url)
                p.content_type = r.headers.get("Content-Type", "")
                if method == "GET" and want_body and "html" in p.content_type.lower() and r.status < 400:
                    body, _ = await _read_limited(r, self.sample_bytes)
                    text, _ = decode_html(body, p.content_type)
                    page = extract_page(text, p.final_url)
                    p.title, p.text = page.title, page.text[:5000]
                    p.link_texts = [l.text for l in page.links][:2000]
        except BlockedAddress as e:
            p.error = f"blocked: {e}"
        except RedirectRefused as e:
            p.error = str(e)
        except asyncio.TimeoutError:
            p.error = f"timeout after {self.cfg.timeout:g}s"
        except aiohttp.ClientConnectorError as e:
            p.error = f"cannot connect: {e.os_error}"[:300] if e.os_error else f"cannot connect: {e}"[:300]
        except (aiohttp.ClientError, OSError, ValueError) as e:
            p.error = f"{type(e).__name__}: {e}"[:300]
        finally:
            p.elapsed_ms = int((time.monotonic() - t0) * 1000)
        return p

    async def probe(self, session, url: str, want_body: bool = False) -> Probe:
        head = await self._request(session, "HEAD", url, False)
        if head.unknown:
            return head
        if not head.failed and not want_body:
            return head
        # many servers refuse or mishandle HEAD; GET decides (and gives the content when wanted)
        return await self._request(session, "GET", url, want_body)

    async def get_page(self, url: str) -> Probe:
        """One GET with the page's title, text and link texts (e.g. a search result page)."""
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout)
        connector = guarded_connector(self.guard, self.cfg.resolve_map, self.cfg.offline_dns)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers={"User-Agent": self.cfg.user_agent}) as s:
            return await self._request(s, "GET", url, True)

    async def check(self, urls: list[str], want_body: set[str] | None = None, recheck_interval: float = 15.0,
                    already_failed: dict[str, Probe] | None = None,
                    references: tuple[str, ...] | list[str] = ()) -> dict[str, tuple[Probe, Probe | None]]:
        """Probe each URL of `urls` (external links); url -> (first probe, second probe or None).

        A failure is probed again `recheck_interval` seconds after it was first seen, each link on its own
        schedule (the waits overlap each other and the other probes). `already_failed` are first failures
        seen elsewhere (the crawl's own links): they only get the second probe, often at once.

        `references`: known-good addresses. An external link that failed is judged only while one of them
        answers (probed at the first external failure, and again at the first failed second probe); when
        none does, the link gets an "offline: ..." second probe (unknown, not dead) and self.offline is set.
        """
        already_failed = already_failed or {}
        want_body = want_body or set()
        self.reference_probes, self.offline = [], False
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout, sock_connect=min(self.cfg.timeout, 10))
        connector = guarded_connector(self.guard, self.cfg.resolve_map, self.cfg.offline_dns,
                                      limit=max(8, self.cfg.concurrency_per_host * 8))
        headers = {"User-Agent": self.cfg.user_agent}
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
            net = _Network(self, session, references)

            def no_route(url: str) -> Probe:
                return Probe(url=url, error=f"offline: {NO_ROUTE}", checked_at=_now(), started=time.time())

            async def one(url: str, first: Probe | None) -> tuple[str, Probe, Probe | None]:
                external = first is None
                if first is None:
                    first = await self.probe(session, url, url in want_body)
                if not first.failed or first.unknown:
                    return url, first, None
                if external and not await net.up(0):
                    return url, first, no_route(url)
                wait = _first_seen(first) + recheck_interval - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                second = await self.probe(session, url, url in want_body)
                if external and second.failed and not second.unknown and not await net.up(1):
                    second = no_route(url)
                return url, first, second

            done = await asyncio.gather(*(one(u, None) for u in urls if u not in already_failed),
                                        *(one(p.url, p) for p in already_failed.values()))
            self.offline = net.down
        return {url: (first, second) for url, first, second in done}
