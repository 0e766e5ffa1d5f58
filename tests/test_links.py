"""Link checks: dead (two failures apart), illegal (domain, text, content), hidden (CSS evidence);
no verdict on external links when the checking machine has no route to the internet."""

import asyncio
import datetime as dt
import http.server
import threading
import time

import pytest

from govinspect.engine.checks.links import classify_illegal
from govinspect.engine.extract import extract_page
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.linkcheck import LinkChecker, Probe
from govinspect.engine.inspect import inspect_site


@pytest.fixture(scope="module")
def link_reports(county, sandbox):
    return {k: inspect_site(sandbox.urls[k], county.as_of, sandbox.crawl_config()) for k in ("portal", "jyj", "rsj", "wjw", "zrzyj", "cgz", "bmz")}


def _by(rep, rule):
    return {f.url: f for f in rep.findings if f.rule == rule}


def test_classify_illegal_precision():
    assert classify_illegal("http://www.xpj-casino888.com/")["category"] == "gambling"
    assert classify_illegal("http://www.example.com/", "注册送彩金")["category"] == "gambling"
    assert classify_illegal("http://www.example.com/", "", "澳门博彩 真人百家乐 老虎机")["category"] == "gambling"
    assert classify_illegal("http://www.hebei-wenhua.cn/", "河北文化娱乐资讯", "河北文化娱乐资讯") is None
    assert classify_illegal("http://www.example.com/", "", "福利彩票 中国体育彩票") is None
    assert classify_illegal("http://www.example.com/", "", "只出现一次博彩") is None  # one content hit is not enough


def test_hidden_link_evidence_in_page_model():
    html = """<html><head><style>#yc{font-size:0}</style></head><body>
    <div style="display:none"><a href="http://a.com/">x1</a></div>
    <p style="position:absolute;left:-3000px"><a href="http://b.com/">x2</a></p>
    <span id="yc"><a href="http://c.com/">x3</a></span>
    <a style="color:#fff;background-color:#fff" href="http://d.com/">x4</a>
    <a href="http://e.com/">visible</a></body></html>"""
    links = {l.url: l.hidden for l in extract_page(html, "http://x.gov.cn/").links}
    assert links["http://a.com/"] == '<div style="display:none">'
    assert "left:-3000px" in links["http://b.com/"]
    assert links["http://c.com/"] == "#yc {font-size:0}"
    assert "color:#fff" in links["http://d.com/"]
    assert links["http://e.com/"] is None


def test_dead_links_internal_and_external(link_reports, sandbox):
    jyj = _by(link_reports["jyj"], "link.dead")
    f = jyj[sandbox.url("jyj", "/xwzx/202401/t20240110_99999.html")]
    assert "HTTP 404" in f.detail and f.evidence["second_probe"]["status"] == 404
    assert f.evidence["referrers"][0]["page"] == sandbox.urls["jyj"]
    assert "循环重定向" in jyj[sandbox.url("jyj", "/loop/a.html")].detail
    ext = _by(link_reports["zrzyj"], "link.dead")["http://www.old-bureau.qinghe.gov.cn.invalid/"]
    assert "域名无法解析" in ext.detail and "DNS" in ext.evidence["second_probe"]["error"] and ext.evidence["external"]
    assert "http://www.qhxw.net/news/2019/123.html" in _by(link_reports["cgz"], "link.dead")


def test_transient_failure_is_not_a_dead_link(link_reports, sandbox):
    flaky = sandbox.url("portal", "/zt/flaky.html")
    assert flaky not in _by(link_reports["portal"], "link.dead")
    assert sandbox.apps["portal"].counts["/zt/flaky.html"] >= 2  # failed once, then re-probed


def test_illegal_and_hidden_links(link_reports):
    rsj_illegal = _by(link_reports["rsj"], "link.illegal")
    assert set(rsj_illegal) == {"http://www.xpj-casino888.com/", "http://www.xpj-casino888.com/reg.html"}
    hidden = _by(link_reports["rsj"], "link.hidden")
    assert "display:none" in hidden["http://www.xpj-casino888.com/"].evidence["css"]
    assert "left:-3000px" in hidden["http://www.xpj-casino888.com/reg.html"].evidence["css"]
    # a domain that now serves gambling content is caught by what it serves
    lvyou = _by(link_reports["bmz"], "link.illegal")["http://www.qinghe-lvyou.com/"]
    assert any("目标页面" in r for r in lvyou.evidence["reasons"])
    wjw = _by(link_reports["wjw"], "link.illegal")
    assert "http://www.tyc-ad-888.com/" in wjw and "http://www.hebei-wenhua.cn/" not in wjw
    # a drop-down menu hidden with display:none is not a 暗链
    assert not _by(link_reports["portal"], "link.hidden")


