"""Extraction: dates, lists, pagination and encodings, on real pages and on hostile synthetic ones."""

import datetime as dt
import json

import pytest

from govinspect.cli import main
from govinspect.engine.extract import decode_html, extract_page
from govinspect.engine.extract import dates
from govinspect.engine.extract.hiding import hiding_is_weak

D = dt.date

# expected publish dates: SOURCES.md and the pages themselves
REAL_ARTICLES = {
    "wanzai-2015-tjgb-article.html": (D(2022, 4, 24), None),
    "wanzai-2022-tjgb-article.html": (D(2023, 8, 16), None),
    "yichun-2022-tjgb-article.html": (D(2023, 5, 16), None),
    "yichun-jiangxi-2022-article.html": (D(2023, 5, 16), None),
    "shanxi-article.html": (D(2019, 9, 18), None),
    "zjfgw-article.html": (D(2016, 11, 22), None),
    "cmse-article-1.html": (D(2012, 6, 24), None),
    "cmse-article-2.html": (D(2021, 1, 5), None),
    "kepu-article.html": (D(2023, 12, 1), "http://www.kepu.gov.cn/politics/2023-12/01/content_1755244.html"),
    "nfra-penalty-1.html": (D(2025, 6, 3), None),
    "nfra-penalty-2.html": (D(2024, 7, 12), None),
}


def _page(path, url=None):
    text, _ = decode_html(path.read_bytes())
    return extract_page(text, url or "http://www.example.gov.cn/a/b.html")


@pytest.mark.parametrize("name", sorted(REAL_ARTICLES))
def test_real_article_publish_date(realdata, name):
    expected, url = REAL_ARTICLES[name]
    page = _page(realdata / "pages" / name, url)
    assert page.kind == "article"
    assert page.publish_date == expected, (name, page.date_source)


def test_kepu_date_without_url_comes_from_cms_block_not_related_links(realdata):
    page = _page(realdata / "pages" / "kepu-article.html")
    assert page.publish_date == D(2023, 12, 1)  # the page links to later articles (2023-12-29, 2024-03-18)


def test_yichun_home_newest_date(realdata):
    page = _page(realdata / "pages" / "yichun-home.html", "http://www.yichun.gov.cn/")
    assert page.kind == "list"
    assert page.newest_date == D(2023, 10, 11)
    # items printed as "10-11" take their year from the /202310/ URL
    assert len([i for i in page.items if i.date]) >= 30


def test_search_list_not_in_date_order(realdata):
    page = _page(realdata / "pages" / "jiujiang-search-list.html", "http://www.jiujiang.gov.cn/search.html")
    assert page.kind == "list"
    assert page.publish_date is None
    assert page.newest_date == D(2025, 11, 28)
    assert len(page.items) == 10  # the ten rendered results; the {{ template }} rows are not items


def test_hex_meta_digit_run_is_not_a_date(realdata):
    page = _page(realdata / "pages" / "wanzai-2022-tjgb-article.html")
    assert page.publish_date == D(2023, 8, 16)


