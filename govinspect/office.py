"""Bounded reading of Office files (.xlsx, .docx): every reader of such files goes through here.

A few kB of zip can inflate to gigabytes: a deflated member (zip bomb), a shared-strings table of millions of
entries, or a sheet whose million cells all point to one long shared string. The bounds (Limits) are checked
before anything is parsed -- the container (members, sizes, compression ratio), the XML prolog of every member
(no DTD: billion laughs, external entities), a streaming count of the shared strings (.xlsx) or of the main
document's paragraphs, rows, cells and text (.docx) -- and while the rows are read (rows, cells, characters).
A file over a bound raises OfficeFileError with a Chinese reason; callers report it as they report any bad file.

    with load_workbook(path_or_bytes) as wb:      # openpyxl read-only workbook, bounded
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True): ...
    doc = load_docx(path_or_bytes)                 # python-docx Document, after the checks
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

MB = 1024 * 1024


class OfficeFileError(ValueError):
    """An Office file refused or unreadable; str(e) is the reason in Chinese."""


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * MB
    members: int = 10_000  # zip entries (the central directory is read whole)
    total_uncompressed: int = 300 * MB
    ratio: int = 200  # uncompressed / compressed, for a member larger than ratio_from
    ratio_from: int = 1 * MB
    part_bytes: int = 30 * MB  # an XML part parsed whole (styles, workbook, document.xml ...)
    shared_strings: int = 1_000_000
    shared_chars: int = 20_000_000
    rows: int = 1_000_000
    cells: int = 5_000_000  # grid cells read (empty ones a row is padded with included)
    text_chars: int = 20_000_000  # characters read: a shared string counts each time a cell uses it


LIMITS = Limits()

_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_DOCX_MAIN = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
              "application/vnd.ms-word.document.macroEnabled.main+xml",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml")
_string = etree.XPath("string()", smart_strings=False)


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} 字节"


def _xml_events(fp, name: str, events=("start",), tag=None):
    """lxml iterparse of a zip member that resolves no entity, loads no DTD and refuses a document that has one
    (legitimate Office XML never does). Parse errors become OfficeFileError."""
    it = etree.iterparse(fp, events=events, tag=tag, resolve_entities=False, load_dtd=False, no_network=True,
                         huge_tree=False, remove_comments=True, remove_pis=True)
    checked = False
    try:
        for ev, el in it:
            if not checked:
                _no_dtd(el, name)
                checked = True
            yield ev, el
        if not checked and it.root is not None:
            _no_dtd(it.root, name)
    except etree.XMLSyntaxError as e:
        msg = str(e)
        if "amplification" in msg or "entit" in msg.lower():
            raise OfficeFileError(f"文件中的 {name} 含有实体声明（疑似 XML 炸弹），已拒绝") from None
        raise OfficeFileError(f"文件中的 {name} 不是有效的 XML（{msg[:120]}）") from None


def _no_dtd(el, name: str) -> None:
    info = el.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise OfficeFileError(f"文件中的 {name} 含有文档类型定义（DTD/实体，疑似 XML 炸弹或外部实体攻击），已拒绝")


def open_zip(src, limits: Limits = LIMITS) -> zipfile.ZipFile:
    """The zip container (path or bytes), refused when too large or with too many entries. OfficeFileError."""
    if isinstance(src, (bytes, bytearray)):
        size, fp = len(src), io.BytesIO(src)
    else:
        path = Path(src)
        size = path.stat().st_size
        fp = path.open("rb")
    try:
        if size > limits.file_bytes:
            raise OfficeFileError(f"文件过大（{_mb(size)}，上限 {_mb(limits.file_bytes)}）")
        # the number of entries before zipfile reads the central directory (one object per entry)
        fp.seek(max(0, size - 65_557))
        tail = fp.read()
        i = tail.rfind(b"PK\x05\x06")
        if i < 0 or len(tail) < i + 22:
            raise OfficeFileError("文件已损坏或不是 Office 文件（找不到 zip 目录）")
        entries = struct.unpack("<H", tail[i + 10:i + 12])[0]
        if entries > limits.members:  # 0xFFFF: a zip64 directory, never needed by an Office file
            raise OfficeFileError(f"压缩包内文件过多（{entries} 个，上限 {limits.members}），已拒绝")
        fp.seek(0)
        if isinstance(src, (bytes, bytearray)):
            return zipfile.ZipFile(fp)
        fp.close()
        return zipfile.ZipFile(path)  # closed with the ZipFile (a file object passed in would stay open)
    except zipfile.BadZipFile as e:
        fp.close()
        raise OfficeFileError(f"文件已损坏（{e}）") from None
    except BaseException:
        fp.close()
        raise


def _content_types(z: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Part name (without the leading /) -> content type, from [Content_Types].xml overrides."""
    try:
        info = z.getinfo("[Content_Types].xml")
    except KeyError:
        raise OfficeFileError("不是有效的 Office 文件（缺少 [Content_Types].xml）") from None
    if info.file_size > limits.part_bytes:
        raise OfficeFileError(f"[Content_Types].xml 过大（{_mb(info.file_size)}），已拒绝")
    out = {}
    with z.open(info) as fp:
        for _, el in _xml_events(fp, info.filename, events=("end",), tag="{*}Override"):
            out[(el.get("PartName") or "").lstrip("/")] = el.get("ContentType") or ""
    return out


