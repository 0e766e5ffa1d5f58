"""Hostile Office and XML files (issue 14): zip bombs, amplified shared strings, merged-cell amplification, XML
bombs and external entities. Every file is built here; peak memory is measured in a child process (a fresh
interpreter, its address space capped so a regression fails fast instead of swapping the machine)."""

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from govinspect import office
from govinspect.engine.content.documents import extract_document

ROOT = Path(__file__).resolve().parents[1]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
      '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>')
WB = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      '<sheets><sheet name="工单" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
           '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
           '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
           '</Relationships>')
LAUGHS = ('<!DOCTYPE sst [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)).replace("&lol0;", "&lol;") + "]>")


def xlsx(strings: list[str] | str, rows: int, cols: int, doctype: str = "", header: list[int] | None = None,
         fill: int = 0) -> bytes:
    """A minimal .xlsx: shared strings (a list, or ready XML), and rows x cols cells all using string `fill` (the
    first row uses `header` indexes when given)."""
    sst = strings if isinstance(strings, str) else "".join(f"<si><t>{s}</t></si>" for s in strings)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst {NS}>{sst}</sst>')
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'.encode())
            for r in range(1, rows + 1):
                idx = header if r == 1 and header else [fill] * cols
                f.write((f'<row r="{r}">' + "".join(f'<c t="s"><v>{i}</v></c>' for i in idx) + "</row>").encode())
            f.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def amplified_xlsx() -> bytes:
    """9 kB: one 20,000-character shared string used by 40,000 cells (800 million characters once read)."""
    return xlsx(["受理时间", "编号", "长" * 20_000], 2_000, 20, header=[0, 1], fill=2)


def _rezip(body: bytes, name: str, transform) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, transform(data) if info.filename == name else data)
    return out.getvalue()


def _docx(paragraph: str = "正文", table_text: str | None = None) -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph(paragraph)
    if table_text is not None:
        d.add_table(rows=1, cols=1).cell(0, 0).text = table_text
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# what check-text and the attachment check do: extract, then join the text for the matchers
READ = "(lambda d: d.error or len(d.joined()[0]))(extract_document(body, {!r}))"


def _peak(body: bytes, tmp_path, call: str) -> dict:
    """Run `call` on the file in a fresh interpreter capped at 2 GB of address space: its error and how much its
    peak resident memory grew (MB)."""
    f = tmp_path / "hostile.bin"
    f.write_bytes(body)
    code = textwrap.dedent(f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from pathlib import Path
        from govinspect.engine.content.documents import extract_document
        from govinspect.engine.letters import LettersError, read_table
        import openpyxl, docx  # imported before the baseline
        body = Path({str(f)!r}).read_bytes()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            error = {call}
        except MemoryError:
            error = "MemoryError"
        except LettersError as e:
            error = str(e)
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({{"error": error, "mb": grown}}, ensure_ascii=False))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ .xlsx
def test_amplified_shared_strings_bounded_with_a_chinese_error(tmp_path):
    body = amplified_xlsx()
    assert len(body) < 12_000
    got = _peak(body, tmp_path, READ.format('a.xlsx'))
    assert got["error"] == "文字超过上限（20000000 字，共享字符串每被引用一次计一次），已拒绝", got
    assert got["mb"] < 100, got
    got = _peak(body, tmp_path, f"read_table(Path({str(tmp_path / 'hostile.bin')!r}))")  # letters, 公文台账
    assert "超过上限" in got["error"] and got["mb"] < 100, got


def test_a_million_shared_strings_are_refused_before_parsing(tmp_path):
    many = "".join(f"<si><t>{i}</t></si>" for i in range(1_000_001))  # varied: passes the compression-ratio check
    body = xlsx(many, 1, 1)
    got = _peak(body, tmp_path, READ.format('a.xlsx'))
    assert got["error"] == "共享字符串超过上限（1000000 条），已拒绝", got
    assert got["mb"] < 100, got


def test_zip_bomb_member_is_refused(tmp_path):
    body = xlsx("<si><t>" + "a" * 30_000_000 + "</t></si>", 1, 1)  # 30 MB of one letter: ratio ~1000
    doc = extract_document(body, "a.xlsx")
    assert doc.error.startswith("疑似压缩炸弹（xl/sharedStrings.xml"), doc.error


