"""Content findings for a crawled site: every HTML page (scanned while the crawler still holds its
text, see crawl_site_async(on_page=...)) and every attachment (read back from the WARC).

The same hit in the same surroundings on many pages (a footer, a navigation box) is one finding on
the first page, with the number and a sample of the other pages. A word found several times on one page
is one finding (with `occurrences`), never one per occurrence. Institution names are not judged on
pages published before the reform reached the unit's level (Hit.since). Attachments that cannot be read are counted as
"could not check" in the statistics (with the reason), never as clean.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from ..content import ContentChecker, excerpt, hit_facts
from ..content.documents import DOC_EXT, extract_document
from ..extract.page import ATTACHMENT_EXT
from ..content import ALL_RULES
from ..finding import Evidence, Finding, Location
from .registry import check

SAMPLE_OTHERS = 5


class SiteContent:
    """Collects content hits while a site is crawled; findings() turns them into findings."""

    def __init__(self, checker: ContentChecker):
        self.checker = checker
        self.hits: dict[tuple, dict] = {}  # (rule, text, excerpt) -> first hit with url and the other urls
        self.stats: Counter = Counter()
        self.unreadable: list[dict] = []

    # ------------------------------------------------------------------ pages
    def on_page(self, rec, page) -> None:
        try:
            hits, masked = self.checker.check_all(page.text, published=page.publish_date)
        except Exception as e:  # a checker bug must not turn a good page into a failed fetch
            self.stats["content_errors"] += 1
            self.unreadable.append({"url": rec.url, "reason": f"内容检查出错：{e!r}"[:200]})
            return
        self.stats["pages_scanned"] += 1
        self.stats["chars_scanned"] += len(page.text)
        self.stats["personal_data_masked"] += len(masked)
        current = []
        for h in hits:
            if h.since and page.publish_date and page.publish_date < h.since:
                self.stats["history_skipped"] += 1
                continue
            current.append(h)
        for h, count in _per_term(current):
            where = {"page_title": "首页" if rec.depth == 0 else page.title}
            if count > 1:
                where["occurrences"] = count
            self._add(rec.url, h, page.text, where)

    def _add(self, url: str, h, text: str, where: dict) -> None:
        ctx, span = excerpt(text, h.start, h.end, h.text)
        key = (h.rule, h.text, ctx)
        seen = self.hits.get(key)
        if seen is not None:
            if url != seen["url"]:
                seen["also_on"] += 1
                if url < seen["url"]:  # the finding sits on the smallest URL, whatever order the crawl met the pages in
                    url, seen["url"], seen["where"] = seen["url"], url, where
                if len(seen["others"]) < SAMPLE_OTHERS:
                    seen["others"].append(url)
            return
        self.hits[key] = {"url": url, "hit": h, "excerpt": ctx, "span": span, "where": where, "also_on": 0, "others": []}

    # ------------------------------------------------------------------ attachments
    def scan_attachments(self, crawl) -> None:
        done: dict[str, str] = {}
        names = {l.url: l.text for r in crawl.records.values() if r.page is not None for l in r.page.attachments if l.text}
        for rec in sorted(crawl.records.values(), key=lambda r: r.url):  # one file under two URLs: the smallest, every round
            if not rec.ok or rec.page is not None or not crawl.in_scope(rec.final_url or rec.url):
                continue
            path = (rec.final_url or rec.url).split("?")[0].lower()
            if not path.endswith(ATTACHMENT_EXT + DOC_EXT) and not rec.content_type.startswith(("application/", "text/")):
                continue
            body = rec.load_body()
            rec.body = None  # attachments are read once; the WARC keeps them
            if not body:
                continue
            digest = hashlib.sha1(body).hexdigest()
            if digest in done:  # the same file under two URLs: one finding set
                continue
            done[digest] = rec.url
            name = _name(rec.url, names.get(rec.url))
            doc = extract_document(body, name)
            self.stats["attachments_scanned"] += 1
            if doc.error:
                self.stats["attachments_unreadable"] += 1
                self.unreadable.append({"url": rec.url, "name": name, "reason": doc.error})
                continue
            if doc.ocr:
                self.stats["attachments_ocr"] += 1
            text, starts = doc.joined()
            hits, masked = self.checker.check_all(text, table_context=doc.header())
            self.stats["chars_scanned"] += len(text)
            self.stats["personal_data_masked"] += len(masked)
            for h, count in _per_term(hits):
                seg, offset = doc.locate(starts, h.start)
                where = {"attachment": name, "format": doc.kind, **seg.location, "page_url": rec.parent}
                if count > 1:
                    where["occurrences"] = count
                self._add(rec.url, h, text, where)

    # ------------------------------------------------------------------ findings
    def findings(self, site: str = "") -> list[Finding]:
        """Page findings of the site `site` (its home URL): an attachment's hit is located by sheet, cell, page or
        paragraph of the attachment's URL; the excerpt carries the hit (personal data masked)."""
        out = []
        for v in self.hits.values():
            h, w = v["hit"], v["where"]
            facts = {**hit_facts(h), **{k: w[k] for k in _WHERE_FACTS if w.get(k) is not None}}
            if v["also_on"]:
                facts.update(also_on=v["also_on"], others=v["others"])
            f = Finding.at_url(h.rule, v["url"], _detail(h, w, v["also_on"]), kind="page", site=site, facts=facts,
                               match=h.text)
            if "attachment" in w:
                f.location = Location(url=v["url"], sheet=w.get("sheet", ""), cell=w.get("cell", ""), page=w.get("page"),
                                      paragraph=w.get("paragraph"))
            f.evidence = Evidence(excerpt=v["excerpt"], hit=v["span"])
            out.append(f)
        return out

    def summary(self) -> dict:
        return {"content": dict(self.stats), "content_unreadable": self.unreadable}


