"""Disclosure columns and interaction (条例 Art. 12 and 49, WV-5, OT-2): pure checks over a crawl.

disclosure.guide_no_year      the newest 政府信息公开指南 carries no year version
disclosure.guide_incomplete   the guide lacks contact fields of Art. 12
disclosure.annual_report_missing   the report due at the as-of date is not in the 年报 column
policy.interpretation_missing a document in a 政策文件-type column links to no 解读
interaction.unanswered        a letter in a 咨询-type column, received within the past year, unanswered after 3 months
Columns we could not fetch give no finding (could not check).
"""

from __future__ import annotations

import datetime as dt
import re

from ...rules import load_rules
from . import freshness
from ..workdays import UnknownYear, workdays_between
from .model import Finding, iso

_YEAR = re.compile(r"(?:19|20)\d{2}\s*年")
_REPORT = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?.{0,30}?(?:年度报告|年报)")


def _summary(crawl, url):
    """The page model kept in memory: title, kind, dates, links (no text for crawls kept on disk)."""
    rec = crawl.get(url)
    return rec.page if rec is not None and rec.ok else None


def _page(crawl, url):
    """The page with its text (read back from the snapshot when the crawl dropped it from memory)."""
    return crawl.full_page(url) if _summary(crawl, url) is not None else None


def _columns(columns, keywords):
    return [c for c in columns if any(k in c.name for k in keywords)]


def _items(crawl, col):
    items, _, _ = freshness._column_items(crawl, col.url)
    return items


def guide_findings(crawl, columns, rules) -> list[Finding]:
    g = rules["guide"]
    out = []
    for col in _columns(columns, g["column_keywords"]):
        items = _items(crawl, col)
        if not items:
            continue
        newest = max(items, key=lambda i: i.date or dt.date.min)
        page = _page(crawl, newest.url)
        title = (page.title if page else "") or newest.title
        if not _YEAR.search(newest.title) and not _YEAR.search(title):
            out.append(Finding("disclosure.guide_no_year", newest.url, f"政府信息公开指南{_quoted(newest.title)}未标注年度版本", col.name,
                               {"title": newest.title, "page_title": title}))
        if page is not None:
            missing = [label for label, words in g["contact_fields"].items() if not any(w in page.text for w in words)]
            no_qr = bool(g.get("require_qr")) and not page.meta.get("__qr__") and "二维码" not in page.text
            if missing or no_qr:
                parts = [f"{'、'.join(missing)}等信息（条例第十二条）"] if missing else []
                parts += ["政务新媒体二维码（本地方案要求）"] if no_qr else []
                out.append(Finding("disclosure.guide_incomplete", newest.url, f"政府信息公开指南缺少{'；'.join(parts)}", col.name,
                                   {"missing": missing + (["政务新媒体二维码"] if no_qr else [])}))
    return out


def report_due(as_of: dt.date, government: bool | None, rules: dict | None = None) -> tuple[int, str]:
    """(year whose report must be out at as_of, deadline MM-DD). Unknown kind: the later deadline."""
    a = (rules or load_rules("disclosure"))["annual_report"]
    mmdd = a["government_deadline"] if government in (True, None) else a["department_deadline"]
    month, day = map(int, mmdd.split("-"))
    return (as_of.year - 1 if as_of > dt.date(as_of.year, month, day) else as_of.year - 2), mmdd


def annual_report_findings(crawl, columns, as_of: dt.date, government: bool | None, rules) -> list[Finding]:
    a = rules["annual_report"]
    out = []
    due, mmdd = report_due(as_of, government, rules)
    month, day = map(int, mmdd.split("-"))
    for col in _columns(columns, a["column_keywords"]):
        if col.status == "unknown":
            continue
        items = _items(crawl, col) or []
        years = {int(m.group(1)) for i in items for m in [_REPORT.search(i.title)] if m}
        if due not in years:
            out.append(Finding("disclosure.annual_report_missing", col.url,
                               f"截至检查时点未在“{col.name}”栏目发布{due}年政府信息公开工作年度报告（应于{due + 1}年{month}月{day}日前发布）",
                               col.name, {"due_year": due, "deadline": f"{due + 1}-{mmdd}", "years_found": sorted(years, reverse=True),
                                          "as_of": as_of.isoformat()}))
    return out


def _quoted(title: str) -> str:
    """《title》 with inner 《》 written as 〈〉, as official documents nest title marks."""
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


def _doc_key(title: str) -> str:
    """The name a 解读 repeats: the 《…》 part of the title, else the title without 关于印发/的通知."""
    m = re.search(r"《([^》]{4,})》", title)
    if m:
        return m.group(1)
    return re.sub(r"^.*?关于(?:印发)?|的(?:通知|意见|决定|公告)$", "", title)[:20]