@pytest.mark.parametrize("doctype", [
    LAUGHS,
    '<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE sst SYSTEM "http://127.0.0.1:9/evil.dtd">',
])
def test_xml_bombs_and_external_entities_in_xlsx(doctype):
    body = xlsx("<si><t>&lol9;</t></si>" if "lol" in doctype else "<si><t>&x;</t></si>" if "passwd" in doctype else
                "<si><t>名单</t></si>", 2, 2, doctype=doctype)
    doc = extract_document(body, "a.xlsx")
    assert doc.error and ("DTD" in doc.error or "实体" in doc.error) and "xl/sharedStrings.xml" in doc.error, doc.error
    assert not doc.segments


def test_normal_workbook_reads_as_before():
    body = xlsx(["姓名", "身份证号", "张三"], 3, 2, header=[0, 1])
    with office.load_workbook(body) as wb:
        assert wb.sheetnames == ["工单"]
        assert [list(r) for r in wb["工单"].iter_rows(values_only=True)] == [["姓名", "身份证号"], ["姓名", "姓名"], ["姓名", "姓名"]]
    doc = extract_document(body, "a.xlsx")
    assert doc.error is None and [s.text for s in doc.segments][:2] == ["姓名", "身份证号"]


def test_rows_and_cells_are_bounded_while_read():
    body = xlsx(["一"], 50, 4)
    with office.load_workbook(body, office.Limits(rows=10)) as wb:
        with pytest.raises(office.OfficeFileError, match="行数超过上限（10 行）"):
            list(wb.worksheets[0].iter_rows(values_only=True))
    with office.load_workbook(body, office.Limits(cells=100)) as wb:
        with pytest.raises(office.OfficeFileError, match="单元格超过上限（100 个）"):
            list(wb.worksheets[0].iter_rows(values_only=True))


def test_too_many_zip_members_refused_before_the_directory_is_read():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(10_001):
            z.writestr(f"x/{i}", b"")
    with pytest.raises(office.OfficeFileError, match="压缩包内文件过多（10001 个"):
        office.check(buf.getvalue())
    assert extract_document(buf.getvalue(), "附件.xlsx").error.startswith("压缩包内文件过多（10001 个")


# ------------------------------------------------------------------------------------------ .docx
def test_merged_cell_amplification_in_docx_bounded(tmp_path):
    # one cell of 1,000 characters spanning 100,000 grid columns: python-docx reads it 100,000 times
    body = _rezip(_docx(table_text="长" * 1_000), "word/document.xml",
                  lambda x: x.replace(b"<w:tcPr>", b'<w:tcPr><w:gridSpan w:val="100000"/>', 1))
    got = _peak(body, tmp_path, READ.format('a.docx'))
    assert got["error"] == "文字超过上限（20000000 字），已拒绝", got
    assert got["mb"] < 100, got


@pytest.mark.parametrize("entity", ['<!ENTITY x SYSTEM "file:///etc/passwd">', LAUGHS[len("<!DOCTYPE sst ["):-2]])
def test_xml_bombs_and_external_entities_in_docx(entity):
    ref = b"&x;" if b"passwd" in entity.encode() else b"&lol9;"
    body = _rezip(_docx("标记"), "word/document.xml",
                  lambda x: x.replace(b"?>", b"?><!DOCTYPE w:document [" + entity.encode() + b"]>", 1).replace("标记".encode(), ref))
    doc = extract_document(body, "a.docx")
    assert doc.error and ("DTD" in doc.error or "实体" in doc.error) and "word/document.xml" in doc.error, doc.error
    assert not any("root" in s.text for s in doc.segments)


def test_normal_docx_reads_as_before():
    doc = extract_document(_docx("关于开展检查的通知", table_text="联系电话"), "a.docx")
    assert doc.error is None
    assert [(s.text, s.location) for s in doc.segments] == [("关于开展检查的通知", {"paragraph": 1}),
                                                            ("联系电话", {"sheet": "表1", "cell": "A1"})]


def test_check_text_cli_reports_the_reason(tmp_path, capsys):
    from govinspect.cli import main

    f = tmp_path / "附件.xlsx"
    f.write_bytes(amplified_xlsx())
    assert main(["check-text", str(f)]) == 2
    err = capsys.readouterr().err
    assert "附件.xlsx：文字超过上限" in err and "Traceback" not in err and "MemoryError" not in err


