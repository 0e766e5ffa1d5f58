"""Page furniture (GL-5, GL-6): footer identifiers on the home page and on the site's other pages, template by
template, and the registered 网站标识码.

Inner pages are grouped by template: a sub-site's pages by its path prefix (/bm/某部门/, /gzjg/…, the
`subsite_roots` of rules/furniture.toml), the other pages by their footer's fingerprint (the text around the
last footer word, digits ignored), so the 信息公开 platform or a department sub-site with a footer of its own is one group. Up to
`inner_sample` pages of each path group are read (evenly spread, deterministic); a group lacks an item when
every readable page of it does. Only items the home page shows are judged on inner pages (an item missing
everywhere is one problem, the home page's). Precision: a group with fewer than `min_group_pages` readable
pages, or pages whose footer cannot be read (too little text, no footer words: a footer drawn by a script),
is not accused.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlsplit

from ..content.pii import mask_runs
from ..finding import Finding
from .registry import check


def footer_items(page, rules: dict, html_alts: str = "") -> dict[str, str | None]:
    """item id -> what shows it (matched text or link), None when absent. rules: RuleSet["furniture"]."""
    out = {}
    for key, spec in rules["footer"].items():
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
        if ev is None and spec.get("script_src"):  # drawn by an official script, not written in the HTML
            scripts = page.meta.get("__scripts__", "")
            ev = next((s for s in scripts.split() if any(k in s for k in spec["script_src"])), None)
        out[key] = ev
    return out


def _path_group(url: str, roots: list[str]) -> tuple[str, bool]:
    """(path prefix, is a sub-site): /bm/nyj/ for /bm/nyj/xwdt/1.html when bm is a sub-site root, else /xwdt/."""
    segs = [s for s in urlsplit(url).path.split("/") if s]
    dirs = segs[:-1] if segs and "." in segs[-1] else segs
    if len(dirs) >= 2 and dirs[0].lower() in roots:
        return f"/{dirs[0]}/{dirs[1]}/", True
    return (f"/{dirs[0]}/" if dirs else "/"), False


def _inner_pages(crawl, home_url: str) -> list[str]:
    return sorted(r.url for r in crawl.records.values()
                  if r.ok and r.page is not None and r.page.kind in ("article", "list") and r.url != home_url
                  and crawl.in_scope(r.url))


def _spread(urls: list[str], n: int) -> list[str]:
    if len(urls) <= n:
        return urls
    step = len(urls) / n
    return [urls[int(i * step)] for i in range(n)]


def sample_inner_pages(crawl, home_url: str, rules: dict) -> list[str]:
    """The inner pages the footer check reads: up to inner_sample of each path group, spread evenly over its sorted URLs."""
    n = rules.get("inner_sample", 5)
    roots = [r.lower() for r in rules.get("subsite_roots", [])]
    groups: dict[str, list[str]] = defaultdict(list)
    for u in _inner_pages(crawl, home_url):
        groups[_path_group(u, roots)[0]].append(u)
    return sorted(u for us in groups.values() for u in _spread(us, n))


def _fingerprint(text: str, footer_words, around: int) -> str:
    """The footer's text: from the first of the page's last run of footer words (each within `around` characters
    of the next) to `around` characters past the last one, whitespace dropped and digits ignored (a visit counter,
    a year). Equal on the pages of one template."""
    found = list(footer_words.finditer(text))
    if not found:
        return re.sub(r"\d+", "0", re.sub(r"\s+", "", text[-around:]))
    start = len(found) - 1
    while start > 0 and found[start].start() - found[start - 1].end() <= around:
        start -= 1
    seg = text[found[start].start(): found[-1].end() + around]
    return re.sub(r"\d+", "0", re.sub(r"\s+", "", seg))


def _readable(text: str, footer_words, min_chars: int, tail: int) -> bool:
    """The page's footer can be read: a footer word near the end, or two different ones on the page."""
    if len(text) < min_chars:
        return False
    return bool(footer_words.search(text[-tail:])) or len({m.group(0) for m in footer_words.finditer(text)}) >= 2


def _common_prefix(urls: list[str]) -> str:
    paths = [urlsplit(u).path.rsplit("/", 1)[0].split("/") for u in urls]
    common = []
    for parts in zip(*paths):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/".join(common).rstrip("/") + "/" if any(common) else "/"