def interpretation_findings(crawl, columns, rules) -> list[Finding]:
    kws = rules["interpretation"]["link_keywords"]
    interp_items = [i for c in columns if c.category == "interpretation" and c.status != "unknown"
                    for i in (_items(crawl, c) or [])]
    out = []
    for col in columns:
        if col.category != "policy" or col.status == "unknown":
            continue
        for it in _items(crawl, col) or []:
            page = _summary(crawl, it.url)
            if page is None or page.kind != "article":
                continue  # not fetched or not a document page: could not check
            key = _doc_key(page.title or it.title)
            if len(key) < 4:
                continue
            # a 解读 names the document it explains: linked from the document, or listed in a 解读 column
            linked = [l.url for l in page.links if l.url != it.url and any(k in (l.text or "") for k in kws) and key in l.text]
            for l in page.links:
                target = _summary(crawl, l.url) if l.url != it.url else None
                if target is not None and target.kind == "article" and any(k in target.title for k in kws) and key in target.title:
                    linked.append(l.url)
            listed = [i for i in interp_items if key in i.title and any(k in i.title for k in kws)]
            if not linked and not listed:
                out.append(Finding("policy.interpretation_missing", it.url, f"政策文件{_quoted(it.title)}未发布政策解读", col.name,
                                   {"title": it.title, "key": key, "publish_date": iso(page.publish_date)}))
                continue
            # both ways: the document links its 解读, and the 解读 links back to the document
            back = [u for u in linked if (tp := _summary(crawl, u)) is not None and any(l.url == it.url for l in tp.links)]
            if not linked or not back:
                why = "政策文件页面未链接其解读" if not linked else "解读页面未链接回政策文件"
                out.append(Finding("policy.interpretation_unlinked", it.url, f"政策文件{_quoted(it.title)}与其解读未相互关联（{why}）",
                                   col.name, {"title": it.title, "linked": linked[:3],
                                              "listed": [i.url for i in listed[:3]]}))
            # when did the 解读 appear? its page's date, else its list date
            dates = [p.publish_date for p in (_summary(crawl, u) for u in linked) if p is not None and p.publish_date]
            dates += [i.date for i in listed if i.date]
            doc_date = page.publish_date or it.date
            if not dates or doc_date is None:
                continue
            first = min(dates)
            try:
                late = workdays_between(doc_date, first)
            except UnknownYear:
                continue  # no calendar for that year: could not check
            if late > rules["interpretation"]["late_workdays"]:
                out.append(Finding("policy.interpretation_late", it.url,
                                   f"政策文件{_quoted(it.title)}{doc_date:%Y年%m月%d日}发布，解读{first:%Y年%m月%d日}才发布，"
                                   f"晚了{late}个工作日（要求{rules['interpretation']['late_workdays']}个工作日内）", col.name,
                                   {"document_date": doc_date.isoformat(), "interpretation_date": first.isoformat(), "workdays": late}))
    return out


def _labelled(text: str, labels) -> dt.date | None:
    from ..extract.dates import DATE_RE, make_date

    for label in labels:
        m = re.search(re.escape(label) + r"\s*[:：]?\s*" + DATE_RE.pattern, text)
        if m:
            d = make_date(m.group(1), m.group(2), m.group(3))
            if d:
                return d
    return None


def interaction_findings(crawl, columns, as_of: dt.date, rules) -> tuple[list[Finding], dict]:
    r = rules["interaction"]
    start = freshness.cutoff(as_of, r["window"])
    overdue = freshness.cutoff(as_of, r["overdue"])
    out, stats = [], {"letters": 0, "answered": 0, "unanswered": 0, "unknown": 0, "on_time": 0, "limit_workdays": r["reply_workdays"]}
    for col in _columns(columns, r["column_keywords"]):
        if col.status == "unknown":
            continue
        for it in _items(crawl, col) or []:
            page = _page(crawl, it.url)
            if page is None:
                stats["unknown"] += 1
                continue
            received = _labelled(page.text, r["received_labels"])
            if received is None:
                continue  # not a letter page we understand
            stats["letters"] += 1
            answered = _labelled(page.text, r["answered_labels"])
            if answered:
                stats["answered"] += 1
                try:
                    if workdays_between(received, answered) <= r["reply_workdays"]:
                        stats["on_time"] += 1
                except UnknownYear:
                    pass
                continue
            if not any(w in page.text for w in r["unanswered_words"]):
                stats["unknown"] += 1  # no reply date and no status: do not guess
                continue
            stats["unanswered"] += 1
            if start <= received < overdue:
                out.append(Finding("interaction.unanswered", it.url,
                                   f"“{col.name}”栏目{received:%Y年%m月%d日}收到的留言{_quoted(it.title)}超过3个月未回复", col.name,
                                   {"received": received.isoformat(), "as_of": as_of.isoformat(), "days": (as_of - received).days}))
    return out, stats


def disclosure_findings(crawl, columns, as_of: dt.date, government: bool | None = None) -> tuple[list[Finding], dict]:
    rules = load_rules("disclosure")
    findings = guide_findings(crawl, columns, rules)
    findings += annual_report_findings(crawl, columns, as_of, government, rules)
    findings += interpretation_findings(crawl, columns, rules)
    inter, stats = interaction_findings(crawl, columns, as_of, rules)
    return findings + inter, {"letters": stats}
