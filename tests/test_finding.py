"""The finding contract: a fingerprint names the same problem across rounds and cosmetic page changes, and only it."""

import datetime as dt
from pathlib import Path

import pytest

from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.finding import Evidence, Finding, Location, Subject, fingerprint
from govinspect.engine.inspect import inspect_site
from tests.loopback import HTMLHandler, serve

AS_OF = dt.date(2026, 11, 23)


def test_fingerprint_ignores_cosmetics_but_not_the_matched_text():
    a = Finding.at_url("privacy.id_number", "http://a.gov.cn/x/t1.html#top", "d1", facts={"text": "1305**********8376"})
    b = Finding.at_url("privacy.id_number", "HTTP://A.gov.cn:80/x/t1.html", "另一种描述",
                       facts={"text": " 1305**********8376 "})
    b.evidence = Evidence(excerpt="完全不同的摘录", hit=(3, 21), captured_at="2027-01-01T00:00:00")
    assert a.fingerprint == b.fingerprint  # case, default port, fragment, spaces, wording, capture time
    c = Finding.at_url("privacy.id_number", "http://a.gov.cn/x/t1.html", "d1", facts={"text": "1305**********9999"})
    assert c.fingerprint != a.fingerprint  # another ID number on the same page is another problem
    d = Finding.at_url("privacy.mobile", "http://a.gov.cn/x/t1.html", "d1", facts={"text": "1305**********8376"})
    assert d.fingerprint != a.fingerprint  # another rule
    e = Finding.at_url("privacy.id_number", "http://a.gov.cn/x/t2.html", "d1", facts={"text": "1305**********8376"})
    assert e.fingerprint != a.fingerprint  # another page
    # the home page under its file names and full-width text are the same place and text
    h1 = Finding.at_url("content.sensitive", "http://a.gov.cn/index.html", "", match="ＡＢＣ词")
    h2 = Finding.at_url("content.sensitive", "http://a.gov.cn/", "", match="ABC词")
    assert h1.fingerprint == h2.fingerprint


def test_typed_subjects_and_locations_round_trip_without_pseudo_urls():
    f = Finding(rule="document.published_late", detail="x", subject=Subject(kind="register_row", unit="县发改局", ref="清发改〔2026〕3号"),
                location=Location(file="公文公开属性台账.xlsx", sheet="Sheet1", row=7), facts={"number": "清发改〔2026〕3号"})
    d = f.to_dict()
    assert d["location"] == {"file": "公文公开属性台账.xlsx", "sheet": "Sheet1", "row": 7} and "url" not in d["location"]
    g = Finding.from_dict(d)
    assert g == f and g.fingerprint == f.fingerprint == d["fingerprint"]
    moved = Finding(rule=f.rule, detail="x", subject=f.subject, location=Location(file="公文公开属性台账.xlsx", sheet="Sheet1", row=8))
    assert moved.fingerprint == f.fingerprint  # named by its document number: the row it sits in may change
    unnamed = Subject(kind="register_row", unit="县发改局")  # no number: the row is all that tells two rows apart
    assert fingerprint(f.rule, unnamed, Location(file="a.xlsx", row=7)) != fingerprint(f.rule, unnamed, Location(file="a.xlsx", row=8))
    with pytest.raises(ValueError):
        Subject(kind="register")  # only the declared kinds
    assert fingerprint("r", Subject(kind="account", account="微信/清河发布"), Location()) == \
        fingerprint("r", Subject(kind="account", account="微信/清河发布", unit="别的单位"), Location())


_PAGES = {
    1: """<html><head><title>通知公告 - 清河县人民政府</title></head><body><div class=nav><a href="/">首页</a></div>
<div class=content><h1>关于低保对象的公示</h1><p>发布日期：2026-11-02</p>
<p>申请人张某某，身份证号 130534199001018378，经审核符合条件。</p></div></body></html>""",
    # the same text in a new template: other navigation, other wrappers and whitespace, full-width digits in the number
    2: """<!DOCTYPE html><html><head><meta charset="utf-8"><title>清河县人民政府-通知公告</title></head><body>
<header><ul><li><a href="/">网站首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul></header>
<main><article><h2>关于低保对象的公示</h2><span class="date">2026-11-02</span>
<section><p>  申请人张某某，
   身份证号 １３０５３４１９９００１０１８３７８，经审核符合条件。</p></section></article></main><footer>版权所有</footer></body></html>""",
    # another ID number on the same page
    3: """<html><head><title>通知公告</title></head><body><h1>关于低保对象的公示</h1><p>发布日期：2026-11-02</p>
<p>申请人张某某，身份证号 130534198507124413，经审核符合条件。</p></body></html>""",
}


