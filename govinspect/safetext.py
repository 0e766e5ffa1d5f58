"""Text that came from crawled pages, registries or users, made safe for the files we write.

One place for the rules every writer (.xlsx, .docx, file names) applies:

- `xml_text`: characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF)
  are removed; openpyxl and python-docx raise on them, which would stop a report half-way.
- `cell_text`: `xml_text`, and a flag saying the value must be stored as text, never as a formula
  (a value that begins with = + - @ or a tab/CR is a formula or DDE payload to a spreadsheet).
- `sheet_title`: a worksheet title Excel accepts.
- `file_stem`: a name usable as a file name on Windows and Linux; `unique_stems` makes such names unique.
- `append_row`: the one way our .xlsx writers add a row: every value through `cell_text`.
- `clean_tree`: `xml_text` over every string of a nested dict/list (the data a .docx is rendered from).
- `without_surrogates`: lone surrogates (valid in a str and in JSON, not in UTF-8, so they break jieba, KenLM and the
  Aho-Corasick scanners) replaced one for one, so positions in the text hold.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_MAX = 32767  # characters in one spreadsheet cell
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_BAD_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def without_surrogates(s: str, replacement: str = "\ufffd") -> str:
    """`s` with each lone surrogate replaced by `replacement` (one character): offsets into `s` stay valid."""
    return _SURROGATE.sub(replacement, s) if _SURROGATE.search(s) else s


def xml_text(s: str) -> str:
    """`s` without the characters an XML 1.0 document cannot hold."""
    return _ILLEGAL_XML.sub("", s) if isinstance(s, str) else s


def cell_text(value):
    """(value, as_text): the value cleaned for a spreadsheet cell (and cut to CELL_MAX characters); as_text is True for a string that a
    spreadsheet would read as a formula, which the writer must store as a plain string."""
    if not isinstance(value, str):
        return value, False
    value = xml_text(value)
    if len(value) > CELL_MAX:  # Excel refuses to open a file with a longer cell
        value = value[:CELL_MAX - 1] + "…"
    return value, value.startswith(FORMULA_START)


def file_stem(name: str, limit: int = 80) -> str:
    """A file-name-safe form of `name` (not unique: callers resolve collisions)."""
    stem = _BAD_FILENAME.sub("_", xml_text(name or "")).strip(" .") or "未命名"
    return stem[:limit]


def sheet_title(title: str) -> str:
    """A worksheet title Excel accepts: no \\ / * ? : [ ], not beginning or ending with ', at most 31 characters."""
    return _BAD_SHEET_TITLE.sub("_", xml_text(title or "")).strip("'")[:31].strip("'") or "工作表"


def unique_stems(names, limit: int = 80) -> dict[str, str]:
    """{name: stem}: `file_stem` of each name, made unique (case-insensitively, as on Windows and macOS) by a
    numeric suffix `_2`, `_3`, ... given in sorted order of the names, so the same names get the same files."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in sorted(set(names)):
        base = file_stem(name, limit)
        stem, n = base, 1
        while stem.casefold() in used:
            n += 1
            stem = f"{base}_{n}"
        used.add(stem.casefold())
        out[name] = stem
    return out


def row_cells(ws, values, write_only: bool = False) -> list:
    """The cells of a row for an openpyxl worksheet (write_only: a write-only one, streamed): texts without
    XML-illegal characters, and a text that a spreadsheet would take for a formula (= + - @ tab CR) stored as a string
    cell with Excel's quote prefix (shown and kept as text, also when the user edits the cell)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell

    make = WriteOnlyCell if write_only else Cell
    cells = []
    for v in values:
        v, as_text = cell_text(v)
        c = make(ws, value=v)
        if as_text:
            c.data_type = "s"
            c.quotePrefix = True
        cells.append(c)
    return cells


def append_row(ws, values) -> None:
    """Append a row to an openpyxl worksheet, its cells made safe by row_cells."""
    ws.append(row_cells(ws, values))


def clean_tree(obj):
    """A copy of `obj` (dicts, lists, tuples, scalars) with `xml_text` applied to every string, keys included."""
    if isinstance(obj, str):
        return xml_text(obj)
    if isinstance(obj, dict):
        return {clean_tree(k): clean_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(clean_tree(v) for v in obj)
    return obj
