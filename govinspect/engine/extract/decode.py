"""Decode HTML bytes: charset from the HTTP header, then <meta>, then detection.

gb2312 and gbk are decoded as gb18030 (a superset), because real pages labelled gb2312 routinely
contain characters outside it. A declared charset that decodes the bytes cleanly is used. When none does, a stray invalid byte must not
flip the page to another charset: the declared charsets and UTF-8 are decoded with replacement, and the one
with the fewest invalid sequences is kept if most of the page is valid in it (at least _VALID_PER_ERROR valid
non-ASCII characters per invalid sequence; a GBK page read as UTF-8 has more errors than valid characters).
Detection (charset_normalizer) is the last resort.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "gb18030": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-8",
}

_NOT_PAGE_CHARSETS = {"undefined", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "raw_unicode_escape",
                      "unicode_escape", "uu", "rot-13", "base64", "hex", "quopri", "zlib", "bz2"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


def normalise_charset(name: str | None) -> str | None:
    """Return a Python codec name for a declared charset, or None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if name == "gb18030":
        return "gb18030"
    # only text encodings: a page declaring "undefined", "idna", "punycode", "rot13" or "hex" must not make decoding
    # raise (which would drop the page and its links) — such a declaration is ignored
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CHARSETS:
        return None
    return info.name


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return normalise_charset(m.group(1)) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:8192])
    return normalise_charset(m.group(1).decode("ascii", "ignore")) if m else None


def _try(body: bytes, enc: str | None) -> str | None:
    if not enc:
        return None
    try:
        return body.decode(enc)
    except (UnicodeError, LookupError, ValueError):
        return None


_VALID_PER_ERROR = 20


def _mostly_valid(body: bytes, enc: str) -> tuple[int, str] | None:
    """(invalid sequences, text decoded with replacement) when most of the page is valid in enc, else None."""
    try:
        text = body.decode(enc, "replace")
        own = body.count("\ufffd".encode(enc))  # U+FFFD written in the page itself is not an error
    except (LookupError, UnicodeError, ValueError):
        return None
    replaced = text.count("\ufffd")
    bad = replaced - own
    valid_non_ascii = len(text) - len(text.encode("ascii", "ignore")) - replaced
    return (bad, text) if bad * _VALID_PER_ERROR <= valid_non_ascii else None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Never raises; undecodable bytes become U+FFFD."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    declared = [e for e in (header_charset(content_type), meta_charset(body)) if e]
    for enc in declared:
        text = _try(body, enc)
        if text is not None:
            return text, enc
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    # nothing decodes cleanly: keep the charset in which the page is mostly valid (fewest errors; declared first)
    best = None
    for enc in dict.fromkeys([*declared, "utf-8"]):
        got = _mostly_valid(body, enc)
        if got is not None and (best is None or got[0] < best[0]):
            best = (got[0], got[1], enc)
    if best is not None:
        return best[1], best[2]
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    enc = normalise_charset(best.encoding) if best else None
    if enc:
        return body.decode(enc, "replace"), enc
    return body.decode("gb18030", "replace"), "gb18030"
