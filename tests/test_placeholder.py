"""site.placeholder_text: template placeholders left in a home page's title, keywords, description or main navigation."""

import datetime as dt

import pytest
from loopback import HTMLHandler, serve

from govinspect.engine.checks.placeholder import _markup, placeholder_hits
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.inspect import inspect_site
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()
WORDS = RS["catalog"]["rules"]["site.placeholder_text"]


def _home(title, keywords="", description="", nav=(), body=""):
    meta = (f'<meta name="keywords" content="{keywords}">' if keywords else "") + (
        f'<meta name="description" content="{description}">' if description else "")
    items = "".join(f'<li><a href="/{i}/">{n}</a></li>' for i, n in enumerate(nav))
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>{meta}</head><body>"
            f'<div class="header"><div id="nav" class="nav"><ul>{items}</ul></div></div>'
            f'<div class="main">{body}<p>{"清河县人民政府门户网站提供政务公开、政务服务和互动交流。" * 5}</p></div>'
            f"<div class=\"footer\">主办单位：清河县人民政府办公室 网站标识码1301230001</div></body></html>")


# the county portal that prompted the rule: a company template never filled in
PORTAL = _home("公司网站", "公司", "", ("网站首页", "公司概况", "新闻中心", "联系我们"))
CLEAN_BODY = ('<div class="list"><a href="/n/1.html">县交通投资公司召开安全生产会议</a> <a href="/n/2.html">公司概况</a>'
              '<a href="/n/3.html">关于我们</a></div><div class="copy">技术支持：某网络科技有限公司 Powered by SiteEngine</div>')
CLEAN = _home("清河县人民政府", "清河县,人民政府,政务公开,国资公司", "清河县人民政府门户网站，发布政务信息、政策文件和公司注册办事指南",
              ("首页", "政务公开", "政务服务", "国资公司", "城投公司", "关于我们", "公司注册"), CLEAN_BODY)
POSITIVE = {
    "portal": (PORTAL, {("title", "公司网站"), ("keywords", "公司"), ("navigation", "公司概况")}),
    "powered": (_home("清河县人民政府 - Powered by PageAdmin CMS"), {("title", "powered by")}),
    "title-word": (_home("网站标题"), {("title", "网站标题")}),
    "title-part": (_home("公司 | 首页"), {("title", "公司")}),
    "lorem": (_home("清河县人民政府", description="Lorem ipsum dolor sit amet"), {("description", "lorem ipsum")}),
    "nav": (_home("清河县城关镇人民政府", nav=("首页", "镇情概况", "公司简介")), {("navigation", "公司简介")}),
    "fullwidth": (_home("Ｄｅｆａｕｌｔ　Ｔｉｔｌｅ"), {("title", "default title")}),
}
NEGATIVE = {
    "clean": CLEAN,
    "company-names": _home("清河县国有资产监督管理委员会", "国资委,国资公司,城投公司,国有企业", "清河县国资委监管企业：县城投公司、县交投公司",
                           ("首页", "国资动态", "监管企业", "国资公司", "企业公司概况")),
    "words-in-body": _home("清河县教育局", body="<p>这里是标题党新闻的整治通报：网站标题不得夸大。公司概况见附件。</p>"),
}


def _inspect(html: str):
    class Site(HTMLHandler):
        def do_GET(self):
            self.reply(200, html) if self.path in ("/", "/index.html") else self.reply(404, "<html><body>无</body></html>")

    srv = serve(Site)
    try:
        cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), delay=0.0, timeout=5.0, retries=0, check_links=False, max_pages=5)
        return inspect_site(f"http://127.0.0.1:{srv.server_address[1]}/", dt.date(2026, 6, 1), cfg, [], content=False, rules=RS)
    finally:
        srv.shutdown()


@pytest.mark.parametrize("key", sorted(POSITIVE))
def test_placeholders_on_a_served_home_page_are_one_site_finding(key):
    html, expected = POSITIVE[key]
    rep = _inspect(html)
    found = [f for f in rep.findings if f.rule == "site.placeholder_text"]
    assert len(found) == 1, [f.detail for f in rep.findings]
    f = found[0]
    assert f.subject.kind == "site" and f.url == rep.site_url and set(f.facts) == {"hits"}
    assert {(h["field"], h["placeholder"]) for h in f.facts["hits"]} == expected
    assert f.detail.startswith("网站首页仍保留模板占位内容")
    a, b = f.evidence.hit
    assert f.evidence.excerpt[a:b].casefold() == f.facts["hits"][0]["placeholder"]
    assert f.evidence.captured_at and f.evidence.http_status == 200


@pytest.mark.parametrize("key", sorted(NEGATIVE))
def test_real_government_wording_is_no_placeholder(key):
    rep = _inspect(NEGATIVE[key])
    assert rep.status == "checked"
    assert not [f for f in rep.findings if f.rule == "site.placeholder_text"]


def test_the_words_are_data():
    fields = {"title": ["清河县人民政府"], "keywords": [], "description": [], "navigation": ["门户概况"]}
    assert placeholder_hits(fields, WORDS) == []
    assert placeholder_hits(fields, {**WORDS, "nav_whole": ["门户概况"]}) == [
        {"field": "navigation", "text": "门户概况", "placeholder": "门户概况"}]


def test_real_government_pages_carry_no_placeholder(realdata):
    pages = sorted(p for p in realdata.rglob("*.html"))
    assert len(pages) >= 20
    hits = {p.name: placeholder_hits(_markup(p.read_bytes(), ""), WORDS) for p in pages}
    assert {k: v for k, v in hits.items() if v} == {}
