"""Footer identifiers per template (site.footer_missing): inner pages grouped by sub-site path prefix or by footer
fingerprint, each group checked; a group with too few pages or an unreadable footer is not accused.

A real HTTP server on 127.0.0.1 serves a county portal: 100 article pages with the full footer, a department
sub-site /bm/nyj/ of 20 pages without 网站标识码 (5 pages sampled evenly over the whole site, as before, never
reached it), a 信息公开 platform /zfxxgk/ with a footer of its own lacking the ICP number, a 2-page sub-site
lacking the code (too few pages), a sub-site whose footer is written by a script (unreadable) and one whose
找错 badge is drawn by the official jiucuo.js."""

import datetime as dt
import json
import re

import pytest
from realdata import REALDATA

from govinspect.engine.checks.furniture import _fingerprint, _readable, footer_items
from govinspect.engine.extract import decode_html, extract_page
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.inspect import inspect_site
from govinspect.rules import load_rules
from loopback import HTMLHandler, serve
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()

FULL = ('<a href="http://bszs.conac.cn/sitename?id=1"><img src="/red.png" alt="党政机关"></a> 主办单位：清河县人民政府 '
        '网站标识码：1301000001 冀ICP备12345678号 冀公网安备 13010202000123号 联系电话：0311-1234567 '
        '<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html">我为政府网站找错</a> 版权所有：清河县人民政府办公室')
NO_CODE = FULL.replace("网站标识码：1301000001 ", "")
PLATFORM = ('主办单位：清河县人民政府办公室 网站标识码：1301000001 冀公网安备 13010202000123号 联系电话：0311-7654321 '
            '<a href="http://bszs.conac.cn/sitename?id=1"><img src="/red.png" alt="党政机关"></a> '
            '<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html">我为政府网站找错</a> 政府信息公开平台 版权所有')
SCRIPTED = '<script src="/bm/jtj/footer.js"></script>'
# the 找错 badge drawn by the official script, not written in the HTML: present
JIUCUO_JS = FULL.replace('<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html">我为政府网站找错</a>',
                         '<script src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js"></script>')
BODY = "<p>" + "为进一步做好相关工作，现将有关事项通知如下。各单位要高度重视，认真组织实施，确保工作落到实处。" * 3 + "</p>"

SECTIONS = {  # path prefix -> (number of articles, footer)
    "/art/2026/": (100, FULL),
    "/bm/nyj/": (19, NO_CODE),
    "/bm/sj/": (1, NO_CODE),
    "/bm/jtj/": (5, SCRIPTED),
    "/zfxxgk/": (5, PLATFORM),
    "/bm/wjj/": (6, JIUCUO_JS),
}


def _page(title: str, body: str, footer: str, date: str | None = None) -> bytes:
    meta = f'<meta name="PubDate" content="{date}">' if date else ""
    return (f'<html><head><meta charset="utf-8"><title>{title}</title>{meta}</head><body><div class="main">{body}</div>'
            f'<div class="footer">{footer}</div></body></html>').encode()


def _route(path: str) -> bytes | None:
    if path == "/":
        links = "".join(f'<li><a href="{p}index.html">{p}栏目</a></li>' for p in SECTIONS)
        return _page("清河县人民政府", f"<ul>{links}</ul>", FULL)
    for prefix, (n, footer) in SECTIONS.items():
        if path == prefix + "index.html":
            items = "".join(f'<li><a href="{prefix}t{i:03d}.html">关于做好第{i}项工作的通知</a><span>2026-05-{1 + i % 28:02d}</span></li>'
                            for i in range(n))
            return _page("通知公告", f'<ul class="list">{items}</ul>', footer)
        if path.startswith(prefix + "t") and path.endswith(".html"):
            i = int(path[len(prefix) + 1:-5])
            return _page(f"关于做好第{i}项工作的通知", f"<h1>关于做好第{i}项工作的通知</h1>{BODY}", footer, f"2026-05-{1 + i % 28:02d}")
    return None


class _Portal(HTMLHandler):
    def do_GET(self):
        body = _route(self.path)
        self.reply(200 if body else 404, body or b"<html><body>404</body></html>")


