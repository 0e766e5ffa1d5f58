"""Crawl and check the given sandbox sites with govinspect as a round does (sites spread over worker processes,
one per core unless GI_PROCESSES says otherwise); print JSON stats."""

import asyncio
import datetime as dt
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.inspect import inspect_site, inspect_site_async
from govinspect.engine.pool import default_processes, site_pool


async def main(conc: int, urls: list[str], pool, procs: int) -> None:
    cfg = CrawlConfig(allow_networks=("127.0.0.0/8",), delay=0.0, concurrency_per_host=conc, check_links=False,
                      max_pages=10**6, timeout=30)
    out = Path(tempfile.mkdtemp(prefix="gi-bench-speed-"))
    t = time.perf_counter()
    loop = asyncio.get_running_loop()
    as_of = dt.date(2026, 11, 23)
    reps = await asyncio.gather(*(
        inspect_site_async(u, as_of, cfg, None, out / f"s{i}") if pool is None
        else loop.run_in_executor(pool, functools.partial(inspect_site, u, as_of, cfg, None, out / f"s{i}"))
        for i, u in enumerate(urls)))
    secs = time.perf_counter() - t
    fetched = []
    for i in range(len(urls)):
        for line in open(out / f"s{i}" / "crawl-log.jsonl", encoding="utf-8"):
            e = json.loads(line)
            if e["status"] == 200:
                fetched.append(e["url"])
    (out / "urls.txt").write_text("\n".join(fetched))
    print(json.dumps({"processes": procs, "pages": sum(r.pages_fetched for r in reps), "seconds": secs, "urls_file": str(out / "urls.txt"),
                      "findings": sum(len(r.findings) for r in reps)}))


if __name__ == "__main__":
    urls = sys.argv[2:]
    procs = min(int(os.environ.get("GI_PROCESSES") or default_processes()), len(urls))
    from govinspect.engine.content import ContentChecker

    ContentChecker()  # word lists and typo model loaded once, before the children are forked (as a round does)
    pool = site_pool(procs) if procs > 1 else None  # started before the clock, as a round starts it before crawling
    asyncio.run(main(int(sys.argv[1]), urls, pool, procs))
