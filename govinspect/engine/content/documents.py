"""Text of attachments, with where each piece came from (sheet and cell, page, paragraph).

Formats: .xlsx (openpyxl, read-only), .xls (xlrd), .docx (python-docx), .doc (antiword), .pdf (pypdf),
.csv/.txt (charset detection), images and scanned PDF pages through RapidOCR when it is installed.
The format is taken from the bytes (magic numbers), not from the name.

Hostile files are normal: a size limit; .xlsx/.docx are opened through govinspect.office (zip bombs, XML
bombs, shared strings, rows, cells and characters bounded before and while reading); cell, page and time
limits. A file that cannot be read gives DocumentText.error (a clear Chinese reason):
the content check then reports the attachment as "could not check", never as clean.
"""

from __future__ import annotations

import bisect
import glob
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ... import office
from ...office import OfficeFileError

MAX_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED = 300 * 1024 * 1024
MAX_CELLS = 2_000_000
MAX_PAGES = 1000
TOOL_TIMEOUT = 60
CELL_SEP = "\x1f"  # between cells and rows: kept by the matcher, so no word spans two cells
PAGE_SEP = "\x0c"
OFFICE_LIMITS = office.Limits(file_bytes=MAX_BYTES, total_uncompressed=MAX_UNCOMPRESSED)
DOC_EXT = (".xlsx", ".xlsm", ".xls", ".docx", ".doc", ".pdf", ".csv", ".txt", ".wps", ".et", ".png", ".jpg", ".jpeg")


@dataclass
class Segment:
    text: str
    location: dict  # {"sheet": "名单", "cell": "C2"} | {"page": 3} | {"paragraph": 12} | {"line": 4}
    context: str = ""  # the table header above a cell: a 身份证 column makes a bare 15-digit number an ID


@dataclass
class DocumentText:
    kind: str
    segments: list[Segment] = field(default_factory=list)
    error: str | None = None
    ocr: bool = False  # some text came from OCR

    def joined(self) -> tuple[str, list[int]]:
        """All segments in one string (one scan instead of thousands) and each segment's start offset."""
        starts, parts, pos = [], [], 0
        for s in self.segments:
            starts.append(pos)
            parts.append(s.text)
            pos += len(s.text) + 1
        return CELL_SEP.join(parts), starts

    def header(self) -> str:
        """The table headers of the document (context for personal numbers in its cells)."""
        return " ".join(sorted({s.context for s in self.segments if s.context}))

    def locate(self, starts: list[int], offset: int) -> tuple[Segment, int]:
        """The segment an offset of joined() falls in (starts: joined()'s second value), and the offset inside it."""
        i = bisect.bisect_right(starts, offset) - 1
        return self.segments[i], offset - starts[i]


class DocumentError(Exception):
    pass


def sniff(body: bytes, name: str = "") -> str:
    head = body[:8]
    low = name.lower()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with office.open_zip(body, OFFICE_LIMITS) as z:
                names = set(z.namelist())
        except OfficeFileError:  # too large, too many entries, broken: the reader says why when it is named so
            return "xlsx" if low.endswith((".xlsx", ".xlsm")) else "docx" if low.endswith(".docx") else "unknown"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls" if low.endswith((".xls", ".et")) else "doc" if low.endswith((".doc", ".wps")) else "ole"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "image"
    if low.endswith(".csv"):
        return "csv"
    return "text"


def extract_document(body: bytes, name: str = "", ocr: bool = True) -> DocumentText:
    """Never raises for a bad file: the reason goes to DocumentText.error."""
    kind = sniff(body, name)
    doc = DocumentText(kind=kind)
    try:
        if len(body) > MAX_BYTES:
            raise DocumentError(f"文件过大（{len(body)} 字节，上限 {MAX_BYTES}）")
        if kind == "xlsx":
            _xlsx(body, doc)
        elif kind == "docx":
            _docx(body, doc)
        elif kind == "xls":
            _xls(body, doc)
        elif kind == "doc":
            _doc(body, doc)
        elif kind == "ole":  # an old Office file named oddly: try the spreadsheet reader, then Word
            try:
                _xls(body, doc)
                doc.kind = "xls"
            except DocumentError:
                _doc(body, doc)
                doc.kind = "doc"
        elif kind == "pdf":
            _pdf(body, doc, ocr)
        elif kind == "image":
            if not ocr or not ocr_available():
                raise DocumentError("图片需要文字识别（OCR）组件，未安装，未检查")
            doc.segments.append(Segment(_ocr_image(body), {"page": 1}))
            doc.ocr = True
        elif kind in ("text", "csv"):
            _text(body, doc, kind)
        else:
            raise DocumentError("无法识别的文件格式（压缩包等），未检查")
    except (DocumentError, OfficeFileError) as e:
        doc.error = str(e)
    except Exception as e:  # a broken file must not stop the round: name it and go on
        doc.error = f"文件无法解析（{type(e).__name__}: {str(e)[:200]}）"
    return doc


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e20:
        return str(int(v))  # an ID typed as a number comes back as 1.3053519800101e+17 otherwise
    return str(v).strip()


