"""Text that came from crawled pages, registries or users, made safe for the files we write.

One place for the rules every writer (.xlsx, .docx, file names) applies:

- `xml_text`: characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF)
  are removed; openpyxl and python-docx raise on them, which would stop a report half-way.
- `cell_text`: `xml_text`, and a flag saying the value must be stored as text, never as a formula
  (a value that begins with = + - @ or a tab/CR is a formula or DDE payload to a spreadsheet).
- `file_stem`: a name usable as a file name on Windows and Linux.
"""

from __future__ import annotations

import re

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def xml_text(s: str) -> str:
    """`s` without the characters an XML 1.0 document cannot hold."""
    return _ILLEGAL_XML.sub("", s) if isinstance(s, str) else s


def cell_text(value):
    """(value, as_text): the value cleaned for a spreadsheet cell; as_text is True for a string that a
    spreadsheet would read as a formula, which the writer must store as a plain string."""
    if not isinstance(value, str):
        return value, False
    value = xml_text(value)
    return value, value.startswith(FORMULA_START)


def file_stem(name: str, limit: int = 80) -> str:
    """A file-name-safe form of `name` (not unique: callers resolve collisions)."""
    stem = _BAD_FILENAME.sub("_", xml_text(name or "")).strip(" .") or "未命名"
    return stem[:limit]
