"""Probe links: HEAD first, GET when HEAD is refused or fails; failures confirmed by a second probe.

The same guard (private addresses), resolver map and per-host politeness as the crawler apply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ..extract import decode_html, extract_page
from .crawler import CrawlConfig, _HostGate, _read_limited
from .guard import AddressGuard, BlockedAddress, guarded_connector


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

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 400)

    @property
    def unknown(self) -> bool:
        """We were not allowed to look: not evidence of anything."""
        return bool(self.error and self.error.startswith("blocked"))

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
            return "页面循环重定向"
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


class LinkChecker:
    def __init__(self, cfg: CrawlConfig, sample_bytes: int = 262144):
        self.cfg = cfg
        self.sample_bytes = sample_bytes
        self.guard = AddressGuard(cfg.allow_networks, cfg.allow_private)
        self.gates: dict[str, _HostGate] = {}

    def gate(self, netloc: str) -> _HostGate:
        if netloc not in self.gates:
            self.gates[netloc] = _HostGate(self.cfg.concurrency_per_host, self.cfg.delay)
        return self.gates[netloc]

    async def _request(self, session, method: str, url: str, want_body: bool) -> Probe:
        p = Probe(url=url, method=method, checked_at=_now())
        t0 = time.monotonic()
        try:
            self.guard.check_host(urlsplit(url).hostname or "")
            async with self.gate(urlsplit(url).netloc):
                async with session.request(method, url, allow_redirects=True, max_redirects=self.cfg.max_redirects) as r:
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
        except aiohttp.TooManyRedirects:
            p.error = "redirect loop or too many redirects"
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

    async def check(self, urls: list[str], want_body: set[str] | None = None, recheck_interval: float = 60.0,
                    already_failed: dict[str, Probe] | None = None) -> dict[str, tuple[Probe, Probe | None]]:
        """Probe each URL; probe failures again after recheck_interval. url -> (first, second or None).

        `already_failed` are first failures seen elsewhere (the crawl): they only get the second probe.
        """
        already_failed = already_failed or {}
        want_body = want_body or set()
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout, sock_connect=min(self.cfg.timeout, 10))
        connector = guarded_connector(self.guard, self.cfg.resolve_map, self.cfg.offline_dns,
                                         limit=max(8, self.cfg.concurrency_per_host * 8))
        headers = {"User-Agent": self.cfg.user_agent}
        out: dict[str, tuple[Probe, Probe | None]] = {}
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
            firsts = list(await asyncio.gather(*(self.probe(session, u, u in want_body) for u in urls if u not in already_failed)))
            firsts += list(already_failed.values())
            failed = [p.url for p in firsts if p.failed and not p.unknown]
            for p in firsts:
                out[p.url] = (p, None)
            if failed:
                await asyncio.sleep(recheck_interval)
                seconds = await asyncio.gather(*(self.probe(session, u, u in want_body) for u in failed))
                for p in seconds:
                    out[p.url] = (out[p.url][0], p)
        return out
