"""WD-7a site search: the home page has a search form, and searching for words of a recent title finds it."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from ..finding import Finding
from .registry import check

_WORD = re.compile(r"[\u4e00-\u9fff]{4,}")


def search_query(crawl, home_url: str) -> tuple[dict, str, str] | None:
    """(form, query, expected title) from the home page, or None when there is no search form."""
    home = crawl.get(home_url)
    if home is None or home.page is None or not home.page.forms:
        return None
    form = home.page.forms[0]
    titles = [i.title for i in sorted(home.page.items, key=lambda i: i.date or 0, reverse=True)[:10] if i.title]
    for t in titles:
        m = _WORD.findall(t)
        if m:
            word = max(m, key=len)[:6]
            return form, word, t
    return form, "", ""


def search_url(form: dict, query: str, encoding: str | None = None) -> str:
    """The GET a browser would send: form fields encoded in the page's charset."""
    params = dict(form["hidden"])
    params[form["field"]] = query
    sep = "&" if "?" in form["action"] else "?"
    return form["action"] + sep + urlencode(params, encoding=encoding or "utf-8", errors="xmlcharrefreplace")


def search_findings(home_url: str, plan, probe) -> list[Finding]:
    """plan: search_query(...) result; probe: the result page (engine.fetch.linkcheck.Probe) or None."""
    if plan is None:
        return [Finding.at_url("site.search", home_url, "首页未提供站内搜索功能", kind="site")]
    form, query, title = plan
    if not query or probe is None or probe.unknown:
        return []  # nothing to search for, or we were not allowed to: could not check
    hits = [t for t in (probe.link_texts or []) if query in t]
    if probe.failed:
        why = f"搜索结果页无法访问（{probe.reason()}）"
    elif not hits:
        why = f"搜索首页上的信息标题关键词“{query}”，没有返回任何相关结果"
    else:
        return []
    return [Finding.at_url("site.search", home_url, f"站内搜索不可用：{why}", kind="site", facts=
                    {"query": query, "expected_title": title, "search_url": probe.url, "status": probe.status,
                     "results": len(hits)})]


@check("search", rules=("site.search",), needs=("crawl", "network"))
async def search_check(ctx) -> list[Finding]:
    """The home page's search form, tried with words of its newest title."""
    from ..fetch.linkcheck import LinkChecker

    plan = search_query(ctx.crawl, ctx.home_url)
    probe = None
    if plan is not None and plan[1] and ctx.crawl.in_scope(plan[0]["action"]):
        probe = await LinkChecker(ctx.cfg).get_page(search_url(plan[0], plan[1], ctx.crawl.get(ctx.home_url).encoding))
    if plan is not None and (not plan[1] or probe is None or probe.unknown):
        ctx.undecided["site.search"] = "站内搜索未能检查（首页没有可搜索的标题，或不允许访问搜索结果页）"
    return search_findings(ctx.home_url, plan, probe)
