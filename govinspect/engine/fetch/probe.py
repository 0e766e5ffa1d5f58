"""Availability probes: GET a home page with a hard timeout, and note the time it took."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from .crawler import CrawlConfig
from .guard import AddressGuard, BlockedAddress, guarded_connector


@dataclass
class ProbeResult:
    url: str
    at: dt.datetime
    ok: bool
    status: int | None
    error: str
    elapsed_ms: int


async def _probe(session, guard: AddressGuard, url: str, timeout: float) -> ProbeResult:
    at = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    status, error = None, ""
    try:
        guard.check_host(urlsplit(url).hostname or "")
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=True) as r:
            status = r.status
            await r.content.read(65536)
    except BlockedAddress as e:
        error = f"blocked: {e}"
    except asyncio.TimeoutError:
        error = f"timeout after {timeout:g}s"
    except (aiohttp.ClientError, OSError) as e:
        error = f"{type(e).__name__}: {e}"[:300]
    ok = not error and status is not None and status < 400
    return ProbeResult(url, at, ok, status, error, int((time.monotonic() - t0) * 1000))


async def probe_all(urls: list[str], cfg: CrawlConfig, timeout: float = 15.0, concurrency: int = 16) -> list[ProbeResult]:
    """Probe every URL once, `concurrency` at a time (one request per site: no politeness delay needed)."""
    guard = AddressGuard(cfg.allow_networks, cfg.allow_private)
    connector = guarded_connector(guard, cfg.resolve_map, cfg.offline_dns, limit=concurrency,
                                     force_close=True)
    sem = asyncio.Semaphore(concurrency)

    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": cfg.user_agent}) as session:
        async def one(u):
            async with sem:
                return await _probe(session, guard, u, timeout)

        return list(await asyncio.gather(*(one(u) for u in urls)))
