"""Availability probes: GET a home page with a hard timeout, and note the time it took.

The same probe tells whether our own network works (reference targets), for the monitor and for
the link checker (no external link is judged dead while the references fail too).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import aiohttp

from .crawler import CrawlConfig
from .guard import AddressGuard, BlockedAddress, RedirectRefused, guarded_connector, guarded_request


@dataclass
class ProbeResult:
    url: str
    at: dt.datetime
    ok: bool
    status: int | None
    error: str
    elapsed_ms: int

    @property
    def blocked(self) -> bool:
        """We were not allowed to look (a refused address on the way): says nothing about the site."""
        return self.error.startswith("blocked")


async def probe_url(session, guard: AddressGuard, url: str, timeout: float, max_redirects: int = 5) -> ProbeResult:
    """One GET through the guarded request path; `timeout` covers every redirect hop and the first 64 kB."""
    at = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    status, error = None, ""
    try:
        async with asyncio.timeout(timeout):
            async with guarded_request(session, guard, "GET", url, max_redirects=max_redirects) as (r, _):
                status = r.status
                await r.content.read(65536)
    except BlockedAddress as e:
        error = f"blocked: {e}"
    except RedirectRefused as e:
        error = str(e)
    except asyncio.TimeoutError:
        error = f"timeout after {timeout:g}s"
    except (aiohttp.ClientError, OSError, ValueError) as e:
        error = f"{type(e).__name__}: {e}"[:300]
    ok = not error and status is not None and status < 400
    return ProbeResult(url, at, ok, status, error, int((time.monotonic() - t0) * 1000))


async def probe_all(urls: list[str], cfg: CrawlConfig, timeout: float = 15.0, concurrency: int = 16) -> list[ProbeResult]:
    """Probe every URL once, `concurrency` at a time (one request per site: no politeness delay needed)."""
    guard = AddressGuard(cfg.allow_networks)
    connector = guarded_connector(guard, cfg.resolve_map, cfg.offline_dns, limit=concurrency,
                                  force_close=True)
    sem = asyncio.Semaphore(concurrency)

    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": cfg.user_agent}) as session:
        async def one(u):
            async with sem:
                return await probe_url(session, guard, u, timeout, cfg.max_redirects)

        return list(await asyncio.gather(*(one(u) for u in urls)))
