"""The province model of docs/province-model.md: workers and hours for a full round and for the daily incremental
pass of 2,000 sites, from the costs benchmarks/cluster_scale.py measured.

    .venv/bin/python benchmarks/province_model.py                       # the measured defaults below
    .venv/bin/python benchmarks/province_model.py --measured run.json   # the JSON line cluster_scale.py printed last
    .venv/bin/python benchmarks/province_model.py --new-fraction 0.1 --delay 0.5 --workers 8

Site sizes: a deterministic log-normal spread per tier (quantiles, no random draws), capped at the crawler's
max_pages; see docs/province-model.md for where the tiers come from. Scheduling: the jobs go to W workers × C slots in
the order the queue hands them out (registry order, shuffled here with a fixed seed) — greedy list scheduling, which
is what Celery with prefetch 1 and -O fair does; the largest-first order is shown beside it.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
from statistics import NormalDist

# (tier, sites, median pages, log-normal sigma)
TIERS = [
    ("provincial portal", 1, 50_000, 0.0),
    ("provincial departments", 45, 8_000, 0.8),
    ("city portals", 14, 30_000, 0.5),
    ("city departments", 420, 2_500, 1.0),
    ("county portals", 150, 6_000, 0.8),
    ("county departments, towns, others", 1_370, 400, 1.0),
]
CAP = 50_000  # CrawlConfig max_pages default: pages beyond are counted, not fetched

# measured by benchmarks/cluster_scale.py on 2026-11-29 (40 sites, 5,955 pages, delay 0.5 s, 2 per host, 2 cores;
# full round: its 1-worker row; daily pass: `--modes 2 --daily`, 6,561 requests, 10 % of pages new)
MEASURED = {
    "seconds_per_page": 0.515,           # a site job's duration / its pages (full round): the politeness-bound rate
    "daily_seconds_per_request": 0.509,  # the same for the daily pass (conditional requests)
    "cpu_per_page": 0.0065,              # CPU seconds per page, full round (crawl, parse, all checks, WARC, commit)
    "cpu_per_daily_request": 0.0045,     # CPU seconds per request of the daily pass (most answer 304)
    "rss_mb_per_process": 272,           # peak RSS of one worker process (a pool process checks one site at a time)
}


def sizes(seed: int = 2026) -> list[tuple[str, int]]:
    out = []
    for tier, n, median, sigma in TIERS:
        for k in range(n):
            z = NormalDist().inv_cdf((k + 0.5) / n) if n > 1 else 0.0
            out.append((tier, min(CAP, max(50, round(median * math.exp(sigma * z))))))
    random.Random(seed).shuffle(out)  # the registry's order is not by size
    return out


def makespan(durations: list[float], slots: int) -> float:
    free = [0.0] * slots
    heapq.heapify(free)
    end = 0.0
    for d in durations:
        t = heapq.heappop(free) + d
        end = max(end, t)
        heapq.heappush(free, t)
    return end


MB_PER_1000_PAGES = 4.0  # a crawl's memory grows with its pages: 418 MB at 104,372 pages (benchmarks/crawl_memory.py)


def process_mb(pages: int, rss_mb: float) -> float:
    """Peak memory of a pool process checking a site of `pages` pages: the measured process plus the crawl's growth."""
    return rss_mb + MB_PER_1000_PAGES * pages / 1000


