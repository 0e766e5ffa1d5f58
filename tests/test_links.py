"""Link checks: dead (two failures apart), illegal (domain, text, content), hidden (CSS evidence);
no verdict on external links when the checking machine has no route to the internet."""

import asyncio
import datetime as dt
import glob
import http.server
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govinspect.engine.checks.links import classify_illegal, trusted
from govinspect.engine.extract import decode_html, extract_page
from govinspect.engine.extract.hiding import hiding_is_weak
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.linkcheck import LinkChecker, Probe
from govinspect.engine.inspect import inspect_site
from loopback import HTMLHandler, serve
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()


@pytest.fixture(scope="module")
def link_reports(county, sandbox):
    return {k: inspect_site(sandbox.urls[k], county.as_of, sandbox.crawl_config()) for k in ("portal", "jyj", "rsj", "wjw", "zrzyj", "cgz", "bmz")}


def _by(rep, rule):
    return {f.url: f for f in rep.findings if f.rule == rule}


def test_classify_illegal_precision():
    assert classify_illegal("http://www.xpj-casino888.com/", RS['links'])["category"] == "gambling"
    assert classify_illegal("http://www.example.com/", RS['links'], "注册送彩金")["category"] == "gambling"
    assert classify_illegal("http://www.example.com/", RS['links'], "", "澳门博彩 真人百家乐 老虎机", True)["category"] == "gambling"
    assert classify_illegal("http://www.hebei-wenhua.cn/", RS['links'], "河北文化娱乐资讯", "河北文化娱乐资讯", True) is None
    assert classify_illegal("http://www.example.com/", RS['links'], "", "福利彩票 中国体育彩票 双色球 彩票投注站", True) is None
    assert classify_illegal("http://www.example.com/", RS['links'], "", "只出现一次博彩 欢迎访问本网站 联系我们", True) is None


def test_domain_features_decide_only_when_the_target_cannot_be_read():
    # betting words with a risky top-level domain under an innocent (travel) name: illegal while unreadable ...
    v = classify_illegal("http://www.bet-lvyou.top/", RS['links'], "清河旅游网")
    assert v["category"] == "gambling" and "bet" in v["reasons"][0] and ".top" in v["reasons"][0]
    assert classify_illegal("http://qipai888.com/", RS['links'])["category"] == "gambling"  # a weak word with a digit run
    # ... and cleared by a readable clean page behind it
    assert classify_illegal("http://www.bet-lvyou.top/", RS['links'], "清河旅游网", "清河旅游网 景点 酒店 线路 门票预订 联系我们", True) is None
    # one feature alone, a digit run or a risky TLD without a word, "bet" inside a word: not enough
    for url in ("http://qipai.example.com/", "http://www.888.com/", "http://vip888.xyz/", "http://www.tibet-travel.com/",
                "http://www.alphabet-edu.com/", "http://www.betterlife.top/"):
        assert classify_illegal(url, RS['links'], "某某网") is None, url
    # government domains are never accused (隰县's sxxx.gov.cn is not "xxx"), nor crackdown news
    assert classify_illegal("http://www.sxxx.gov.cn/", RS['links'], "隰县") is None and trusted("http://www.sxxx.gov.cn/", RS['links'])
    assert classify_illegal("http://news.example.com/a.html", RS['links'], "公安机关严厉打击网络赌博") is None
    assert classify_illegal("http://news.example.com/a.html", RS['links'], "", "警方破获特大网络赌博案。该团伙以真人百家乐、彩金为诱饵。", True) is None
    # a casino's own "play responsibly, beware of fraud" is no crackdown report
    assert classify_illegal("http://x.example.com/", RS['links'], "", "澳门新葡京 真人视讯 注册送彩金 理性投注，拒绝未成年人参与 谨防诈骗", True)
    # a Macau travel page names casinos but invites no one to play
    assert classify_illegal("http://www.qhlvyou.com/", RS['links'], "清河旅游网", "港澳游：澳门新葡京酒店、赌场夜景、大三巴牌坊 景区娱乐场所齐全", True) is None


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


