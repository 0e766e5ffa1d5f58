"""Run availability probes and store them; compute a round's WV-2 verdict from the stored probes."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from zoneinfo import ZoneInfo

from ..engine.checks.availability import Availability, availability, availability_findings
from ..engine.fetch import CrawlConfig
from ..engine.fetch.probe import probe_all
from ..registry.models import Website
from ..rules import load_rules
from .models import Probe

TZ = ZoneInfo("Asia/Shanghai")


def probe_cycle(cfg: CrawlConfig, references: list[str] | None = None, websites=None, timeout: float | None = None) -> list[Probe]:
    """One cycle: every registered home page and every reference target, once. Stored, and returned."""
    rules = load_rules("availability")
    refs = rules["references"] if references is None else references
    sites = list(websites if websites is not None else Website.objects.all())
    urls = [s.home_url for s in sites] + list(refs)
    results = asyncio.run(probe_all(urls, cfg, timeout or rules["timeout"]))
    objs = []
    for i, r in enumerate(results):
        site = sites[i] if i < len(sites) else None
        objs.append(Probe(website=site, url=r.url, at=r.at, ok=r.ok, status=r.status, error=r.error[:300], elapsed_ms=r.elapsed_ms))
    return Probe.objects.bulk_create(objs)


def scheduled_probe(references: list[str] | None = None) -> str:
    """The schedule "probe-sites" (govinspect/schedules.py): one probe cycle of every registered site, as the monitor
    command's cycle but started by the local runner or celery beat. In cluster mode each probe takes its host's shared
    slot (cluster/slots.py), so it never adds to a crawl of that host running on another worker. Private networks the
    probes may reach: GOVINSPECT_ALLOW_NETWORKS (comma-separated, as a round's allow_networks)."""
    import os

    from ..cluster.slots import gate_factory

    if not Website.objects.exists():
        return "名录中没有网站"
    allow = tuple(n.strip() for n in os.environ.get("GOVINSPECT_ALLOW_NETWORKS", "").split(",") if n.strip())
    probes = probe_cycle(CrawlConfig(allow_networks=allow, gate_factory=gate_factory()), references)
    bad = [p for p in probes if not p.ok]
    return f"探测{len(probes)}个地址，失败{len(bad)}个" + ("：" + "，".join(p.url for p in bad[:5]) if bad else "")


def run_monitor(cfg: CrawlConfig, interval: float, cycles: int | None = None, references: list[str] | None = None,
                timeout: float | None = None, say=print) -> int:
    """Probe every `interval` seconds; `cycles` None means until interrupted. Returns cycles run."""
    n = 0
    while cycles is None or n < cycles:
        start = time.monotonic()
        probes = probe_cycle(cfg, references, timeout=timeout)
        n += 1
        bad = [p for p in probes if not p.ok]
        say(f"第{n}轮探测：{len(probes)}个地址，失败{len(bad)}个" + ("：" + "，".join(p.url for p in bad[:5]) if bad else ""))
        if cycles is not None and n >= cycles:
            break
        time.sleep(max(0.0, interval - (time.monotonic() - start)))
    return n


def window_for(as_of: dt.date, rules: dict | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The monitoring window ending with the as-of day (Asia/Shanghai)."""
    r = rules or load_rules("availability")
    days = int(r["window"].rstrip("d"))
    end = dt.datetime.combine(as_of, dt.time.max, TZ)
    return end - dt.timedelta(days=days), end


def site_availability(website: Website, as_of: dt.date, rules: dict | None = None) -> Availability:
    rules = rules or load_rules("availability")
    start, end = window_for(as_of, rules)
    probes = list(Probe.objects.filter(website=website, at__gte=start, at__lte=end))
    refs = list(Probe.objects.filter(website__isnull=True, at__gte=start - dt.timedelta(hours=1), at__lte=end))
    return availability(probes, refs, start, end, rules)


__all__ = ["probe_cycle", "run_monitor", "scheduled_probe", "site_availability", "availability_findings", "window_for"]