# where a hit was, kept as facts (an attachment's sheet/cell/page/paragraph are its Location)
_WHERE_FACTS = ("page_title", "occurrences", "attachment", "format", "page_url", "line")


def _per_term(hits) -> list[tuple]:
    """(first hit, occurrences) per word rule and term of one page or file: one finding per page and term,
    never one per occurrence. Personal data stays one finding per number (each is a different number)."""
    out, first = [], {}
    for h in hits:
        if not h.rule.startswith("content."):
            out.append([h, 1])
            continue
        k = (h.rule, h.text)
        if k in first:
            first[k][1] += 1
        else:
            first[k] = [h, 1]
            out.append(first[k])
    return [(h, n) for h, n in out]


def _detail(h, w: dict, also_on: int) -> str:
    """One sentence a bulletin can print after the site name, like the seeds do."""
    if "attachment" in w:
        loc = (w.get("cell") and f"“{w.get('sheet', '')}”工作表{w['cell']}单元格") or (w.get("page") and f"第{w['page']}页") or (
            w.get("paragraph") and f"第{w['paragraph']}段") or (w.get("line") and f"第{w['line']}行") or ""
        where = f"网站附件《{w['attachment']}》{loc}"
    else:
        title = (w.get("page_title") or "").strip()
        where = "网站首页" if title == "首页" else f"网站《{title[:40]}》" if title else "网站页面"
    if h.rule.startswith("privacy."):
        text = f"{where}公开了完整{h.category}（{h.text}）"
    elif h.rule == "content.sensitive":
        text = f"{where}含违法违规词语“{h.text}”"
    elif h.rule == "content.leader":
        text = f"{where}“{h.text}”：{h.note}"
    else:
        text = f"{where}“{h.text}”应为“{h.suggestion}”" if h.suggestion else f"{where}“{h.text}”"
        if h.rule == "content.institution_name" and h.note:
            text += f"（{h.note}）"
    if w.get("occurrences"):
        text += f"（共出现{w['occurrences']}次）"
    return text + (f"，另有{also_on}个页面相同" if also_on else "")


def _name(url: str, text: str | None) -> str:
    """The attachment's name as the page shows it (its link text), else the file name of its URL."""
    from urllib.parse import unquote, urlsplit

    file = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url
    if text and "." not in text[-6:] and "." in file:
        text += file[file.rfind("."):]
    return text or file


@check("content", rules=ALL_RULES, needs=("crawl", "content"),
       reads=("content/misspellings", "content/expressions", "content/institutions", "content/sensitive", "typo"))
def content_check(ctx) -> list[Finding]:
    """Words, expressions, personal data, leaders and typos in every page (scanned while crawling) and attachment."""
    ctx.content.scan_attachments(ctx.crawl)
    ctx.check_stats.update(ctx.content.summary())
    return ctx.content.findings(ctx.home_url)
