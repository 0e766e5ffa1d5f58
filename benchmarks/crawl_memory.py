"""Peak memory of the crawler on one sandbox site of ~100,000 pages (target: under 500 MB).

    .venv/bin/python benchmarks/crawl_memory.py [--pages 100000]

The sandbox serves from its own process; the crawl runs as `govinspect check-site --warc-dir …`
in another, whose peak RSS is read from the kernel (getrusage of the waited child). Printed beside
it: the same crawl without a WARC directory (everything kept in memory) on a tenth of the pages,
extrapolated, as the baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox import BIN, ServedCounty  # noqa: E402


def crawl(url: str, out: Path, warc: bool) -> tuple[float, int, float]:
    args = [str(BIN), "check-site", url, "--as-of", "2026-11-23", "--allow-network", "127.0.0.0/8", "--delay", "0", "--concurrency", "8",
            "--no-links", "--max-pages", "1000000", "--quiet", "--out", str(out / "out.json")]
    if warc:
        args += ["--warc-dir", str(out / "warc")]
    code = (
        "import resource,subprocess,sys;p=subprocess.run(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(p.returncode)"
    )
    t = time.time()
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr[-2000:])
    peak_mb = int(r.stdout.strip().splitlines()[-1]) / 1024
    pages = json.loads((out / "out.json").read_text(encoding="utf-8"))["pages_fetched"]
    return peak_mb, pages, time.time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100_000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gi-bench-mem-"))
    with ServedCounty(1, a.pages) as county:
        peak, pages, secs = crawl(county.urls[0], tmp / "full", warc=True)
    with ServedCounty(1, a.pages // 10) as small:
        base_peak, base_pages, _ = crawl(small.urls[0], tmp / "base", warc=False)
    extrapolated = base_peak * pages / max(1, base_pages)
    print(f"pages crawled                     {pages}")
    print(f"govinspect peak RSS (WARC mode)   {peak:8.1f} MB   ({peak / pages * 1000:.1f} MB per 1,000 pages, {pages / secs:.0f} pages/s)")
    print(f"baseline: all in memory           {base_peak:8.1f} MB on {base_pages} pages -> ~{extrapolated:.0f} MB at {pages}")
    print(f"ratio baseline / govinspect       {extrapolated / peak:8.2f}x")
    print(f"target 500 MB                     {'met' if peak < 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
