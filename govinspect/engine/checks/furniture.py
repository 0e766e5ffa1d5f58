"""Page furniture (GL-5, GL-6): footer identifiers on the home page, and the registered 网站标识码."""

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


def footer_findings(crawl, home_url: str, site_code: str | None = None) -> list[Finding]:
    rec = crawl.get(home_url)
    if rec is None or not rec.ok or rec.page is None:
        return []
    page = crawl.full_page(home_url)
    spec = load_rules("furniture")["footer"]
    items = footer_items(page, page.meta.get("__img_alts__", ""))
    missing = [spec[k]["label"] for k, v in items.items() if v is None]
    problems = []
    if missing:
        problems.append("页面底部缺少" + "、".join(missing))
    m = re.search(spec["site_code"]["pattern"], page.text)
    if site_code and m and m.group(1) != site_code:
        problems.append(f"网站标识码 {m.group(1)} 与登记的 {site_code} 不一致")
    if not problems:
        return []
    return [Finding("site.footer_missing", rec.url, "；".join(problems), None,
                    {"present": {k: v for k, v in items.items() if v}, "missing": missing, "footer_text": page.text[-300:]})]