def test_external_links_never_leave_the_machine(link_reports, sandbox):
    methods = {m for m, host, _ in sandbox.internet.requests}
    assert "HEAD" in methods
    hosts = {h for _, h, _ in sandbox.internet.requests}
    assert "www.old-bureau.qinghe.gov.cn.invalid" not in hosts  # failed at (offline) DNS
    stats = link_reports["portal"].check_stats
    assert stats["links_external"]["count"] >= 3 and stats["links_dead"] == 0
    assert stats["links_external"]["state"] == "checked"  # the sandbox's www.gov.cn answered: external links judged


# ------------------------------------------------------------------------------- no route, no verdict
class _Small(http.server.BaseHTTPRequestHandler):
    """A tiny site: an internal dead link, two external links whose names do not resolve; "/" answers 200."""

    def do_GET(self):
        if self.path == "/":
            body = ('<html><head><title>某局</title></head><body><a href="/missing.html">旧通知</a>'
                    '<a href="http://www.gone.invalid/">已关闭的网站</a><a href="http://www.gov.cn.invalid/x.html">中国政府网</a>'
                    "</body></html>").encode()
            self.send_response(200)
        else:
            body = b"<html><body>404</body></html>"
            self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def small_site():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Small)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/", srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _small_cfg(resolve_map: dict) -> CrawlConfig:
    return CrawlConfig(allow_networks=("127.0.0.1/32",), offline_dns=True, resolve_map=resolve_map, delay=0.0, timeout=5.0,
                       retries=0, link_recheck_interval=0.2, reference_urls=("http://ref.test/",))


def test_no_route_to_the_internet_means_no_verdict_on_external_links(small_site):
    url, _ = small_site
    rep = inspect_site(url, dt.date(2026, 11, 23), _small_cfg({}), content=False)  # ref.test does not resolve either
    dead = _by(rep, "link.dead")
    assert set(dead) == {url + "missing.html"}  # the site's own dead link is still judged
    note = rep.check_stats["links_external"]
    assert note["state"] == "unknown" and note["reason"] == "未能检查外部链接（检查机无法访问互联网）"
    assert note["unjudged"] == 2 and note["references"][0]["url"] == "http://ref.test/"
    assert rep.to_dict()["checks"]["links_external"]["state"] == "unknown"  # in the check-site JSON too


def test_with_a_reachable_reference_the_dead_external_link_is_reported(small_site):
    url, port = small_site
    rep = inspect_site(url, dt.date(2026, 11, 23), _small_cfg({"ref.test": ("127.0.0.1", port)}), content=False)
    dead = _by(rep, "link.dead")
    assert {url + "missing.html", "http://www.gone.invalid/", "http://www.gov.cn.invalid/x.html"} == set(dead)
    assert "域名无法解析" in dead["http://www.gone.invalid/"].detail
    assert rep.check_stats["links_external"] == {"state": "checked", "count": 2}


def test_second_probes_do_not_wait_in_line(small_site):
    url, _ = small_site
    checker = LinkChecker(_small_cfg({}))
    # a crawl failure seen longer ago than the interval is probed again at once, not after another full interval
    old = Probe(url=url + "missing.html", status=404, method="GET",
                checked_at=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30)).isoformat(timespec="seconds"))
    t0 = time.monotonic()
    out = asyncio.run(checker.check([], None, 20.0, {old.url: old}))
    assert time.monotonic() - t0 < 5 and out[old.url][1].status == 404
    # each failing link waits from its own first failure: five links and an internal one, one interval in all
    links = [f"{url}gone{i}.html" for i in range(5)]
    recent = Probe(url=url + "missing.html", status=404, method="GET", started=time.time())
    t0 = time.monotonic()
    out = asyncio.run(LinkChecker(CrawlConfig(allow_networks=("127.0.0.1/32",), delay=0.0, timeout=5.0))
                      .check(links, None, 1.0, {recent.url: recent}))
    took = time.monotonic() - t0
    assert 1.0 <= took < 2.5 and all(out[u][1] is not None and out[u][1].status == 404 for u in links + [recent.url])
    # without a route to the internet there is no second probe to wait for
    t0 = time.monotonic()
    out = asyncio.run(checker.check(["http://www.gone.invalid/"], None, 20.0, {}, ("http://ref.test/",)))
    assert time.monotonic() - t0 < 5 and out["http://www.gone.invalid/"][1].unknown and checker.offline
