"""Inspect one site: crawl it, then run every registered site check (engine/checks/registry.py). Pure: no Django.

inspect_site(...) -> SiteReport, used by `govinspect check-site`, by rounds and by the benchmarks. Findings only:
scoring is the rounds' (and check-site's) business, with the RuleSet's scheme.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..rules.ruleset import RuleSet
from .checks.content import SiteContent
from .checks.freshness import ColumnResult, ColumnSpec, HomeResult, check_column, check_home, classify, veto_counts
from .checks.history import PreviousCrawl
from .checks.registry import SiteContext, site_checks
from .content import ContentChecker
from .extract.page import PAGER_TEXT, is_more_text
from .fetch import CrawlConfig, CrawlResult
from .fetch.crawler import crawl_site_async, normalise_url
from .finding import Finding, iso


@dataclass
class SiteReport:
    site_url: str
    as_of: dt.date
    status: str  # checked | could_not_check
    reason: str = ""
    pages_fetched: int = 0
    home: HomeResult | None = None
    columns: list[ColumnResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    veto: dict = field(default_factory=dict)
    verdict: str = "unknown"  # pass | fail | unknown: set by whoever scores (not inspect_site)
    columns_discovered: bool = False
    crawl_stats: dict = field(default_factory=dict)
    check_stats: dict = field(default_factory=dict)
    warc_path: str | None = None
    log_path: str | None = None
    started_at: str = ""
    finished_at: str = ""
    publication_count: int = 0  # items dated inside the round's period, for rankings
    score: int | None = None  # the scheme's 100-point score (None when the site could not be checked)
    deductions: list = field(default_factory=list)
    fetched_ok: frozenset = frozenset()  # home page and seeds fetched with a usable answer (re-checks; not in the JSON)
    page_links: dict = field(default_factory=dict)  # those pages -> the links they carry, normalised (re-checks of links)
    undecided: dict = field(default_factory=dict)  # rule -> why this run could not decide it (a re-check says 未能复查)
    sampled: dict = field(default_factory=dict)  # rule -> the pages it sampled this run (a re-check needs the same ones)
    captures: dict = field(default_factory=dict)  # those pages -> where their capture is (re-checks' after-evidence)
    gone: frozenset = frozenset()  # seeds the site answered 404/410 (a page the unit deleted; re-checks)

    def to_dict(self) -> dict:
        """The check-site JSON contract (README)."""
        return {
            "site": self.site_url, "as_of": self.as_of.isoformat(), "status": self.status, "reason": self.reason,
            "verdict": self.verdict, "score": self.score, "deductions": self.deductions, "pages_fetched": self.pages_fetched,
            "home": {"url": self.home.url, "status": self.home.status, "newest_date": iso(self.home.newest_date),
                     "source": self.home.source, "reason": self.home.reason} if self.home else None,
            "columns_discovered": self.columns_discovered,
            "columns": [c.to_dict() for c in self.columns],
            "findings": [f.to_dict() for f in self.findings],
            "veto": self.veto, "crawl": self.crawl_stats, "coverage": coverage(self.crawl_stats),
            "checks": self.check_stats, "warc": self.warc_path, "crawl_log": self.log_path,
            "started_at": self.started_at, "finished_at": self.finished_at,
        }


# rules that look at every page (links on all pages, personal data in old pages): on a capped crawl they say so
WHOLE_SITE_RULES = ("link.dead", "link.illegal", "link.hidden", "privacy.id_number", "privacy.mobile", "privacy.bank_card")


def coverage(crawl_stats: dict) -> dict:
    """How much of the site the crawl covered (check-site JSON, round.json, the bulletin): `complete` false when the
    safety limit `max_pages` stopped it with `not_fetched` in-scope URLs found and not fetched; `note` says so in Chinese
    and `rules` names the checks that only saw the fetched pages."""
    limit, left = crawl_stats.get("max_pages"), crawl_stats.get("not_fetched") or 0
    out = {"complete": not left, "max_pages": limit, "urls_fetched": crawl_stats.get("urls", 0), "not_fetched": left}
    if left:
        out["note"] = (f"网站页面超过检查上限{limit}页，另有{left}个页面未检查；死链、违法链接、暗链和个人信息泄露"
                       f"只检查了已抓取的{out['urls_fetched']}个页面")
        out["rules"] = list(WHOLE_SITE_RULES)
    return out


# a page that is the home page under another name (index.html, default.aspx ... at the site root)
_HOME_FILE = re.compile(r"/(?:index|default|main|home)\.(?:s?html?|php|aspx?|jsp)$", re.I)
# landing pages followed one click further: 信息公开 / 政务公开 and their 目录 trees
_DIRECTORY = re.compile(r"公开|目录")
_TITLE_CUT = re.compile(r"\s*[-_|—–]+\s*")


def _page_key(url: str) -> str:
    """The home page whatever its file name and query (tab variants index.html?link=zwgk; the fragment #tab2 is
    gone already): the site root; any other page: host, path and query (list.asp?id=3 and ?id=4 are two columns)."""
    p = urlsplit(url)
    path = p.path or "/"
    if path == "/" or (_HOME_FILE.search(path) and path.count("/") == 1):
        return p.netloc.lower() + "/"
    return p.netloc.lower() + path + ("?" + p.query if p.query else "")


def _column_name(link_text: str, block: str | None, page) -> str:
    """A column's name: the list page's ColumnName, else the link's text, else (for "更多>>" and icon links) the
    heading or tab of the block holding the link, else the first part of the list page's title."""
    if page.meta.get("ColumnName"):
        return page.meta["ColumnName"]
    if link_text and not is_more_text(link_text) and link_text not in PAGER_TEXT:
        return link_text
    if block:
        return block
    return _TITLE_CUT.split(page.title.strip(), 1)[0] if page.title else ""


