"""政策解读 pairing on the variants real portals use (issue 15 item 8): 〈〉/《》 and quotes, titles wrapped in
关于印发…的通知, 一图读懂/图解/视频解读/答记者问, “相关解读” boxes on either page, interpretations published in
any column of the site. A small site is served on 127.0.0.1 and inspected like any other."""

import datetime as dt
import http.server
import threading

import pytest

from govinspect.engine.checks.disclosure import _doc_key, _same_document, _subject
from govinspect.engine.checks.freshness import ColumnSpec
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.inspect import inspect_site
from govinspect.rules import load_rules
from loopback import HTMLHandler, serve

MARKERS = load_rules("disclosure")["interpretation"]["link_keywords"]
FILLER = "为进一步规范管理，结合本县实际，制定本文件。各乡镇、各部门要高度重视，认真抓好贯彻落实，确保各项工作取得实效。" * 3


@pytest.mark.parametrize("doc, interp", [
    ("清河县人民政府关于印发〈清河县农村供水工程管理办法（试行）〉的通知", "关于“清河县农村供水工程管理办法(试行)”的解读"),
    ("清河县人民政府关于印发《清河县2026年耕地保护实施方案》的通知", "一图读懂｜清河县2026年耕地保护实施方案"),
    ("清河县人民政府关于加强燃气安全管理的意见", "县应急局负责人就《关于加强燃气安全管理的意见》答记者问"),
    ("（转载）广州市人民政府办公厅关于印发广州市公共租赁住房管理办法的通知", "图解：《公共租赁住房管理办法》"),
    ("清河县人民政府关于印发清河县城乡环境整治三年行动方案的通知", "视频解读：清河县城乡环境整治三年行动方案"),
    ("清河县人民政府关于印发清河县城乡环境整治三年行动方案的通告", "【政策解读】《清河县人民政府关于印发清河县城乡环境整治三年行动方案的通告》"),
    ("清河县人民政府关于印发清河县防汛应急预案的决定", "〈清河县防汛应急预案〉政策解读"),
])
def test_pairs_that_must_match(doc, interp):
    assert _same_document(_doc_key(doc), _subject(interp, MARKERS))


@pytest.mark.parametrize("doc, interp", [
    ("清河县人民政府关于印发清河县农村供水工程管理办法实施细则的通知", "《清河县农村供水工程管理办法》政策解读"),  # 细则 of the 办法
    ("清河县人民政府关于印发《清河县2025年耕地保护实施方案》的通知", "一图读懂｜清河县2026年耕地保护实施方案"),  # another year
    ("广州市人民政府办公厅关于印发广州市公共租赁住房管理办法的通知", "深圳市公共租赁住房管理办法解读"),  # another city
    ("清河县人民政府关于印发清河县防汛应急预案的通知", "一图读懂"),  # names no document at all
    ("清河县人民政府关于加强燃气安全管理的意见", "《关于加强燃气安全生产监管的意见》解读"),  # another 意见
])
def test_pairs_that_must_not_match(doc, interp):
    assert not _same_document(_doc_key(doc), _subject(interp, MARKERS))


def _article(title, date, links=(), extra=""):
    rel = "".join(f'<p class="rel"><a href="{u}">{t}</a></p>' for t, u in links)
    return (f'<html><head><meta charset="utf-8"><title>{title}</title><meta name="ArticleTitle" content="{title}">'
            f'<meta name="PubDate" content="{date} 09:00"></head><body><div class="nav"><a href="/">首页</a> '
            f'<a href="/zcwj/index.html">政策文件</a> <a href="/zcjd/index.html">政策解读</a> <a href="/xwdt/index.html">工作动态</a></div>'
            f'<div class="article"><h1>{title}</h1><p class="info">发布日期：{date}</p><div class="content"><p>{FILLER}</p>{extra}</div>'
            f'{rel}</div></body></html>')


def _list(name, items):
    lis = "".join(f'<li><a href="{u}">{t}</a><span>{d}</span></li>' for t, u, d in items)
    return (f'<html><head><meta charset="utf-8"><title>{name}</title></head><body><div class="nav"><a href="/">首页</a></div>'
            f'<h2>{name}</h2><ul class="list">{lis}</ul></body></html>')


# documents: (path, title, date); interpretations are written below each document's scenario
D1 = ("/zcwj/d1.html", "清河县人民政府关于印发〈清河县农村供水工程管理办法（试行）〉的通知", "2026-03-02")
D2 = ("/zcwj/d2.html", "清河县人民政府关于加强燃气安全管理的意见", "2026-03-09")
D3 = ("/zcwj/d3.html", "清河县人民政府关于印发清河县2026年耕地保护实施方案的通知", "2026-03-16")
D4 = ("/zcwj/d4.html", "清河县人民政府办公室关于印发清河县农村供水工程管理办法实施细则的通知", "2026-03-23")
D5 = ("/zcwj/d5.html", "清河县人民政府关于印发清河县2025年耕地保护实施方案的通知", "2026-03-30")
D6 = ("/zcwj/d6.html", "清河县人民政府关于印发清河县城乡环境整治三年行动方案的通知", "2026-04-06")
D7 = ("/zcwj/d7.html", "清河县人民政府办公室关于印发清河县养老服务补贴实施办法的通知", "2026-04-08")
EXTERNAL = "http://www.shi.example.test/zwgk/zcjd/content/post_7922695.html"  # the city portal: another host
I1 = ("/zcjd/i1.html", "关于“清河县农村供水工程管理办法(试行)”的解读", "2026-03-02")
I2 = ("/xwdt/i2.html", "县应急局负责人就《关于加强燃气安全管理的意见》答记者问", "2026-03-10")  # in 工作动态, not the 解读 column
I3 = ("/tujie/i3.html", "一图读懂", "2026-03-16")  # names nothing: paired by the boxes on both pages
I6 = ("/video/i6.html", "视频解读｜清河县城乡环境整治三年行动方案", "2026-04-07")  # does not link back

