"""Site structure: required columns (GL-4), standard meta tags (GL-7), the .gov.cn domain (GL-3)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..finding import Finding
from .registry import check


def required_column_findings(home_url: str, columns, rules: dict) -> list[Finding]:
    """columns: checked columns (registered or discovered); a could-not-check column still exists.
    rules: RuleSet["structure"]."""
    missing = []
    for req in rules["required"]:
        cats = set(req.get("categories", []))
        if not any(c.category in cats or any(k in c.name for k in req.get("keywords", [])) for c in columns):
            missing.append(req["label"])
    if not missing or not columns:
        return []
    return [Finding.at_url("site.required_column_missing", home_url, f"网站缺少{'、'.join(f'“{m}”' for m in missing)}栏目（《政府网站发展指引》）",
                           kind="site", facts={"missing": missing, "columns": [c.name for c in columns]})]


def meta_sample(crawl, spec: dict) -> list:
    """The article pages meta_findings reads (the first article_sample by URL)."""
    return sorted((r for r in crawl.records.values() if r.ok and r.page is not None and r.page.kind == "article"),
                  key=lambda r: r.url)[: spec["article_sample"]]


def meta_findings(crawl, home_url: str, rules: dict) -> list[Finding]:
    spec = rules["meta"]
    home = crawl.get(home_url)
    if home is None or not home.ok or home.page is None:
        return []
    missing_home = [t for t in spec["home"] if t not in home.page.meta]
    articles = meta_sample(crawl, spec)
    missing_art = sorted({t for r in articles for t in spec["article"] if t not in r.page.meta})
    if not missing_home and not missing_art:
        return []
    parts = []
    if missing_home:
        parts.append(f"首页缺少 {', '.join(missing_home)}")
    if missing_art:
        parts.append(f"文章页缺少 {', '.join(missing_art)}")
    return [Finding.at_url("site.meta_missing", home_url, "网页元数据标签不全：" + "；".join(parts), kind="site",
                           facts={"home_missing": missing_home, "article_missing": missing_art, "articles_sampled": [r.url for r in articles]})]


def domain_findings(home_url: str, is_portal: bool | None, portal_url: str | None, rules: dict) -> list[Finding]:
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
    suffixes = rules["domain"]["suffixes"]
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
    return [Finding.at_url("site.domain", home_url, "；".join(problems) + "（《政府网站发展指引》）", kind="site",
                           facts={"host": host})]


@check("required_columns", rules=("site.required_column_missing",), reads=("structure.required",))
def required_columns_check(ctx) -> list[Finding]:
    """The registered or discovered columns cover the required ones (概况信息, 机构职能 ...)."""
    return required_column_findings(ctx.home_url, ctx.columns, ctx.rules["structure"])


@check("meta", rules=("site.meta_missing",), reads=("structure.meta",))
def meta_check(ctx) -> list[Finding]:
    """Standard meta tags on the home page and a sample of article pages."""
    rules = ctx.rules["structure"]
    ctx.sampled["site.meta_missing"] = [r.url for r in meta_sample(ctx.crawl, rules["meta"])]
    return meta_findings(ctx.crawl, ctx.home_url, rules)


@check("domain", rules=("site.domain",), reads=("structure.domain",))
def domain_check(ctx) -> list[Finding]:
    """The .gov.cn domain; a portal on www., a department under its portal's domain."""
    return domain_findings(ctx.home_url, ctx.is_portal, ctx.portal_url, ctx.rules["structure"])
