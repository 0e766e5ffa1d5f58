"""Page model: what a page says, independent of how it was fetched.

extract_page(html, url) -> PageModel with kind (article/list/other), title, publish date (and the
step that decided it), list items with dates (including Hanweb <script type="text/xml"> datastore
records), pagination targets (TRS createPageHTML, 下一页 links), links, attachments and meta tags.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from . import dates
from .hiding import _hiding
from .hiding import hidden_links as _hidden_links  # 暗链: links a reader cannot see, with CSS evidence

ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".csv", ".txt", ".wps", ".et", ".ofd", ".zip", ".rar", ".7z")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
_PUBDATE_META = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "dc.date", "publish_date")
PAGER_TEXT = {"下一页", "下页", "尾页", "末页", "最后一页", "下一頁", "后页"}
# links that name no column: a block's "more" link (the block's heading or tab names the column)
_MORE = re.compile(r"^(?:查看)?(?:更多|more|MORE|More)\s*(?:[>》+＋›»]+|\.{2,}|…+)?(?:信息|内容|新闻)?$|^[>》+＋›»]+$")
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
# the other TRS pager: "var countPage = 12//共多少页" and "var currentPage = 0", links written by script
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*(\d+)")
# a page that only sends the reader elsewhere: <meta http-equiv="refresh" content="0;url=...">, location.href=...
_REFRESH_URL = re.compile(r"^\s*\d*\s*[;,]?\s*(?:url\s*=\s*)?['\"]?([^'\"\s]+)", re.I)
_JS_REDIRECT = re.compile(r"(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*['\"]([^'\"]+)['\"]"
                          r"|location\.(?:replace|assign)\s*\(\s*['\"]([^'\"]+)['\"]\s*\)")
_STUB_TEXT = 200  # a redirect stub says at most "页面跳转中……" and a link
# blocks that are not the column's own list: side bars, related and popular items (class/id tokens, heading words)
_SIDE_TOKEN = re.compile(r"side|relat|xgxx|xglj|xgwz|hot|rdxx|rdtj|rank|tuijian|recommend|aside", re.I)
_SIDE_HEAD = re.compile(r"相关|热点|热门|推荐|排行|点击|热文|阅读排行")
_DATE_ONLY = re.compile(r"^[\[【(（]?\s*(?:(?:19|20)\d{2}\s*(?:[-/.]|年)\s*)?\d{1,2}\s*(?:[-/.]|月)\s*\d{1,2}\s*日?\s*[\]】)）]?$")
_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_ITEM_CONTAINERS = {"li", "tr", "dd", "dt", "p", "div", "span", "td", "h4", "h3"}
_BOX_SKIP = {"tbody", "thead"}
_EMPTY_MARKERS = ("暂无信息", "暂无数据", "暂无内容", "暂无相关信息", "没有信息")
_MIN_TITLE = 4
# page furniture that is never a list item, whatever date sits next to it
_FURNITURE = {"设为首页", "加入收藏", "网站地图", "联系我们", "无障碍浏览", "返回顶部", "关闭窗口", "打印本页", "繁體中文", "简体中文", "长者模式", "登录注册"}


@dataclass(slots=True)
class Item:
    title: str
    url: str
    date: dt.date | None
    # the list block it sits in ("/html/body/div[3]/ul.list"); "side:" first when the block is a side bar,
    # a related / popular box (not a column's own list); "" when not known
    box: str = ""


@dataclass(slots=True, frozen=True)
class Link:
    url: str
    text: str
    hidden: str | None = None  # CSS evidence when the link is hidden from readers (暗链)


@dataclass(slots=True)
class PageModel:
    url: str
    kind: str = "other"  # article | list | other
    title: str = ""
    publish_date: dt.date | None = None
    date_source: str | None = None  # meta | cms | labelled | url | title
    items: list[Item] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    attachments: list[Link] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    text: str = ""
    forms: list[dict] = field(default_factory=list)  # search-like forms: action, method, text field, hidden fields
    datastore: bool = False
    list_markers: bool = False  # built as a list page (datastore, createPageHTML, ColumnName meta ...)
    empty_marker: bool = False  # says it has nothing: 暂无信息, an empty datastore ...
    paragraph_chars: int = 0  # characters inside <p> elements: the page's own prose
    redirect_to: str | None = None  # a stub page that only redirects (meta refresh, location.href=): its target
    yearless: int = 0  # links dated by month and day only, with no year in the URL or a heading: not items
    # link URL -> the heading or tab of the block holding its link, for links that name nothing ("更多>>", an icon)
    block_names: dict[str, str] = field(default_factory=dict)
    compacted: bool = False  # text dropped to save memory: re-read it from the WARC (CrawlResult.full_page)

    @property
    def newest_date(self) -> dt.date | None:
        ds = [i.date for i in self.items if i.date]
        return max(ds) if ds else None

    def to_dict(self, with_text: bool = False) -> dict:
        d = asdict(self)
        if not with_text:
            d.pop("text")
        d["publish_date"] = self.publish_date.isoformat() if self.publish_date else None
        d["newest_date"] = self.newest_date.isoformat() if self.newest_date else None
        d["items"] = [{"title": i.title, "url": i.url, "date": i.date.isoformat() if i.date else None} for i in self.items]
        return d


def _clean(s: str | None) -> str:
    return " ".join(s.split()) if s else ""


# text content of an element (what lxml.html's text_content gives), computed in libxml2
_tc = etree.XPath("string()", smart_strings=False)
_DIGIT = re.compile(r"\d")



def _site_root(base: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL: what a root-relative href ("/path") is resolved against."""
    cut = base.find("/", base.find("//") + 2)
    return base if cut < 0 else base[:cut]


