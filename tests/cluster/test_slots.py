"""Per-host slots shared through a real redis-server (cluster/slots.py): processes that share a host never exceed its
in-flight limit nor its delay between request starts, measured on the server side; a killed holder's slot frees itself
after its expiry; two site crawls of one sandbox host in two processes stay as polite as one."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from govinspect.cluster.slots import HostSlot, SharedGates, SharedHostGate, in_flight
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.crawler import make_gate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Recorder(ThreadingHTTPServer):
    """A local HTTP server that records when each request started and how many were in flight at once."""

    daemon_threads = True

    def __init__(self, hold: float):
        self.hold, self.starts, self.inflight, self.max_inflight = hold, [], 0, 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.starts.append(time.monotonic())
            srv.inflight += 1
            srv.max_inflight = max(srv.max_inflight, srv.inflight)
        try:
            time.sleep(srv.hold)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with srv.lock:
                srv.inflight -= 1

    def log_message(self, *a):
        pass


@pytest.fixture
def recorder():
    srv = _Recorder(hold=0.4)  # longer than the delay: without a limit, 3 would be in flight
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


HAMMER = textwrap.dedent("""
    import asyncio, sys, aiohttp
    from govinspect.cluster.slots import SharedGates
    from govinspect.engine.fetch.crawler import _HostGate
    redis_url, target, n, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    netloc = target.split("//", 1)[1]

    async def main():
        gate = SharedGates(redis_url)(netloc, 2, 0.15) if shared else _HostGate(2, 0.15)
        async with aiohttp.ClientSession() as s:
            async def one(i):
                async with gate:
                    async with s.get(target + f"/p{i}") as r:
                        await r.read()
            await asyncio.gather(*(one(i) for i in range(n)))  # six tasks at once, each wanting the host
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start together
    asyncio.run(main())
    print("done", flush=True)
""")


def _hammer(redis_url: str, target: str, n: int, shared: bool) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, redis_url, target, str(n), "1" if shared else "0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) for _ in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and "done" in out
    return procs


def _gaps(starts: list[float]) -> list[float]:
    s = sorted(starts)
    return [b - a for a, b in zip(s, s[1:])]


def test_two_processes_never_exceed_the_limit_nor_the_delay(redis_server, recorder):
    _hammer(redis_server.url, recorder.url, 6, shared=True)
    assert len(recorder.starts) == 12
    gaps = _gaps(recorder.starts)
    # at most 2 in flight at the server, and request starts at least 0.15 s apart (a few ms of network jitter allowed)
    assert recorder.max_inflight <= 2, recorder.max_inflight
    assert min(gaps) >= 0.15 - 0.02, gaps
    assert in_flight(redis_server.url, recorder.url.split("//")[1]) == 0  # every slot given back
    # the same two processes, each with its own in-process gate: each one is polite on its own, together they are not
    recorder.starts.clear()
    recorder.max_inflight = 0
    _hammer(redis_server.url, recorder.url, 6, shared=False)
    assert recorder.max_inflight > 2 or min(_gaps(recorder.starts)) < 0.1


HOLDER = textwrap.dedent("""
    import sys, time
    from govinspect.cluster.slots import HostSlot
    slot = HostSlot(sys.argv[1], "held.example:80", concurrency=1, delay=0, ttl=float(sys.argv[2]))
    slot.__enter__()
    print("held", flush=True)
    time.sleep(3600)
""")


def test_a_killed_holders_slot_frees_itself_after_its_expiry(redis_server):
    ttl = 2.0
    p = subprocess.Popen([sys.executable, "-c", HOLDER, redis_server.url, str(ttl)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT}, cwd=ROOT)
    try:
        assert p.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        os.kill(p.pid, signal.SIGKILL)  # no release: only the expiry can free it
        p.wait(10)
        assert in_flight(redis_server.url, "held.example:80") == 1
        with HostSlot(redis_server.url, "held.example:80", concurrency=1, delay=0, ttl=ttl) as mine:
            waited = time.monotonic() - t0
            assert mine.member is not None
            assert in_flight(redis_server.url, "held.example:80") == 1
        assert ttl - 0.5 <= waited <= ttl + 3, waited
        assert in_flight(redis_server.url, "held.example:80") == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_crawl_config_takes_the_shared_slot_in_cluster_mode(redis_server, monkeypatch):
    monkeypatch.setenv("GOVINSPECT_BROKER_URL", redis_server.url)
    monkeypatch.delenv("GOVINSPECT_SLOTS_URL", raising=False)
    g = make_gate(CrawlConfig(concurrency_per_host=3, delay=0.25), "a.gov.cn")
    assert isinstance(g, SharedHostGate) and (g.concurrency, g.delay, g.url) == (3, 0.25, redis_server.url)
    from govinspect.rounds.jobs import round_config
    from govinspect.rounds.models import Round

    assert round_config(Round(name="x", as_of="2026-11-23")).gate_factory == SharedGates(redis_server.url)
    import pickle

    assert pickle.loads(pickle.dumps(SharedGates(redis_server.url))) == SharedGates(redis_server.url)


def test_availability_probes_take_the_slot(redis_server, recorder):
    """The monitor's probes (probe_all) in cluster mode: one host probed four times at once waits for its slot each
    time; the response time recorded is the host's, not the wait."""
    import asyncio

    from govinspect.engine.fetch.probe import probe_all

    recorder.hold = 0.05
    cfg = CrawlConfig(allow_networks=("127.0.0.0/8",), concurrency_per_host=1, delay=0.2,
                      gate_factory=SharedGates(redis_server.url))
    results = asyncio.run(probe_all([recorder.url + f"/{i}" for i in range(4)], cfg, timeout=10))
    assert all(r.ok for r in results) and recorder.max_inflight == 1
    assert min(_gaps(recorder.starts)) >= 0.2 - 0.02
    assert all(r.elapsed_ms < 150 for r in results), [r.elapsed_ms for r in results]


