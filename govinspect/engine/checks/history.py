"""Content over time, from the previous round's crawl of the same site (its state and WARC).

content.backdated (WV-1e 伪造发稿日期): a page that did not exist at the previous crawl, listed now in a
  column whose previous list already covered its stated date, yet did not list it: its date was
  written earlier than the page appeared. Precise by construction: the previous list page is the
  witness, read back from the previous WARC.
site.defaced (WV-1d): the home page changed in a way an update does not explain: its title changed,
  or it now links to illegal or hidden external sites it did not link to before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..extract import decode_html, extract_page
from ..extract.hiding import hiding_is_weak
from ..fetch.crawler import normalise_url
from ..fetch.state import CrawlState
from ..fetch.warc import read_payload
from ..finding import Finding
from .links import classify_illegal
from .registry import check


class PreviousCrawl:
    """Read access to an earlier crawl of the site: which URLs it knew, and its pages by URL."""

    def __init__(self, out_dir: Path):
        st = CrawlState(out_dir / "crawl-state.sqlite")
        self.finished_at = st.get_meta("finished_at")
        self.rows = {r["url"]: r for r in st.fetched()}
        self.known = set(st.known())
        st.close()

    @property
    def date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.finished_at[:10]) if self.finished_at else None

    def fetched_on(self, url: str) -> dt.date | None:
        row = self.rows.get(normalise_url(url))
        return dt.date.fromisoformat(row["fetched_at"][:10]) if row and row.get("fetched_at") else None

    def page(self, url: str):
        row = self.rows.get(normalise_url(url))
        if not row or not row["is_html"] or not row["warc_file"] or row["warc_offset"] is None:
            return None
        try:
            body = read_payload(row["warc_file"], row["warc_offset"])
        except (OSError, ValueError):
            return None
        text, _ = decode_html(body, row["content_type"])
        return extract_page(text, row["final_url"] or url)


def backdated_findings(crawl, columns, prev: PreviousCrawl, site: str = "") -> list[Finding]:
    if prev.date is None:
        return []
    out = []
    for col in columns:
        if col.status == "unknown":
            continue
        old_list = prev.page(col.url)
        if old_list is None or not old_list.items:
            continue
        old_urls = {normalise_url(i.url) for i in old_list.items}
        old_dates = [i.date for i in old_list.items if i.date]
        if not old_dates:
            continue
        covered_from = min(old_dates)  # the previous list showed everything from this date on
        seen_on = prev.fetched_on(col.url) or prev.date  # when that list was captured
        rec = crawl.get(col.url)
        if rec is None or rec.page is None:
            continue
        for it in rec.page.items:
            u = normalise_url(it.url)
            if u in old_urls or u in prev.known or not it.date:
                continue
            if covered_from <= it.date < seen_on:
                out.append(Finding.at_url("content.backdated", it.url,
                                          f"“{col.name}”栏目的《{it.title}》标注发布日期为{it.date:%Y年%m月%d日}，但{seen_on:%Y年%m月%d日}"
                                          f"检查时该栏目列表（已列出{covered_from:%Y年%m月%d日}以来的信息）中并无此条，疑似伪造发稿日期",
                                          kind="page", site=site, column=col.name, facts={"stated_date": it.date.isoformat(), "previous_crawl": prev.finished_at,
                                              "previous_list_covered_from": covered_from.isoformat(),
                                              "previous_list_url": col.url}))
    return out


def defacement_findings(crawl, home_url: str, prev: PreviousCrawl, links_rules: dict) -> list[Finding]:
    old = prev.page(home_url)
    rec = crawl.get(home_url)
    if old is None or rec is None or rec.page is None:
        return []
    new = rec.page
    reasons = []
    if old.title and new.title and old.title != new.title:
        reasons.append(f"首页标题由“{old.title}”变为“{new.title}”")
    old_ext = {normalise_url(l.url) for l in old.links}
    added = [l for l in new.links if normalise_url(l.url) not in old_ext and not crawl.in_scope(l.url)]
    # hidden the way menus are (display:none, shown on hover) proves nothing: only strong hiding or an illegal target
    bad = [l for l in added if (l.hidden and not hiding_is_weak(l.hidden)) or classify_illegal(l.url, links_rules, l.text)]
    if bad:
        reasons.append("首页新增" + "、".join(f"“{l.text or l.url}”（{l.url}）" for l in bad[:5]) + "等隐藏或违法链接")
    if not reasons:
        return []
    return [Finding.at_url("site.defaced", home_url, "首页疑似被篡改：" + "；".join(reasons) + "，请立即核查", kind="site",
                           facts={"previous_title": old.title, "title": new.title, "new_links": [l.url for l in bad[:20]],
                     "previous_crawl": prev.finished_at})]


@check("history", rules=("content.backdated", "site.defaced"), needs=("crawl", "previous_round"),
       reads=("links.illegal", "links.category"))
def history_check(ctx) -> list[Finding]:
    """Against the previous round's crawl: items listed now under dates the previous list covered; a defaced home page."""
    return (backdated_findings(ctx.crawl, ctx.columns, ctx.previous, ctx.home_url)
            + defacement_findings(ctx.crawl, ctx.home_url, ctx.previous, ctx.rules["links"]))
