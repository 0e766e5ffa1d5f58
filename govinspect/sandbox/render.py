"""HTML of the sandbox sites, in three real-world CMS template families.

trs     TRS WCM-style static pages: /{column}/index.html, createPageHTML() pagination,
        /{column}/202410/t20241013_123.html articles, standard meta tags.
hanweb  Hanweb (大汉)-style pages: /col/col123/index.html whose list lives in a
        <script type="text/xml"><datastore> block, /art/2024/10/13/art_123_456.html articles.
legacy  an old GBK table layout (/list.asp?classid=5, /show.asp?id=9), a header clock,
        "下一页" pagination, no charset in the HTTP header (legacy_nometa: no <meta charset> either).
"""

from __future__ import annotations

import datetime as dt
from html import escape

from .county import Article, Column, County, Site

PAGE_SIZE = {"trs": 15, "hanweb": 1000, "legacy": 12}
HOME_TABS = (("zwgk", "政务公开"), ("hdjl", "互动交流"))  # the portal's home page under ?link= tab variants
WEEKDAYS = "一二三四五六日"


def _cached(site: Site, key: str, make):
    """Per-site values every article page needs (computed once, not once per page: 100,000-page sites)."""
    cache = site.__dict__.setdefault("_render_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def clear_cache(site: Site) -> None:
    site.__dict__.pop("_render_cache", None)


def fam(site: Site) -> str:
    return "legacy" if site.family.startswith("legacy") else site.family


def fmt_date(site: Site, d: dt.date) -> str:
    if site.family == "legacy":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    if site.family == "legacy_nometa":
        return f"{d:%Y.%m.%d}"
    if site.family == "hanweb" and site.index % 2:
        return f"[{d:%Y/%m/%d}]"
    return f"{d:%Y-%m-%d}"


def _meta(site: Site, **tags) -> str:
    if not site.meta_tags:
        return ""
    return "".join(f'<meta name="{k}" content="{escape(str(v))}">\n' for k, v in tags.items() if v is not None)


def _head(site: Site, title: str, meta: str = "") -> str:
    charset = ""
    if site.family == "legacy":
        charset = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">\n'
    elif site.family != "legacy_nometa":
        charset = '<meta charset="utf-8">\n'
    return (f"<!DOCTYPE html>\n<html><head>{charset}<title>{escape(title)}</title>\n{meta}"
            f'<link rel="stylesheet" href="/css/style.css"></head>\n<body>\n')


def _header(site: Site, county: County) -> str:
    clock = ""
    if fam(site) == "legacy" or site.kind == "portal":
        d = county.as_of
        clock = f'<span class="clock">今天是：{d.year}年{d.month}月{d.day}日 星期{WEEKDAYS[d.weekday()]}</span>'
    nav = "".join(f'<li><a href="{c.path}">{escape(c.name)}</a></li>' for c in site.columns if c.slug not in site.directory)
    if site.directory_path:
        nav += f'<li><a href="{site.directory_path}">政务公开</a></li>'
    return (f'<div class="header"><div class="top">{clock}<a href="/">设为首页</a> <a href="/">加入收藏</a></div>'
            f'<h2 class="sitename">{escape(site.name)}</h2>'
            f'<div class="search"><form action="/search.html"><input name="q"><button>搜索</button></form></div>'
            f'<ul class="nav"><li><a href="/">首页</a></li>{nav}</ul></div>\n')


def _footer(site: Site, county: County, inner: bool = False) -> str:
    f = {**site.footer, **(site.inner_footer if inner else {})}
    parts = []
    if f.get("conac"):
        parts.append(f'<a href="http://bszs.conac.cn/sitename?method=show&id={site.site_code}"><img src="/images/dzjg.png" alt="党政机关"></a>')
    if f.get("jiucuo"):
        parts.append(f'<a href="http://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code={site.site_code}">我为政府网站找错</a>')
    if f.get("host"):
        parts.append(f"主办单位：{escape(site.unit)}　联系电话：0319-{6000000 + site.index * 1111}")
    if f.get("site_code"):
        parts.append(f"网站标识码：{site.site_code}")
    if f.get("icp"):
        parts.append(f"冀ICP备{10000000 + site.index * 37}号")
    if f.get("police"):
        parts.append(f"冀公网安备 {13053502000000 + site.index}号")
    parts.append(f"版权所有 © 2005-{county.as_of.year} {escape(site.name)}")
    links = '<div class="yqlj">友情链接：<a href="http://www.gov.cn/">中国政府网</a> <a href="http://www.hebei.gov.cn/">河北省人民政府</a></div>'
    return f'{links}<div class="footer">{"<br>".join(parts)}</div>\n'


def _list_item(site: Site, a: Article) -> str:
    title = escape(a.title)
    if fam(site) == "legacy":
        return f'<tr><td class="t"><a href="{a.path}" target="_blank">{title}</a></td><td class="d">{fmt_date(site, a.date)}</td></tr>'
    href = a.path
    if fam(site) == "trs":
        href = "./" + a.path.split("/", 2)[2]  # TRS lists link relative to the column directory
    return f'<li><a href="{href}" title="{title}" target="_blank">{title}</a><span>{fmt_date(site, a.date)}</span></li>'


def _items_block(site: Site, arts: list[Article]) -> str:
    if fam(site) == "legacy":
        return "<table>" + "".join(_list_item(site, a) for a in arts) + "</table>"
    # home-page blocks use absolute links (relative ./ links would resolve against the home page)
    return "<ul>" + "".join(
        f'<li><a href="{a.path}" title="{escape(a.title)}">{escape(a.title)}</a><span>{fmt_date(site, a.date)}</span></li>' for a in arts
    ) + "</ul>"


def home_page(site: Site, county: County) -> str:
    all_arts = _cached(site, "newest10", lambda: sorted((a for c in site.columns for a in c.articles), key=lambda a: a.date, reverse=True)[:10])
    blocks = [f'<div class="block"><h3>最新信息</h3>{_items_block(site, all_arts[:10])}</div>']
    for c in [c for c in site.columns if c.kind == "list" and c.articles][:6]:
        if fam(site) == "trs":  # the block's only link to its column is “更多>>”: the column is named by the heading
            blocks.append(f'<div class="block"><div class="tit"><span>{escape(c.name)}</span><a class="more" href="{c.path}">更多>></a></div>'
                          f'{_items_block(site, c.articles[:5])}</div>')
        else:
            blocks.append(f'<div class="block"><h3><a href="{c.path}">{escape(c.name)}</a></h3>{_items_block(site, c.articles[:5])}</div>')
    extra = site.home_extra_html
    if site.kind == "portal":  # tab headers that are the home page itself under another address (not columns)
        extra += "".join(f'<div class="tab"><a href="/index.html?link={k}">{t}</a></div>' for k, t in HOME_TABS)
    if site.faults.get("redirect_loop"):
        extra += '<div class="tips"><a href="/loop/a.html">专题：教育惠民政策汇编</a></div>'
    if site.faults.get("traps"):
        extra += ('<div class="tips"><a href="/calendar.html?d=2026-11-23">活动日历</a> '
                  '<a href="/hall.jsp;jsessionid=S0">网上办事大厅</a></div>')
    if site.faults.get("oversize"):
        extra += '<div class="tips"><a href="/download/big.html">历年档案目录（全）</a></div>'
    meta = _meta(site, SiteName=site.name, SiteDomain="www.qinghe.gov.cn", SiteIDCode=site.site_code)
    return _head(site, site.home_title or site.name, meta) + _header(site, county) + "\n".join(blocks) + extra + _footer(site, county) + "</body></html>"


def directory_page(site: Site, county: County) -> str:
    """The 政务公开 目录: links to the columns that are not in the menu, under group headings; no dated items."""
    cols = [c for c in site.columns if c.slug in site.directory]
    groups = (("法定主动公开内容", ("notice", "policy", "interpretation", "personnel", "plan", "fiscal")),
              ("政府信息公开", ("disclosure",)), ("重点领域信息公开", ("other",)))
    tree = "".join(f'<div class="gkml"><h4>{g}</h4><ul>' + "".join(
        f'<li><a href="{c.path}">{escape(c.name)}</a></li>' for c in cols if c.category in cats) + "</ul></div>" for g, cats in groups)
    head = _head(site, f"政务公开_{site.name}", _meta(site, SiteName=site.name, SiteIDCode=site.site_code)) + _header(site, county)
    crumb = '<div class="crumb">当前位置：<a href="/">首页</a> &gt; 政务公开</div>'
    return head + crumb + f'<div class="main"><h3>政府信息公开目录</h3>{tree}</div>' + _footer(site, county) + "</body></html>"


def column_pages(site: Site, col: Column) -> int:
    size = PAGE_SIZE[fam(site)]
    return max(1, -(-len(col.articles) // size))


def column_page(site: Site, county: County, col: Column, page_no: int = 0) -> str:
    meta = _meta(site, ColumnName=col.name, SiteName=site.name, SiteIDCode=site.site_code)
    head = _head(site, f"{col.name}_{site.name}", meta) + _header(site, county)
    crumb = f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; {escape(col.name)}</div>'
    if col.kind == "static":
        body = "".join(f"<p>{escape(t)}</p>" for t in col.static_text)
        return head + crumb + f'<div class="content"><h1>{escape(col.name)}</h1>{body}</div>' + _footer(site, county) + "</body></html>"
    f = fam(site)
    size = PAGE_SIZE[f]
    arts = col.articles[page_no * size:(page_no + 1) * size]
    n_pages = column_pages(site, col)
    if f == "hanweb":
        records = "".join(
            f"<record><![CDATA[<li><a href=\"{a.path}\" title=\"{escape(a.title)}\" target=\"_blank\">{escape(a.title)}</a><span>{fmt_date(site, a.date)}</span></li>]]></record>\n"
            for a in col.articles)
        lst = (f'<div id="{col.cid}"><script type="text/xml"><datastore>'
               f'<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid={col.cid}"></a>]]></nextgroup>'
               f"<recordset>\n{records}</recordset></datastore></script>"
               '<script language="javascript" src="/module/jslib/jquery/jpage/jpage.js"></script></div>')
        if not col.articles:
            lst += '<div class="nodata">暂无信息</div>'
    elif f == "trs":
        items = "".join(_list_item(site, a) for a in arts) or '<li class="empty">暂无信息</li>'
        lst = (f'<ul class="list">{items}</ul><div class="page"><script type="text/javascript">'
               f'createPageHTML({n_pages}, {page_no}, "index", "html");</script></div>')
    else:
        rows = "".join(_list_item(site, a) for a in arts) or '<tr><td colspan="2">暂无信息</td></tr>'
        pager = ""
        if page_no + 1 < n_pages:
            pager = (f'<a href="{col.path}&page={page_no + 2}">下一页</a> '
                     f'<a href="{col.path}&page={n_pages}">尾页</a>')
        lst = f'<table class="list" width="100%">{rows}</table><div class="pager">共{len(col.articles)}条 第{page_no + 1}/{n_pages}页 {pager}</div>'
    return head + crumb + f'<div class="main"><h3>{escape(col.name)}</h3>{lst}</div>' + _footer(site, county) + "</body></html>"


def article_page(site: Site, county: County, a: Article) -> str:
    col = site.column(a.column_slug)
    meta = _meta(site, ArticleTitle=a.title, PubDate=f"{a.date:%Y-%m-%d} 09:30", ContentSource=site.unit,
                 ColumnName=col.name, SiteName=site.name, SiteIDCode=site.site_code)
    f = fam(site)
    d = fmt_date(site, a.date).strip("[]")
    if f == "trs":
        info = f'<div class="info">发布时间：{a.date:%Y-%m-%d} 09:30　来源：{escape(site.unit)}　字号：[大 中 小]</div>'
    elif f == "hanweb":
        info = f'<div class="xxgk_info"><span>发布日期：{d}</span> <span>浏览次数：{100 + a.aid % 900}</span></div>'
    else:
        info = f'<td class="info">日期：{d}　点击数：{a.aid % 500}</td>'
    doc_no = f'<div class="wh">文号：{escape(a.doc_no)}</div>' if a.doc_no else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
    if a.letter:
        L = a.letter
        reply = (f'<tr><th>回复单位</th><td>{escape(site.unit)}</td></tr><tr><th>回复时间</th><td>{L["answered"]:%Y-%m-%d}</td></tr>'
                 f'<tr><th>回复内容</th><td>{escape(L["reply"])}</td></tr>' if L["answered"] else
                 '<tr><th>办理状态</th><td>未回复</td></tr>')
        body += (f'<table class="letter"><tr><th>来信人</th><td>{escape(L["asker"])}</td></tr>'
                 f'<tr><th>来信时间</th><td>{L["received"]:%Y-%m-%d}</td></tr>{reply}</table>')
    atts = "".join(f'<p class="att">附件：<a href="{x.path}">{escape(x.name)}</a></p>' for x in a.attachments)
    by_path = _cached(site, "by_path", site.article_by_path)
    rel = "".join(f'<p class="rel">{escape(label)}：<a href="{path}">{escape(by_path[path].title if path in by_path else label)}</a></p>'
                  for label, path in a.related)
    # related-information box: newer dates than the article itself (a trap for naive date extractors)
    top = _cached(site, "newest5", lambda: sorted((x for c in site.columns for x in c.articles), key=lambda x: x.date, reverse=True)[:5])
    newest = [x for x in top if x is not a][:4]
    box = '<div class="related"><h3>相关信息</h3><ul>' + "".join(
        f'<li><a href="{x.path}">{escape(x.title)}</a><span>{fmt_date(site, x.date)}</span></li>' for x in newest) + "</ul></div>"
    if f == "legacy":
        content = (f'<table width="100%"><tr><td><h1>{escape(a.title)}</h1></td></tr><tr>{info}</tr>'
                   f'<tr><td class="content">{doc_no}{body}{atts}{rel}</td></tr></table>')
    else:
        content = f'<div class="article"><h1>{escape(a.title)}</h1>{info}{doc_no}<div class="content">{body}{atts}{rel}</div></div>'
    crumb = f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="{col.path}">{escape(col.name)}</a></div>'
    return _head(site, f"{a.title}_{site.name}", meta) + _header(site, county) + crumb + content + box + _footer(site, county, True) + "</body></html>"


def encode(site: Site, html: str) -> tuple[bytes, str]:
    """Bytes and Content-Type header. Legacy sites are GBK and send no charset in the header."""
    if fam(site) == "legacy":
        return html.encode("gbk", "xmlcharrefreplace"), "text/html"
    return html.encode("utf-8"), "text/html; charset=utf-8"