CRAWLER = textwrap.dedent("""
    import json, sys
    from govinspect.cluster.slots import SharedGates
    from govinspect.engine.fetch import CrawlConfig
    from govinspect.engine.fetch.crawler import crawl_site
    redis_url, site, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    settings["resolve_map"] = {h: tuple(v) for h, v in settings["resolve_map"].items()}
    settings["allow_networks"] = tuple(settings["allow_networks"])
    cfg = CrawlConfig(**settings, gate_factory=SharedGates(redis_url))
    print("ready", flush=True)
    sys.stdin.readline()
    r = crawl_site(site, cfg)
    print(json.dumps({"pages": r.pages_fetched, "requests": r.stats["requests"]}), flush=True)
""")


def test_two_workers_crawling_one_host_at_once_stay_as_polite_as_one(redis_server):
    """Two rounds crawl the same sandbox site at the same moment in two processes (two workers): the host never sees
    more than concurrency_per_host requests in flight, nor two starts closer than the delay."""
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=5, n_sites=1, pages_per_site=30, no_default_faults=True)
    key = county.sites[0].key
    county.sites[0].faults["slow"] = 0.03  # each answer takes a while: requests overlap when allowed to
    delay = 0.05
    with SandboxServer(county) as srv:
        app = srv.apps[key]
        settings = srv.crawl_settings(concurrency_per_host=2, delay=delay, check_links=False)
        settings = json.loads(json.dumps(settings, default=list))
        env = {**os.environ, "PYTHONPATH": ROOT}
        procs = [subprocess.Popen([sys.executable, "-c", CRAWLER, redis_server.url, srv.urls[key], json.dumps(settings)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
                 for _ in range(2)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        app.max_inflight, app.arrivals[:] = 0, []
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=300)
            assert p.returncode == 0, out
            results.append(json.loads(out.strip().splitlines()[-1]))
        arrivals = list(app.arrivals)
        peak = app.max_inflight
    assert all(r["pages"] > 30 for r in results) and results[0]["pages"] == results[1]["pages"]
    assert len(arrivals) >= sum(r["requests"] for r in results)
    gaps = _gaps(arrivals)
    assert peak <= 2, peak
    # starts are reserved `delay` apart in Redis; a request reaches the server a little late when its process's event
    # loop is busy parsing a page at its start time, so single gaps measured at the server jitter by a few ms — the
    # rate is exact: any 10 consecutive requests span at least 9 delays (less one jitter)
    s = sorted(arrivals)
    assert min(s[i + 9] - s[i] for i in range(len(s) - 9)) >= 9 * delay - 0.08, gaps
    assert sorted(gaps)[len(gaps) // 20] >= delay - 0.01, sorted(gaps)[:10]  # 95 % of the gaps: the delay
    # the two crawls really overlapped in time (both were crawling the host at once)
    span = max(arrivals) - min(arrivals)
    assert span >= (len(arrivals) - 1) * delay * 0.95


def test_redis_down_falls_back_to_the_in_process_gate_and_comes_back(redis_server):
    """Redis stopped while a crawl runs: after `fallback_after` seconds of retrying, requests go on under an in-process
    gate with the same limits (at once from then on); when Redis is back, the shared slot is used again."""
    import asyncio

    gate = SharedGates(redis_server.url, fallback_after=1.0)("down.example:80", 1, 0.05)

    async def take() -> float:
        t0 = time.monotonic()
        async with gate:
            held = in_flight(redis_server.url, "down.example:80") if redis_server.ping() else None
        return time.monotonic() - t0, held

    async def main():
        first = await take()
        redis_server.stop()
        try:
            down = [await take() for _ in range(3)]
        finally:
            redis_server.start()
        gate._down_until = 0.0  # the retry interval elapsed
        back = await take()
        return first, down, back

    first, down, back = asyncio.run(main())
    assert first[1] == 1 and back[1] == 1  # held in Redis while inside
    assert 0.9 <= down[0][0] <= 5, down  # waited for Redis about fallback_after, then went on
    assert all(d < 0.5 for d, _ in down[1:]), down  # then at once (politeness kept by the in-process gate)
    assert gate.fallbacks == 3
