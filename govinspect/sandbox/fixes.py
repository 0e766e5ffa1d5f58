"""Really remove planted problems from the sandbox county, as a unit would between a round and its re-check.

fix_problems(county, rules) changes the county model in place (serve it again with SandboxServer.refresh()) and
returns the planted problems that are gone now, each as {"site", "rule", "path", "url", "text"}: what an honest
re-check must call 已整改 — and nothing else. A fix changes only what it names (a paragraph, a link, a title, a
letter's reply, a feed post), so every other planted problem is still there.
"""

from __future__ import annotations

import datetime as dt

from .county import Article, County, Site, article_path
from .newmedia import rss

FIXABLE = ("site.footer_missing", "site.search", "column.stale", "link.dead", "link.illegal", "link.hidden",
           "privacy.id_number", "privacy.mobile", "privacy.bank_card", "content.expression", "content.misspelling",
           "disclosure.guide_no_year", "policy.interpretation_missing", "interaction.unanswered", "newmedia.not_updated")


def _fam(site: Site) -> str:
    return "legacy" if site.family.startswith("legacy") else site.family


def _gone(site: Site, problems: list[dict]) -> list[dict]:
    return [{"site": site.key, "rule": p["rule"], "path": p["path"], "url": p.get("url"), "text": p.get("text")} for p in problems]


def _planted(site: Site, rule: str) -> list[dict]:
    return [p for p in site.problems if p["rule"] == rule]


def _fix_footer(site: Site) -> list[dict]:
    """Every identifier back in the footer of every page."""
    probs = _planted(site, "site.footer_missing")
    if probs:
        site.footer.update(conac=True, site_code=True, icp=True, police=True, host=True, jiucuo=True)
        site.inner_footer.clear()
    return probs


def _fix_search(site: Site) -> list[dict]:
    probs = _planted(site, "site.search")
    if probs:
        site.faults["search_broken"] = False
    return probs


def _fix_stale(site: Site, as_of: dt.date) -> list[dict]:
    """The first stale list column gets an article dated the day before the as-of date."""
    col = next((c for c in site.columns if c.planted == "stale" and c.kind == "list"), None)
    if col is None:
        return []
    day = as_of - dt.timedelta(days=1)
    aid = 900000 + col.cid
    col.articles.insert(0, Article(aid=aid, title=f"{site.unit}关于做好冬季安全生产工作的通知", date=day,
                                   path=article_path(_fam(site), col.slug, col.cid, aid, day), column_slug=col.slug,
                                   paragraphs=["各有关单位：现就做好冬季安全生产工作通知如下。"]))
    col.planted = "fresh"
    return [{"rule": "column.stale", "path": col.path}]


def _fix_links(site: Site) -> list[dict]:
    """The links planted in the home page's extra HTML are taken out (hidden gambling links, dead links, bad friends'
    links), with the words their anchor text carried."""
    probs = [p for p in site.problems if p["rule"].startswith("link.") and p.get("parent", p["path"]) == "/"
             and (p.get("url") or p["path"]) in site.home_extra_html]
    if not probs:
        return []
    site.home_extra_html = ""
    # the anchor texts of the removed links were content findings on the home page
    return probs + [p for p in site.problems if p["rule"] == "content.sensitive" and p["path"] == "/"]


def _fix_text(site: Site, rules: set[str]) -> list[dict]:
    """Planted sentences of these content rules deleted from the articles that carry them."""
    arts = site.article_by_path()
    out = []
    for p in site.problems:
        a = arts.get(p["path"])
        if p["rule"] in rules and a is not None and p.get("text") in a.paragraphs:
            a.paragraphs.remove(p["text"])
            out.append(p)
    return out


def _fix_guide(site: Site, as_of: dt.date) -> list[dict]:
    probs = _planted(site, "disclosure.guide_no_year")
    arts = site.article_by_path()
    for p in probs:
        arts[p["path"]].title += f"（{as_of.year - 1}年版）"
    return probs


def _fix_interpretation(site: Site) -> list[dict]:
    """The missing 解读 published the same day as its document, in the 解读 column, linked both ways."""
    probs = _planted(site, "policy.interpretation_missing")
    interp = next((c for c in site.columns if c.category == "interpretation"), None)
    if not probs or interp is None:
        return []
    arts = site.article_by_path()
    for p in probs:
        doc = arts[p["path"]]
        aid = doc.aid + 70000
        ia = Article(aid=aid, title=doc.title.replace(f"{site.unit}关于印发", "").replace("的通知", "") + "政策解读", date=doc.date,
                     path=article_path(_fam(site), interp.slug, interp.cid, aid, doc.date), column_slug=interp.slug,
                     paragraphs=["一、起草背景：为贯彻落实上级有关部署。", "二、主要内容：明确了目标任务和保障措施。"],
                     related=[("原文件", doc.path)])
        doc.related.append(("相关解读", ia.path))
        interp.articles.append(ia)
    interp.articles.sort(key=lambda a: a.date, reverse=True)
    return probs


def _fix_letters(site: Site) -> list[dict]:
    probs = _planted(site, "interaction.unanswered")
    arts = site.article_by_path()
    for p in probs:
        letter = arts[p["path"]].letter
        letter["answered"] = letter["received"] + dt.timedelta(days=3)
        letter["reply"] = "您好，您反映的问题已办理，现答复如下：……"
    return probs


def _fix_feed(site: Site, as_of: dt.date) -> list[dict]:
    """A post published the day before the as-of date: the account is updated again (and so no longer a zombie)."""
    probs = [p for p in site.problems if p["rule"] in ("newmedia.not_updated", "newmedia.zombie")]
    acc = site.accounts[0] if site.accounts else None
    if not probs or acc is None or not acc.get("feed"):
        return []
    when = dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time(10, 0))
    acc["posts"].insert(0, {"published": when, "title": "召开专题会议部署冬季重点工作", "text": f"近日，{site.unit}召开专题会议。",
                            "url": f"https://mp.weixin.qq.com/s/{site.key}fixed"})
    site.extra_routes["/rss.xml"] = ("raw", (rss(acc["name"], acc["posts"]), "application/rss+xml; charset=utf-8"))
    return probs


def fix_problems(county: County, rules: list[str] | tuple[str, ...] = FIXABLE, sites: list[str] | None = None) -> list[dict]:
    """Remove the planted problems of `rules` (default: one or more per rule family) on `sites` (keys; default all).
    Returns the planted problems that are gone."""
    rules = set(rules)
    out: list[dict] = []
    for site in county.sites:
        if sites is not None and site.key not in sites:
            continue
        gone: list[dict] = []
        if "site.footer_missing" in rules:
            gone += _fix_footer(site)
        if "site.search" in rules:
            gone += _fix_search(site)
        if "column.stale" in rules:
            gone += _fix_stale(site, county.as_of)
        if rules & {"link.dead", "link.illegal", "link.hidden"}:
            gone += _fix_links(site)
        gone += _fix_text(site, rules & {"privacy.id_number", "privacy.mobile", "privacy.bank_card", "content.expression",
                                         "content.misspelling", "content.sensitive", "content.institution_name", "content.typo"})
        if "disclosure.guide_no_year" in rules:
            gone += _fix_guide(site, county.as_of)
        if "policy.interpretation_missing" in rules:
            gone += _fix_interpretation(site)
        if "interaction.unanswered" in rules:
            gone += _fix_letters(site)
        if "newmedia.not_updated" in rules:
            gone += _fix_feed(site, county.as_of)
        out += _gone(site, gone)
        site.problems = [p for p in site.problems if p not in gone]
    return out
