"""Link checks: dead links (link.dead), links to illegal content (link.illegal), hidden links (link.hidden).

Pure: works on a crawl result and on link probes made beforehand (engine.fetch.linkcheck).
Precision first: a link is dead only when two probes, an interval apart, both failed (an external link
only while our own network reached the reference targets; otherwise one site-level "could not check"
note in check_stats["links_external"]); an illegal link by what its fetched target shows when that is a readable
page (a clean page clears it), else by the features of its domain (rules/links.toml); a link hidden with
display:none alone (drop-down menus do that) or hidden in a way the page undoes on hover is reported only when
it also leads somewhere illegal; off-screen, zero-size, zero-font, same-colour and marquee-hidden links are
reported whatever they lead to (engine.extract.hiding).
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlsplit

from ..extract.hiding import hiding_is_weak
from ..fetch.crawler import normalise_url
from ..fetch.linkcheck import NO_ROUTE
from ..finding import Finding
from .registry import check

# crawl errors that say nothing about the link (we were not allowed, or chose not, to look)
_NOT_EVIDENCE = ("robots", "blocked", "skipped", "oversize", "out of scope", "internal error")
_SENTENCE = re.compile(r"[\s。！？；!?;]+")


_COMPILED: dict[int, tuple] = {}  # id(rules) -> (rules, compiled): a rule file's patterns compiled once


def _compiled(rules: dict) -> tuple[dict, list, list[dict]]:
    hit = _COMPILED.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    if len(_COMPILED) > 8:
        _COMPILED.clear()
    _COMPILED[id(rules)] = (rules, _compile(rules))
    return _COMPILED[id(rules)][1]


def _compile(rules: dict) -> tuple[dict, list, list[dict]]:
    cats = [{**c, "domain_re": [re.compile(d, re.I) for d in c["domains"]],
             "weak_re": [re.compile(d, re.I) for d in c.get("weak_domains", [])]} for c in rules["category"]]
    return rules["illegal"], [re.compile(d, re.I) for d in rules["illegal"]["digit_runs"]], cats


def _hits(cat: dict, text: str, reporting: list[str]) -> list[str]:
    """The category's keywords in `text`, outside its innocent phrases and outside sentences that report on a
    crackdown; a keyword inside a longer one that hit (百家乐 in 真人百家乐) is not counted again."""
    if not text:
        return []
    for phrase in cat.get("innocent", []):
        text = text.replace(phrase, " ")
    found: list[str] = []
    for seg in _SENTENCE.split(text):
        if seg and not any(w in seg for w in reporting):
            found += [k for k in cat["keywords"] if k in seg and k not in found]
    return [k for k in found if not any(k != o and k in o for o in found)]


def _domain_features(host: str, cat: dict, ill: dict, digits: list) -> tuple[int, list[str]]:
    """(weight, features) of a host name for a category: a strong word 2, a weak one 1; a digit run and a risky
    top-level domain 1 each, only beside a word."""
    strong = [m.group(0).strip(".-") for r in cat["domain_re"] if (m := r.search(host))]
    weak = [m.group(0).strip(".-") for r in cat["weak_re"] if (m := r.search(host))]
    score, feats = 2 * len(strong) + len(weak), strong + weak
    if feats:
        tld = host.rsplit(".", 1)[-1]
        if tld in ill["risky_tlds"]:
            score, feats = score + 1, feats + ["." + tld]
        run = next((m.group(0).lstrip(".-") for r in digits if (m := r.search(host.rsplit(".", 1)[0]))), None)
        if run and run not in "".join(feats):
            score, feats = score + 1, feats + [run.strip(".-")]
    return score, feats


def trusted(url: str, rules: dict) -> bool:
    """A government domain (rules/links.toml trusted_suffixes): never an illegal link nor a 暗链. rules: RuleSet["links"]."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in rules["illegal"]["trusted_suffixes"])


def classify_illegal(url: str, rules: dict, text: str = "", content: str = "", readable: bool = False) -> dict | None:
    """{"category", "label", "reasons": [...]} when the link leads to illegal content, else None.

    text: the link's anchor text(s); content: the target page's title and text; readable: the target was fetched
    and is a readable page (it then decides: a clean page clears the link whatever its domain or anchor text)."""
    ill, digits, cats = _compiled(rules)
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or trusted(url, rules):
        return None
    reporting = ill["reporting"]
    if readable and sum(1 for w in ill["reporting_page"] if w in content) >= ill["reporting_min"]:
        return None  # a page reporting on a crackdown is not illegal content
    for c in cats:
        score, feats = _domain_features(host, c, ill, digits)
        in_text = _hits(c, text, reporting)
        req = c.get("require_any") or []

        def inviting(hits: list[str]) -> bool:
            return not req or any(h in req for h in hits)

        reasons = []
        if readable:
            in_page = _hits(c, content, reporting)
            if not in_page or not (len(in_page) >= c["min_content_hits"] and inviting(in_page)
                                   or (score or in_text) and inviting(in_page + in_text)):
                continue  # the target page is clean of this category
            reasons.append(f"目标页面含“{'、'.join(in_page[:5])}”")
            if score:
                reasons.append(f"域名 {host} 含{c['label']}类特征（{'、'.join(feats)}）")
            if in_text:
                reasons.append(f"链接文字含“{'、'.join(in_text)}”")
        else:
            if score >= ill["domain_threshold"]:
                reasons.append(f"域名 {host} 含{c['label']}类特征（{'、'.join(feats)}），目标页面未能读取")
            if in_text and (inviting(in_text) or score):
                reasons.append(f"链接文字含“{'、'.join(in_text)}”")
            if not reasons:
                continue
        return {"category": c["id"], "label": c["label"], "reasons": reasons}
    return None


