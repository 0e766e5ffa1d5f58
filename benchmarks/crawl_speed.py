"""Pages per second: govinspect crawling *and checking* a sandbox county, against a plain Scrapy spider
fetching the same pages (the URL list govinspect fetched) with the same concurrency and no delay.

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/crawl_speed.py [--sites 4] [--pages 5500] [--concurrency 8]

The sandbox runs in its own process; each crawler runs in a process of its own, one after the other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _sandbox import ServedCounty  # noqa: E402


def run(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=4)
    ap.add_argument("--pages", type=int, default=5500, help="articles per site (the county has more pages than that)")
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    try:
        import scrapy  # noqa: F401
    except ImportError:
        raise SystemExit("Scrapy is the baseline: .venv/bin/pip install -r benchmarks/requirements.txt") from None
    with ServedCounty(a.sites, a.pages) as county:
        gi = run([str(HERE / "_run_govinspect.py"), str(a.concurrency), *county.urls])
        sc = run([str(HERE / "_run_scrapy.py"), str(a.concurrency), str(a.sites), gi["urls_file"]])
    g_rate, s_rate = gi["pages"] / gi["seconds"], sc["pages"] / sc["seconds"]
    print(f"{'':34}{'pages':>8}{'seconds':>10}{'pages/s':>10}")
    print(f"{'govinspect (crawl + all checks)':34}{gi['pages']:>8}{gi['seconds']:>10.1f}{g_rate:>10.1f}")
    print(f"{'Scrapy 2.19 (fetch the same URLs)':34}{sc['pages']:>8}{sc['seconds']:>10.1f}{s_rate:>10.1f}")
    print(f"ratio govinspect / Scrapy: {g_rate / s_rate:.2f}x   (target: at least 2x)")


if __name__ == "__main__":
    main()
