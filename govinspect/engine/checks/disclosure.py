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
import unicodedata
from dataclasses import dataclass

from . import freshness
from ..fetch.crawler import normalise_url
from ..finding import Finding, iso
from ..workdays import UnknownYear
from .registry import check

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


def guide_findings(crawl, columns, rules, site: str = "") -> list[Finding]:
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
            out.append(Finding.at_url("disclosure.guide_no_year", newest.url, f"政府信息公开指南{_quoted(newest.title)}未标注年度版本",
                                      kind="site", site=site, column=col.name, facts={"title": newest.title, "page_title": title}))
        if page is not None:
            missing = [label for label, words in g["contact_fields"].items() if not any(w in page.text for w in words)]
            no_qr = bool(g.get("require_qr")) and not page.meta.get("__qr__") and "二维码" not in page.text
            if missing or no_qr:
                parts = [f"{'、'.join(missing)}等信息（条例第十二条）"] if missing else []
                parts += ["政务新媒体二维码（本地方案要求）"] if no_qr else []
                out.append(Finding.at_url("disclosure.guide_incomplete", newest.url, f"政府信息公开指南缺少{'；'.join(parts)}",
                                          kind="site", site=site, column=col.name, facts={"missing": missing + (["政务新媒体二维码"] if no_qr else [])}))
    return out


def report_due(as_of: dt.date, government: bool | None, rules: dict) -> tuple[int, str]:
    """(year whose report must be out at as_of, deadline MM-DD). Unknown kind: the later deadline. rules: RuleSet["disclosure"]."""
    a = rules["annual_report"]
    mmdd = a["government_deadline"] if government in (True, None) else a["department_deadline"]
    month, day = map(int, mmdd.split("-"))
    return (as_of.year - 1 if as_of > dt.date(as_of.year, month, day) else as_of.year - 2), mmdd


def annual_report_findings(crawl, columns, as_of: dt.date, government: bool | None, rules, site: str = "") -> list[Finding]:
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
            out.append(Finding.at_url("disclosure.annual_report_missing", col.url,
                                      f"截至检查时点未在“{col.name}”栏目发布{due}年政府信息公开工作年度报告（应于{due + 1}年{month}月{day}日前发布）",
                                      kind="site", site=site, column=col.name,
                                      facts={"due_year": due, "deadline": f"{due + 1}-{mmdd}", "years_found": sorted(years, reverse=True)}))
    return out


def _quoted(title: str) -> str:
    """《title》 with inner 《》 written as 〈〉, as official documents nest title marks."""
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


# ---------------------------------------------------------------- 政策解读 pairing
# Titles are compared after normalisation: full/half width (NFKC), 〈〉「」『』<> as 《》, no quotes or spaces,
# leading tags such as （转载） or 【图解】 removed. A document's key is the name it wraps:
# 关于印发《X》的通知 -> X, 关于加强X的意见 -> 加强X. An interpretation's subject is the same key taken
# from its title once the interpretation words (一图读懂, 图解, 答记者问 …) are removed.
_BRACKETS = str.maketrans({"〈": "《", "〉": "》", "<": "《", ">": "》", "「": "《", "」": "》", "『": "《", "』": "》",
                           "\u3008": "《", "\u3009": "》"})
_NOISE = re.compile(r"[“”\"'‘’`\s]")
_TAGS = re.compile(r"^(?:[(\[【][^)\]】]{1,10}[)\]】])+")
_WRAPPED = re.compile(r"关于(?:印发|转发|公布|发布|颁布|下发|印发修订后的|修订)(.+?)的(?:通知|通告|决定|公告|函|批复)$")
_ABOUT = re.compile(r"关于(.+?)(?:的(?:通知|通告|决定|公告|实施意见|指导意见|意见|函|批复|报告|请示))?$")
_TRIAL = re.compile(r"\((?:试行|暂行)\)$")
# what may stand before a name without changing what it names: a place or a government (清河县, 清河县人民政府办公室)
_PLACE_PREFIX = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:省|自治区|市|县|区|州|旗|盟|镇|乡|街道)(?:人民政府)?(?:办公室|办公厅)?")
_LABELLED = re.compile(r"[:：]\s*$")  # “政策解读：” right before a link
_ASKED = re.compile(r"^.*?(?:负责人|有关负责同志|司长|局长|主任)就")


def _norm(title: str) -> str:
    t = _NOISE.sub("", unicodedata.normalize("NFKC", title or "").translate(_BRACKETS))
    return _TAGS.sub("", t)


def _doc_key(title: str) -> str:
    """The name a 解读 repeats: 关于印发《X》的通知 -> X, 《X》 -> X, 关于加强X的意见 -> 加强X."""
    t = _norm(title)
    m = _WRAPPED.search(t)
    if m:
        t = m.group(1)
    names = re.findall(r"《([^《》]{4,})》", t)
    if names:
        t = max(names, key=len)
    elif not m and (m := _ABOUT.search(t)):
        t = m.group(1)
    return _TRIAL.sub("", t.replace("《", "").replace("》", ""))