def discover_columns(crawl: CrawlResult, home_url: str, rules: dict) -> list[ColumnSpec]:
    """Columns from the site's navigation, when none are registered.

    A link on the home page is a column when its target was fetched and is a list page (items,
    datastore, createPageHTML, an explicit 暂无信息), a redirect stub (its target decides), or a single-page
    column whose name is a known category (概况, 职能 ...). Pager links, dated articles and the home page under
    tab variants (index.html?link=…, #tab) are never columns. A link reading "更多>>", "MORE" or an icon takes its
    name from the block's heading or tab. 信息公开 / 目录 pages (and landing pages that are no column) linked
    from the home page are followed one click further: their list pages are columns too.
    """
    home = crawl.get(home_url)
    if home is None or not home.ok or home.page is None:
        return []
    home_items = frozenset(i.url for i in home.page.items)
    variants: dict[str, set] = {}  # host and path -> the item sets of the pages found there
    seen = {_page_key(home_url), _page_key(home.final_url or home_url)}
    pagers: set[str] = set()
    out: list[ColumnSpec] = []
    landing: list = []

    def visit(page, second: bool) -> None:
        for link in page.links:
            u = normalise_url(link.url)
            key = _page_key(u)
            if key in seen or u in pagers or not crawl.in_scope(u):
                continue
            rec = crawl.get(u)
            if rec is None or not rec.ok or rec.page is None:
                continue
            p = rec.page
            shown = frozenset(i.url for i in p.items)
            same_path = variants.setdefault(urlsplit(u).netloc + urlsplit(u).path, set())
            if shown and (shown == home_items or shown in same_path):
                seen.add(key)  # the home page, or a page already found, under a tab variant of its address
                continue
            same_path.add(shown)
            name = _column_name(link.text.strip(), page.block_names.get(link.url), p)
            if not (2 <= len(name) <= 16) or name in PAGER_TEXT or name.isdigit() or is_more_text(name):
                continue
            if p.kind == "article" and p.publish_date:
                continue
            is_list = p.kind == "list" or p.empty_marker or p.datastore or (p.list_markers and p.kind != "article")
            is_single = (not second and p.kind != "article" and classify(name, rules)["id"] != "unknown"
                         and p.paragraph_chars >= 50)
            if is_list or is_single or p.redirect_to:
                seen.add(key)
                pagers.update(normalise_url(n) for n in p.next_pages)
                out.append(ColumnSpec(name=name, url=u))
                if not second and _DIRECTORY.search(name):
                    landing.append(p)
            elif not second and p.kind != "article":
                seen.add(key)
                landing.append(p)

    visit(home.page, False)
    for p in landing[:30]:  # two clicks deep: the 信息公开 目录 and landing pages of the navigation
        visit(p, True)
    return [c for c in out if c.url not in pagers]