def test_hiding_techniques_and_menus():
    links = {l.url: l.hidden for l in extract_page((FIXTURES / "home.html").read_text("utf-8"), "http://x.gov.cn/").links}
    strong = {u for u, h in links.items() if h and not hiding_is_weak(h)}
    assert strong == {"http://www.hk-shop.com/", "http://www.dl-seo.com/", "http://www.amxpj-188.com/",
                      "http://www.sina-ty.cc/", "http://www.fapiao-daili.com/"}
    assert links["http://www.hk-shop.com/"].startswith(".yq {")  # a stylesheet class, quoted as evidence
    assert links["http://www.fapiao-daili.com/"].startswith(".links .seo {")  # a descendant selector
    assert links["http://www.sina-ty.cc/"].startswith("<marquee")
    # menus shown on hover are hidden only weakly, whether by display:none or off-screen (suckerfish)
    assert hiding_is_weak(links["http://www.qhlvyou.com/"]) and hiding_is_weak(links["http://www.tea888.com/"])
    assert "悬停" in links["http://www.tea888.com/"]
    # the inline-block gap trick, an image-replaced badge, a readable marquee, a rule for another class: visible
    for u in ("http://www.partner-site.com/", "http://www.partner-badge.com/", "http://www.qhnews.com/", "http://www.qhbus.com/"):
        assert links[u] is None, u
    # a hover rule on the hidden element itself reveals nothing (it cannot be hovered), nor a bare tag's hover rule
    html = ('<style>.yq{position:absolute;left:-9999px}.yq:hover{left:0}a:hover{display:block}.f a{font-size:0}</style>'
            '<div class="yq"><a href="http://a.com/">x</a></div><div class="f"><a href="http://b.com/">y</a></div>')
    assert not any(hiding_is_weak(l.hidden) for l in extract_page(html, "http://x.gov.cn/").links)
    # an inline hidden menu opened by a handler around it
    html = '<div onmouseover="show(this)"><ul style="position:absolute;left:-2000px"><li><a href="http://m.com/">菜单</a></li></ul></div>'
    assert hiding_is_weak(extract_page(html, "http://x.gov.cn/").links[0].hidden)


def test_dead_links_internal_and_external(link_reports, sandbox):
    jyj = _by(link_reports["jyj"], "link.dead")
    f = jyj[sandbox.url("jyj", "/xwzx/202401/t20240110_99999.html")]
    assert "HTTP 404" in f.detail and f.facts["second_probe"]["status"] == 404
    assert f.facts["referrers"][0]["page"] == sandbox.urls["jyj"]
    assert "循环重定向" in jyj[sandbox.url("jyj", "/loop/a.html")].detail
    ext = _by(link_reports["zrzyj"], "link.dead")["http://www.old-bureau.qinghe.gov.cn.invalid/"]
    assert "域名无法解析" in ext.detail and "DNS" in ext.facts["second_probe"]["error"] and ext.facts["external"]
    assert "http://www.qhxw.net/news/2019/123.html" in _by(link_reports["cgz"], "link.dead")


def test_transient_failure_is_not_a_dead_link(link_reports, sandbox):
    flaky = sandbox.url("portal", "/zt/flaky.html")
    assert flaky not in _by(link_reports["portal"], "link.dead")
    assert sandbox.apps["portal"].counts["/zt/flaky.html"] >= 2  # failed once, then re-probed


def test_illegal_and_hidden_links(link_reports):
    rsj_illegal = _by(link_reports["rsj"], "link.illegal")
    assert set(rsj_illegal) == {"http://www.xpj-casino888.com/", "http://www.xpj-casino888.com/reg.html"}
    hidden = _by(link_reports["rsj"], "link.hidden")
    assert "display:none" in hidden["http://www.xpj-casino888.com/"].facts["css"]
    assert "left:-3000px" in hidden["http://www.xpj-casino888.com/reg.html"].facts["css"]
    # a domain that now serves gambling content is caught by what it serves
    lvyou = _by(link_reports["bmz"], "link.illegal")["http://www.qinghe-lvyou.com/"]
    assert any("目标页面" in r for r in lvyou.facts["reasons"])
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
class _Small(HTMLHandler):
    """A tiny site: an internal dead link, two external links whose names do not resolve; "/" answers 200."""

    def do_GET(self):
        if self.path == "/":
            body = ('<html><head><title>某局</title></head><body><a href="/missing.html">旧通知</a>'
                    '<a href="http://www.gone.invalid/">已关闭的网站</a><a href="http://www.gov.cn.invalid/x.html">中国政府网</a>'
                    "</body></html>").encode()
            self.reply(200, body)
        else:
            self.reply(404, b"<html><body>404</body></html>")


@pytest.fixture
def small_site():
    srv = serve(_Small)
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


# ------------------------------------------------------------------- illegal and hidden links: a labelled fixture
FIXTURES = Path(__file__).parent / "data" / "links"


class _Internet(http.server.BaseHTTPRequestHandler):
    """The fixture site on 127.0.0.1 and the external hosts of tests/data/links/targets.json, by Host header."""

    pages: dict = {}

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        if host in self.pages:
            title, text = self.pages[host]
            body = f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>".encode()
        elif host in ("127.0.0.1", "ref.test") and self.path in ("/", "/index.html"):
            body = (FIXTURES / "home.html").read_bytes()
        else:
            body = b"<html><body>404</body></html>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *a):
        pass


def _precision_recall(found: set, truth: set) -> tuple[float, float]:
    return (len(found & truth) / len(found) if found else 1.0), (len(found & truth) / len(truth) if truth else 1.0)


