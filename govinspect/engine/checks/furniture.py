"""Page furniture (GL-5, GL-6): footer identifiers on the home page and on sampled inner pages, and the
registered 网站标识码. Inner pages only add what the home page has but they lack (the same footer missing
everywhere is one problem, reported once)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ...rules import load_rules
from .model import Finding


def footer_items(page, html_alts: str = "") -> dict[str, str | None]:
    """item id -> evidence (matched text or link), None when absent."""
    out = {}
    for key, spec in load_rules("furniture")["footer"].items():
        ev = None
        if spec.get("pattern"):
            m = re.search(spec["pattern"], page.text)
            if m:
                ev = m.group(0)
        if ev is None and spec.get("link_hosts"):
            for link in page.links:
                host = (urlsplit(link.url).hostname or "").lower()
                if any(host == h or host.endswith("." + h) for h in spec["link_hosts"]):
                    ev = link.url
                    break
        if ev is None and spec.get("img_alt") and any(a in html_alts for a in spec["img_alt"]):
            ev = "img alt"
        out[key] = ev
    return out


def sample_inner_pages(crawl, home_url: str, n: int) -> list[str]:
    """Up to n article pages of the site, spread evenly over the sorted URLs (deterministic)."""
    urls = sorted(r.url for r in crawl.records.values()
                  if r.ok and r.page is not None and r.page.kind == "article" and r.url != home_url and crawl.in_scope(r.url))
    if len(urls) <= n:
        return urls
    step = len(urls) / n
    return [urls[int(i * step)] for i in range(n)]


def footer_findings(crawl, home_url: str, site_code: str | None = None) -> list[Finding]:
    rec = crawl.get(home_url)
    if rec is None or not rec.ok or rec.page is None:
        return []
    page = crawl.full_page(home_url)
    rules = load_rules("furniture")
    spec = rules["footer"]
    items = footer_items(page, page.meta.get("__img_alts__", ""))
    missing = [spec[k]["label"] for k, v in items.items() if v is None]
    problems = []
    if missing:
        problems.append("页面底部缺少" + "、".join(missing))
    inner_missing: dict[str, list[str]] = {}
    sampled = sample_inner_pages(crawl, home_url, rules.get("inner_sample", 5))
    for url in sampled:
        inner = crawl.full_page(url)
        if inner is None:
            continue
        got = footer_items(inner, inner.meta.get("__img_alts__", ""))
        for k, v in got.items():
            if v is None and items.get(k) is not None:  # the home page has it, this inner page does not
                inner_missing.setdefault(spec[k]["label"], []).append(url)
    if inner_missing:
        pages = sorted({u for us in inner_missing.values() for u in us})
        problems.append(f"内页底部缺少{'、'.join(inner_missing)}（抽查{len(sampled)}个内页，{len(pages)}个缺少）")
    m = re.search(spec["site_code"]["pattern"], page.text)
    if site_code and m and m.group(1) != site_code:
        problems.append(f"网站标识码 {m.group(1)} 与登记的 {site_code} 不一致")
    if not problems:
        return []
    return [Finding("site.footer_missing", rec.url, "；".join(problems), None,
                    {"present": {k: v for k, v in items.items() if v}, "missing": missing, "footer_text": page.text[-300:],
                     "inner_missing": inner_missing, "inner_sampled": sampled})]