async def inspect_site_async(site_url: str, as_of: dt.date, cfg: CrawlConfig | None = None,
                             columns: list[ColumnSpec] | None = None, out_dir: Path | None = None,
                             period_start: dt.date | None = None, government: bool | None = None,
                             site_code: str | None = None, previous: Path | None = None,
                             is_portal: bool | None = None, portal_url: str | None = None,
                             content: ContentChecker | None | bool = True, seeds: list[str] | None = None,
                             rules: RuleSet | None = None, on_progress=None) -> SiteReport:
    """government: the site belongs to a people's government (annual report due 31 March) rather than
    a department (31 January); None when unknown (the later deadline is used). site_code: the
    registered 网站标识码, compared with the footer. out_dir: where the crawl is kept (and resumed from);
    previous: an earlier crawl's out_dir, for conditional requests and the checks over time. content: the content
    checker (True: all content rules without the leader roster; False/None: no content checks). seeds: URLs to fetch
    besides the home page (default: the columns' URLs). rules: the round's RuleSet (None: the shipped rules).
    on_progress: called with the crawl's progress ({"pages": n, ...}) about once a second (crawl_site_async)."""
    cfg = cfg or CrawlConfig()
    rules = rules or RuleSet.load()
    fresh = rules["freshness"]
    seeds = [c.url for c in columns or []] if seeds is None else seeds
    if content is True:
        content = ContentChecker(rules)
    site_content = SiteContent(content) if content else None
    crawl = await crawl_site_async(site_url, cfg, out_dir, seeds, previous, site_content.on_page if site_content else None,
                                   on_progress)
    home_url = crawl.site_url
    report = SiteReport(site_url=home_url, as_of=as_of, status="checked", pages_fetched=crawl.pages_fetched,
                        crawl_stats=crawl.stats, warc_path=crawl.warc_path, log_path=crawl.log_path,
                        started_at=crawl.started_at, finished_at=crawl.finished_at,
                        fetched_ok=frozenset(normalise_url(u) for u in [site_url, crawl.site_url, *seeds] if (r := crawl.get(u)) and r.ok))
    report.page_links = {u: frozenset(normalise_url(l.url) for l in r.page.links)
                         for u in report.fetched_ok if (r := crawl.get(u)) is not None and r.page is not None}
    report.gone = frozenset(normalise_url(u) for u in seeds
                            if (r := crawl.get(u)) is not None and r.error is None and r.status in (404, 410))
    report.captures = {normalise_url(u): {"url": u, "warc_file": r.warc_file or crawl.warc_path or "", "warc_offset": r.warc_offset,
                                          "captured_at": r.fetched_at or None, "http_status": r.status}
                       for u in [site_url, crawl.site_url, *seeds] if (r := crawl.get(u)) is not None and r.warc_offset is not None}
    home = crawl.get(home_url)
    if home is None or not home.ok or home.page is None:
        why = (home.error if home and home.error else f"HTTP {home.status}" if home else "未抓取")
        report.status, report.reason = "could_not_check", f"首页无法访问（{why}），本轮未能检查"
        report.home = HomeResult(url=home_url, status="unknown", reason=report.reason)
        report.columns = [ColumnResult(name=c.name, url=c.url, category=c.category or classify(c.name, fresh)["id"],
                                       category_label="", window="", level=c.level, status="unknown",
                                       reason="网站无法访问", unit=c.unit) for c in columns or []]
        return report
    if not columns:
        columns = discover_columns(crawl, home_url, fresh)
        report.columns_discovered = True
    report.columns = [check_column(crawl, spec, as_of, fresh) for spec in columns]
    report.home = check_home(crawl, home_url, report.columns, as_of, fresh)
    prev = PreviousCrawl(previous) if previous is not None and (previous / "crawl-state.sqlite").exists() else None
    ctx = SiteContext(crawl=crawl, home_url=home_url, as_of=as_of, rules=rules, cfg=cfg, columns=report.columns,
                      home=report.home, previous=prev, site_code=site_code, government=government, is_portal=is_portal,
                      portal_url=portal_url, period_start=period_start, content=site_content,
                      check_stats=report.check_stats, undecided=report.undecided, sampled=report.sampled)
    for chk in site_checks():
        if not all(ctx.has(n) for n in chk.needs):
            continue
        found = chk.run(ctx)
        if inspect.isawaitable(found):
            found = await found
        report.findings += found
    report.veto = veto_counts(report.columns, fresh)
    _capture_evidence(report.findings, crawl, home_url)
    if period_start:
        report.publication_count = _count_publications(crawl, home_url, period_start, as_of)
    return report