def template_groups(crawl, home_url: str, want: dict[str, str], rules: dict) -> tuple[list[dict], list[str]]:
    """Inner pages by template, and which of the `want` items (id -> label) each group lacks on every readable page.

    Returns (groups, pages read); a group: name, pages (its size), read, readable, lacking ({label: [urls]}),
    judged (False when too few readable pages), examples."""
    g = rules.get("groups", {})
    roots = [r.lower() for r in rules.get("subsite_roots", [])]
    min_pages, min_chars = g.get("min_group_pages", 3), g.get("min_text_chars", 100)
    footer_words = re.compile(g["footer_words"], re.I)
    by_path: dict[str, list[str]] = defaultdict(list)
    for u in _inner_pages(crawl, home_url):
        by_path[_path_group(u, roots)[0]].append(u)
    groups: dict[tuple, dict] = {}
    read: list[str] = []
    for prefix, urls in sorted(by_path.items()):
        subsite = _path_group(urls[0], roots)[1]
        for u in _spread(urls, rules.get("inner_sample", 20)):
            page = crawl.full_page(u)
            if page is None:
                continue
            read.append(u)
            text = page.text or ""
            key = ("path", prefix) if subsite else ("footer", _fingerprint(text, footer_words, g.get("fingerprint_chars", 150)))
            grp = groups.setdefault(key, {"name": prefix if subsite else None, "urls": [], "read": [], "readable": [],
                                          "items": [], "complete": True})
            grp["read"].append(u)
            if subsite:
                grp["urls"] = urls
            elif len(urls) > len(_spread(urls, rules.get("inner_sample", 20))):
                grp["complete"] = False  # pages of this path group were left unread: the count is a sample
            if _readable(text, footer_words, min_chars, g.get("footer_chars", 600)):
                grp["readable"].append(u)
                grp["items"].append(footer_items(page, rules, page.meta.get("__img_alts__", "")))
    out = []
    for key, grp in groups.items():
        if key[0] == "footer":
            grp["urls"] = grp["read"]
            grp["name"] = _common_prefix(grp["read"])
        lacking = {}
        if len(grp["readable"]) >= min_pages:
            for item, label in want.items():
                if all(items.get(item) is None for items in grp["items"]):
                    lacking[label] = grp["readable"]
        exact = key[0] == "path" and len(grp["read"]) == len(grp["urls"]) or key[0] == "footer" and grp["complete"]
        out.append({"name": grp["name"], "pages": len(grp["urls"]), "read": len(grp["read"]), "readable": len(grp["readable"]),
                    "judged": len(grp["readable"]) >= min_pages, "exact": exact, "lacking": lacking,
                    "examples": grp["readable"][:5], "read_urls": grp["read"]})
    out.sort(key=lambda x: (x["name"], -x["pages"]))
    return out, sorted(read)


def _group_line(grp: dict) -> str:
    """“/bm/某部门/ 下 20 个页面缺少网站标识码”, or how many pages were read when not all of them were."""
    labels = "、".join(grp["lacking"])
    where = "本站内页中" if grp["name"] == "/" else f"{grp['name']} 下"
    if grp["exact"] and grp["readable"] == grp["pages"]:
        return f"{where} {grp['pages']} 个页面缺少{labels}"
    total = f"（共 {grp['pages']} 个页面）" if grp["exact"] else ""
    return f"{where}抽查 {grp['readable']} 个页面均缺少{labels}{total}"


def footer_findings(crawl, home_url: str, site_code: str | None, rules: dict) -> list[Finding]:
    rec = crawl.get(home_url)
    if rec is None or not rec.ok or rec.page is None:
        return []
    page = crawl.full_page(home_url)
    spec = rules["footer"]
    items = footer_items(page, rules, page.meta.get("__img_alts__", ""))
    missing = [spec[k]["label"] for k, v in items.items() if v is None]
    problems = []
    if missing:
        problems.append("页面底部缺少" + "、".join(missing))
    # inner pages, template by template: only what the home page has (the same item missing everywhere is one problem)
    groups, _ = template_groups(crawl, home_url, {k: spec[k]["label"] for k, v in items.items() if v is not None}, rules)
    accused = [g for g in groups if g["lacking"]]
    inner_missing: dict[str, list[str]] = {}
    shown = rules["groups"].get("max_groups_in_detail", 5)
    lines = [_group_line(g) for g in accused[:shown]]
    if len(accused) > shown:
        lines[-1] += f"等 {len(accused)} 组页面（见证据）"
    problems += lines
    for g in accused:
        for label, urls in g["lacking"].items():
            inner_missing.setdefault(label, []).extend(urls)
    m = re.search(spec["site_code"]["pattern"], page.text)
    if site_code and m and m.group(1) != site_code:
        problems.append(f"网站标识码 {m.group(1)} 与登记的 {site_code} 不一致")
    if not problems:
        return []
    return [Finding.at_url("site.footer_missing", rec.url, "；".join(problems), kind="site", site=home_url, facts=
                    {"present": {k: v for k, v in items.items() if v}, "missing": missing, "footer_text": mask_runs(page.text[-300:]),
                     # the pages a re-check reads again: those of the groups accused
                     "inner_missing": inner_missing, "inner_sampled": sorted({u for g in accused for u in g["read_urls"]}),
                     "groups": [{k: g[k] for k in ("name", "pages", "readable", "lacking", "examples")} | {"lacking": list(g["lacking"])}
                                for g in accused],
                     "groups_not_judged": [g["name"] for g in groups if not g["judged"]]})]


@check("footer", rules=("site.footer_missing",), needs=("crawl", "page_text"),
       reads=("furniture.footer", "furniture.groups", "furniture.subsite_roots", "furniture.inner_sample"))
def footer_check(ctx) -> list[Finding]:
    """Footer identifiers on the home page and, template by template, on the inner pages; the registered site code."""
    rules = ctx.rules["furniture"]
    ctx.sampled["site.footer_missing"] = sample_inner_pages(ctx.crawl, ctx.home_url, rules)
    return footer_findings(ctx.crawl, ctx.home_url, ctx.site_code, rules)