def check(src, limits: Limits = LIMITS) -> dict:
    """Check an .xlsx or .docx (path or bytes) against limits before any reader parses it.

    Returns what was counted ({"shared_strings": n, ...}); raises OfficeFileError."""
    try:
        return _check(src, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:  # a member unreadable
        raise OfficeFileError("文件已损坏（压缩包中的数据无法读取），已拒绝") from None


def _check(src, limits: Limits) -> dict:
    with open_zip(src, limits) as z:
        infos = z.infolist()
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > limits.ratio_from and info.file_size > limits.ratio * max(info.compress_size, 1):
                raise OfficeFileError(f"疑似压缩炸弹（{info.filename} 解压后 {_mb(info.file_size)}，"
                                      f"压缩比超过 {limits.ratio}），已拒绝")
        if total > limits.total_uncompressed:
            raise OfficeFileError(f"解压后过大（{_mb(total)}，上限 {_mb(limits.total_uncompressed)}，疑似压缩炸弹），已拒绝")
        types = _content_types(z, limits)
        streamed = {n for n, t in types.items() if t == _WORKSHEET}  # read row by row, bounded while read
        shared = {n for n, t in types.items() if t == _SHARED_STRINGS}
        main = {n for n, t in types.items() if t in _DOCX_MAIN}
        counts: dict = {}
        for info in infos:
            if info.is_dir() or info.file_size == 0:
                continue
            named = info.filename in streamed or info.filename in shared or info.filename in main
            if not named and not info.filename.lower().endswith(_XML_SUFFIXES) and not _starts_xml(z, info):
                continue  # not XML (images, embedded binaries): bounded by the sizes above
            if info.filename not in streamed and info.filename not in shared and info.file_size > limits.part_bytes:
                raise OfficeFileError(f"文件中的 {info.filename} 过大（{_mb(info.file_size)}，上限 {_mb(limits.part_bytes)}），已拒绝")
            with z.open(info) as fp:
                if info.filename in shared:
                    counts.update(_count_shared_strings(fp, info.filename, limits))
                elif info.filename in main:
                    counts.update(_count_docx(fp, info.filename, limits))
                else:
                    for _ in _xml_events(fp, info.filename):  # the prolog: a DTD shows before the first element
                        break
        return counts


_XML_SUFFIXES = (".xml", ".rels", ".vml")
_LEADING = b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"  # byte-order marks, UTF-16/32 zeros and whitespace before XML


def _starts_xml(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a member's first byte after ALL leading whitespace and byte-order marks is "<" (however much
    whitespace an attacker puts first: a parser skips it all)."""
    with z.open(info) as fp:
        while chunk := fp.read(65_536):
            chunk = chunk.lstrip(_LEADING)
            if chunk:
                return chunk.startswith(b"<")
    return False


def _count_shared_strings(fp, name: str, limits: Limits) -> dict:
    n = chars = 0
    for _, el in _xml_events(fp, name, events=("end",), tag="{*}si"):
        n += 1
        chars += len(_string(el))
        if n > limits.shared_strings:
            raise OfficeFileError(f"共享字符串超过上限（{limits.shared_strings} 条），已拒绝")
        if chars > limits.shared_chars:
            raise OfficeFileError(f"共享字符串总字数超过上限（{limits.shared_chars} 字），已拒绝")
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
    return {"shared_strings": n, "shared_chars": chars}


def _span(tc) -> int:
    gs = tc.find("{*}tcPr/{*}gridSpan")
    try:
        return max(1, int(next(iter(gs.attrib.values())))) if gs is not None and gs.attrib else 1
    except ValueError:
        return 1


def _count_docx(fp, name: str, limits: Limits) -> dict:
    """Rows, grid cells and characters python-docx would give for the main document: a cell spanning n grid
    columns is read n times, a vertically merged one as often as it continues."""
    rows = cells = chars = widest = 0
    for _, el in _xml_events(fp, name, events=("end",), tag=("{*}p", "{*}tc", "{*}tr")):
        tag = etree.QName(el).localname
        if tag == "p":
            parent = el.getparent()
            if parent is None or etree.QName(parent).localname != "body":
                continue  # a paragraph in a cell is counted with the cell
            chars += len(_string(el))
        elif tag == "tc":
            span, own = _span(el), len(_string(el))
            vm = el.find("{*}tcPr/{*}vMerge")
            if vm is not None and next(iter(vm.attrib.values()), "continue") != "restart":
                own = widest  # a continued vertical merge repeats the cell above: at most the longest cell
            widest = max(widest, own)
            cells += span
            chars += span * own
        else:
            rows += 1
        if rows > limits.rows:
            raise OfficeFileError(f"表格行数超过上限（{limits.rows} 行），已拒绝")
        if cells > limits.cells:
            raise OfficeFileError(f"表格单元格超过上限（{limits.cells} 个，合并单元格按所跨列数计），已拒绝")
        if chars > limits.text_chars:
            raise OfficeFileError(f"文字超过上限（{limits.text_chars} 字），已拒绝")
        el.clear()
        if tag in ("p", "tr"):
            while el.getprevious() is not None:
                del el.getparent()[0]
    return {"rows": rows, "cells": cells, "chars": chars}


# ------------------------------------------------------------------------------------------- readers
class _Budget:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.rows = self.cells = self.chars = 0

    def take(self, row) -> None:
        lim = self.limits
        self.rows += 1
        self.cells += len(row)
        self.chars += sum(len(v) for v in row if isinstance(v, str))
        if self.rows > lim.rows:
            raise OfficeFileError(f"行数超过上限（{lim.rows} 行），已拒绝")
        if self.cells > lim.cells:
            raise OfficeFileError(f"单元格超过上限（{lim.cells} 个），已拒绝")
        if self.chars > lim.text_chars:
            raise OfficeFileError(f"文字超过上限（{lim.text_chars} 字，共享字符串每被引用一次计一次），已拒绝")


class Worksheet:
    """A read-only worksheet whose rows are counted against the workbook's limits as they are read."""

    def __init__(self, ws, budget: _Budget):
        self._ws, self._budget = ws, budget
        self.title = ws.title

    def iter_rows(self, values_only: bool = True):
        if not values_only:
            raise ValueError("only values are read")
        rows = self._ws.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except OfficeFileError:
                raise
            except Exception as e:  # openpyxl and expat raise many kinds on broken sheets
                raise OfficeFileError(f"工作表“{self.title}”无法读取（{type(e).__name__}: {str(e)[:120]}）") from None
            self._budget.take(row)
            yield row


class Workbook:
    """An openpyxl read-only workbook (data only) behind the checks: sheetnames, worksheets, wb[name], close()."""

    def __init__(self, wb, limits: Limits):
        self._wb = wb
        self._budget = _Budget(limits)
        self.worksheets = [Worksheet(ws, self._budget) for ws in wb.worksheets]

    @property
    def sheetnames(self) -> list[str]:
        return [ws.title for ws in self.worksheets]

    def __getitem__(self, name: str) -> Worksheet:
        for ws in self.worksheets:
            if ws.title == name:
                return ws
        raise KeyError(name)

    def close(self) -> None:
        self._wb.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_workbook(src, limits: Limits = LIMITS) -> Workbook:
    """Open an .xlsx (path or bytes) read-only after check(); rows are bounded while read. OfficeFileError."""
    check(src, limits)
    from openpyxl import load_workbook as _load

    try:
        wb = _load(io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else src, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on broken files
        raise OfficeFileError(f"不是有效的 .xlsx 文件（{type(e).__name__}: {str(e)[:120]}）") from None
    return Workbook(wb, limits)


def load_docx(src, limits: Limits = LIMITS):
    """A python-docx Document (path or bytes) after check(). OfficeFileError."""
    check(src, limits)
    from docx import Document

    try:
        return Document(io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else str(src))
    except Exception as e:
        raise OfficeFileError(f"不是有效的 .docx 文件（{type(e).__name__}: {str(e)[:120]}）") from None


_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[")


def declares_entities(xml: bytes) -> bool:
    """True when an XML document (a feed ...) declares entities in its DOCTYPE: billion laughs, external entities.
    Looks at the prolog only (UTF-16 too), so a post that quotes "<!ENTITY" in its text is not refused."""
    head = xml[:65_536].replace(b"\x00", b"")
    m = _INTERNAL_SUBSET.search(head)
    if not m:
        return False
    end = head.find(b"]>", m.end())
    return b"<!ENTITY" in head[m.end():end if end >= 0 else None]
