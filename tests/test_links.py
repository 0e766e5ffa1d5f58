"""Link checks: dead (two failures apart), illegal (domain, text, content), hidden (CSS evidence)."""

import pytest

from govinspect.engine.checks.links import classify_illegal
from govinspect.engine.extract import extract_page
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
    assert stats["links_external"] >= 3 and stats["links_dead"] == 0