def _subject(title: str, markers) -> str:
    """The document an interpretation's title names (its key), "" when the title names none."""
    t = _norm(title)
    names = re.findall(r"《([^《》]{4,})》", t)
    if names:
        return _doc_key(max(names, key=len))
    t = _ASKED.sub("", t)
    for w in sorted(markers, key=len, reverse=True):
        t = t.replace(w, "")
    t = re.sub(r"^[:|\-—_·、,]+|[:|\-—_·、,]+$", "", t)
    t = re.sub(r"^关于(.+?)的?$", r"\1", t) if t.startswith("关于") else t
    t = re.sub(r"的$", "", t)
    return _doc_key(t) if len(t) >= 4 else ""


def _same_document(key: str, subject: str) -> bool:
    """key and subject name the same document: equal, or equal after a place/government prefix on one side
    (清河县耕地保护实施方案 / 耕地保护实施方案). 实施细则 of an 办法, another year or another place do not match."""
    if len(key) < 4 or len(subject) < 4:
        return False
    if key == subject:
        return True
    short, long_ = sorted((key, subject), key=len)
    return len(short) >= 6 and long_.endswith(short) and bool(_PLACE_PREFIX.fullmatch(long_[: -len(short)]))


def _is_interpretation(title: str, markers) -> bool:
    t = _norm(title)
    return any(m in t for m in markers)


def _names_document(text: str, key: str, markers, original_words) -> bool:
    """A link text that points at the document: its name, or a word like 原文件."""
    t = _norm(text)
    return t in original_words or _same_document(key, _doc_key(t)) or _same_document(key, _subject(t, markers)) or (
        len(key) >= 6 and key in t)


def _interpretation_pages(crawl, markers) -> list:
    """Every fetched article page on the site whose title says it is an interpretation: 解读 columns anywhere."""
    out = []
    for rec in crawl.records.values():
        p = rec.page
        if rec.ok and p is not None and p.kind == "article" and _is_interpretation(p.title, markers):
            out.append((rec.final_url or rec.url, p))
    return out


def _pairs(crawl, doc_url: str, page, key: str, interp_items, interp_pages, r) -> tuple[list, list]:
    """(linked, listed): interpretation URLs the document page links to, and interpretations found elsewhere
    (a 解读 column's list, any interpretation page naming it or linking to it as its original). interp_items: (item,
    subject) of the 解读 columns; interp_pages: _prepared_pages (the pages and their indexes)."""
    markers, originals = r["link_keywords"], set(r["original_link_words"])
    me = normalise_url(doc_url)
    linked: list[str] = []
    text = None
    for l in page.links:
        if normalise_url(l.url) == me:
            continue
        target = _summary(crawl, l.url)
        if target is not None and target.kind == "article" and _is_interpretation(target.title, markers):
            subj = _subject(target.title, markers)
            back = any(normalise_url(b.url) == me and _names_document(b.text or "", key, markers, originals) for b in target.links)
            if _same_document(key, subj) or back or (not subj and _is_interpretation(l.text or "", markers)):
                linked.append(l.url)
        elif target is None and l.text:
            # not fetched (another host, a limit): its text names this document's 解读, or the page labels it
            # “政策解读：<a>https://…</a>” (a link whose text is only its address)
            if _is_interpretation(l.text, markers):
                if _same_document(key, _subject(l.text, markers)):
                    linked.append(l.url)
                continue
            if text is None:
                full = _page(crawl, doc_url)
                text = full.text if full is not None else ""
            k = text.find(l.text)
            if k > 0 and _LABELLED.search(text, max(0, k - 12), k) and any(m in text[max(0, k - 12):k] for m in markers):
                linked.append(l.url)
    listed = [i for i, subj in interp_items if _same_document(key, subj)]
    have = {normalise_url(u) for u in linked} | {normalise_url(i.url) for i in listed}
    pages, by_suffix, by_back = interp_pages
    # only pages that can match: a subject sharing the key's last characters (_same_document: equal, or one ends with
    # the other of at least 6 characters), or a link back to this document
    for n in sorted(set(by_suffix.get(key[-6:], ())) | set(by_back.get(me, ()))):
        url, p, nurl, subj, links = pages[n]
        if nurl in have:
            continue
        if _same_document(key, subj) or any(
                b_url == me and (_norm(b_text) in originals or (not subj and _names_document(b_text, key, markers, originals)))
                for b_url, b_text in links):
            listed.append(_Found(url, p.title, p.publish_date))
    return linked, listed


def _prepared_pages(interp_pages, markers) -> tuple[list, dict, dict]:
    """Each interpretation page once — (url, page, normalised url, its subject, its links normalised) — and two indexes
    into that list: by the subject's last six characters, by the URLs the page links to. Every policy document is
    paired with the pages these name, not with every interpretation page of the site (that was quadratic in site size)."""
    pages = [(url, p, normalise_url(url), _subject(p.title, markers), [(normalise_url(b.url), b.text or "") for b in p.links])
             for url, p in interp_pages]
    by_suffix: dict[str, list[int]] = {}
    by_back: dict[str, list[int]] = {}
    for n, (_, _, _, subj, links) in enumerate(pages):
        if subj:
            by_suffix.setdefault(subj[-6:], []).append(n)
        for b_url in {b for b, _ in links}:
            by_back.setdefault(b_url, []).append(n)
    return pages, by_suffix, by_back


