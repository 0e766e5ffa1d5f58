"""site.placeholder_text: the home page still carries a template's placeholder text in its <title>, meta keywords,
meta description or main navigation (<title>公司网站</title>, keywords "公司", a nav item "公司概况", "Powered by",
"网站标题", lorem ipsum ...).

The words are data: the catalogue entry of the rule (rules/catalog.toml) lists
- whole: placeholder only as the whole title (or one part of it between separators), a whole keyword or the whole
  description ("公司", "网站名称", "Default title");
- contains: placeholder wherever it stands in the title, keywords or description ("Powered by", "lorem ipsum");
- nav_whole: placeholder only as a whole item of the main navigation ("公司概况", "公司简介").
Precision first: "公司" inside a longer name (国资公司, 城投公司) is never a hit, nor is anything outside the main
navigation (a <nav>, or an element whose id or class names a nav or menu); a home page we cannot read gives nothing.
"""

from __future__ import annotations

import re
import unicodedata

from lxml import etree, html

from ..extract import decode_html
from ..finding import Evidence, Finding
from .registry import check

RULE = "site.placeholder_text"
FIELDS = {"title": "网页标题", "keywords": "关键词", "description": "网页描述", "navigation": "主导航"}
_SPLIT_TITLE = re.compile(r"\s*(?:[-_|—–·:：]+|\s{2,})\s*")
_SPLIT_KEYWORDS = re.compile(r"[,，、;；|/\s]+")
_NAV = etree.XPath("//nav//a | //*[re:test(concat(' ', @id, ' ', @class, ' '), '(^|[^a-z])(nav|navbar|menu|mainmenu|daohang)([^a-z]|$)', 'i')]//a",
                   namespaces={"re": "http://exslt.org/regular-expressions"})


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s or "").split()).casefold()


def _markup(body: bytes, content_type: str) -> dict[str, list[str]]:
    """field -> its texts: the <title>, the keywords, the description, the main navigation's items."""
    text, _ = decode_html(body, content_type)
    try:
        root = html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return {}
    title = next(root.iter("title"), None)
    meta = {(m.get("name") or "").strip().lower(): m.get("content") or "" for m in root.iter("meta")}
    nav = []
    for a in _NAV(root):
        t = " ".join(a.text_content().split())
        if t and t not in nav:
            nav.append(t)
    return {"title": [" ".join(title.text_content().split())] if title is not None else [],
            "keywords": [meta["keywords"]] if meta.get("keywords") else [],
            "description": [meta["description"]] if meta.get("description") else [], "navigation": nav}


def placeholder_hits(fields: dict[str, list[str]], words: dict) -> list[dict]:
    """[{field, text, placeholder}] for the texts of `fields` carrying placeholder text (words: the catalogue entry)."""
    whole = {_norm(w) for w in words.get("whole", [])}
    contains = [_norm(w) for w in words.get("contains", [])]
    nav_whole = {_norm(w) for w in words.get("nav_whole", [])}
    out = []
    for name, texts in fields.items():
        for text in texts:
            t = _norm(text)
            if not t:
                continue
            if name == "navigation":
                parts = {t} & nav_whole
            else:
                pieces = _SPLIT_KEYWORDS.split(t) if name == "keywords" else [t, *_SPLIT_TITLE.split(t)]
                parts = {p for p in pieces if p in whole} | {w for w in contains if w in t}
            if parts:
                out.append({"field": name, "text": text[:200], "placeholder": sorted(parts, key=len)[-1]})
    return out


@check("placeholder", rules=(RULE,), needs=("crawl",), reads=("catalog.rules.site.placeholder_text",))
def placeholder_check(ctx) -> list[Finding]:
    """The home page's title, keywords, description and main navigation against the placeholder words."""
    rec = ctx.crawl.get(ctx.home_url)
    body = rec.load_body() if rec is not None and rec.ok else None
    if not body:
        return []
    hits = placeholder_hits(_markup(body, rec.content_type), ctx.rules["catalog"]["rules"][RULE])
    if not hits:
        return []
    said = "；".join(f"{FIELDS[h['field']]}“{h['text'][:40]}”" for h in hits[:5])
    f = Finding.at_url(RULE, ctx.home_url, f"网站首页仍保留模板占位内容：{said}", kind="site", facts={"hits": hits})
    shown = " ".join(unicodedata.normalize("NFKC", hits[0]["text"]).split())  # full-width forms as the words are compared
    m = re.search(re.escape(hits[0]["placeholder"]), shown, re.I)
    f.evidence = Evidence(excerpt=shown, hit=m.span() if m else None)
    return [f]
