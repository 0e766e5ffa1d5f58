"""Availability probes: GET a home page with a hard timeout, and note the time it took.

The same probe tells whether our own network works (reference targets), for the monitor and for
the link checker (no external link is judged dead while the references fail too).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass

import aiohttp

from .crawler import CrawlConfig, gate_factory_of
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


async def probe_url(session, guard: AddressGuard, url: str, timeout: float, max_redirects: int = 5,
                    gate=None) -> ProbeResult:
    """One GET through the guarded request path; `timeout` covers every redirect hop and the first 64 kB (and the wait
    for `gate(netloc)`, the per-host politeness slot, when one is given)."""
    at = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    status, error = None, ""
    waited = [0.0]  # time spent waiting for the host's slot: not the site's response time

    @contextlib.asynccontextmanager
    async def timed(netloc: str):
        w0 = time.monotonic()
        async with gate(netloc):
            waited[0] += time.monotonic() - w0
            yield

    try:
        async with asyncio.timeout(timeout):
            async with guarded_request(session, guard, "GET", url, max_redirects=max_redirects,
                                       gate=timed if gate is not None else None) as (r, _):
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
    return ProbeResult(url, at, ok, status, error, int((time.monotonic() - t0 - waited[0]) * 1000))


async def probe_all(urls: list[str], cfg: CrawlConfig, timeout: float = 15.0, concurrency: int = 16) -> list[ProbeResult]:
    """Probe every URL once, `concurrency` at a time (one request per site: no politeness delay needed in one process;
    in cluster mode, or with cfg.gate_factory, each probe takes its host's shared slot, so a probe never adds to a crawl
    of the same host running elsewhere)."""
    guard = AddressGuard(cfg.allow_networks)
    factory = gate_factory_of(cfg)
    gates: dict = {}

    def gate(netloc: str):
        if netloc not in gates:
            gates[netloc] = factory(netloc, cfg.concurrency_per_host, cfg.delay)
        return gates[netloc]

    connector = guarded_connector(guard, cfg.resolve_map, cfg.offline_dns, limit=concurrency,
                                  force_close=True)
    sem = asyncio.Semaphore(concurrency)

    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": cfg.user_agent}) as session:
        async def one(u):
            async with sem:
                return await probe_url(session, guard, u, timeout, cfg.max_redirects, gate if factory is not None else None)

        return list(await asyncio.gather(*(one(u) for u in urls)))