@pytest.fixture(scope="module")
def footer_finding():
    srv = serve(_Portal)
    try:
        cfg = CrawlConfig(allow_networks=("127.0.0.1/32",), delay=0.0, timeout=5.0, retries=0, check_links=False,
                          concurrency_per_host=4)
        rep = inspect_site(f"http://127.0.0.1:{srv.server_address[1]}/", dt.date(2026, 6, 1), cfg, content=False)
    finally:
        srv.shutdown()
        srv.server_close()
    found = [f for f in rep.findings if f.rule == "site.footer_missing"]
    assert len(found) == 1, [f.detail for f in found]
    return found[0], rep


def test_subsite_group_named_with_its_page_count(footer_finding):
    f, _ = footer_finding
    assert "/bm/nyj/ 下 20 个页面缺少网站标识码" in f.detail
    nyj = next(g for g in f.facts["groups"] if g["name"] == "/bm/nyj/")
    assert nyj["pages"] == 20 and nyj["lacking"] == ["网站标识码"]
    assert 1 <= len(nyj["examples"]) <= 5 and all("/bm/nyj/" in u for u in nyj["examples"])
    assert f.facts["missing"] == []  # the home page's footer is complete


def test_platform_template_grouped_by_its_footer(footer_finding):
    f, _ = footer_finding
    assert "/zfxxgk/ 下 6 个页面缺少ICP备案编号" in f.detail
    assert "网站标识码" not in next(g for g in f.facts["groups"] if g["name"] == "/zfxxgk/")["lacking"]


def test_small_or_unreadable_groups_not_accused(footer_finding):
    f, rep = footer_finding
    assert "/bm/sj/" not in f.detail and "/bm/jtj/" not in f.detail and "/art/" not in f.detail
    assert "/bm/wjj/" not in f.detail and "找错" not in f.detail  # its 找错 badge is drawn by jiucuo.js
    assert {"/bm/sj/", "/bm/jtj/"} <= set(f.facts["groups_not_judged"])
    assert {g["name"] for g in f.facts["groups"]} == {"/bm/nyj/", "/zfxxgk/"}
    # a re-check reads the accused groups' pages again; they are among the pages the rule samples
    assert {u for u in f.facts["inner_sampled"] if "/bm/nyj/" in u or "/zfxxgk/" in u} == set(f.facts["inner_sampled"])
    assert len(f.facts["inner_sampled"]) == 26 and set(f.facts["inner_sampled"]) <= set(rep.sampled["site.footer_missing"])
    assert any("/bm/nyj/" in u for u in f.facts["inner_missing"]["网站标识码"])


def test_real_footers_read_and_identified():
    """The labelled real pages (NFCMS sites of Guangdong): every footer is readable, its 网站标识码 is the labelled
    one, the ICP and 公安 numbers are found (also “粤公网安备：44010402000417” without 号), the 党政机关 badge
    written by document.write and the host named by “版权所有：某局” count; pages of one template share a footer
    fingerprint, other templates do not."""
    labels_file = REALDATA / "pages-v2" / "labels.json"
    if not labels_file.exists():
        pytest.skip("../shared/realdata not present")
    g = load_rules("furniture")["groups"]
    words = re.compile(g["footer_words"], re.I)
    prints: dict[str, str] = {}
    n = 0
    for label in json.loads(labels_file.read_text("utf-8")):
        if not label.get("footer"):
            continue
        page = extract_page(decode_html((REALDATA / "pages-v2" / label["path"]).read_bytes(), "text/html")[0], label["url"])
        assert _readable(page.text, words, g["min_text_chars"], g["footer_chars"]), label["path"]
        items = footer_items(page, RS['furniture'], page.meta.get("__img_alts__", ""))
        assert label["footer"]["site_code"] in items["site_code"], label["path"]
        assert items["icp"] and items["police"] and items["conac"] and items["host"], (label["path"], items)
        prints[label["path"]] = _fingerprint(page.text, words, g["fingerprint_chars"])
        n += 1
    assert n >= 15
    # one template, one fingerprint: 天河's articles; 市人社局's list and articles; the 信息公开 platform page
    # (gkmlpt) of 天河 has a footer of its own
    assert prints["gz-thnet/article-1.html"] == prints["gz-thnet/article-3.html"] == prints["gz-thnet/article-4.html"]
    assert prints["gz-rsj/list-1.html"] == prints["gz-rsj/article-1.html"] == prints["gz-rsj/article-2.html"]
    assert prints["gz-thnet/article-2.html"] != prints["gz-thnet/article-1.html"]
    assert len(set(prints.values())) >= 9  # different sites, different footers
