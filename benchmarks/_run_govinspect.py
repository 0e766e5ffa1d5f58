"""Crawl and check the given sandbox sites with govinspect (one process); print JSON stats."""

import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.inspect import inspect_site_async


async def main(conc: int, urls: list[str]) -> None:
    cfg = CrawlConfig(allow_networks=("127.0.0.0/8",), delay=0.0, concurrency_per_host=conc, check_links=False,
                      max_pages=10**6, timeout=30)
    out = Path(tempfile.mkdtemp(prefix="gi-bench-speed-"))
    t = time.perf_counter()
    reps = await asyncio.gather(*(inspect_site_async(u, dt.date(2026, 11, 23), cfg, None, out / f"s{i}") for i, u in enumerate(urls)))
    secs = time.perf_counter() - t
    fetched = []
    for i in range(len(urls)):
        for line in open(out / f"s{i}" / "crawl-log.jsonl", encoding="utf-8"):
            e = json.loads(line)
            if e["status"] == 200:
                fetched.append(e["url"])
    (out / "urls.txt").write_text("\n".join(fetched))
    print(json.dumps({"pages": sum(r.pages_fetched for r in reps), "seconds": secs, "urls_file": str(out / "urls.txt"),
                      "findings": sum(len(r.findings) for r in reps)}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2:]))