PAGES = {
    "/": _list("清河县人民政府", [(t, p, d) for p, t, d in (D1, D2, D3, I2)]),
    "/zcwj/index.html": _list("政策文件", [(t, p, d) for p, t, d in (D7, D6, D5, D4, D3, D2, D1)]),
    "/zcjd/index.html": _list("政策解读", [(I1[1], I1[0], I1[2])]),
    "/xwdt/index.html": _list("工作动态", [(I2[1], I2[0], I2[2])]),
    D1[0]: _article(D1[1], D1[2], [("相关解读", I1[0])]),
    D2[0]: _article(D2[1], D2[2], [("答记者问", I2[0])]),
    D3[0]: _article(D3[1], D3[2], [("相关解读：一图读懂", I3[0])]),
    D4[0]: _article(D4[1], D4[2]),  # its 办法 has a 解读, it has none
    D5[0]: _article(D5[1], D5[2]),  # the 2026 plan has a 解读, the 2025 plan has none
    D6[0]: _article(D6[1], D6[2], [("视频解读", I6[0])]),
    # “政策解读：<a>https://…</a>” — the 解读 is on the city's portal, the link text is only its address
    D7[0]: _article(D7[1], D7[2], extra=f'<p>政策解读：<a href="{EXTERNAL}" title="《清河县养老服务补贴实施办法》政策解读">{EXTERNAL}</a></p>'),
    # the 解读 page of D1 carries a "newest documents" box naming D5 and D4: that is no pairing
    I1[0]: _article(I1[1], I1[2], [("原文件", D1[0]), (D5[1], D5[0]), (D4[1], D4[0])]),
    I2[0]: _article(I2[1], I2[2], [(D2[1], D2[0])]),
    I3[0]: _article(I3[1], I3[2], [("原文件", D3[0])], extra='<img src="/tujie/1.png" alt="图解">'),
    I6[0]: _article(I6[1], I6[2]),
}


class _Site(HTMLHandler):
    def do_GET(self):
        body = PAGES.get(self.path.split("?")[0])
        self.reply(200 if body else 404, body or "<html><body>404 Not Found</body></html>")


@pytest.fixture(scope="module")
def report():
    srv = serve(_Site)
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), offline_dns=True, delay=0.0, timeout=5.0, retries=0, check_links=False)
    cols = [ColumnSpec("政策文件", url + "zcwj/index.html", "policy"), ColumnSpec("政策解读", url + "zcjd/index.html", "interpretation"),
            ColumnSpec("工作动态", url + "xwdt/index.html", "dynamic")]
    try:
        yield inspect_site(url, dt.date(2026, 4, 20), cfg, cols, content=False), url
    finally:
        srv.shutdown()
        srv.server_close()


def _by(rep, rule):
    return {f.url.rsplit("/", 2)[-2] + "/" + f.url.rsplit("/", 1)[-1] for f in rep.findings if f.rule == rule}


def test_documents_with_an_interpretation_in_any_variant_are_not_reported_missing(report):
    rep, _ = report
    # exactly the two documents that have no 解读 of their own: the 细则 and the 2025 plan
    assert _by(rep, "policy.interpretation_missing") == {"zcwj/d4.html", "zcwj/d5.html"}


def test_links_both_ways_are_still_judged(report):
    rep, _ = report
    # D6 links its 视频解读 but the video page does not link back; D1-D3 are linked both ways; D7's 解读 is on
    # another host, not fetched: whether it links back could not be checked (no finding)
    assert _by(rep, "policy.interpretation_unlinked") == {"zcwj/d6.html"}
    late = {f.url.rsplit("/", 1)[-1]: f.facts["workdays"] for f in rep.findings if f.rule == "policy.interpretation_late"}
    assert late == {}  # every 解读 here came within a working day (I2 from 工作动态 and I3 from the boxes count)


def test_a_real_policy_page_labelling_its_interpretation_by_address(realdata):
    """A real district page (www.zc.gov.cn) ends with “政策解读：<a …>https://www.gz.gov.cn/…</a>”: it has its 解读."""
    real = (realdata / "pages-v2" / "gz-zc" / "article-1.html").read_bytes()
    pages = {"/": _list("增城区人民政府", [("政策文件", "/zcwj/index.html", "2022-11-16")]),
             "/zcwj/index.html": _list("政策文件", [("广州市困难残疾人生活补贴和重度残疾人护理补贴实施办法", "/zcwj/real.html", "2022-11-16")])}

    class Real(_Site):
        def do_GET(self):
            if self.path == "/zcwj/real.html":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(real)
                return
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "404").encode())

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Real)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), offline_dns=True, delay=0.0, timeout=5.0, retries=0, check_links=False)
        rep = inspect_site(url, dt.date(2023, 1, 10), cfg, [ColumnSpec("政策文件", url + "zcwj/index.html", "policy")], content=False)
    finally:
        srv.shutdown()
        srv.server_close()
    assert rep.pages_fetched >= 3
    assert not [f for f in rep.findings if f.rule.startswith("policy.interpretation")]
