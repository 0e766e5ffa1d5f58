"""Wall time of one round of a 40-site sandbox county with realistic politeness (0.5 s between requests to a host, 2
requests at once per host) on the embedded runner, on one Celery worker and on two, in one run; and what a page and
a site cost in CPU seconds and memory. These measured costs are the inputs of docs/province-model.md.

    .venv/bin/python benchmarks/cluster_scale.py                       # 40 sites, ~150 pages each: ~35 min
    .venv/bin/python benchmarks/cluster_scale.py --pages 10            # ~46 pages a site: ~11 min in all
    .venv/bin/python benchmarks/cluster_scale.py --modes 2 --daily     # + the daily incremental pass, 10 % new pages
    .venv/bin/python benchmarks/cluster_scale.py --modes embedded,1   # only some of the modes

The sandbox county is served by this process (its own thread; its CPU is not counted). Each mode gets a fresh
database and storage directory and runs the same round (same registry, same crawl settings, no previous crawl):

- embedded: SQLite, the local runner (`python -m govinspect.rounds.runner --until-idle`, as `govinspect serve` starts
  it) with its pool of --concurrency forked processes;
- 1 worker / 2 workers: PostgreSQL and redis-server started by this script (benchmarks/_services.py), N
  `govinspect worker --concurrency C` processes, the round handed to them as `govinspect round` does in cluster mode.

Wall time runs from the hand-over (runner started / round dispatched) to the round's end. CPU seconds are those of the
runner's or the workers' whole process trees (children included) while the round ran; memory is sampled every 0.5 s
from /proc: the peak of the tree's summed PSS (shared pages counted once) and the peak RSS of one process (a pool
process runs one site at a time: the memory one concurrently checked site needs).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _services import Postgres, Redis  # noqa: E402

PY = sys.executable
BIN = str(Path(PY).parent / "govinspect")
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024


# ------------------------------------------------------------------------------------------- process-tree meter
def _stat(pid: int):
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = raw.rsplit(")", 1)[1].split()
    # fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14) ... rss(21)
    return int(f[1]), (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / TICK, int(f[21]) * PAGE_KB


def _pss_kb(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def tree(roots: list[int]) -> dict[int, tuple]:
    """The live processes under the roots (roots included): pid -> (ppid, cpu seconds incl. reaped children, rss KB)."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = _stat(int(name))
            if s:
                stats[int(name)] = s
    out, todo = {}, [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        out[pid] = stats[pid]
        todo += [p for p, s in stats.items() if s[0] == pid and p not in out]
    return out


class Meter(threading.Thread):
    """Samples the trees under `roots` every 0.5 s: peak summed PSS, peak single-process RSS, CPU so far."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.stop_ev = roots, threading.Event()
        self.peak_pss_kb = self.peak_rss_kb = 0.0
        self.processes = 0

    def cpu(self) -> float:
        return sum(s[1] for s in tree(self.roots).values())

    def run(self):
        while not self.stop_ev.is_set():
            t = tree(self.roots)
            self.processes = max(self.processes, len(t))
            self.peak_rss_kb = max([self.peak_rss_kb] + [s[2] for s in t.values()])
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(p) for p in t))
            self.stop_ev.wait(0.5)

    def stop(self):
        self.stop_ev.set()
        self.join(5)


def _reap(proc: subprocess.Popen, seconds: float | None = None) -> float:
    """Wait for a measured process (killed with its group after `seconds`); its CPU seconds, its reaped descendants
    included (os.wait4: Popen.wait would drop the resource usage)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        pid, status, ru = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = None
        time.sleep(0.2)


# ------------------------------------------------------------------------------------------- the daily pass
DAILY_DAY = "2026-11-24"  # the day after the county's as-of date: the new articles are dated so


def grower(county, srv, fraction: float):
    """A context manager factory: new articles on every site (`fraction` of its pages: articles plus list pages),
    served while the daily pass runs, removed afterwards (the next mode's full round sees the same county)."""
    import contextlib
    import dataclasses
    import datetime as dt

    from govinspect.sandbox.county import article_path

    day = dt.date.fromisoformat(DAILY_DAY)

    @contextlib.contextmanager
    def grown():
        added = []
        for site in county.sites:
            fam = "legacy" if site.family.startswith("legacy") else site.family
            arts = [(c, art) for c in site.columns if c.kind == "list" for art in c.articles]
            pages = len(arts) + sum(1 for c in site.columns)
            n = max(1, round(fraction * pages))
            step = max(1, len(arts) // n)
            for k, (col, art) in enumerate(arts[::step][:n]):
                aid = 10**6 * (site.index + 1) + k
                new = dataclasses.replace(art, aid=aid, date=day, title=f"{art.title}（续{k + 1}）", attachments=[],
                                          related=[], path=article_path(fam, col.slug, col.cid, aid, day))
                col.articles.insert(0, new)
                added.append((col, new))
        srv.refresh()
        try:
            yield len(added)
        finally:
            for col, new in added:
                col.articles.remove(new)
            srv.refresh()

    return grown


# ------------------------------------------------------------------------------------------- one mode
def driver(env: dict, *args: str, timeout: float | None = None) -> dict:
    r = subprocess.run([PY, str(HERE / "_cluster_round.py"), *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    if r.returncode:
        raise SystemExit(f"_cluster_round.py {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_embedded(base_env: dict, work: Path, registry: Path, crawl: Path, a, daily=None) -> dict:
    env = {**base_env, "GOVINSPECT_DATA_DIR": str(work / "embedded")}
    for k in ("GOVINSPECT_BROKER_URL", "GOVINSPECT_DATABASE_URL", "DATABASE_URL", "GOVINSPECT_STORAGE_DIR"):
        env.pop(k, None)
    rid = str(driver(env, "prepare", str(registry), str(crawl), str(a.concurrency))["round"])
    driver(env, "queue", rid)
    t0 = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "govinspect.rounds.runner", "--until-idle"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(work / "embedded-runner.log", "w"))
    meter = Meter([proc.pid])
    meter.start()
    cpu = _reap(proc)
    wall = time.perf_counter() - t0
    meter.stop()
    got = driver(env, "wait", rid, "60")
    out = {**got, "mode": "embedded", "wall": wall, "cpu": cpu, "pss_mb": meter.peak_pss_kb / 1024,
           "rss_mb": meter.peak_rss_kb / 1024, "processes": meter.processes}
    if daily is not None:
        with daily() as new_pages:
            did = str(driver(env, "daily", str(crawl), DAILY_DAY)["round"])
            t0 = time.perf_counter()
            proc = subprocess.Popen([PY, "-m", "govinspect.rounds.runner", "--until-idle"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=open(work / "embedded-daily.log", "w"))
            cpu = _reap(proc)
            out["daily"] = {**driver(env, "wait", did, "60"), "wall": time.perf_counter() - t0, "cpu": cpu,
                            "new_articles": new_pages}
    return out


def run_cluster(base_env: dict, work: Path, registry: Path, crawl: Path, a, n: int, redis: Redis, pg: Postgres,
                daily=None) -> dict:
    name = f"w{n}"
    db = pg.createdb(f"bench_{name}_{int(time.time())}")
    env = {**base_env, "GOVINSPECT_DATA_DIR": str(work / name), "GOVINSPECT_DATABASE_URL": db,
           "GOVINSPECT_BROKER_URL": redis.url.rsplit("/", 1)[0] + f"/{n}"}
    env.pop("GOVINSPECT_STORAGE_DIR", None)
    rid = str(driver(env, "prepare", str(registry), str(crawl), str(a.concurrency))["round"])
    workers, logs = [], []
    for i in range(n):
        log = work / f"{name}-worker{i}.log"
        logs.append(log)
        workers.append(subprocess.Popen([BIN, "worker", "--concurrency", str(a.concurrency), "--loglevel", "info",
                                         "--hostname", f"bench{i}@%h"],
                                        env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                        start_new_session=True))
    deadline = time.monotonic() + 120
    while not all("ready" in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            for w in workers:
                w.kill()
            raise SystemExit(f"the workers did not start: see {logs}")
        time.sleep(0.3)
    meter = Meter([w.pid for w in workers])
    before = meter.cpu()  # the workers' start (imports, forking the pool) is not the round's
    meter.start()
    t0 = time.perf_counter()
    driver(env, "queue", rid)
    got = driver(env, "wait", rid, str(a.timeout))
    wall = time.perf_counter() - t0
    round_cpu = meter.cpu() - before
    extra = {}
    if daily is not None:
        with daily() as new_pages:
            t1, c1 = time.perf_counter(), meter.cpu()
            did = str(driver(env, "daily", str(crawl), DAILY_DAY)["round"])
            extra["daily"] = {**driver(env, "wait", did, str(a.timeout)), "wall": time.perf_counter() - t1,
                              "cpu": meter.cpu() - c1, "new_articles": new_pages}
    meter.stop()
    for w in workers:
        w.send_signal(signal.SIGTERM)  # warm shutdown: the pool's processes are reaped, their CPU counted
    cpu = sum(_reap(w, 60) for w in workers)
    if daily is None:  # everything the workers did after their start was the round's
        round_cpu = cpu - before
    return {**got, **extra, "mode": f"{n} worker{'s' if n > 1 else ''}", "wall": wall, "cpu": round_cpu,
            "pss_mb": meter.peak_pss_kb / 1024, "rss_mb": meter.peak_rss_kb / 1024, "processes": meter.processes}


# ------------------------------------------------------------------------------------------- report
def report(rows: list[dict], a) -> None:
    base = rows[0]
    print()
    print(f"{a.sites}-site sandbox county, ~{a.pages} articles a site, delay {a.delay} s, {a.per_host} per host, "
          f"{a.concurrency} jobs at once per runner/worker, {os.cpu_count()} cores")
    cols = [("mode", "{:<11}", "mode"), ("status", "{:>7}", "status"), ("sites", "{:>6}", "sites"),
            ("pages", "{:>7}", "pages"), ("findings", "{:>9}", "findings"), ("wall s", "{:>8.1f}", "wall"),
            ("vs emb.", "{:>8}", None), ("pages/s", "{:>8.2f}", None), ("CPU s", "{:>8.1f}", "cpu"),
            ("CPU ms/page", "{:>12.1f}", None), ("CPU s/site", "{:>11.2f}", None), ("peak PSS MB", "{:>12.0f}", "pss_mb"),
            ("max RSS MB/proc", "{:>16.0f}", "rss_mb")]
    print("".join(("{:<11}" if h == "mode" else "{:>" + str(len(f.format(0) if "f" in f else f.format("x"))) + "}")
                  .format(h) for h, f, _ in cols))
    for r in rows:
        pages, sites = max(1, r["pages"]), max(1, r["sites"])
        vals = []
        for h, f, k in cols:
            if h == "vs emb.":
                v = f"{base['wall'] / r['wall']:.2f}x"
            elif h == "pages/s":
                v = r["pages"] / r["wall"]
            elif h == "CPU ms/page":
                v = 1000 * r["cpu"] / pages
            elif h == "CPU s/site":
                v = r["cpu"] / sites
            else:
                v = r[k]
            vals.append(f.format(v))
        print("".join(vals))
    print()
    for r in rows:
        per = sorted(r.get("pages_per_site") or [0])
        print(f"{r['mode']}: pages per site min {per[0]} / median {per[len(per) // 2]} / max {per[-1]}; "
              f"politeness floor of the largest site (pages × delay) {per[-1] * a.delay:.0f} s; "
              f"a site job takes {r.get('site_seconds_per_page') or 0:.3f} s per page (largest: {r.get('largest_site_job')} "
              f"pages, s); jobs {r['jobs']}; round in the database {r['db_seconds'] or 0:.1f} s; processes seen {r['processes']}"
              + (f"; error: {r['error']}" if r["error"] else ""))
    if any("daily" in r for r in rows):
        print()
        print(f"daily incremental pass (conditional requests against the round's crawl, {a.new_fraction:.0%} of pages new):")
        print(f"{'mode':<11}{'status':>7}{'new art.':>9}{'requests':>9}{'wall s':>8}{'vs round':>9}{'CPU s':>8}"
              f"{'CPU ms/request':>15}{'findings':>9}")
        for r in rows:
            d = r.get("daily")
            if d:
                print(f"{r['mode']:<11}{d['status']:>7}{d['new_articles']:>9}{d['pages']:>9}{d['wall']:>8.1f}"
                      f"{d['wall'] / r['wall']:>8.2f}x{d['cpu']:>8.1f}{1000 * d['cpu'] / max(1, d['pages']):>15.1f}"
                      f"{d['findings']:>9}")
    finds = {r["findings"] for r in rows}
    print("findings equal in every mode" if len(finds) == 1 else f"findings differ between modes: {[r['findings'] for r in rows]}")
    print(json.dumps({"args": vars(a), "rows": [{k: (v if k != "daily" else {x: y for x, y in v.items() if x != "pages_per_site"})
                                                 for k, v in r.items() if k != "pages_per_site"} for r in rows]},
                     ensure_ascii=False, default=str))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=40)
    ap.add_argument("--pages", type=int, default=120, help="articles per site (sandbox default 120)")
    ap.add_argument("--delay", type=float, default=0.5, help="seconds between two requests to one host")
    ap.add_argument("--per-host", type=int, default=2, help="requests at once to one host")
    ap.add_argument("--concurrency", type=int, default=4,
                    help="jobs at once: the embedded runner's site_concurrency and each worker's --concurrency")
    ap.add_argument("--modes", default="embedded,1,2", help="comma-separated: embedded, 1, 2 (workers)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds a mode may take")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (databases, crawls, logs)")
    ap.add_argument("--daily", action="store_true",
                    help="after each mode's round, the daily incremental pass (conditional requests against that round's "
                         "crawl) with --new-fraction of every site's pages new")
    ap.add_argument("--new-fraction", type=float, default=0.10, help="pages new per day for --daily (default 0.10)")
    a = ap.parse_args()
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    work = Path(tempfile.mkdtemp(prefix="gi-bench-scale-"))
    base_env = {**os.environ, "PYTHONUNBUFFERED": "1", "GOVINSPECT_SECRET_KEY": "benchmark-only"}
    os.environ["GOVINSPECT_DATA_DIR"] = str(work / "harness")  # Django set up for the registry writer, no database used
    (work / "harness").mkdir()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govinspect.settings")
    import django

    django.setup()
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(a.seed, "2026-11-23", a.sites, a.pages, no_default_faults=True)
    rows: list[dict] = []
    redis = pg = None
    try:
        with SandboxServer(county) as srv:
            registry = write_registry(county, srv.urls, work / "名录.xlsx")
            crawl = work / "crawl.json"
            settings = srv.crawl_settings(delay=a.delay, concurrency_per_host=a.per_host)
            crawl.write_text(json.dumps(settings, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o)))
            if any(m != "embedded" for m in modes):
                redis, pg = Redis(), Postgres()
            for m in modes:
                print(f"running: {m} ...", flush=True)
                t = time.perf_counter()
                daily = grower(county, srv, a.new_fraction) if a.daily else None
                r = (run_embedded(base_env, work, registry, crawl, a, daily) if m == "embedded"
                     else run_cluster(base_env, work, registry, crawl, a, int(m), redis, pg, daily))
                rows.append(r)
                print(f"  {r['mode']}: {r['status']}, {r['pages']} pages of {r['sites']} sites in {r['wall']:.1f} s "
                      f"(mode total {time.perf_counter() - t:.0f} s)", flush=True)
    finally:
        for s in (redis, pg):
            if s is not None:
                s.stop()
        if not a.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")
    report(rows, a)


if __name__ == "__main__":
    main()