GBK_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>通知</title></head>
<body><table><tr><td>今天是：2026年11月23日 星期一</td></tr>
<tr><td><a href="show.asp?id=1">关于王喆同志任职的通知</a></td><td>2026年03月02日</td></tr>
<tr><td><a href="show.asp?id=2">关于做好秸秆禁烧工作的通知</a></td><td>2026年01月15日</td></tr>
<tr><td><a href="show.asp?id=3">关于开展安全生产检查的公告</a></td><td>2025.12.30</td></tr></table>
<div>版权所有 2005-2026</div></body></html>"""


def test_gbk_page_without_charset_header_reads_correctly():
    body = GBK_PAGE.encode("gbk")  # 喆 is in GBK but not in GB2312: decoded as gb18030
    text, enc = decode_html(body, "text/html")
    assert enc == "gb18030"
    page = extract_page(text, "http://x.gov.cn/list.asp?classid=1")
    assert page.items[0].title == "关于王喆同志任职的通知"
    # the header clock (as-of date) and the footer years are not publication dates
    assert page.newest_date == D(2026, 3, 2)


def test_gbk_page_without_any_declaration_is_detected():
    body = GBK_PAGE.replace('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "").encode("gbk")
    text, _ = decode_html(body, None)
    assert "关于做好秸秆禁烧工作的通知" in text


def test_wrong_declared_charset_falls_back():
    body = "<html><head><meta charset='utf-8'></head><body><p>政务公开工作要点</p></body></html>".encode("gbk")
    text, enc = decode_html(body, "text/html; charset=utf-8")
    assert "政务公开工作要点" in text and enc != "utf-8"


def test_labelled_date_beats_related_box_and_footer():
    html = """<html><body><div class="top">今天是2026年11月23日</div><h1>关于开展森林防火检查的通知</h1>
    <div class="info">发布时间：2024年10月13日 09:30 来源：县应急局</div><p>正文内容正文内容。</p>
    <div class="related"><ul><li><a href="/a.html">另一条很新的信息标题</a><span>2026-11-20</span></li></ul></div>
    <div>版权所有 © 2018-2026</div></body></html>"""
    page = extract_page(html, "http://x.gov.cn/a/index.html")
    assert page.publish_date == D(2024, 10, 13) and page.date_source == "labelled"


def test_item_dates_come_from_the_container_not_the_anchor_text():
    # a menu <li> holding one anchor: a year in the anchor's own text is no item date; a date beside the anchor
    # (a tail, a sibling element) is; a long menu block stops the climb
    html = """<html><body><ul class="nav"><li><a href="/gk/2025nb.html">2025年政府信息公开年报</a></li>
    <li> <a href="/gk/a.html">关于春耕备耕工作的通知</a> 2026-03-02</li>
    <li><a href="/gk/b.html">关于秋季防火工作的通知</a><span>2026-10-09</span></li>
    <li><!-- x --><a href="/gk/c.html">关于冬季供暖工作的通知</a></li></ul>
    <div><p><a href="/gk/d.html">2026年11月20日工作会议纪要</a></p>发布：2026-11-21</div></body></html>"""
    items = {i.url.rsplit("/", 1)[1]: i.date for i in extract_page(html, "http://x.gov.cn/gk/index.html").items}
    assert items == {"a.html": D(2026, 3, 2), "b.html": D(2026, 10, 9), "d.html": D(2026, 11, 21)}


def test_url_date_fallback_and_patterns():
    assert dates.url_date("http://x.gov.cn/zwgk/202410/t20241013_123.html") == D(2024, 10, 13)
    assert dates.url_date("http://x.gov.cn/art/2024/10/3/art_1_2.html") == D(2024, 10, 3)
    assert dates.url_date("http://x.gov.cn/politics/2023-12/01/content_1.html") == D(2023, 12, 1)
    assert dates.url_date("http://x.gov.cn/t20241399_1.html") is None  # invalid date is rejected
    page = extract_page("<html><body><h1>标题</h1><p>无日期正文</p></body></html>", "http://x.gov.cn/c/202410/t20241013_9.html")
    assert page.publish_date == D(2024, 10, 13) and page.date_source == "url"


def test_trs_create_page_html_pagination():
    html = '<html><body><ul class="list"><li><a href="./202410/t20241013_1.html">关于某事项的通知公告</a><span>2024-10-13</span></li></ul>' \
           '<script>createPageHTML(4, 0, "index", "html");</script></body></html>'
    page = extract_page(html, "http://x.gov.cn/tzgg/index.html")
    assert page.next_pages == [f"http://x.gov.cn/tzgg/index_{i}.html" for i in (1, 2, 3)]
    assert page.items[0].url == "http://x.gov.cn/tzgg/202410/t20241013_1.html"


def test_create_page_html_cannot_explode():
    page = extract_page('<html><body><script>createPageHTML(99999999, 0, "index", "html");</script></body></html>', "http://x.gov.cn/a/index.html")
    assert len(page.next_pages) <= 1000


def test_hanweb_datastore_items_and_links():
    html = """<html><body><div id="1"><script type="text/xml"><datastore><recordset>
    <record><![CDATA[<li><a href="/art/2026/11/20/art_1_2.html" title="县卫健委开展义诊活动">县卫健委开展义诊活动</a><span>2026-11-20</span></li>]]></record>
    <record><![CDATA[<li><a href="/art/2026/10/2/art_1_3.html">关于医保参保工作的通知</a><span>[2026/10/02]</span></li>]]></record>
    </recordset></datastore></script></div></body></html>"""
    page = extract_page(html, "http://x.gov.cn/col/col1/index.html")
    assert page.kind == "list" and page.datastore
    assert [i.date for i in page.items] == [D(2026, 11, 20), D(2026, 10, 2)]
    assert "http://x.gov.cn/art/2026/11/20/art_1_2.html" in [l.url for l in page.links]


def test_empty_hanweb_column_is_marked_empty():
    html = '<html><body><script type="text/xml"><datastore><recordset></recordset></datastore></script></body></html>'
    page = extract_page(html, "http://x.gov.cn/col/col9/index.html")
    assert page.empty_marker and not page.items


@pytest.mark.parametrize("junk", [b"", b"\x00\x01\x02", b"<html><body><p>unclosed <div><a href='javascript:void(0)'>x", b"<?xml version='1.0' encoding='gbk'?><html></html>"])
def test_malformed_input_never_raises(junk):
    text, _ = decode_html(junk)
    page = extract_page(text, "http://x.gov.cn/")
    assert page.kind in ("article", "list", "other")


def test_extract_cli_contract(realdata, capsys):
    assert main(["extract", str(realdata / "pages" / "yichun-home.html"), "--url", "http://www.yichun.gov.cn/"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"kind", "title", "publish_date", "items", "newest_date", "next_pages", "links", "attachments"} <= set(out)
    assert out["newest_date"] == "2023-10-11"
    assert all({"title", "url", "date"} == set(i) for i in out["items"])


def test_extract_cli_missing_file(capsys):
    assert main(["extract", "/nonexistent/page.html"]) == 2
    assert "文件不存在" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ input robustness (issue 14)
UTF8_PAGE = GBK_PAGE.replace("charset=gb2312", "charset=utf-8")


def _with_stray_byte(body: bytes) -> bytes:
    i = body.index(b"<div>")
    return body[:i] + b"\xff" + body[i:]  # one invalid byte before the footer, as a broken CMS writes it


@pytest.mark.parametrize("ctype", [None, "text/html", "text/html; charset=utf-8"])
def test_one_stray_byte_does_not_flip_a_utf8_page(ctype):
    body = _with_stray_byte(UTF8_PAGE.encode("utf-8"))
    text, enc = decode_html(body, ctype)
    assert enc == "utf-8"
    assert text.count("\ufffd") == 1  # only the bad byte is lost
    page = extract_page(text, "http://x.gov.cn/list.asp?classid=1")
    assert page.title == "通知"
    assert [i.title for i in page.items] == ["关于王喆同志任职的通知", "关于做好秸秆禁烧工作的通知", "关于开展安全生产检查的公告"]
    # without any declaration either
    undeclared = body.replace(b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', b"")
    assert decode_html(undeclared, ctype if ctype != "text/html; charset=utf-8" else None)[1] == "utf-8"


def test_header_and_meta_disagree():
    # a UTF-8 page whose template still says gb2312, served as UTF-8, with a stray byte: the header is right
    body = _with_stray_byte(GBK_PAGE.encode("utf-8"))
    text, enc = decode_html(body, "text/html; charset=utf-8")
    assert enc == "utf-8" and "关于王喆同志任职的通知" in text
    # a GBK page (meta gb2312) that the server labels UTF-8 by default, with a stray byte: the meta is right
    body = _with_stray_byte(GBK_PAGE.encode("gbk"))
    text, enc = decode_html(body, "text/html; charset=utf-8")
    assert enc == "gb18030" and "关于王喆同志任职的通知" in text
    # clean bytes: the header wins when it decodes them (as before)
    text, enc = decode_html(GBK_PAGE.encode("utf-8"), "text/html; charset=utf-8")
    assert enc == "utf-8" and "通知" in text
    # a real GBK page with a stray byte is still read as GBK, declared or not
    body = _with_stray_byte(GBK_PAGE.encode("gbk"))
    for ctype in (None, "text/html", "text/html; charset=gbk"):
        text, enc = decode_html(body, ctype)
        assert enc == "gb18030" and "关于王喆同志任职的通知" in text and text.count("\ufffd") == 1
    undeclared = body.replace(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', b"")
    text, enc = decode_html(undeclared, None)
    assert enc == "gb18030" and "关于开展安全生产检查的公告" in text


@pytest.mark.parametrize("depth", [300, 2100, 5000, 10_000])
@pytest.mark.parametrize("closed", [True, False])
def test_deep_nesting_drops_nothing(depth, closed):
    # libxml2 stops at 256 levels (2048 with huge_tree) and used to drop the rest of the page silently
    html = ("<html><head><title>县政府</title></head><body><p>页首文字</p>" + "<div><span>" * (depth // 2)
            + '<p>深处的正文</p><a href="/deep/a.html">深处的链接</a>'
            + ("</span></div>" * (depth // 2) if closed else "")
            + '<ul><li><a href="/after/b.html">关于嵌套之后的通知</a><span>2026-11-20</span></li></ul><p>页尾文字 网站标识码1234</p>'
            + "</body></html>")
    page = extract_page(html, "http://x.gov.cn/index.html")
    urls = [l.url for l in page.links]
    assert urls == ["http://x.gov.cn/deep/a.html", "http://x.gov.cn/after/b.html"]
    for words in ("页首文字", "深处的正文", "深处的链接", "关于嵌套之后的通知", "页尾文字 网站标识码1234"):
        assert words in page.text
    assert page.title == "县政府"
    assert [(i.title, i.date) for i in page.items] == [("关于嵌套之后的通知", D(2026, 11, 20))]


def test_deep_nesting_within_libxml2s_reach_is_parsed_as_before():
    # 300 levels now parse in libxml2 itself (huge_tree), with the tree it always built
    html = "<html><body>" + "<div>" * 300 + '<table><tr><td><a href="/a.html">某某通知公告</a></td><td>2026-11-02</td></tr></table>' + "</div>" * 300 + "</body></html>"
    page = extract_page(html, "http://x.gov.cn/")
    assert [(i.url, i.date) for i in page.items] == [("http://x.gov.cn/a.html", D(2026, 11, 2))]


def test_a_deep_page_with_an_unclosed_head_keeps_its_title_out_of_the_text():
    html = '<html><head><title>县政府</title><meta name="ArticleTitle" content="关于某事的通知"><body>' + "<div>" * 3000 + "<p>正文内容</p>"
    page = extract_page(html, "http://x.gov.cn/a.html")
    assert page.title == "关于某事的通知" and page.text == "正文内容"


# ------------------------------------------------------------------ list layouts and blocks (issue 15, item 4)
_LIST_HEAD = '<html><head><meta charset="utf-8"><title>通知公告_某县人民政府</title></head><body>'


def test_dl_list_with_the_date_in_a_sibling_dd_without_class():
    html = _LIST_HEAD + ('<dl><dt>标题</dt><dt>发布日期</dt>'
                         '<dd><a href="/tzgg/1.html">关于开展冬季安全检查的通知</a></dd><dd>2026-03-10</dd>'
                         '<dd><a href="/tzgg/2.html">关于调整办公时间的公告</a></dd><dd>[2026-02-01]</dd></dl>'
                         '<ul class="nav"><li><a href="/a/">机构概况</a></li><li><a href="/b/">政策文件</a></li></ul></body></html>')
    p = extract_page(html, "http://x.gov.cn/tzgg/")
    assert [(i.url, i.date) for i in p.items] == [("http://x.gov.cn/tzgg/1.html", D(2026, 3, 10)),
                                                  ("http://x.gov.cn/tzgg/2.html", D(2026, 2, 1))]
    assert p.kind == "list" or len(p.items) == 2  # the menu's undated links are not items


def test_count_page_pager_gives_the_next_pages():
    html = _LIST_HEAD + ('<ul><li><a href="./202603/t20260310_1.html">关于开展冬季安全检查的通知</a><span>2026-03-10</span></li></ul>'
                         '<script>var currentPage = 0;//所在页从0开始\nvar countPage = 3//共多少页</script></body></html>')
    p = extract_page(html, "http://x.gov.cn/tzgg/index.shtml")
    assert p.next_pages == ["http://x.gov.cn/tzgg/index_1.shtml", "http://x.gov.cn/tzgg/index_2.shtml"]
    assert p.list_markers


def test_side_bars_and_related_boxes_are_marked():
    row = '<li><a href="/{0}/{1}.html">第{1}条信息的标题文字</a><span>2026-0{1}-01</span></li>'
    html = (_LIST_HEAD + '<div class="rightside"><ul class="list">' + "".join(row.format("gzdt", i) for i in (1, 2, 3)) + '</ul>'
            '<div><h4>相关信息</h4><ul>' + row.format("xgxx", 4) + '</ul></div></div>'
            '<div class="sidebar"><ul>' + row.format("tzgg", 5) + '</ul></div>'
            '<div class="box"><div class="t">热点新闻</div><ul>' + row.format("rdxw", 6) + '</ul></div></body></html>')
    p = extract_page(html, "http://x.gov.cn/gzdt/")
    side = {i.url.split("/")[3] for i in p.items if i.box.startswith("side:")}
    assert side == {"xgxx", "tzgg", "rdxw"}
    assert len({i.box for i in p.items if "/gzdt/" in i.url}) == 1


@pytest.mark.parametrize("html,target", [
    ('<html><head><meta http-equiv="refresh" content="0; url=http://zwfw.example.cn/qs/"></head><body></body></html>',
     "http://zwfw.example.cn/qs/"),
    ("<html><head><script>location.replace('/hdjl/list.html')</script></head><body>正在跳转</body></html>",
     "http://x.gov.cn/hdjl/list.html"),
    ('<html><head><meta http-equiv="refresh" content="300"></head><body>每5分钟刷新</body></html>', None),  # reload only
])
def test_redirect_stubs(html, target):
    assert extract_page(html, "http://x.gov.cn/hdjl/").redirect_to == target


def test_a_full_page_with_a_redirect_script_is_not_a_stub():
    body = "".join(f'<li><a href="/gzdt/{i}.html">第{i}条工作动态的标题文字</a><span>2026-03-{i:02d}</span></li>' for i in range(1, 6))
    html = ('<html><head><meta http-equiv="refresh" content="600"><script>if (/Mobile/.test(navigator.userAgent)) '
            f'window.location.href="/m/index.html";</script></head><body><ul>{body}</ul></body></html>')
    p = extract_page(html, "http://x.gov.cn/gzdt/")
    assert p.redirect_to is None and len(p.items) == 5


def test_more_links_are_named_by_block_heading_or_tab():
    html = (_LIST_HEAD + '<div class="box"><div class="tit"><h3>工作动态</h3><a href="/gzdt/">更多>></a></div><ul><li>x</li></ul></div>'
            '<div class="tab"><ul class="hd"><li>通知公告</li><li>政策文件</li></ul><div class="bd">'
            '<div><ul><li>a</li></ul><a href="/tzgg/">more+</a></div><div><ul><li>b</li></ul><a href="/zcwj/"><img src="m.gif"></a></div>'
            '</div></div><div><a href="/other/">MORE</a></div></body></html>')
    p = extract_page(html, "http://x.gov.cn/")
    assert p.block_names == {"http://x.gov.cn/gzdt/": "工作动态", "http://x.gov.cn/tzgg/": "通知公告",
                             "http://x.gov.cn/zcwj/": "政策文件"}  # the lone MORE has no heading: no name


def test_every_labelled_date_of_the_real_pages_v2(realdata):
    """Guangdong platform pages (NFCMS): article publish dates and list item dates as labelled (labels.json)."""
    labels = json.loads((realdata / "pages-v2" / "labels.json").read_text(encoding="utf-8"))
    assert len(labels) >= 16
    for x in labels:
        text, _ = decode_html((realdata / "pages-v2" / x["path"]).read_bytes(), "text/html")
        p = extract_page(text, x["url"])
        if x["kind"] == "list":
            assert p.kind == "list", x["path"]
            assert sorted(i.date.isoformat() for i in p.items if i.date) == sorted(x["list_item_dates"]), x["path"]
            assert p.newest_date.isoformat() == x["newest_date"] and len(p.items) == x["item_count"], x["path"]
            assert not any(i.box.startswith("side:") for i in p.items) and len({i.box for i in p.items}) == 1, x["path"]
        else:
            assert p.kind == "article" and p.publish_date.isoformat() == x["publish_date"], x["path"]


# ------------------------------------------------------------- pages too deep for libxml2 (issue 14)
@pytest.mark.parametrize("attr", [" a²=1", " x٣=1 data-ok=2", " a·b=1", " xml:lang=zh"])
def test_a_deep_page_keeps_what_follows_an_attribute_name_lxml_refuses(attr):
    # lxml refuses non-ASCII attribute names (a²) with a ValueError, which used to end the rebuild: the rest lost
    html = ("<html><body>" + "<div>" * 3000 + f"<a href='/before'>之前</a><span{attr}>中间</span>"
            + "<a href='http://bet.example.top/'>之后的链接</a><p>页尾文字</p></body></html>")
    page = extract_page(html, "http://x.gov.cn/")
    assert [l.url for l in page.links] == ["http://x.gov.cn/before", "http://bet.example.top/"]
    assert "中间" in page.text and "页尾文字" in page.text


_HIDER = "<div style='position:absolute;left:-9999px'>"


@pytest.mark.parametrize("at", [0, 990, 1000, 1950])
def test_a_hiding_ancestor_far_down_a_deep_page_still_hides_the_link(at):
    # the fallback tree stops nesting at 1000 levels; the hider's off-screen style must still enclose the link
    html = ("<html><body>" + "<div>" * at + _HIDER + "<div>" * (2100 - at) + "<span>前</span>"
            + "<a href='http://spam.example.com/'>博彩</a></body></html>")
    page = extract_page(html, "http://x.gov.cn/")
    (link,) = [l for l in page.links if "spam" in l.url]
    assert link.hidden and "left:-9999px" in link.hidden and not hiding_is_weak(link.hidden)


def test_a_link_after_a_deep_hider_closes_is_not_hidden():
    # precision: once the hiding element ends, what follows it is shown again
    html = ("<html><body>" + "<div>" * 1950 + _HIDER + "<div>" * 150 + "<a href='http://spam.example.com/'>藏</a>"
            + "</div>" * 151 + "<a href='http://www.gov.cn/'>中国政府网</a><p>正文</p></body></html>")
    page = extract_page(html, "http://x.gov.cn/")
    hidden = {l.url: l.hidden for l in page.links}
    assert hidden["http://spam.example.com/"] and hidden["http://www.gov.cn/"] is None
    assert "正文" in page.text