# ------------------------------------------------------------------------------------------ feeds
def test_feed_with_entity_declarations_is_not_parsed():
    from govinspect.engine.newmedia import parse_feed

    item = "<item><title>{}</title><pubDate>Mon, 02 Nov 2026 10:00:00 +0800</pubDate></item>"
    laughs = LAUGHS.replace("sst", "rss")
    for doctype, ref in ((laughs, "&lol9;"), ('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;")):
        src = parse_feed(f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel>{item.format(ref)}</channel></rss>'.encode())
        assert not src.ok and "实体" in src.reason
    # a post quoting "<!ENTITY" in its text is a normal feed
    ok = parse_feed(f'<?xml version="1.0"?><rss version="2.0"><channel>{item.format("如何写 &lt;!ENTITY&gt; 声明")}</channel></rss>'.encode())
    assert ok.ok and len(ok.posts) == 1


def test_a_corrupt_member_is_a_reason_not_a_traceback(tmp_path):
    from govinspect.engine.letters import LettersError, read_table

    body = bytearray(xlsx(["受理时间", "编号"], 20, 2, header=[0, 1]))
    i = body.index(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 5  # into the deflated data
    body[i:i + 40] = b"\x00" * 40
    f = tmp_path / "工单.xlsx"
    f.write_bytes(bytes(body))
    with pytest.raises(LettersError) as e:
        read_table(f)
    assert "已损坏" in str(e.value) or "无法读取" in str(e.value) or "不是有效" in str(e.value)
    assert extract_document(bytes(body), "a.xlsx").error


# ------------------------------------------------------------------------------------------ style sheets
# Each sheet (~300 kB) took the old hiding scan 40-60 s (quadratic regex backtracking, every rule against every
# candidate element) inside the crawler's event loop; now each is linear or bounded by a per-page budget.
def _styled(css: str, body: str = '<a href="/a">a</a>') -> str:
    return f"<html><head><style>{css}</style></head><body>{body}</body></html>"


HOSTILE_SHEETS = {
    "unterminated comments": lambda: _styled("/* " * 100_000),
    "font: with no ;": lambda: _styled(".x{" + "font:" * 60_000 + "}", '<a class="x" href="/a">a</a>'),
    "url( then background: repeated": lambda: _styled(".x{url(" + "background:" * 28_000 + "}", '<a class="x" href="/a">a</a>'),
    ":a( repeated in a selector": lambda: _styled(".x" + ":a(" * 100_000 + "{display:block}"),
    "a hiding rule x 7000 copies x 7000 divs": lambda: _styled("div{display:none}" * 7_000, '<div><a href="/a">a</a></div>' * 7_000),
    "7000 distinct tag rules x 7000 divs": lambda: _styled("".join(f"div{{display:none;z-index:{i}}}" for i in range(7_000)),
                                                           '<div><a href="/a">a</a></div>' * 7_000),
    "rules nested 100000 deep": lambda: _styled("a{" * 100_000 + "}" * 100_000),
}


@pytest.mark.parametrize("name", HOSTILE_SHEETS)
def test_hostile_style_sheets_are_read_in_bounded_time(name):
    import time

    from govinspect.engine.extract import extract_page

    html = HOSTILE_SHEETS[name]()
    assert len(html) > 150_000
    t = time.perf_counter()
    page = extract_page(html, "http://x.gov.cn/")
    took = time.perf_counter() - t
    assert took < 3, f"{name}: {took:.1f}s"
    assert [l.url for l in page.links] == ["http://x.gov.cn/a"]


def test_declarations_are_read_as_before_one_at_a_time():
    """The linear per-declaration scans find what the old whole-style patterns found: a font size set, a
    background image, a text-indented logo (not hidden) and a hidden one, a comment left open to the end."""
    from govinspect.engine.extract import extract_page
    from govinspect.engine.extract.hiding import _bg_image, _font_set, _strip_comments

    assert _font_set("color:red; font: bold 12px/1.5 sans") and _font_set("font-size:.5em")
    assert not _font_set("font-size:0; width:12px") and not _font_set("font:" * 1000)
    assert _bg_image("color:red;background:#fff url(a.png) no-repeat") and _bg_image("BACKGROUND-IMAGE : URL(a.png)")
    assert not _bg_image("background:red; content:url(a.png)") and not _bg_image("url(" + "background:" * 1000)
    assert _strip_comments("a{x:1}/* c */b{y:2}/* open {z:3}") == "a{x:1}b{y:2}"

    logo = '.logo{text-indent:-9999px;background:url(logo.png)} .gone{text-indent:-9999px}/* unterminated .x{display:block}'
    page = extract_page(_styled(logo, '<a class="logo" href="/home">首页</a><a class="gone" href="http://bad.com/">博彩</a>'),
                        "http://x.gov.cn/")
    hidden = {l.url: l.hidden for l in page.links}
    assert hidden["http://x.gov.cn/home"] is None
    assert hidden["http://bad.com/"].startswith(".gone {text-indent:-9999px}")


def test_the_rule_budget_misses_rather_than_accuses():
    """Past the page's budget of rule x element evaluations the remaining hiding rules are not applied: the
    links they would hide are reported visible (a miss), while an inline hiding still counts."""
    from govinspect.engine.extract import extract_page

    rules = "".join(f"div{{display:none;z-index:{i}}}" for i in range(200)) + ".late{left:-9999px}"
    body = '<div><a href="/a">a</a></div>' * 1_000 + '<p class="late"><a href="http://late.com/">x</a></p>' \
           '<p style="left:-9999px"><a href="http://inline.com/">y</a></p>'
    hidden = {l.url: l.hidden for l in extract_page(_styled(rules, body), "http://x.gov.cn/").links}
    assert hidden["http://x.gov.cn/a"].startswith("div {display:none")
    assert hidden["http://late.com/"] is None
    assert "left:-9999px" in hidden["http://inline.com/"]
    # the same late rule on a page with few rules is applied
    small = {l.url: l.hidden for l in extract_page(_styled(".late{left:-9999px}", body), "http://x.gov.cn/").links}
    assert small["http://late.com/"].startswith(".late {left:-9999px}")


# -------------------------------------------- members that start with whitespace (issue 14)
# a parser skips any amount of leading whitespace: 100 kB of it (more than one read) must not hide a member's XML
_PAD = b" " * 100_000 + b"\r\n\t"


def test_shared_strings_behind_leading_whitespace_are_still_counted():
    strings = "".join(f"<si><t>{i}</t></si>" for i in range(11))
    body = _rezip(xlsx(strings, 1, 1), "xl/sharedStrings.xml", lambda d: _PAD + d.split(b"?>", 1)[1])
    small = office.Limits(shared_strings=10)
    with pytest.raises(office.OfficeFileError, match=r"^共享字符串超过上限（10 条），已拒绝$"):
        office.check(body, small)
    with pytest.raises(office.OfficeFileError, match="共享字符串超过上限"):
        office.load_workbook(body, small)
    assert office.check(body)["shared_strings"] == 11  # counted, within the real limits


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/sharedStrings.xml", "customXml/item1.bin"])
def test_a_doctype_behind_leading_whitespace_is_refused(member):
    laughs = LAUGHS.replace("<!DOCTYPE sst", "<!DOCTYPE x").encode()

    def bomb(data: bytes) -> bytes:
        return _PAD + laughs + (data.split(b"?>", 1)[1] if data else b"<x>&lol9;</x>")

    buf = io.BytesIO(xlsx(["名单"], 2, 2))
    with zipfile.ZipFile(buf, "a") as z:
        if member not in z.namelist():  # a member no content type names and whose name is not XML's
            z.writestr(member, b"")
    body = _rezip(buf.getvalue(), member, bomb)
    with pytest.raises(office.OfficeFileError, match=f"文件中的 {member} 含有文档类型定义"):
        office.check(body)
    doc = extract_document(body, "a.xlsx")
    assert doc.error and member in doc.error and not doc.segments


def test_a_large_part_behind_leading_whitespace_is_refused():
    body = _rezip(xlsx(["名单"], 2, 2), "xl/workbook.xml", lambda d: _PAD + d.split(b"?>", 1)[1])
    with pytest.raises(office.OfficeFileError, match=r"^文件中的 xl/workbook.xml 过大"):
        office.check(body, office.Limits(part_bytes=50_000))
    with office.load_workbook(body) as wb:  # within the real limits it reads as before
        assert wb.sheetnames == ["工单"]