@pytest.fixture
def site():
    """One loopback site whose article page is served in the version set in state["v"]."""
    state = {"v": 1}

    class H(HTMLHandler):
        def do_GET(self):
            if self.path == "/":
                self.reply(200, '<html><head><title>清河县人民政府</title></head><body><a href="/tzgg/t1.html">关于低保对象的公示</a></body></html>')
            elif self.path == "/tzgg/t1.html":
                self.reply(200, _PAGES[state["v"]])
            else:
                self.reply(404, "not found")

    srv = serve(H)
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/", state
    finally:
        srv.shutdown()


def _id_finding(url: str, out: Path) -> Finding:
    rep = inspect_site(url, AS_OF, CrawlConfig(allow_networks=("127.0.0.0/8",), delay=0, check_links=False), out_dir=out)
    hits = [f for f in rep.findings if f.rule == "privacy.id_number"]
    assert len(hits) == 1, [f.to_dict() for f in rep.findings]
    return hits[0]


def test_a_problem_keeps_its_fingerprint_across_rounds_and_a_new_template(site, tmp_path):
    url, state = site
    first = _id_finding(url, tmp_path / "r1")
    assert _id_finding(url, tmp_path / "r2").fingerprint == first.fingerprint  # the next round
    state["v"] = 2
    assert _id_finding(url, tmp_path / "r3").fingerprint == first.fingerprint  # the page in a new template
    state["v"] = 3
    assert _id_finding(url, tmp_path / "r4").fingerprint != first.fingerprint  # another ID number
    # the evidence points at the captured record and shows the hit, masked
    ev = first.evidence
    assert ev.warc_file and ev.warc_offset is not None and ev.http_status == 200
    assert "130534199001018378" not in (ev.excerpt + first.match + str(first.facts))
    assert ev.hit and ev.excerpt[ev.hit[0]:ev.hit[1]] == first.match


def test_a_hit_on_many_pages_is_placed_on_the_same_page_whatever_the_crawl_order():
    from govinspect.engine.checks.content import SiteContent
    from govinspect.engine.content import ContentChecker

    checker = ContentChecker(only=("privacy",), typos=False)
    text = "联系人身份证号130534199001018378，欢迎来电。"
    (hit,) = checker.check(text)
    pages = ["http://a.gov.cn/b.html", "http://a.gov.cn/a.html", "http://a.gov.cn/c.html"]
    prints = set()
    for order in (pages, pages[::-1], pages[1:] + pages[:1]):
        sc = SiteContent(checker)
        for u in order:
            sc._add(u, hit, text, {"page_title": u})
        (f,) = sc.findings("http://a.gov.cn/")
        assert f.url == "http://a.gov.cn/a.html" and f.facts["also_on"] == 2
        prints.add(f.fingerprint)
    assert len(prints) == 1


def test_register_rows_and_letters_keep_their_fingerprint_when_the_file_grows_or_is_renamed():
    subj = Subject(kind="register_row", unit="县发改局", ref="清发改〔2026〕3号")
    a = fingerprint("document.published_late", subj, Location(file="2026Q3台账.xlsx", row=5))
    b = fingerprint("document.published_late", subj, Location(file="2026Q4台账.xlsx", sheet="台账", row=9))
    assert a == b
    assert a != fingerprint("document.published_late", Subject(kind="register_row", unit="县发改局", ref="清发改〔2026〕4号"),
                            Location(file="2026Q3台账.xlsx", row=5))
    # content ids in query strings are kept (sid is a content id on many CMS sites), session ids dropped
    assert Finding.at_url("link.dead", "http://a.gov.cn/art.jsp?sid=101", "").fingerprint != \
        Finding.at_url("link.dead", "http://a.gov.cn/art.jsp?sid=202", "").fingerprint
    assert Finding.at_url("link.dead", "http://a.gov.cn/art.jsp;jsessionid=ABC?id=1", "").fingerprint == \
        Finding.at_url("link.dead", "http://a.gov.cn/art.jsp?id=1", "").fingerprint