def concurrency(cpu_per_second_of_site: float, rss_mb: float, cores: int, ram_gb: float, util: float = 0.7,
                reserve_gb: float = 0.6, cap: int = 64) -> tuple[int, int, int]:
    """Sites at once on one worker: (chosen, CPU bound, memory bound). rss_mb: the memory of a process as the running
    sites need it on average over time (a site is running for a time proportional to its pages)."""
    by_cpu = math.floor(cores * util / cpu_per_second_of_site) if cpu_per_second_of_site > 0 else cap
    by_mem = math.floor((ram_gb - reserve_gb) * 1024 / rss_mb)
    return max(1, min(by_cpu, by_mem, cap)), by_cpu, by_mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measured", action="append", default=[],
                    help="a file holding cluster_scale.py's output (its last line is JSON): the full round's costs from "
                         "its 1-worker row, the daily pass's from a cluster row with --daily (may be given twice)")
    ap.add_argument("--new-fraction", type=float, default=0.10)
    ap.add_argument("--workers", type=int, default=8, help="at most this many workers")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--ram-gb", type=float, default=4.0)
    ap.add_argument("--hours", type=float, default=24.0, help="the daily pass must end within this")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a measured input, e.g. --set cpu_per_page=0.2 (sensitivity)")
    ap.add_argument("--scale-sizes", type=float, default=1.0, help="multiply every site's pages (sensitivity)")
    a = ap.parse_args()
    m = dict(MEASURED)
    for path in a.measured:
        rows = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])["rows"]
        r = next((x for x in rows if x["mode"] == "1 worker"), None)
        if r is not None:
            if r.get("site_seconds_per_page"):
                m["seconds_per_page"] = r["site_seconds_per_page"]
            m["cpu_per_page"] = r["cpu"] / r["pages"]
            m["rss_mb_per_process"] = r["rss_mb"]
        d = next((x["daily"] for x in rows if "daily" in x and x["mode"] != "embedded"), None)
        if d:
            m["daily_seconds_per_request"] = d["site_seconds_per_page"]
            m["cpu_per_daily_request"] = d["cpu"] / d["pages"]
    for kv in a.set:
        k, _, v = kv.partition("=")
        if k not in m:
            raise SystemExit(f"unknown input {k}: {sorted(m)}")
        m[k] = float(v)
    sites = [(t, min(CAP, round(p * a.scale_sizes))) for t, p in sizes()]
    pages = [p for _, p in sites]
    total = sum(pages)
    print("inputs:", json.dumps(m))
    print(f"sites {len(pages)}, pages {total:,} (median {sorted(pages)[len(pages) // 2]:,}, largest {max(pages):,})")
    for tier, n, median, sigma in TIERS:
        ps = [p for t, p in sites if t == tier]
        print(f"  {tier:<36}{n:>6} sites  median {median:>6,}  σ {sigma:.1f}  pages {sum(ps):>10,}")
    for label, spp, cpu, reqs in (
            ("full round", m["seconds_per_page"], m["cpu_per_page"], pages),
            (f"daily pass ({a.new_fraction:.0%} new)", m["daily_seconds_per_request"], m["cpu_per_daily_request"],
             [p * (1 + a.new_fraction) for p in pages])):
        mem = sum(r * process_mb(p, m["rss_mb_per_process"]) for r, p in zip(reqs, pages)) / sum(reqs)
        c, by_cpu, by_mem = concurrency(cpu / spp, mem, a.cores, a.ram_gb)
        site_hours = sum(reqs) * spp / 3600
        longest = max(reqs) * spp / 3600
        print(f"\n{label}: requests {sum(reqs):,.0f}, site-hours {site_hours:,.0f}, longest site {longest:.1f} h, "
              f"CPU {sum(reqs) * cpu / 3600:,.0f} core-hours; one {a.cores}-core {a.ram_gb:g} GB worker runs "
              f"{c} sites at once (CPU bound {by_cpu}, memory bound {by_mem} at {mem:.0f} MB a process, time-weighted; "
              f"the largest site's process {process_mb(max(pages), m['rss_mb_per_process']):.0f} MB)")
        print(f"  {'workers':>7}{'slots':>7}{'hours (queue order)':>21}{'hours (largest first)':>23}{'lower bound':>13}")
        need = None
        for w in (1, 2, 3, 4, 6, 8, 12, 16):
            slots = w * c
            durs = [r * spp / 3600 for r in reqs]
            h = makespan(durs, slots)
            h_lpt = makespan(sorted(durs, reverse=True), slots)
            bound = max(sum(durs) / slots, max(durs))
            print(f"  {w:>7}{slots:>7}{h:>21.1f}{h_lpt:>23.1f}{bound:>13.1f}")
            if need is None and h <= a.hours:
                need = w
        print(f"  fewest workers for {a.hours:g} h: {need}")


if __name__ == "__main__":
    main()