def readable_content(probes, rules: dict) -> tuple[str, bool]:
    """The title and text of a link's fetched target (its probes), and whether it was a readable page."""
    got = [p for p in probes if p is not None and not p.failed and (p.title or p.text)]
    content = " ".join(p.title + " " + p.text for p in got)
    return content, len(content.replace(" ", "")) >= rules["illegal"]["min_readable_chars"]


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


def link_findings(crawl, in_scope, refs: dict, probes: dict, rules: dict, max_refs: int = 10) -> tuple[list[Finding], dict]:
    """Findings on link targets (subject "link", located at the target) from the probes; rules: RuleSet["links"]."""
    site = getattr(crawl, "site_url", "")
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
            findings.append(Finding.at_url("link.dead", url, f"{kind}“{text or url}”无法访问（{second.reason()}），"
                                           f"共{len(where)}处引用，如{shown[0]['page'] if shown else '—'}", kind="link", site=site,
                                           facts={"first_probe": first.to_dict(), "second_probe": second.to_dict(), "referrers": shown,
                                     "referrer_count": len(where), "external": external}))
        if external:
            content, readable = readable_content((first, second), rules)
            texts = " ".join(r["text"] for r in where)
            verdict = classify_illegal(url, rules, texts, content, readable)
            if verdict:
                findings.append(Finding.at_url("link.illegal", url, f"链接“{text or url}”指向{verdict['label']}类违法违规网站（"
                                               + "；".join(verdict["reasons"]) + "）", kind="link", site=site,
                                               facts={**verdict, "referrers": shown, "referrer_count": len(where),
                                         "probe": first.to_dict(), "page_title": first.title}))
            hidden = [r for r in where if r["hidden"]]
            if hidden and not trusted(url, rules):  # a hidden link to a government site plants nothing
                strong = [r for r in hidden if not hiding_is_weak(r["hidden"])]
                if strong or verdict:
                    r = (strong or hidden)[0]
                    findings.append(Finding.at_url("link.hidden", url, f"页面 {r['page']} 含隐藏链接（暗链）“{r['text'] or url}”，"
                                                   f"隐藏方式：{r['hidden']}", kind="link", site=site,
                                                   facts={"css": r["hidden"], "page": r["page"], "referrers": hidden[:max_refs],
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


@check("links", rules=("link.dead", "link.illegal", "link.hidden"), needs=("crawl", "network"),
       reads=("links.dead", "links.illegal", "links.category", "availability.references"))
async def links_check(ctx) -> list[Finding]:
    """Every link of the fetched pages: failures probed twice, external targets read, hidden links (CrawlConfig.check_links)."""
    from ..fetch.linkcheck import LinkChecker, Probe

    crawl, cfg = ctx.crawl, ctx.cfg
    if not cfg.check_links:
        return []
    rules = ctx.rules["links"]
    lrules = rules["dead"]
    refs = referrers(crawl)
    failed = {u: Probe(url=u, status=r.status, error=r.error, checked_at=r.fetched_at, method="GET")
              for u, r in internal_failures(crawl, refs).items()}
    external = sorted(u for u in refs if not crawl.in_scope(u) and urlsplit(u).scheme in ("http", "https"))
    skipped = max(0, len(external) - lrules["max_external"])
    external = external[: lrules["max_external"]]
    interval = cfg.link_recheck_interval if cfg.link_recheck_interval is not None else lrules["recheck_interval"]
    references = cfg.reference_urls if cfg.reference_urls is not None else ctx.rules["availability"]["references"]
    checker = LinkChecker(cfg, lrules["sample_bytes"])
    probes = await checker.check(external, set(external), interval, failed, references)
    findings, stats = link_findings(crawl, crawl.in_scope, refs, probes, rules)
    stats["external_not_probed"] = skipped
    if checker.offline:  # which reference targets failed, for the record
        stats["links_external"]["references"] = [{"url": r.url, "error": r.error or f"HTTP {r.status}"}
                                                 for r in checker.reference_probes]
    ctx.check_stats.update(stats)
    return findings