def _capture_evidence(findings: list[Finding], crawl: CrawlResult, home_url: str) -> None:
    """Each finding's capture: the page it is located on (an attachment; a column's list page), for a link the first
    page it was seen on, for a site-wide finding else the home page; and a note when the crawl stopped at its page
    limit."""
    partial = coverage(crawl.stats).get("note")
    for f in findings:
        src = f.url
        if f.subject.kind == "link":
            src = next((r["page"] for r in f.facts.get("referrers") or [] if r.get("page")), "") or f.facts.get("page") or home_url
        # a page the crawl did not keep has no capture: never the home page's capture shown as that page
        rec = crawl.get(src) or (crawl.get(home_url) if f.subject.kind == "site" else None)
        ev = f.evidence
        if rec is not None and ev.captured_at is None:
            ev.captured_at, ev.http_status = rec.fetched_at or None, rec.status
            if rec.warc_offset is not None:
                ev.warc_file, ev.warc_offset = rec.warc_file or crawl.warc_path or "", rec.warc_offset
        if partial and f.rule.startswith(WHOLE_SITE_RULES):  # found on the part fetched; more may lie beyond
            ev.coverage = partial


def _count_publications(crawl: CrawlResult, home_url: str, start: dt.date, end: dt.date) -> int:
    """Distinct articles of this site dated within [start, end] (list dates, else the page's date)."""
    host = urlsplit(home_url).netloc
    dated: dict[str, dt.date] = {}
    for rec in crawl.records.values():
        if rec.page is None:
            continue
        for it in rec.page.items:
            if it.date and urlsplit(it.url).netloc == host:
                dated.setdefault(normalise_url(it.url), it.date)
        if rec.page.kind == "article" and rec.page.publish_date:
            dated.setdefault(normalise_url(rec.url), rec.page.publish_date)
    return sum(1 for d in dated.values() if start <= d <= end)


def inspect_site(site_url: str, as_of: dt.date, cfg: CrawlConfig | None = None, columns: list[ColumnSpec] | None = None,
                 out_dir: Path | None = None, **kwargs) -> SiteReport:
    """Synchronous inspect_site_async (runs its own event loop); keyword arguments are passed on."""
    import asyncio

    return asyncio.run(inspect_site_async(site_url, as_of, cfg, columns, out_dir, **kwargs))