def _table(doc: DocumentText, sheet: str, rows) -> None:
    header: list[str] = []
    cells = 0
    for r, row in enumerate(rows, start=1):
        values = [_cell_text(v) for v in row]
        if not header and sum(1 for v in values if v) >= 2:
            header = values
            head_row = r
        for c, v in enumerate(values, start=1):
            if not v:
                continue
            cells += 1
            if cells > MAX_CELLS:
                raise DocumentError(f"单元格超过上限 {MAX_CELLS}，仅检查了前面部分")
            ctx = header[c - 1] if header and r > head_row and c - 1 < len(header) else ""
            doc.segments.append(Segment(v, {"sheet": sheet, "cell": f"{_col(c)}{r}"}, ctx))


def _xlsx(body: bytes, doc: DocumentText) -> None:
    with office.load_workbook(body, OFFICE_LIMITS) as wb:
        for ws in wb.worksheets:
            _table(doc, ws.title, ws.iter_rows(values_only=True))


def _xls(body: bytes, doc: DocumentText) -> None:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=body, on_demand=True)
    except xlrd.XLRDError as e:
        raise DocumentError(f"不是有效的 .xls 文件（{e}）") from e
    for sh in book.sheets():
        _table(doc, sh.name, (sh.row_values(i) for i in range(sh.nrows)))


def _docx(body: bytes, doc: DocumentText) -> None:
    d = office.load_docx(body, OFFICE_LIMITS)
    n = 0
    for p in d.paragraphs:
        n += 1
        if p.text.strip():
            doc.segments.append(Segment(p.text, {"paragraph": n}))
    for t_i, table in enumerate(d.tables, start=1):
        _table(doc, f"表{t_i}", ([c.text for c in row.cells] for row in table.rows))


def _doc(body: bytes, doc: DocumentText) -> None:
    exe = shutil.which("antiword")
    if not exe:
        raise DocumentError("读取 .doc 需要 antiword（make 会安装），未检查")
    with tempfile.NamedTemporaryFile(suffix=".doc") as f:
        f.write(body)
        f.flush()
        try:
            out = subprocess.run([exe, "-m", "UTF-8.txt", "-w", "0", f.name], capture_output=True, timeout=TOOL_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise DocumentError(f".doc 解析超时（{TOOL_TIMEOUT} 秒）") from e
    if out.returncode != 0:
        raise DocumentError(f".doc 无法解析（{out.stderr.decode('utf-8', 'replace').strip()[:200]}）")
    for i, line in enumerate(out.stdout.decode("utf-8", "replace").splitlines(), start=1):
        if line.strip():
            doc.segments.append(Segment(line, {"paragraph": i}))


def _pdf(body: bytes, doc: DocumentText, ocr: bool) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as e:
                raise DocumentError("PDF 已加密，无法读取") from e
        pages = reader.pages
        if len(pages) > MAX_PAGES:
            raise DocumentError(f"PDF 页数超过上限 {MAX_PAGES}")
        empty = []
        for i, page in enumerate(pages, start=1):
            text = page.extract_text() or ""
            if text.strip():
                doc.segments.append(Segment(text, {"page": i}))
            else:
                empty.append(i)
    except PdfReadError as e:
        raise DocumentError(f"PDF 已损坏（{e}）") from e
    if empty:  # scanned pages: OCR them when the engine is installed, else say so
        if ocr and ocr_available():
            for i, img in _pdf_page_images(body, empty):
                doc.segments.append(Segment(_ocr_image(img), {"page": i}))
            doc.ocr = True
        elif not doc.segments:
            raise DocumentError("扫描件 PDF（无文字层），需要文字识别（OCR）组件，未检查")


def _text(body: bytes, doc: DocumentText, kind: str) -> None:
    from charset_normalizer import from_bytes

    if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("二进制文件，无法按文本读取")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(body[:200_000]).best()
        enc = best.encoding if best else "gb18030"
        if enc in ("gbk", "gb2312", "cp936"):
            enc = "gb18030"
        text = body.decode(enc, errors="replace")
    if kind == "csv":
        import csv

        _table(doc, "CSV", csv.reader(io.StringIO(text)))
    else:
        for i, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                doc.segments.append(Segment(line, {"line": i}))


def ocr_available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _ocr_image(img: bytes) -> str:
    from rapidocr_onnxruntime import RapidOCR

    result, _ = _ocr_engine(RapidOCR)(img)
    return "\n".join(r[1] for r in result or [])


_ENGINE = None


def _ocr_engine(cls):
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = cls()
    return _ENGINE


def _pdf_page_images(body: bytes, pages: list[int]):
    exe = shutil.which("pdftoppm")
    if not exe:
        raise DocumentError("扫描件 PDF 需要 pdftoppm（poppler-utils）")
    with tempfile.TemporaryDirectory() as d:
        src = f"{d}/in.pdf"
        with open(src, "wb") as f:
            f.write(body)
        for i in pages[:MAX_PAGES]:
            subprocess.run([exe, "-r", "150", "-png", "-f", str(i), "-l", str(i), src, f"{d}/p"], capture_output=True,
                           timeout=TOOL_TIMEOUT, check=False)
            for png in sorted(glob.glob(f"{d}/p*.png")):
                with open(png, "rb") as f:
                    yield i, f.read()
                os.remove(png)