@dataclass
class _Found:
    url: str
    title: str
    date: dt.date | None


def interpretation_findings(crawl, columns, rules, calendar, site: str = "") -> list[Finding]:
    """calendar: the RuleSet's working days."""
    r = rules["interpretation"]
    kws = r["link_keywords"]
    interp_items = [(i, _subject(i.title, kws)) for c in columns if c.category == "interpretation" and c.status != "unknown"
                    for i in (_items(crawl, c) or [])]
    interp_pages = None
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
            if _is_interpretation(page.title or it.title, kws):
                continue  # a 解读 listed among the documents is not a document lacking one
            if interp_pages is None:
                interp_pages = _prepared_pages(_interpretation_pages(crawl, kws), kws)
            linked, listed = _pairs(crawl, it.url, page, key, interp_items, interp_pages, r)
            if not linked and not listed:
                out.append(Finding.at_url("policy.interpretation_missing", it.url, f"政策文件{_quoted(it.title)}未发布政策解读",
                                          site=site, column=col.name,
                                          facts={"title": it.title, "key": key, "publish_date": iso(page.publish_date)}))
                continue
            # both ways: the document links its 解读, and the 解读 links back to the document
            me = normalise_url(it.url)
            fetched = [u for u in linked if _summary(crawl, u) is not None]
            back = [u for u in fetched if any(normalise_url(l.url) == me for l in _summary(crawl, u).links)]
            if linked and not fetched:
                pass  # its 解读 is elsewhere (another host) and was not fetched: whether it links back could not be checked
            elif not linked or not back:
                why = "政策文件页面未链接其解读" if not linked else "解读页面未链接回政策文件"
                out.append(Finding.at_url("policy.interpretation_unlinked", it.url, f"政策文件{_quoted(it.title)}与其解读未相互关联（{why}）",
                                          site=site, column=col.name, facts={"title": it.title, "linked": linked[:3],
                                              "listed": [i.url for i in listed[:3]]}))
            # when did the 解读 appear? its page's date, else its list date
            dates = [p.publish_date for p in (_summary(crawl, u) for u in linked) if p is not None and p.publish_date]
            dates += [i.date for i in listed if i.date]
            doc_date = page.publish_date or it.date
            if not dates or doc_date is None:
                continue
            first = min(dates)
            try:
                late = calendar.workdays_between(doc_date, first)
            except UnknownYear:
                continue  # no calendar for that year: could not check
            if late > r["late_workdays"]:
                out.append(Finding.at_url("policy.interpretation_late", it.url,
                                          f"政策文件{_quoted(it.title)}{doc_date:%Y年%m月%d日}发布，解读{first:%Y年%m月%d日}才发布，"
                                          f"晚了{late}个工作日（要求{r['late_workdays']}个工作日内）", site=site, column=col.name,
                                          facts={"document_date": doc_date.isoformat(), "interpretation_date": first.isoformat(), "workdays": late}))
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


def interaction_findings(crawl, columns, as_of: dt.date, rules, calendar, site: str = "") -> tuple[list[Finding], dict]:
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
                    if calendar.workdays_between(received, answered) <= r["reply_workdays"]:
                        stats["on_time"] += 1
                except UnknownYear:
                    pass
                continue
            if not any(w in page.text for w in r["unanswered_words"]):
                stats["unknown"] += 1  # no reply date and no status: do not guess
                continue
            stats["unanswered"] += 1
            if start <= received < overdue:
                out.append(Finding.at_url("interaction.unanswered", it.url,
                                          f"“{col.name}”栏目{received:%Y年%m月%d日}收到的留言{_quoted(it.title)}超过3个月未回复",
                                          kind="site", site=site, column=col.name,
                                          facts={"received": received.isoformat(), "days": (as_of - received).days}))
    return out, stats


@check("disclosure", rules=("disclosure.guide_no_year", "disclosure.guide_incomplete", "disclosure.annual_report_missing",
                            "policy.interpretation_missing", "policy.interpretation_unlinked", "policy.interpretation_late",
                            "interaction.unanswered"),
       needs=("crawl", "page_text"), reads=("disclosure.guide", "disclosure.annual_report", "disclosure.interpretation",
                                            "disclosure.interaction", "workdays.years"))
def disclosure_check(ctx) -> list[Finding]:
    """The disclosure guide and annual report, policy documents and their interpretations, unanswered letters."""
    crawl, columns, rules, cal, site = ctx.crawl, ctx.columns, ctx.rules["disclosure"], ctx.rules.calendar, ctx.home_url
    findings = guide_findings(crawl, columns, rules, site)
    findings += annual_report_findings(crawl, columns, ctx.as_of, ctx.government, rules, site)
    findings += interpretation_findings(crawl, columns, rules, cal, site)
    inter, stats = interaction_findings(crawl, columns, ctx.as_of, rules, cal, site)
    ctx.check_stats["letters"] = stats
    return findings + inter
