"""Link checks: dead links (link.dead), links to illegal content (link.illegal), hidden links (link.hidden).

Pure: works on a crawl result and on link probes made beforehand (engine.fetch.linkcheck).
Precision first: a link is dead only when two probes, an interval apart, both failed (an external link
only while our own network reached the reference targets; otherwise one site-level "could not check"
note in check_stats["links_external"]); a link hidden with display:none alone (drop-down menus do that)
is reported only when it also leads somewhere illegal; off-screen, zero-size, zero-font and same-colour
links are reported whatever they lead to.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from urllib.parse import urlsplit

from ...rules import load_rules
from ..fetch.crawler import normalise_url
from ..fetch.linkcheck import NO_ROUTE
from .model import Finding

# crawl errors that say nothing about the link (we were not allowed, or chose not, to look)
_NOT_EVIDENCE = ("robots", "blocked", "skipped", "oversize", "out of scope", "internal error")
_WEAK_HIDING = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|\bhidden>", re.I)


@lru_cache(maxsize=4)
def _compiled(version: str) -> list[dict]:
    cats = []
    for c in load_rules("links")["category"]:
        cats.append({**c, "domain_re": [re.compile(d, re.I) for d in c["domains"]]})
    return cats


def classify_illegal(url: str, text: str = "", content: str = "") -> dict | None:
    """{"category", "label", "reasons": [...]} when the link leads to illegal content, else None."""
    host = (urlsplit(url).hostname or "").lower()
    for c in _compiled(load_rules("links")["version"]):
        reasons = []
        if any(r.search(host) for r in c["domain_re"]):
            reasons.append(f"域名 {host} 属于{c['label']}类域名特征")
        hit_text = [k for k in c["keywords"] if k in (text or "")]
        if hit_text:
            reasons.append(f"链接文字含“{'、'.join(hit_text)}”")
        hit_content = [k for k in c["keywords"] if k in (content or "")]
        if len(hit_content) >= c["min_content_hits"]:
            reasons.append(f"目标页面含“{'、'.join(hit_content[:5])}”")
        if reasons:
            return {"category": c["id"], "label": c["label"], "reasons": reasons}
    return None


def referrers(crawl) -> dict[str, list[dict]]:
    """Link target -> the pages linking to it (page, anchor text, hidden CSS evidence)."""
    out: dict[str, list[dict]] = defaultdict(list)
    for rec in crawl.records.values():
        if rec.page is None or not rec.ok:
            continue
        for link in rec.page.links:
            out[normalise_url(link.url)].append({"page": rec.url, "text": link.text, "hidden": link.hidden})
    return out


def internal_failures(crawl, refs: dict) -> dict:
    """In-scope URLs that failed during the crawl and are linked from a page: dead-link candidates."""
    out = {}
    for url, rec in crawl.records.items():
        if rec.parent is None or url not in refs:
            continue
        failed = (rec.status is not None and rec.status >= 400) or rec.error is not None
        if failed and not (rec.error or "").startswith(_NOT_EVIDENCE):
            out[url] = rec
    return out


def link_findings(crawl, in_scope, refs: dict, probes: dict, max_refs: int = 10) -> tuple[list[Finding], dict]:
    findings: list[Finding] = []
    dead_pages = set()
    n_dead = 0
    for url, (first, second) in sorted(probes.items()):
        where = refs.get(url, [])
        shown = where[:max_refs]
        text = next((r["text"] for r in where if r["text"]), "")
        external = not in_scope(url)
        if first.failed and second is not None and second.failed and not second.unknown:
            n_dead += 1
            dead_pages.update(r["page"] for r in where)
            kind = "外部链接" if external else "站内链接"
            findings.append(Finding("link.dead", url, f"{kind}“{text or url}”无法访问（{second.reason()}），"
                                    f"共{len(where)}处引用，如{shown[0]['page'] if shown else '—'}", None,
                                    {"first_probe": first.to_dict(), "second_probe": second.to_dict(), "referrers": shown,
                                     "referrer_count": len(where), "external": external}))
        if external:
            content = " ".join(p.title + " " + p.text for p in (first, second) if p is not None)
            texts = " ".join(r["text"] for r in where)
            verdict = classify_illegal(url, texts, content)
            if verdict:
                findings.append(Finding("link.illegal", url, f"链接“{text or url}”指向{verdict['label']}类违法违规网站（"
                                        + "；".join(verdict["reasons"]) + "）", None,
                                        {**verdict, "referrers": shown, "referrer_count": len(where),
                                         "probe": first.to_dict(), "page_title": first.title}))
            hidden = [r for r in where if r["hidden"]]
            if hidden:
                strong = [r for r in hidden if not _WEAK_HIDING.search(r["hidden"])]
                if strong or verdict:
                    r = (strong or hidden)[0]
                    findings.append(Finding("link.hidden", url, f"页面 {r['page']} 含隐藏链接（暗链）“{r['text'] or url}”，"
                                            f"隐藏方式：{r['hidden']}", None,
                                            {"css": r["hidden"], "page": r["page"], "referrers": hidden[:max_refs],
                                             "illegal": verdict}))
    # external links as a whole, once per site: judged, or not at all when our machine had no route to the
    # internet (their failures are then no evidence: no finding, one note for the bulletin)
    external = {"state": "checked", "count": sum(1 for u in probes if not in_scope(u))}
    unjudged = [u for u, (_, second) in probes.items() if second is not None and (second.error or "").startswith("offline")]
    if unjudged:
        external.update(state="unknown", reason=NO_ROUTE, unjudged=len(unjudged))
    stats = {"links_probed": len(probes), "links_dead": n_dead, "pages_with_dead_links": len(dead_pages),
             "links_external": external}
    return findings, stats
