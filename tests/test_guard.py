"""One guarded fetch path: no fetcher follows a redirect into an address the operator did not allow.

A loopback "redirector" (127.0.0.1, the only address allowed) answers 302 to each forbidden target; the
"victims" (127.0.0.2, [::1], and 127.0.0.1 on another port reached as 0.0.0.0) record every request they
get. For each fetcher — crawler pages, robots.txt, link checker, search-page probe, feed loader,
availability probe — the victims must see no request at all and the result must be a blocked/unknown
state, never a dead link, a page title or a parsed feed. A control run with the victims' network allowed
shows the same redirects do reach them (so the zero counts mean something).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import ipaddress
import json
import socket
import threading

import pytest

from govinspect.engine.fetch import BlockedAddress, CrawlConfig, crawl_site
from govinspect.engine.fetch.linkcheck import LinkChecker
from govinspect.engine.fetch.probe import probe_all
from govinspect.engine.inspect import inspect_site
from govinspect.engine.newmedia import AccountSpec, load_source

VICTIM_TITLE = "VICTIM-内网页面"
FEED = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>victim</title>'
        b'<entry><title>VICTIM</title><link href="http://x/a"/><updated>2026-11-20T02:00:00Z</updated></entry></feed>')


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def _serve(cls, host: str, handler):
    srv = cls((host, 0), handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv


class _Net:
    """The redirector and the victims, started and stopped by the fixture."""

    def __init__(self):
        self.hits: list[tuple[str, str]] = []  # (victim address, path) of every request a victim got
        self.robots_target = None  # where the redirector's /robots.txt points (None: no robots.txt)
        net = self

        class Victim(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool):
                net.hits.append((self.server.server_address[0], self.path))
                data = FEED if self.path.endswith(".xml") else (
                    f"<html><head><title>{VICTIM_TITLE}</title></head><body>澳门博彩 真人百家乐 老虎机</body></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self):
                self._answer(True)

            def do_HEAD(self):
                self._answer(False)

            def log_message(self, *a):
                pass

        class Redirector(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool):
                path = self.path
                if path.startswith("/r/"):  # /r/<i>/<rest>: 302 to target i + /<rest>
                    _, _, i, rest = path.split("/", 3)
                    return self._redirect(net.targets[int(i)] + rest)
                if path == "/robots.txt":
                    if net.robots_target is None:
                        return self._send(404, b"no robots")
                    return self._redirect(net.robots_target + "robots.txt")
                links = "".join(f'<a href="/r/{i}/page{i}.html">内部{i}</a><a href="/r/{i}/doc{i}.pdf">附件{i}</a>'
                                f'<a href="http://ext.test:{net.port}/r/{i}/x.html">外部{i}</a>' for i in range(len(net.targets)))
                self._send(200, f"<html><head><title>首页</title></head><body>{links}</body></html>".encode(), body)

            def _redirect(self, location: str):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(self, status: int, data: bytes, body: bool = True):
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self):
                self._answer(True)

            def do_HEAD(self):
                self._answer(False)

            def log_message(self, *a):
                pass

        self.servers = [_serve(_Server, "127.0.0.1", Redirector)]
        self.port = self.servers[0].server_address[1]
        v4 = _serve(_Server, "127.0.0.2", Victim)
        any_ = _serve(_Server, "127.0.0.1", Victim)  # reached as 0.0.0.0:port (Linux: this host)
        self.servers += [v4, any_]
        p4, pa = v4.server_address[1], any_.server_address[1]
        self.targets = [
            f"http://127.0.0.2:{p4}/",
            f"http://[::ffff:127.0.0.2]:{p4}/",
            f"http://{int(ipaddress.IPv4Address('127.0.0.2'))}:{p4}/",  # 2130706434
            f"http://0x7f.0.0.2:{p4}/",
            f"http://127.2:{p4}/",
            f"http://0.0.0.0:{pa}/",
            f"http://victim.test:{p4}/",  # a name that resolves to the victim
        ]
        try:
            v6 = _serve(_Server6, "::1", Victim)
            self.servers.append(v6)
            self.targets.append(f"http://[::1]:{v6.server_address[1]}/")
        except OSError:  # no IPv6 loopback on this machine
            pass
        self.home = f"http://127.0.0.1:{self.port}/"
        self.resolve_map = {"victim.test": ("127.0.0.2", p4), "ext.test": ("127.0.0.1", self.port)}

    def redirects(self, rest: str = "") -> list[str]:
        return [f"{self.home}r/{i}/{rest}" for i in range(len(self.targets))]

    def cfg(self, allow=("127.0.0.1/32",), **kw) -> CrawlConfig:
        return CrawlConfig(allow_networks=allow, resolve_map=self.resolve_map, offline_dns=True, delay=0.0, timeout=5.0,
                           retries=0, concurrency_per_host=4, link_recheck_interval=0.1, reference_urls=(), **kw)

    def stop(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


@pytest.fixture
def net():
    n = _Net()
    yield n
    n.stop()


# ------------------------------------------------------------------------------- the address table
@pytest.mark.parametrize("addr,real", [
    ("2002:7f00:1::", "127.0.0.1"),          # 6to4 of 127.0.0.1
    ("2002:a00:1:1::5", "10.0.0.1"),         # 6to4 of 10.0.0.1
    ("64:ff9b::7f00:2", "127.0.0.2"),        # NAT64 well-known prefix
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ("::ffff:127.0.0.2", "127.0.0.2"),       # IPv4-mapped
    ("::ffff:0:a00:1", "10.0.0.1"),          # IPv4-translated
    ("::127.0.0.2", "127.0.0.2"),            # IPv4-compatible
    ("::1", "::1"), ("::", "::"),           # loopback and unspecified stay what they are
    ("2001:db8::1", "2001:db8::1"),
    ("0.0.0.0", "0.0.0.0"), ("8.8.8.8", "8.8.8.8"),
])
def test_normalisation_table(addr, real):
    from govinspect.engine.fetch.guard import normalise_ip

    assert str(normalise_ip(ipaddress.ip_address(addr))) == real


@pytest.mark.parametrize("host,ip", [("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
                                     ("0177.0.0.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("[::1]", "::1"),
                                     ("www.gov.cn", None), ("beef.cafe", None)])
def test_odd_spellings_are_ip_literals(host, ip):
    from govinspect.engine.fetch.guard import ip_literal

    got = ip_literal(host)
    assert (str(got) if got is not None else None) == ip


@pytest.mark.parametrize("host", ["127.0.0.2", "[::1]", "::ffff:127.0.0.2", "::ffff:7f00:2", "2002:7f00:1::", "64:ff9b::7f00:2",
                                  "::127.0.0.2", "169.254.169.254", "64:ff9b::a9fe:a9fe", "0.0.0.0", "::", "10.1.2.3",
                                  "2130706433", "0x7f.1", "127.1", "0177.0.0.1", "fe80::1", "100.64.0.1", "64:ff9b:1::808:808",
                                  "１２７.０.０.２", "127。0。0。2", "①②⑦.0.0.2", "１６９.２５４.１６９.２５４"])
def test_guard_refuses_every_form_of_a_private_address(host):
    from govinspect.engine.fetch.guard import AddressGuard, ip_literal, normalise_ip

    with pytest.raises(BlockedAddress):
        AddressGuard().check_host(host)
    if str(normalise_ip(ip_literal(host))) != "127.0.0.1":
        with pytest.raises(BlockedAddress):  # allowing exactly 127.0.0.1 opens nothing else
            AddressGuard(["127.0.0.1/32"]).check_host(host)


def test_allowing_loopback_opens_no_other_private_network():
    from govinspect.engine.fetch.guard import AddressGuard

    g = AddressGuard(["127.0.0.0/8"])
    for ok in ("127.0.0.1", "127.0.0.2", "::ffff:127.0.0.2", "2002:7f00:1::", "2130706433"):
        g.check_host(ok)
    for bad in ("169.254.169.254", "10.0.0.1", "0.0.0.0", "::1", "64:ff9b::a9fe:a9fe", "192.168.1.1"):
        with pytest.raises(BlockedAddress):
            g.check_host(bad)
    for public in ("8.8.8.8", "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"):
        AddressGuard().check_host(public)


def test_every_hop_is_checked_and_loops_stop():
    from govinspect.engine.fetch.guard import AddressGuard, RedirectRefused, next_hop

    g = AddressGuard()
    assert next_hop(g, "http://a.example/x", "/y#f", []) == "http://a.example/y"
    for loc in ("http://169.254.169.254/latest/meta-data/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/",
                "http://0x7f.1/", "file:///etc/passwd", "gopher://127.0.0.1:25/"):
        with pytest.raises(BlockedAddress):
            next_hop(g, "http://a.example/x", loc, [])
    with pytest.raises(RedirectRefused, match="loop"):
        next_hop(g, "http://a.example/b", "http://A.example:80/a", ["http://a.example/a"])


# ------------------------------------------------------------------------------- every fetcher
def test_crawler_pages_never_reach_the_victims(net):
    scope = tuple({t.split("/")[2].lower() for t in net.targets})  # in scope: only the guard can stop them
    crawl = crawl_site(net.home, net.cfg(extra_hosts=scope))
    assert crawl.get(net.home).ok
    pages = [crawl.get(f"{net.home}r/{i}/{name}{i}.{ext}") for i in range(len(net.targets)) for name, ext in (("page", "html"), ("doc", "pdf"))]
    assert all(p is not None and p.error.startswith("blocked") and p.page is None and p.body is None for p in pages), \
        [p.error for p in pages]  # pages and attachments alike
    assert crawl.stats["blocked_private"] >= 2 * len(net.targets)
    assert net.hits == []


def test_robots_txt_redirect_never_reaches_the_victims(net):
    for target in net.targets:
        net.robots_target = target
        crawl = crawl_site(net.home, net.cfg(max_depth=0))
        assert crawl.get(net.home).ok and crawl.stats["blocked_private"] == 1, (target, crawl.stats)
    assert net.hits == []


def test_link_checker_gives_no_verdict_and_no_title(net):
    links = net.redirects("page.html")
    probes = asyncio.run(LinkChecker(net.cfg()).check(links, set(links), 0.1))
    for u in links:
        first, second = probes[u]
        assert first.unknown and first.error.startswith("blocked") and second is None, first.error
        assert not first.title and first.status is None
    assert net.hits == []


def test_link_phase_of_a_site_check_reports_nothing_about_them(net):
    rep = inspect_site(net.home, dt.date(2026, 11, 23), net.cfg(), content=False)
    assert rep.status == "checked"
    assert not [f for f in rep.findings if f.rule.startswith("link.")], [f.detail for f in rep.findings]
    assert net.hits == []


def test_search_page_probe_is_unknown(net):
    checker = LinkChecker(net.cfg())
    for u in net.redirects("search.html?q=x"):
        p = asyncio.run(checker.get_page(u))
        assert p.unknown and not p.link_texts and not p.title
    assert net.hits == []


def test_feed_behind_a_redirect_is_not_parsed(net):
    for u in net.redirects("feed.xml"):
        src = asyncio.run(load_source(AccountSpec("微信", "号", "单位", source=u), net.cfg()))
        assert not src.ok and not src.posts and "禁止" in src.reason, src.reason
    assert net.hits == []


def test_availability_probe_is_blocked_not_down(net):
    from govinspect.engine.checks.availability import availability

    results = asyncio.run(probe_all(net.redirects(), net.cfg(), timeout=5.0))
    assert all(r.blocked and not r.ok and r.status is None for r in results), [r.error for r in results]
    assert net.hits == []
    # a blocked probe is no evidence that the site is down: left out, never "unreachable"
    start = results[0].at - dt.timedelta(hours=1)
    a = availability(results * 30, [], start, start + dt.timedelta(days=1), {"probes_per_day": 20, "min_valid_share": 0.5,
                                                                            "veto_share": 0.05, "timeout": 15})
    assert a.status == "unknown" and a.failed == 0


def test_control_allowed_networks_are_reached(net):
    """The same redirects reach the victims once their networks are allowed: the zero counts above are real."""
    allow = ("127.0.0.0/8", "0.0.0.0/8", "::1/128")
    links = net.redirects("page.html")
    probes = asyncio.run(LinkChecker(net.cfg(allow=allow)).check(links, set(links), 0.1))
    # aiohttp itself refuses the non-canonical spellings 2130706434 and 127.2 (yarl); every other target is reached
    reached = [u for u in links if probes[u][0].status == 200]
    assert len(reached) >= len(links) - 2 and all("canonical" in (probes[u][0].error or "") for u in links if u not in reached)
    victims = {"127.0.0.2", "127.0.0.1"} | ({"::1"} if "[::1]" in net.targets[-1] else set())
    assert {addr for addr, _ in net.hits} == victims
    feed = asyncio.run(load_source(AccountSpec("微信", "号", "单位", source=net.redirects("feed.xml")[0]), net.cfg(allow=allow)))
    assert feed.ok and feed.posts[0].title == "VICTIM"


# ------------------------------------------------------------------------------- the command line
def _cli(*args):
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([str(Path(sys.executable).parent / "govinspect"), *args], capture_output=True, text=True, timeout=300)


def test_check_site_allows_exactly_the_networks_named(net):
    base = ["check-site", net.home, "--as-of", "2026-11-23", "--offline-dns", "--no-content", "--quiet", "--delay", "0",
            "--link-recheck", "0.1", "--resolve", f"ext.test=127.0.0.1:{net.port}"]
    r = _cli(*base, "--allow-network", "127.0.0.1/32")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["status"] == "checked" and not [f for f in d["findings"] if f["rule"].startswith("link.")]
    assert d["crawl"]["blocked_private"] >= len(net.targets) - 1  # victim.test: a name, out of scope, never looked up
    assert net.hits == []
    # a network that is not the site's: the site itself is refused
    r = _cli(*base, "--allow-network", "127.0.0.2/32")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "could_not_check"
    bad = _cli(*base, "--allow-network", "10.0.0.0/33")
    assert bad.returncode == 2 and "网段格式应为 CIDR" in bad.stderr and "Traceback" not in bad.stderr


def test_deprecated_allow_private_warns_and_never_opens_link_local(net):
    r = _cli("check-site", net.home, "--as-of", "2026-11-23", "--offline-dns", "--no-content", "--no-links", "--quiet",
             "--max-pages", "1", "--allow-private")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "checked"
    assert "--allow-private 已停用" in r.stderr and "169.254.0.0/16" in r.stderr
    from govinspect.cliutil import _LEGACY_PRIVATE
    from govinspect.engine.fetch.guard import AddressGuard

    with pytest.raises(BlockedAddress):
        AddressGuard(_LEGACY_PRIVATE).check_host("169.254.169.254")


def test_unicode_spellings_of_a_victim_address_are_refused_on_the_wire(net):
    """yarl maps a non-ASCII host through IDNA before aiohttp connects (１２７.０.０.２ → 127.0.0.2, with 。 and circled
    digits too): the guard must judge the host aiohttp will really use, or the victim is reached directly."""
    import aiohttp

    from govinspect.engine.fetch.guard import AddressGuard, guarded_connector, guarded_request

    port = int(net.targets[0].rsplit(":", 1)[1].strip("/"))
    guard = AddressGuard(["127.0.0.1/32"])

    async def go(url):
        async with aiohttp.ClientSession(connector=guarded_connector(guard)) as s:
            async with guarded_request(s, guard, "GET", url) as (r, _):
                return r.status

    for host in ("１２７.０.０.２", "127。0。0。2", "①②⑦.0.0.2"):
        with pytest.raises(BlockedAddress):
            asyncio.run(go(f"http://{host}:{port}/"))
    assert net.hits == []
