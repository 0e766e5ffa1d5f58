"""Site structure: required columns (GL-4), standard meta tags (GL-7), the .gov.cn domain (GL-3)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ...rules import load_rules
from .model import Finding


def required_column_findings(home_url: str, columns) -> list[Finding]:
    """columns: checked columns (registered or discovered); a could-not-check column still exists."""
    missing = []
    for req in load_rules("structure")["required"]:
        cats = set(req.get("categories", []))
        if not any(c.category in cats or any(k in c.name for k in req.get("keywords", [])) for c in columns):
            missing.append(req["label"])
    if not missing or not columns:
        return []
    return [Finding("site.required_column_missing", home_url, f"网站缺少{'、'.join(f'“{m}”' for m in missing)}栏目（《政府网站发展指引》）",
                    None, {"missing": missing, "columns": [c.name for c in columns]})]


def meta_findings(crawl, home_url: str) -> list[Finding]:
    spec = load_rules("structure")["meta"]
    home = crawl.get(home_url)
    if home is None or not home.ok or home.page is None:
        return []
    missing_home = [t for t in spec["home"] if t not in home.page.meta]
    articles = sorted((r for r in crawl.records.values() if r.ok and r.page is not None and r.page.kind == "article"),
                      key=lambda r: r.url)[: spec["article_sample"]]
    missing_art = sorted({t for r in articles for t in spec["article"] if t not in r.page.meta})
    if not missing_home and not missing_art:
        return []
    parts = []
    if missing_home:
        parts.append(f"首页缺少 {', '.join(missing_home)}")
    if missing_art:
        parts.append(f"文章页缺少 {', '.join(missing_art)}")
    return [Finding("site.meta_missing", home_url, "网页元数据标签不全：" + "；".join(parts), None,
                    {"home_missing": missing_home, "article_missing": missing_art, "articles_sampled": [r.url for r in articles]})]


def domain_findings(home_url: str, is_portal: bool | None = None, portal_url: str | None = None) -> list[Finding]:
    """GL-3. An IP address or a local name cannot be judged (test and intranet set-ups): no finding."""
    host = (urlsplit(home_url).hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return []
    except ValueError:
        pass
    if not host or "." not in host or host.endswith((".localhost", ".local", ".internal")):
        return []
    problems = []
    suffixes = load_rules("structure")["domain"]["suffixes"]
    if not host.endswith(tuple(suffixes)):
        problems.append(f"域名 {host} 不以 .gov.cn 结尾")
    elif is_portal and not host.startswith("www."):
        problems.append(f"门户网站域名 {host} 不是 www.<名称>.gov.cn 形式")
    elif is_portal is False and portal_url:
        portal = (urlsplit(portal_url).hostname or "").lower()
        base = portal[4:] if portal.startswith("www.") else portal
        if base and not host.endswith("." + base):
            problems.append(f"部门网站域名 {host} 不是本级门户 {base} 的下级域名")
    if not problems:
        return []
    return [Finding("site.domain", home_url, "；".join(problems) + "（《政府网站发展指引》）", None, {"host": host})]