def test_labelled_fixture_precision_and_recall():
    """The fixture's illegal and hidden links, with tricky negatives (a Macau travel page, a welfare-lottery site,
    888 in a tea shop's name, crackdown news, hover menus, the font-size:0 gap trick, an image-replaced badge):
    precision and recall 1.0 (on the code before this fixture: bet-lvyou.top, the marquee and the descendant
    selector missed, the partner list under font-size:0 accused)."""
    labels = json.loads((FIXTURES / "targets.json").read_text("utf-8"))
    _Internet.pages = labels["pages"]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Internet)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        port = srv.server_address[1]
        resolve = {h: ("127.0.0.1", port) for h in [*labels["pages"], "ref.test"]}
        cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), offline_dns=True, resolve_map=resolve, delay=0.0, timeout=5.0,
                          retries=0, link_recheck_interval=0.2, reference_urls=("http://ref.test/",), max_pages=5)
        rep = inspect_site(f"http://127.0.0.1:{port}/", dt.date(2026, 11, 23), cfg, content=False)
    finally:
        srv.shutdown()
        srv.server_close()
    illegal, hidden = set(_by(rep, "link.illegal")), set(_by(rep, "link.hidden"))
    assert _precision_recall(illegal, set(labels["illegal"])) == (1.0, 1.0), illegal ^ set(labels["illegal"])
    assert _precision_recall(hidden, set(labels["hidden"])) == (1.0, 1.0), hidden ^ set(labels["hidden"])
    travel = _by(rep, "link.illegal")["http://www.bet-lvyou.top/"]
    assert "清河旅游网" in travel.detail and "未能读取" in travel.detail
    assert any("目标页面" in r for r in _by(rep, "link.illegal")["http://www.qinghe-travel.com/"].facts["reasons"])
    assert "<marquee" in _by(rep, "link.hidden")["http://www.sina-ty.cc/"].facts["css"]


def _real_pages():
    from realdata import REALDATA

    labels = {l["path"]: l.get("url") for l in json.loads((REALDATA / "pages-v2" / "labels.json").read_text("utf-8"))} \
        if (REALDATA / "pages-v2" / "labels.json").exists() else {}
    for f in sorted(glob.glob(str(REALDATA / "pages" / "*.html")) + glob.glob(str(REALDATA / "pages-v2" / "*" / "*.html"))):
        rel = f.split("pages-v2/")[-1]
        yield f, labels.get(rel) or "https://real-page.example.gov.cn/a/index.html"


def test_real_pages_have_no_illegal_or_hidden_links():
    """Every external link of the real pages under ../shared/realdata, judged as the link check would without a
    readable target (domain and anchor text) and by its hiding: no finding (none is labelled)."""
    pages = list(_real_pages())
    if not pages:
        pytest.skip("../shared/realdata not present")
    accused = []
    n_links = 0
    for f, url in pages:
        text, _ = decode_html(Path(f).read_bytes(), "text/html")
        host = urlsplit(url).hostname
        for link in extract_page(text, url).links:
            if urlsplit(link.url).hostname == host:
                continue
            n_links += 1
            verdict = classify_illegal(link.url, RS['links'], link.text)
            if verdict or (link.hidden and not hiding_is_weak(link.hidden) and not trusted(link.url, RS['links'])):
                accused.append((f, link.url, link.text, link.hidden, verdict))
    assert n_links > 1000 and accused == []


class _Home(HTMLHandler):
    html = ""

    def do_GET(self):
        self.reply(200 if self.path == "/" else 404, self.html if self.path == "/" else "<html><body>404</body></html>")


def test_a_new_hover_menu_link_is_not_a_defaced_home(tmp_path):
    """site.defaced (home page new hidden or illegal links since the previous crawl): a new external link in a
    hover menu is hidden only the way menus are, not a sign of defacement; a new link under font-size:0 is."""
    menu = ('<style>.nav li ul{display:none}.nav li:hover ul{display:block}</style><ul class="nav"><li><a href="/zw/">政务</a>'
            '<ul><li><a href="http://www.hbzwfw.example.com/">政务服务网</a></li>{new}</ul></li></ul>')
    page = "<html><head><title>某县人民政府</title></head><body>{menu}{extra}<p>主办单位：某县人民政府</p></body></html>"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Home)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), delay=0.0, timeout=5.0, retries=0, check_links=False)
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        _Home.html = page.format(menu=menu.replace("{new}", ""), extra="")
        inspect_site(url, dt.date(2026, 11, 23), cfg, None, tmp_path / "r1", content=False)
        _Home.html = page.format(menu=menu.replace("{new}", '<li><a href="http://www.jtys.example.com/">交通运输厅</a></li>'), extra="")
        second = inspect_site(url, dt.date(2026, 11, 23), cfg, None, tmp_path / "r2", previous=tmp_path / "r1", content=False)
        _Home.html = page.format(menu=menu.replace("{new}", '<li><a href="http://www.jtys.example.com/">交通运输厅</a></li>'),
                                 extra='<span style="font-size:0"><a href="http://www.seo-links.example.com/">链接</a></span>')
        third = inspect_site(url, dt.date(2026, 11, 23), cfg, None, tmp_path / "r3", previous=tmp_path / "r2", content=False)
    finally:
        srv.shutdown()
        srv.server_close()
    assert "site.defaced" not in {f.rule for f in second.findings}
    defaced = next(f for f in third.findings if f.rule == "site.defaced")
    assert defaced.facts["new_links"] == ["http://www.seo-links.example.com/"]
