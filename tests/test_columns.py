"""Columns on sites we did not write (issue 15, items 3-5): names from the block, a column's own list, redirect stubs.

A small county portal built the way real ones are (tests/data/columns-site/, written for these tests: EmpireCMS-like
paths, a home page with "更多>>" / "MORE" / icon links under headings and tabs, tab variants of the home page, a
信息公开 目录, a 政府信息公开平台 <dl> list, a countPage pager, side bars and boxes repeated across columns, redirect
stubs) is served over HTTP on 127.0.0.1 and inspected as an office would, with no registry; the real list pages of
../shared/realdata/pages-v2/ are served the same way under their own host names.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govinspect.engine.checks.freshness import ColumnSpec, check_column, column_list
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.crawler import crawl_site
from govinspect.engine.inspect import discover_columns, inspect_site
from loopback import HTMLHandler, serve
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()

SITE = Path(__file__).parent / "data" / "columns-site"
AS_OF = dt.date(2026, 11, 23)


def _serve(files: dict[str, Path]):
    """A static site: URL path (query ignored, "/" and directories -> index.html) -> file; anything else 404."""

    class Handler(HTMLHandler):
        def do_GET(self):
            path = urlsplit(self.path).path
            if path.endswith("/"):
                path += "index.html"
            f = files.get(path)
            self.reply(200 if f else 404, f.read_bytes() if f else b"<html><body>404 Not Found</body></html>")

    srv = serve(Handler)
    return srv


def _cfg(port: int, *hosts: str, **kw) -> CrawlConfig:
    return CrawlConfig(allow_networks=("127.0.0.1/32",), offline_dns=True, delay=0.0, timeout=5.0, retries=0,
                       resolve_map={h: ("127.0.0.1", port) for h in hosts}, check_links=False, **kw)


@pytest.fixture(scope="module")
def site():
    srv = _serve({"/" + str(p.relative_to(SITE)): p for p in SITE.rglob("*.html")})
    port = srv.server_address[1]
    url = "http://www.qsx.gov.test/"
    crawl = crawl_site(url, _cfg(port, "www.qsx.gov.test"))
    rep = inspect_site(url, AS_OF, _cfg(port, "www.qsx.gov.test"), content=False)
    yield url, crawl, rep, port
    srv.shutdown()
    srv.server_close()


def _col(rep, path):
    return next(c for c in rep.columns if urlsplit(c.url).path == path)


# ---------------------------------------------------------------------------------------- item 3: discovery
def test_more_and_icon_links_take_the_block_heading_or_tab(site):
    url, crawl, _, _ = site
    names = {urlsplit(c.url).path: c.name for c in discover_columns(crawl, crawl.site_url, RS['freshness'])}
    assert names["/ywdt/gzdt/"] == "工作动态"  # <h3>工作动态</h3> … <a>更多>></a>
    assert names["/tzgg/"] == "通知公告"  # first tab pane's "more+"
    assert names["/zcwj/"] == "政策文件"  # second tab pane's icon link
    assert names["/xzdt/"] == "乡镇动态"  # <span>乡镇动态</span><em>TOWNSHIP NEWS</em> … MORE
    assert not any(n.startswith(("更多", "MORE", "more")) for n in names.values())


def test_tab_variants_of_the_home_page_are_not_columns(site):
    url, crawl, _, _ = site
    cols = discover_columns(crawl, crawl.site_url, RS['freshness'])
    assert crawl.get(url + "index.html?link=zwgk").ok  # fetched, and it is the home page
    assert not any(urlsplit(c.url).query or urlsplit(c.url).path in ("/", "/index.html") for c in cols)


def test_the_disclosure_directory_is_followed_two_clicks_deep(site):
    url, crawl, _, _ = site
    names = {urlsplit(c.url).path: c.name for c in discover_columns(crawl, crawl.site_url, RS['freshness'])}
    assert names.get("/xxgk/czyjs/") == "财政预决算" and names.get("/xxgk/zfxxgkzn/") == "政府信息公开指南"
    assert "/xxgk/" not in names  # the landing page itself has no list


# ---------------------------------------------------------------------------------------- item 4: own list
def test_a_side_bar_of_another_columns_fresh_items_does_not_make_a_column_fresh(site):
    _, _, rep, _ = site
    c = _col(rep, "/ywdt/gzdt/")
    assert c.newest_date == dt.date(2025, 7, 24) and c.item_count == 4
    assert c.status == "stale"  # the side bar's 2026-11-18 belongs to 通知公告


def test_dl_list_with_dates_in_sibling_elements_pinned_item_and_countpage_pager(site):
    url, crawl, rep, _ = site
    page = crawl.get(url + "tzgg/").page
    assert {(i.title, i.date) for i in page.items if "/tzgg/" in i.url} >= {
        ("[置顶] 青山县政务服务事项办事指南", dt.date(2024, 3, 1)), ("关于冬季供暖期间安全用气的公告", dt.date(2026, 11, 10))}
    assert url + "tzgg/index_1.html" in page.next_pages  # var countPage = 2
    c = _col(rep, "/tzgg/")
    # pinned old item first, unsorted after it; the 相关信息 box's 2026-11-22 is another column's
    assert c.newest_date == dt.date(2026, 11, 18) and c.status == "ok"
    assert c.item_count == 6 and any(p.endswith("index_1.html") for p in c.pages)


def test_a_box_repeated_on_many_columns_pages_is_not_the_columns_list(site):
    _, _, rep, _ = site
    c = _col(rep, "/zcwj/")  # items under /art/… (outside the column's path) in a table; the repeated box is fresher
    assert c.newest_date == dt.date(2026, 2, 10) and c.item_count == 4
    x = _col(rep, "/xzdt/")  # the same box on a column whose own items lie under its path
    assert x.newest_date == dt.date(2026, 11, 16) and x.item_count == 2


def test_lists_that_cannot_be_told_apart_make_the_column_unknown_not_fresh(site):
    _, _, rep, _ = site
    c = _col(rep, "/gsgg/")
    assert c.status == "unknown" and c.newest_date is None
    assert c.reason == "栏目页面有多个信息列表，无法确定哪一个是本栏目自身的列表"


def test_a_page_with_only_a_side_bar_dated_is_unknown_not_fresh(site):
    _, _, rep, _ = site
    c = _col(rep, "/ldhd/")  # its own list shows no dates (articles 404 here); the side bar's 2026-11-18 is not its
    assert c.status == "unknown" and c.newest_date is None
    assert c.reason == "栏目页面只有侧栏、相关信息或各栏目共有的信息框，未找到本栏目自身的信息列表"


def test_month_day_dates_with_no_year_anywhere_are_not_guessed(site):
    _, _, rep, _ = site
    c = _col(rep, "/tpxw/")  # "10-18" beside show.asp?id= links, no year heading; a footer <p> of 60 characters
    assert c.status == "unknown" and c.reason == "栏目信息的日期只有月日、没有年份，无法判断更新情况"


def test_month_day_dates_take_the_year_from_the_url(site):
    url, crawl, _, _ = site
    home = {i.url: i.date for i in crawl.get(url).page.items}
    assert home[url + "ywdt/gzdt/2025-07-24/1021.html"] == dt.date(2025, 7, 24)  # shown as "07-24"


def test_month_day_dates_take_the_year_from_the_heading_over_the_list(site):
    _, _, rep, _ = site
    c = _col(rep, "/zwgk/rsxx/")  # show.asp?id= items (no year in the URL) under <h3>2026年</h3> and <h3>2025年</h3>
    assert c.name == "人事信息" and c.item_count == 4
    assert c.newest_date == dt.date(2026, 3, 10) and c.newest_title == "关于王某某等同志职务任免的通知"


# ---------------------------------------------------------------------------------------- item 5: redirect stubs
def test_stub_to_an_external_platform_is_unknown_with_the_host(site):
    _, _, rep, _ = site
    c = _col(rep, "/zwfw/")
    assert c.status == "unknown" and c.reason == "跳转至外部平台 zwfw.example-platform.cn"
    assert c.status != "empty"


def test_stub_within_the_site_is_followed(site):
    url, crawl, rep, _ = site
    assert crawl.get(url + "hdjl/").page.redirect_to == url + "hdjl/xjxx/index.html"
    assert crawl.get(url + "hdjl/xjxx/index.html").ok  # the crawler fetched the target
    c = _col(rep, "/hdjl/")
    assert c.name == "县长信箱" and c.newest_date == dt.date(2026, 11, 19) and c.item_count == 2


def test_registered_stub_column_reads_its_target(site):
    url, crawl, _, _ = site
    res = check_column(crawl, ColumnSpec(name="县长信箱", url=url + "hdjl/"), AS_OF, RS['freshness'])
    assert res.status == "ok" and res.newest_date == dt.date(2026, 11, 19)
    assert res.pages == [url + "hdjl/xjxx/index.html"]


def test_a_recheck_of_known_pages_follows_a_seeds_stub(site):
    url, _, _, port = site
    known = crawl_site(url, _cfg(port, "www.qsx.gov.test", follow_links=False), seeds=[url + "hdjl/"])
    assert known.get(url + "hdjl/xjxx/index.html").ok and known.get(url + "ywdt/gzdt/") is None
    res = check_column(known, ColumnSpec(name="县长信箱", url=url + "hdjl/"), AS_OF, RS['freshness'])
    assert res.status == "ok" and res.newest_date == dt.date(2026, 11, 19)


# ---------------------------------------------------------------------------------------- real pages
def _labels(realdata):
    return json.loads((realdata / "pages-v2" / "labels.json").read_text(encoding="utf-8"))


def test_real_list_pages_newest_dates_through_the_column_check(realdata):
    lists = [x for x in _labels(realdata) if x["kind"] == "list"]
    assert lists
    for x in lists:
        u = urlsplit(x["url"])
        path = u.path if not u.path.endswith("/") else u.path + "index.html"
        srv = _serve({path: realdata / "pages-v2" / x["path"]})
        try:
            url = f"http://{u.hostname}{u.path}"
            crawl = crawl_site(url, _cfg(srv.server_address[1], u.hostname, follow_links=False, obey_robots=False))
            cl = column_list(crawl, url)
            assert not cl.reason, x["path"]
            assert sorted(i.date.isoformat() for i in cl.items) == sorted(x["list_item_dates"]), x["path"]
            res = check_column(crawl, ColumnSpec(name=x["title"], url=url), dt.date.fromisoformat(x["newest_date"]), RS['freshness'])
            assert res.newest_date.isoformat() == x["newest_date"] and res.item_count == x["item_count"], x["path"]
        finally:
            srv.shutdown()
            srv.server_close()