def _abs(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    # fast paths for the two common shapes; urljoin for the rest
    if href.startswith(("http://", "https://")) and " " not in href:
        return href.split("#", 1)[0]
    if href.startswith("/") and not href.startswith("//") and base.startswith(("http://", "https://")):
        return _site_root(base) + href.split("#", 1)[0]
    try:
        u = urldefrag(urljoin(base, href))[0]
        if urlsplit(u).scheme not in ("http", "https"):
            return None
    except ValueError:
        return None
    return u


def _url_path(u: str) -> str:
    """urlsplit(u).path of an absolute http(s) URL without a fragment (what _abs gives), without urlsplit's cost."""
    rest = u.split("//", 1)[-1].split("?", 1)[0]
    cut = rest.find("/")
    return rest[cut:] if cut >= 0 else ""


# plain etree elements: lxml.html's element classes cost a Python call per element visited. huge_tree: libxml2
# stops at 256 levels of nesting otherwise (2048 with it), dropping everything after silently
_UTF8_PARSER = etree.HTMLParser(recover=True, no_network=True, encoding="utf-8", huge_tree=True)


def _parse(raw: bytes, html: str):
    """The tree of a page's text as UTF-8 (decode_html decoded it: libxml2 parses UTF-8 faster than a str, and
    is told the encoding, whatever a <meta charset> or XML declaration in the page says).

    A page libxml2 gives up on half-way (nesting deeper than 2048 levels, a resource limit) is built again by
    _FlatTree, which reads all of it."""
    try:
        root = etree.fromstring(raw, _UTF8_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    last = _UTF8_PARSER.error_log.last_error
    if last is not None and last.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        root = _FlatTree.parse(html)
    return root if root is not None and isinstance(root.tag, str) else None


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# ASCII names only: lxml refuses some others (a², a colon) with a ValueError that would end the whole rebuild
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_CARRIED_STYLE = 4096  # characters of inline style an element past _MAX_DEPTH takes over from its ancestors
_CARRIED = frozenset(("hidden", "id", "class"))  # with style and on* handlers: what a hiding ancestor passes on


class _FlatTree(HTMLParser):
    """A tree for pages nested too deeply for libxml2: the standard library's tokenizer (no depth limit, linear
    time) feeding an lxml tree. At _MAX_DEPTH the deepest _RESTART levels are closed in the tree, so what follows
    nests again from there: every text and link is kept, the local structure (a <li> in its <ul>) too, and the
    tree stays shallow. The closed elements stay open for the tokenizer (their end tags still match), and one
    that hides by its inline style or the hidden attribute passes that on to the elements opened directly in it
    (a 暗链 hidden by an ancestor thousands of levels up stays hidden). An end tag closes up to its open
    element, stray ones are ignored, and a <li>, <p>, <td> ... closes an open one of its kind just above it, as
    browsers do."""

    _MAX_DEPTH = 1000
    _RESTART = 100
    _VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
    _SELF_CLOSING = frozenset("li dt dd p tr td th option".split())

    @classmethod
    def parse(cls, html: str):
        p = cls()
        try:
            p.feed(html)
            p.close()
        except (AssertionError, ValueError):  # the tokenizer's own errors on malformed markup: keep what was read
            pass
        return p.builder_root()

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.builder = etree.TreeBuilder()
        self.builder.start("html", {})
        self.stack: list[str] = []  # open elements, for the tokenizer
        self.attrs: list[dict] = []  # their attributes as built
        self.built: list[bool] = []  # whether still open in the tree (False: closed at _MAX_DEPTH)
        self.hider: list[dict | None] = []  # for one closed in the tree: the attributes of the nearest that hides
        self.depth = 0  # elements open in the tree
        self.open: dict[str, int] = {}

    def builder_root(self):
        for _ in range(len(self.stack)):
            self._pop()
        self.builder.end("html")
        return self.builder.close()

    def _start(self, tag: str, attrs: dict) -> None:
        try:
            self.builder.start(tag, attrs)
        except ValueError:  # an attribute lxml refuses after all: the element without its attributes
            self.builder.start(tag, {})

    def _pop(self) -> None:
        tag = self.stack.pop()
        self.attrs.pop()
        self.hider.pop()
        self.open[tag] -= 1
        if self.built.pop():
            self.builder.end(tag)
            self.depth -= 1

    def _restart(self) -> None:
        """Close the deepest _RESTART elements in the tree (they stay open for the tokenizer)."""
        n = first = len(self.stack)
        while first and n - first < self._RESTART and self.built[first - 1]:
            first -= 1
        for i in range(n - 1, first - 1, -1):
            self.builder.end(self.stack[i])
        self.depth -= n - first
        for i in range(first, n):
            self.built[i] = False
            attrs = self.attrs[i]
            if "hidden" in attrs or _hiding(attrs.get("style") or "") is not None:
                self.hider[i] = attrs
            elif i and not self.built[i - 1]:
                self.hider[i] = self.hider[i - 1]

    def handle_starttag(self, tag, attrs):
        if tag == "html" or not _XML_NAME.match(tag):
            return
        if tag == "body" and self.open.get("head"):  # an unclosed <head> ends where the body starts
            self.handle_endtag("head")
        if tag in self._SELF_CLOSING and self.stack and self.stack[-1] == tag:
            self._pop()
        if self.depth >= self._MAX_DEPTH:
            self._restart()
        attrs = {k: _XML_ILLEGAL.sub("", v or "") for k, v in attrs if _XML_NAME.match(k)}
        hider = self.hider[-1] if self.stack and not self.built[-1] else None
        if hider:  # opened in a hiding element closed in the tree: what hides it, and what shows it on hover or click
            style = ";".join(s for s in (hider.get("style"), attrs.get("style")) if s)
            carried = {k: v for k, v in hider.items() if k in _CARRIED or k.startswith("on")}
            attrs = {**carried, **attrs, "style": style[:_CARRIED_STYLE]}
        self._start(tag, attrs)
        if tag in self._VOID:
            self.builder.end(tag)
            return
        self.stack.append(tag)
        self.attrs.append(attrs)
        self.built.append(True)
        self.hider.append(None)
        self.depth += 1
        self.open[tag] = self.open.get(tag, 0) + 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self._VOID and self.stack and self.stack[-1] == tag:
            self._pop()

    def handle_endtag(self, tag):
        if self.open.get(tag):
            while self.stack[-1] != tag:
                self._pop()
            self._pop()

    def handle_data(self, data):
        self.builder.data(_XML_ILLEGAL.sub("", data))


_QR = re.compile(r"二维码|qr_?code|\bqr\b|ewm|erweima", re.I)
_JS_URL = re.compile(r"[\w./:%-]+\.js\b")


# the text nodes of a subtree, as lxml's itertext() gives them, collected in libxml2
_TEXTS = etree.XPath(".//text()", smart_strings=False)


def _text_of(el) -> str:
    return _clean(" ".join(_TEXTS(el)))


def _visible_text(root) -> str:
    """Page text in document order, without scripts, styles and comments.

    Removes scripts, styles, noscript and template elements from the tree: call it last.
    """
    body = root.find("body")
    body = body if body is not None else root
    etree.strip_elements(body, "script", "style", "noscript", "template", with_tail=False)
    return _clean(" ".join(_TEXTS(body)))


class _Containers:
    """Per-page memo of what item detection asks of an element: its link targets and its text.

    Every anchor climbs through the same few containers (a navigation bar's 30 anchors share one
    <ul> and one header <div>), so each container is looked at once per page, not once per anchor.
    """

    __slots__ = ("targets", "texts", "substantive", "boxes", "years", "yearless")

    def __init__(self):
        self.targets: dict = {}  # element -> up to two distinct substantive hrefs (as written)
        self.texts: dict = {}  # element -> its text, whitespace collapsed
        self.substantive: dict = {}  # anchor -> its text is at least two characters (icon links are not)
        self.boxes: dict = {}  # list block element -> its key (Item.box)
        self.years: dict = {}  # list block element -> the year its heading names, or None
        self.yearless = 0  # anchors beside a month and day whose year nothing names

    def heading_year(self, row) -> int | None:
        """The year named by a heading just before the list holding `row` ("2025年" over a list of "03-10"
        dates): up to three earlier siblings of the list and of the two blocks around it."""
        box = row.getparent()
        if box is None:
            return None
        if box in self.years:
            return self.years[box]
        year, el = None, box
        for _ in range(3):
            if el is None or el.tag in ("body", "html"):
                break
            looked = 0
            for sib in el.itersiblings(preceding=True):
                if not isinstance(sib.tag, str) or sib.tag in ("script", "style"):
                    continue
                text = _clean(_tc(sib))
                if text:
                    year = dates.heading_year(text)
                    looked += 1
                    if year or looked == 3:
                        break
            if year:
                break
            el = el.getparent()
        self.years[box] = year
        return year

    def box(self, row) -> str:
        """Item.box of an item whose row (the element holding its anchor and date) is `row`: the block holding
        the rows, named by its parent's place in the page and its own tag and class, so that two halves of one
        list (two <ul class="list"> side by side) are one block; "side:" first for side bars and related boxes."""
        box = row.getparent()
        while box is not None and box.tag in _BOX_SKIP:
            box = box.getparent()
        if box is None or not isinstance(box.tag, str):
            return ""
        key = self.boxes.get(box)
        if key is None:
            parent = box.getparent()
            where = box.getroottree().getpath(parent) if parent is not None else ""
            key = f"{where}/{box.tag}.{_clean(box.get('class'))}"
            key = self.boxes[box] = ("side:" + key) if _is_side(box) else key
        return key

    def distinct_targets(self, el) -> tuple[str, ...]:
        """Up to two distinct substantive link targets inside el (hrefs as written, icon links left out).
        Every link points to one target when there are none, or one (the anchor's own, when it has one)."""
        found: list[str] = []
        subst = self.substantive
        for x in el.iter("a"):
            h = (x.get("href") or "").strip()
            if not h or h in found or h.lower().startswith(_SKIP_SCHEMES):
                continue
            ok = subst.get(x)
            if ok is None:
                ok = subst[x] = len(_clean(_tc(x))) >= 2
            if ok:
                found.append(h)
                if len(found) == 2:
                    break
        return tuple(found)


# (not leftside/rightside: templates name their main column so)
_SIDE_NAME = re.compile(r"(?:^|[\s_-])(?:side\w*|aside|relat\w*|xgxx|xglj|xgwz|xgwj|hot\w*|rdxx|rdtj|rank\w*"
                        r"|tuijian|recommend\w*)(?:$|[\s_-])", re.I)


def _is_side(box) -> bool:
    """The block, or a block around it, is a side bar or a related / popular box: by tag, class or id, or by a
    short heading just before it (相关信息, 热点新闻, 推荐阅读, 排行 ...)."""
    el, depth = box, 0
    while el is not None and isinstance(el.tag, str) and el.tag not in ("body", "html"):
        if el.tag == "aside" or _SIDE_NAME.search(" " + (el.get("class") or "") + " " + (el.get("id") or "") + " "):
            return True
        if depth < 3:
            prev = el.getprevious()
            while prev is not None and not isinstance(prev.tag, str):  # comments
                prev = prev.getprevious()
            if prev is not None and prev.tag not in ("script", "style"):
                head = _text_of(prev)
                if len(head) <= 16 and _SIDE_HEAD.search(head):
                    return True
        el, depth = el.getparent(), depth + 1
    return False


def is_more_text(text: str) -> bool:
    """A link text that names nothing: 更多, 更多>>, MORE, more+, >> (an icon link has no text at all)."""
    return not text or bool(_MORE.match(text))


_LISTISH = ("ul", "ol", "li", "dl", "dd", "table", "tr")


def _plain(el) -> bool:
    """No list inside and no "more" link: what a heading or a tab label is made of (a list or a block is not)."""
    return (next(el.iterdescendants(*_LISTISH), None) is None
            and not any(is_more_text(_clean(_tc(x))) for x in el.iter("a")))


def _labels(el) -> list[str]:
    """Short texts of a tab head: its children's texts (a <ul> of tabs: its items'); [] when a child holds a
    list or a "more" link (then it is a block, not a tab head)."""
    kids = [c for c in el if isinstance(c.tag, str) and c.tag not in ("script", "style")]
    if len(kids) == 1 and len(kids[0]):
        kids = [c for c in kids[0] if isinstance(c.tag, str)]
    if not all(_plain(c) for c in kids):
        return []
    return [t for t in (_clean(_tc(c)) for c in kids) if t]


def _heading(text: str) -> bool:
    return 2 <= len(text) <= 12 and not is_more_text(text) and not _DIGIT.search(text)


def block_name(a) -> str | None:
    """The heading or tab that names the block around a link that names nothing ("更多>>", an icon).

    Climbs at most four levels; at each, the nearest earlier sibling with text is looked at: a tab head (several
    short labels) names the pane the link is in by the pane's position; a short text is the block's heading
    (<h3>工作动态</h3><ul>…</ul><a>更多>></a>); at most three earlier siblings a level. None when nothing like a
    heading is found."""
    el, below = a, None
    for _ in range(4):
        parent = el.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return None
        looked = 0
        for sib in el.itersiblings(preceding=True):
            if not isinstance(sib.tag, str) or sib.tag in ("script", "style"):
                continue
            text = _clean(_tc(sib))
            if not text:
                continue
            labels = _labels(sib)
            if len(labels) >= 2 and all(_heading(t) for t in labels):
                # panes side by side after the head, or a body of panes below it
                after = [c for c in sib.itersiblings() if isinstance(c.tag, str) and c.tag not in ("script", "style")]
                if len(after) == len(labels) and el in after:
                    return labels[after.index(el)]
                kids = [c for c in el if isinstance(c.tag, str) and c.tag not in ("script", "style")]
                if below is not None and len(kids) == len(labels) and below in kids:
                    return labels[kids.index(below)]
            if _plain(sib):
                if _heading(text):
                    return text
                if labels and _heading(labels[0]) and len(text) <= 40:  # 工作动态 WORK NEWS
                    return labels[0]
            looked += 1
            if looked == 3:  # the heading sits just before the list it names, or higher up
                break
        el, below = parent, el
    return None


def _sibling_date(a, url: str):
    """(date, row) from the element right after the anchor's cell when that element is nothing but a date, with
    no child elements: <dl><dd><a>…</a></dd><dd>2026-03-10</dd></dl> (政府信息公开平台 lists)."""
    cell = a.getparent()
    if cell is None or cell.tag not in _ITEM_CONTAINERS:
        return None, None
    nxt = cell.getnext()
    if nxt is None or len(nxt) or not nxt.text or nxt.tag not in _ITEM_CONTAINERS:  # len: C-fast, most fail here
        return None, None
    txt = nxt.text.strip()
    if len(txt) > 24 or not _DATE_ONLY.match(txt):
        return None, None
    return dates.parse_date(txt) or dates.month_day_with_url_year(txt, url), cell


@functools.lru_cache(maxsize=1 << 13)  # the same "2026-11-22" beside items on page after page
def _text_date(rest: str) -> tuple[dt.date | None, str]:
    """The date a container's text (without the anchor's own) gives, and that text without header clocks."""
    rest = dates.strip_clock(rest)
    return dates.labelled_date(rest) or dates.parse_date(rest), rest


def _item_from_anchor(a, base: str, memo: _Containers, url: str | None = None, own: str | None = None,
                      href: str | None = None, dated: bool = False, title: str | None = None) -> Item | None:
    """An item (title, url, date) for an anchor; url/own/href/title (its resolved href, text, href as written and
    title) when already known. With `dated`, None for an item without a date."""
    own = _clean(_tc(a)) if own is None else own
    if title is None:
        title = _clean(a.get("title")) or own
    if len(title) < _MIN_TITLE or title in PAGER_TEXT or title in _FURNITURE:
        return None
    href = a.get("href") if href is None else href
    url = url or _abs(base, href)
    if not url:
        return None
    rest_of_url = url.split("//", 1)[-1]
    if "/" not in rest_of_url or rest_of_url.endswith(rest_of_url.split("/", 1)[0] + "/"):
        return None  # links to a site root are navigation
    # climb to the smallest container that holds a date and links to no other target
    el, depth = a.getparent(), 0
    if (el is not None and el.tag in _ITEM_CONTAINERS and len(el) == 1 and not len(a) and not (el.text or "").strip()
            and not (a.tail or "").strip()):
        # the container holds this text-only anchor alone (a menu's <li>): one target, its text is the anchor's,
        # no digit outside it; what the loop below would find at this level without asking libxml2
        if len(own) > 1500:
            return None if dated else Item(title=title, url=url, date=None)
        el, depth = el.getparent(), 1
    first = (href or "").strip() or None
    targets, texts = memo.targets, memo.texts
    md = None  # the first container giving a month and day without a year
    while el is not None and depth < 4:
        if el.tag in _ITEM_CONTAINERS:
            # links to no other target (cheap, and stops the climb before large containers)
            t = targets.get(el)
            if t is None:
                t = targets[el] = memo.distinct_targets(el)
            if t and (len(t) > 1 if first is None else (len(t) > 1 or t[0] != first)):
                break
            txt = texts.get(el)
            if txt is None:
                txt = texts[el] = _text_of(el)
            if len(txt) > 1500:
                break
            rest = txt.replace(own, " ", 1)
            if _DIGIT.search(rest):  # no digit, no date: look one level up
                d, rest = _text_date(rest)
                d = d or dates.month_day_with_url_year(rest, url)
                if d:
                    return Item(title=title, url=url, date=d, box=memo.box(el))
                if md is None:
                    md = dates.month_day(rest) and el
        el, depth = el.getparent(), depth + 1
    d, row = _sibling_date(a, url)
    if d:
        return Item(title=title, url=url, date=d, box=memo.box(row))
    if md is not None:  # "03-10" with no year in the URL: the year a heading over the list names
        year = memo.heading_year(md)
        mday = dates.month_day(texts[md].replace(own, " ", 1)) if year else None
        d = dates.make_date(str(year), str(mday[0]), str(mday[1])) if mday else None
        if d:
            return Item(title=title, url=url, date=d, box=memo.box(md))
        memo.yearless += 1
    return None if dated else Item(title=title, url=url, date=None)


def _parent_class(a) -> str:
    p = a.getparent()
    return (p.get("class") or "").lower() if p is not None else ""


def _datastore_items(html: str, base: str) -> tuple[bool, list[Item]]:
    found, items = False, []
    for ds in _DATASTORE.finditer(html):
        found = True
        for rec in _RECORD.finditer(ds.group(1)):
            try:
                frag = lxml.html.fragment_fromstring(rec.group(1), create_parent="div")
            except (etree.ParserError, ValueError):
                continue
            memo = _Containers()
            for a in frag.iter("a"):
                it = _item_from_anchor(a, base, memo)
                if it:
                    items.append(it)
    return found, items


def _create_page_targets(html: str, base: str) -> tuple[bool, list[str]]:
    """TRS pagination: createPageHTML(count, current, "index", "html") -> index_1.html ..."""
    m = _CREATE_PAGE.search(html)
    if not m:
        return False, []
    args = [a.strip().strip("\"'") for a in m.group(1).split(",")]
    nums = [int(a) for a in args if a.isdigit()]
    strs = [a for a in args if a and not a.isdigit()]
    if len(nums) < 2:
        return True, []
    count, current = min(nums[0], 1000), nums[1]  # a hostile page cannot make us enumerate millions
    prefix = strs[-2] if len(strs) >= 2 else "index"
    ext = strs[-1] if strs else "html"
    if not re.fullmatch(r"[\w-]+", prefix) or not re.fullmatch(r"\w+", ext):
        return True, []
    out = []
    for i in range(count):
        if i != current:
            out.append(urljoin(base, f"{prefix}.{ext}" if i == 0 else f"{prefix}_{i}.{ext}"))
    return True, out


def _count_page_targets(html: str, base: str) -> tuple[bool, list[str]]:
    """The TRS pager written by script from "var countPage = N" and "var currentPage = i": index_1.html ... of
    the list's own file name (index.html, index.shtml ...)."""
    m = _COUNT_PAGE.search(html)
    if not m:
        return False, []
    count = min(int(m.group(1)), 1000)
    cur = _CURRENT_PAGE.search(html)
    current = int(cur.group(1)) if cur else 0
    name = _url_path(base).rsplit("/", 1)[-1]
    f = re.fullmatch(r"([\w-]+?)(?:_\d+)?\.(\w+)", name)
    prefix, ext = (f.group(1), f.group(2)) if f else ("index", "html")
    return True, [urljoin(base, f"{prefix}.{ext}" if i == 0 else f"{prefix}_{i}.{ext}") for i in range(count) if i != current]


def _redirect_target(root, html: str, low: bytes, base: str, url: str) -> str | None:
    """Where a page sends the reader by <meta http-equiv="refresh"> or a script setting location (the caller
    decides whether the page is only that)."""
    target = None
    for m in root.iter("meta"):
        if (m.get("http-equiv") or "").strip().lower() == "refresh":
            r = _REFRESH_URL.match(m.get("content") or "")
            if r and not r.group(1).isdigit():  # "5" alone reloads the page itself
                target = r.group(1)
                break
    if target is None and b"location" in low:
        j = _JS_REDIRECT.search(html)
        if j:
            target = j.group(1) or j.group(2)
    u = _abs(base, target) if target else None
    return u if u and u != url else None


def _publish_date(page: PageModel, html: str, text: str, url: str):
    for k, v in page.meta.items():
        if k.lower() in _PUBDATE_META:
            d = dates.parse_date(v)
            if d:
                return d, "meta"
    for step, fn in (("cms", lambda: dates.cms_comment_date(html)), ("labelled", lambda: dates.labelled_date(text)), ("url", lambda: dates.url_date(url))):
        d = fn()
        if d:
            return d, step
    if page.title and len(page.title) >= 6:
        head = page.title[:20]
        i = text.find(head)
        if i >= 0:
            d = dates.parse_date(text[i + len(head): i + len(head) + 200])
            if d:
                return d, "title"
    return None, None


def extract_page(html: str, url: str, shared: dict | None = None) -> PageModel:
    """The page model of a page's (decoded) text. `shared`: a dict kept across the pages of one crawl, in which
    equal links are one object (a menu repeated on 100,000 pages is stored once)."""
    page = PageModel(url=url)
    if not html or html.isspace():
        return page
    raw = html.encode("utf-8", "surrogatepass")
    root = _parse(raw, html)
    if root is None:
        return page
    base = url
    b = next(root.iter("base"), None)
    if b is not None and b.get("href"):
        base = _abs(url, b.get("href")) or url

    for m in root.iter("meta"):
        name = (m.get("name") or m.get("property") or "").strip()
        if name and m.get("content") is not None:
            page.meta.setdefault(name, _clean(m.get("content")))

    for f in root.iter("form"):
        inputs = [i for i in f.iter("input")]
        text = next((i.get("name") for i in inputs if (i.get("type") or "text").lower() in ("text", "search") and i.get("name")), None)
        if text:
            page.forms.append({"action": _abs(base, f.get("action") or url) or url, "method": (f.get("method") or "get").lower(),
                               "field": text, "hidden": {i.get("name"): i.get("value") or "" for i in inputs
                                                         if (i.get("type") or "").lower() == "hidden" and i.get("name")}})
    alts = " ".join(i.get("alt") or "" for i in root.iter("img") if i.get("alt"))
    if alts:
        page.meta["__img_alts__"] = alts[:2000]
    if any(_QR.search((i.get("alt") or "") + " " + (i.get("src") or "")) for i in root.iter("img")):
        page.meta["__qr__"] = "1"  # a QR code image (new-media accounts on a 指南, LOC-8)
    # footer badges drawn by official scripts (jiucuo.js; the 党政机关 badge, often written by document.write)
    srcs = " ".join(s.get("src") or " ".join(_JS_URL.findall(s.text[:20000])[:20]) for s in root.iter("script")
                    if s.get("src") or (s.text and ".js" in s.text))
    if srcs.strip():
        page.meta["__scripts__"] = srcs[:2000]

    # links, attachments, pagination
    seen: set[str] = set()
    # ASCII letters lower-cased (bytes.lower: 10x faster than str.lower); the markup looked for below is ASCII
    low = raw.lower()
    hidden = _hidden_links(root, low)
    anchor_items = []
    memo = _Containers()
    if shared is None:
        link = Link
    else:
        def link(u: str, text: str, hid: str | None) -> Link:
            obj = shared.get((u, text, hid))
            if obj is None:
                obj = shared[(u, text, hid)] = Link(sys.intern(u), sys.intern(text), hid)
            return obj

    # the commonest href, "/path": _abs's fast path inline, with the root worked out once a page
    site_root = _site_root(base) if base.startswith(("http://", "https://")) else None
    for a in root.iter("a"):
        href = a.get("href")
        if href is None:
            continue
        h = href.strip()
        if site_root is not None and h[:1] == "/" and h[1:2] != "/":
            u = site_root + h.split("#", 1)[0]
        else:
            u = _abs(base, href)
            if not u:
                continue
        own = _clean(a.text) if not len(a) else _clean(_tc(a))  # no child elements: its text is all there is
        memo.substantive[a] = len(own) >= 2
        tt = _clean(a.get("title"))
        text = own or tt
        it = _item_from_anchor(a, base, memo, u, own, href, dated=True, title=tt or own)
        if it is not None:
            anchor_items.append(it)
        if u not in seen:
            seen.add(u)
            page.links.append(link(u, text, hidden.get(h) if hidden else None))
        if not own and (not text or next(a.iter("img"), None) is not None) or own and _MORE.match(own):
            name = block_name(a)  # a "更多>>" or icon link: the block's heading or tab names its target
            if name:
                page.block_names.setdefault(u, name)
        if ("?" in u or u.lower().endswith(ATTACHMENT_EXT)) and _url_path(u).lower().endswith(ATTACHMENT_EXT):
            page.attachments.append(link(u, text, None))
        if (text in PAGER_TEXT or (text.isdigit() and "page" in _parent_class(a))) and u != url and u not in page.next_pages:
            page.next_pages.append(u)
    has_cp, targets = _create_page_targets(html, base)
    if not has_cp and b"countpage" in low:
        has_cp, targets = _count_page_targets(html, base)
    page.next_pages += [t for t in targets if t != url and t not in page.next_pages]

    # items: Hanweb datastore records first, then dated anchors in the markup
    ds_found, ds_items = _datastore_items(html, base)
    page.datastore = ds_found
    items, seen_items = [], set()
    for it in ds_items + anchor_items:
        if it.url not in seen_items:
            seen_items.add(it.url)
            items.append(it)
    page.items = items
    page.yearless = memo.yearless
    for it in ds_items:  # record links live inside a script: lxml does not see them as <a>
        if it.url not in seen:
            seen.add(it.url)
            page.links.append(link(it.url, it.title, None))

    # title
    page.title = page.meta.get("ArticleTitle") or ""
    if not page.title:
        h = next(root.iter("h1"), None)
        page.title = _text_of(h) if h is not None else ""
    if not page.title:
        t = next(root.iter("title"), None)
        page.title = _text_of(t) if t is not None else ""

    para_text = sum(len(_text_of(p)) for p in root.iter("p"))
    page.paragraph_chars = para_text
    text = _visible_text(root)  # last use of the tree: it drops scripts and styles (not <meta>) from it
    page.text = text
    if not page.items and len(text) <= _STUB_TEXT and len(page.links) <= 3 and (b"refresh" in low or b"location" in low):
        page.redirect_to = _redirect_target(root, html, low, base, url)  # a stub: nothing here but where it sends readers
    pub, source = _publish_date(page, html, text, url)

    # kind
    page.list_markers = bool(
        ds_found
        or has_cp
        or (page.meta.get("ColumnName") and not page.meta.get("ArticleTitle"))
        or any(m in text for m in _EMPTY_MARKERS)
        or b'class="list' in low
    )
    page.empty_marker = not page.items and (any(m in text for m in _EMPTY_MARKERS) or (ds_found and not ds_items))
    dated = [i for i in page.items if i.date]
    # a labelled date that is also an item's date belongs to that item: the page is a list
    labelled_is_item = source == "labelled" and len(dated) >= 5 and pub in {i.date for i in dated}
    article_signal = bool(page.meta.get("ArticleTitle")) or (source in ("meta", "labelled", "cms") and not labelled_is_item)
    if article_signal and (len(dated) < 10 or para_text > 300) and not labelled_is_item:
        page.kind = "article"
    elif len(dated) >= 3 or page.list_markers:
        page.kind = "list"
    elif pub and not page.list_markers:
        page.kind = "article"
    if page.kind == "article":
        page.publish_date, page.date_source = pub, source
    return page
