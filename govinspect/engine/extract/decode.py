"""Decode HTML bytes: charset from the HTTP header, then <meta>, then detection.

gb2312 and gbk are decoded as gb18030 (a superset), because real pages labelled gb2312 routinely
contain characters outside it. A declared charset that does not decode the bytes is not trusted:
we fall through to the next source instead of producing mojibake.
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

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


def normalise_charset(name: str | None) -> str | None:
    """Return a Python codec name for a declared charset, or None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name if name not in ("gb18030",) else "gb18030"
    except LookupError:
        return None


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
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Never raises; undecodable bytes become U+FFFD."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    for enc in (header_charset(content_type), meta_charset(body)):
        text = _try(body, enc)
        if text is not None:
            return text, enc  # type: ignore[return-value]
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    enc = normalise_charset(best.encoding) if best else None
    if enc:
        return body.decode(enc, "replace"), enc
    return body.decode("gb18030", "replace"), "gb18030"
