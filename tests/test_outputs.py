"""Safe outputs: crawled text with control characters or formula-looking starts, colliding unit names, a report that
dies half-way, and a round that did not finish. Real files read back with openpyxl, python-docx and zipfile."""

import datetime as dt
import json
import re
import subprocess
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook

from govinspect.engine.finding import Finding as EngineFinding
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Account, Unit, Website
from govinspect.reports import DRAFT_MARK, write_reports
from govinspect.rounds.models import Finding, Round, RoundAccount, RoundEvent
from govinspect.rounds.jobs import store_report
from govinspect.safetext import FORMULA_START

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)
CONTROL = "\x1b[31m\x00\x07\x0b\x0c\x1f\ufffe"  # ESC (as in a crawled anchor), NUL, BEL, VT, FF, US, a noncharacter
# units, an account and link texts that a spreadsheet would take for formulas or DDE payloads
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EVIL_UNITS = ['=HYPERLINK("http://evil.example/","点此")', "+清河县测试局", "-清河县测试局", "@SUM(1+1)*cmd|' /C calc'!A0",
              "测试/局", "测试:局"]
EVIL_LINK = "=cmd|' /C calc'!A0"


def _site_report(url: str, n: int) -> SiteReport:
    text = f"{EVIL_LINK}{CONTROL}链接{n}"
    return SiteReport(site_url=url, as_of=AS_OF, status="checked", verdict="fail", pages_fetched=3, findings=[
        EngineFinding.at_url("link.dead", url + f"dead{n}.html", f"站内链接“{text}”无法访问（404），共1处引用，如{url}",
                             kind="link", site=url, facts={"referrers": [{"page": url, "text": text, "hidden": False}],
                                                           "referrer_count": 1, "external": False}),
        EngineFinding.at_url("content.typo", url + "a.html", f"{EVIL_LINK}{CONTROL}错别字“管里”", site=url,
                             facts={"text": "管里"}),
    ])


def _round(status: str = "done") -> Round:
    rnd = Round.objects.create(name="2026年第四季度政府网站检查", region="清河县/开发区", office="清河县人民政府办公室", as_of=AS_OF,
                               period_start=AS_OF - dt.timedelta(days=91), status=status)
    for i, name in enumerate(EVIL_UNITS):
        unit = Unit.objects.create(name=name, kind="部门")
        site = Website.objects.create(name=f"{name}网站{CONTROL}", home_url=f"http://site{i}.example.gov.cn/", owner=unit)
        store_report(rnd, site, _site_report(site.home_url, i))
    owner = Unit.objects.get(name=EVIL_UNITS[0])
    acc = Account.objects.create(platform="微信公众号", name=f"=账号{CONTROL}", owner=owner, filed=False)
    ra = RoundAccount.objects.create(round=rnd, account=acc, status="checked", verdict="fail", reason="未备案")
    Finding.objects.create(round=rnd, round_account=ra, rule="newmedia.not_filed", url="http://mp.example/evil",
                           detail=f"@账号未备案{CONTROL}", responsible_unit=owner)
    Finding.objects.create(round=rnd, round_account=ra, rule="newmedia.no_interaction", url="http://mp.example/evil",
                           detail="长" * 40000, responsible_unit=owner)  # longer than a spreadsheet cell can hold
    return rnd


def _xlsx_files(out):
    return [out / "附件.xlsx", *sorted((out / "整改清单").glob("*.xlsx"))]


def _cells(path):
    wb = load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_control_characters_and_formulas_are_written_as_plain_text(tmp_path):
    rnd = _round()
    paths = write_reports(rnd, tmp_path / "out")
    out = tmp_path / "out"
    assert paths["bulletin"] == out / "通报.docx" and zipfile.is_zipfile(paths["bulletin"])
    formula_like = []
    for path in _xlsx_files(out):
        for c in _cells(path):
            assert not (isinstance(c.value, str) and ILLEGAL.search(c.value)), (path.name, c.coordinate)
            assert c.data_type != "f", (path.name, c.coordinate, c.value)  # nothing is a formula
            assert not isinstance(c.value, str) or len(c.value) <= 32767
            if isinstance(c.value, str) and c.value.startswith(FORMULA_START):
                assert c.data_type == "s" and c.quotePrefix, (path.name, c.coordinate)
                formula_like.append(c.value)
        with zipfile.ZipFile(path) as z:  # and the raw sheet XML carries no <f> element
            assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    # the texts really are in the files (as strings), cleaned of the XML-illegal characters only
    clean = ILLEGAL.sub("", CONTROL)
    assert set(EVIL_UNITS) - {"测试/局", "测试:局"} <= set(formula_like)
    assert f"@账号未备案{clean}" in formula_like and any(v.startswith(f"=账号{clean}") for v in formula_like)
    assert f"{EVIL_LINK}{clean}错别字“管里”" in formula_like  # a finding's text (the problem column of the lists)
    assert any(f"{EVIL_LINK}{clean}链接0" in str(c.value) for p in _xlsx_files(out) for c in _cells(p))
    assert any(c.value == "长" * 32766 + "…" for p in _xlsx_files(out) for c in _cells(p))  # cut to what Excel opens
    # a region with characters a sheet title cannot hold (it names the attachment sheets)
    assert any(t.startswith("附件1 ") and "清河县_开发区" in t for t in load_workbook(out / "附件.xlsx").sheetnames)
    # the bulletin is a valid .docx with the crawled link text, minus the control characters
    text = "\n".join(p.text for p in Document(out / "通报.docx").paragraphs)
    assert f"{EVIL_LINK}[31m链接" in text and not ILLEGAL.search(text)
    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    assert data["round"]["status"] == "done"
    assert RoundEvent.objects.filter(round=rnd, kind="report").count() == 1


def test_every_unit_gets_its_own_rectification_list(tmp_path):
    rnd = _round()
    write_reports(rnd, tmp_path / "out")
    lists = sorted((tmp_path / "out" / "整改清单").glob("*.xlsx"))
    assert len(lists) == len(EVIL_UNITS)  # “测试/局” and “测试:局” are two files, not one overwritten
    titles = {}
    for p in lists:
        wb = load_workbook(p)
        titles[wb.properties.title.removesuffix(" 整改清单")] = p.name
        ws = wb["整改清单"]
        assert ws.max_row == 1 + 2 + (2 if wb.properties.title.startswith(EVIL_UNITS[0]) else 0)  # the account's problems
    assert set(titles) == set(EVIL_UNITS)
    assert {titles["测试/局"], titles["测试:局"]} == {"测试_局.xlsx", "测试_局_2.xlsx"}
    assert all("/" not in n and ":" not in n for n in titles.values())


def _snapshot(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_report_that_dies_half_way_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    import govinspect.reports.workbook as workbook

    rnd = _round()
    out = tmp_path / "out"
    write_reports(rnd, out)
    (out / "说明.txt").write_text("操作人员自己的文件", encoding="utf-8")
    before = _snapshot(out)
    assert "通报.docx" in before and "round.json" in before and any(k.startswith("整改清单/") for k in before)

    # the round changes (a new problem), then the next report crashes while writing its last files
    site = Website.objects.get(home_url="http://site1.example.gov.cn/")
    Finding.objects.create(round=rnd, round_site=rnd.sites.get(website=site), rule="content.typo", url=site.home_url + "b.html",
                           detail="错别字“再接再励”", responsible_unit=site.owner)

    def crash(data, out_dir, composed=None):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "写了一半.xlsx").write_bytes(b"PK\x03\x04")  # a partial file, as a killed process leaves it
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(workbook, "write_rectification_lists", crash)
    with pytest.raises(RuntimeError):
        write_reports(rnd, out)
    assert _snapshot(out) == before  # the previous complete report, byte for byte; no partial file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary directory left beside it
    with pytest.raises(RuntimeError):
        write_reports(rnd, tmp_path / "new")
    assert not (tmp_path / "new").exists()  # a first report that dies leaves nothing that looks like a report

    monkeypatch.undo()  # the next complete run replaces the report and keeps the operator's own file
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".out.生成中-{dead.pid}-0000"  # what a run killed half-way leaves beside the output
    (stale / "整改清单").mkdir(parents=True)
    write_reports(rnd, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the dead run's leftovers are gone
    after = _snapshot(out)
    assert after["说明.txt"] == before["说明.txt"] and after["round.json"] != before["round.json"]
    assert "再接再励" in after["round.json"].decode("utf-8")


@pytest.mark.parametrize("status", ["interrupted", "running", "failed", "pending"])
def test_report_refuses_a_round_that_did_not_finish(tmp_path, capsys, status):
    from govinspect.cli import main

    rnd = _round(status)
    assert main(["report", str(rnd.pk), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "未完成" in err and "--draft" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert not RoundEvent.objects.filter(round=rnd, kind="report").exists()


def test_report_draft_is_marked_on_every_page_and_sheet(tmp_path, capsys):
    from govinspect.cli import main

    rnd = _round("interrupted")
    out = tmp_path / "out"
    assert main(["report", str(rnd.pk), "--out", str(out), "--draft"]) == 0
    assert DRAFT_MARK in capsys.readouterr().out
    doc = Document(out / "通报.docx")
    assert len(doc.sections) > 1  # the body and its 附件 sections
    for s in doc.sections:
        heads = [s.header] + ([s.first_page_header] if s.different_first_page_header_footer else []) + \
                ([s.even_page_header] if doc.settings.odd_and_even_pages_header_footer else [])
        for h in heads:
            assert DRAFT_MARK in "".join(p.text for p in h.paragraphs)
    for path in _xlsx_files(out):
        for ws in load_workbook(path).worksheets:
            assert ws.cell(1, 1).value == DRAFT_MARK and ws.freeze_panes == "A3", (path.name, ws.title)
    assert RoundEvent.objects.filter(round=rnd, kind="report", detail__contains=DRAFT_MARK).count() == 1
    # a finished round is not marked
    rnd.status = "done"
    rnd.save()
    assert main(["report", str(rnd.pk), "--out", str(tmp_path / "final")]) == 0
    doc = Document(tmp_path / "final" / "通报.docx")
    assert not any(DRAFT_MARK in p.text for s in doc.sections for p in s.header.paragraphs)
    assert load_workbook(tmp_path / "final" / "附件.xlsx").worksheets[0].cell(1, 1).value == "序号"


# --------------------------------------------------------------------------------- links into the report folder
# A round with a link that is at once dead, illegal and hidden, its referring page archived in a real WARC file
# (tests/test_bulletin.py builds it as the engine stores one).

def _relative_links(out):
    """(file, target) of every relative hyperlink in 通报.docx (the document part's external relationships that
    are not web addresses) and in every .xlsx of the report."""
    from urllib.parse import unquote

    links = [(out / "通报.docx", unquote(r.target_ref)) for r in Document(out / "通报.docx").part.rels.values()
             if r.is_external and "://" not in r.target_ref]
    for path in _xlsx_files(out):
        links += [(path, unquote(c.hyperlink.target)) for c in _cells(path)
                  if c.hyperlink is not None and c.hyperlink.target and "://" not in c.hyperlink.target]
    return links


def test_evidence_links_resolve_after_writing_twice_into_the_same_folder(tmp_path):
    """The archived pages (证据/) move into an existing output folder with the bulletin that links to them."""
    from test_bulletin import _county_round

    rnd = _county_round(tmp_path)
    out = tmp_path / "out"
    out.mkdir()  # the folder exists before the first report, as out/demo holds the demo's registry and database
    (out / "名录.xlsx").write_bytes(b"operator's own file")
    for run in (1, 2):
        write_reports(rnd, out)
        links = _relative_links(out)
        in_docx = [t for p, t in links if p.name == "通报.docx"]
        assert in_docx and all(t.startswith("证据/") for t in in_docx), (run, links)
        assert any(p.parent.name == "整改清单" for p, _ in links), run  # the list of the unit with the gambling link
        for p, t in links:
            assert (p.parent / t).resolve().is_file(), (run, p.name, t)
            assert (p.parent / t).resolve().is_relative_to(out / "证据"), (run, p.name, t)
    assert (out / "名录.xlsx").read_bytes() == b"operator's own file"
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith(".")) == []  # no temporary folder left


def test_rectification_lists_one_row_per_problem_and_no_live_illegal_link(tmp_path):
    """整改清单 and 附件.xlsx read back: the dead, illegal and hidden link is one row whose evidence is our archived
    page; no cell or hyperlink holds an illegal address (not even another site's dead link to it); an ordinary
    dead link stays clickable."""
    from test_bulletin import BAD, _county_round, _finding

    rnd = _county_round(tmp_path)
    jyj = rnd.sites.get(website__name="清河县教育局网站")
    old = "http://d3.qinghe.gov.cn/old/notice.html"
    _finding(jyj, "link.dead", f"站内链接“旧通知”无法访问（页面不存在，HTTP 404），共1处引用，如{jyj.website.home_url}", url=old,
             referrers=[{"page": jyj.website.home_url, "text": "旧通知", "hidden": False}], referrer_count=1, external=False)
    wjw = rnd.sites.get(website__name="清河县卫健委网站")  # the same gambling address, only found dead on another site
    _finding(wjw, "link.dead", f"外部链接“娱乐”无法访问（域名无法解析），共1处引用，如{wjw.website.home_url}", url=BAD,
             referrers=[{"page": wjw.website.home_url, "text": "娱乐", "hidden": False}], referrer_count=1, external=True)
    out = tmp_path / "out"
    write_reports(rnd, out)
    host = "xpj-casino888.top"
    for path in _xlsx_files(out):
        for c in _cells(path):
            assert host not in str(c.value), (path.name, c.coordinate, c.value)
            assert c.hyperlink is None or host not in (c.hyperlink.target or ""), (path.name, c.coordinate)

    def rows(unit):
        ws = load_workbook(out / "整改清单" / f"{unit}.xlsx")["整改清单"]
        assert [c.value for c in ws[1]][:6] == ["序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限"]
        return [list(r) for r in ws.iter_rows(min_row=2)]

    rsj = rows("清河县人社局")
    links = [r for r in rsj if "链接" in r[2].value]
    assert len(links) == 1  # three findings, one problem
    kind, detail, evidence = links[0][2], links[0][3], links[0][4]
    assert kind.value == "链接指向违法违规网站、隐藏链接（暗链）、链接无法访问"
    assert detail.value.startswith("链接“澳门新葡京娱乐场”（www[.]xpj-casino888[.]top）指向赌博网站，为隐藏链接（暗链），无法访问")
    assert re.fullmatch(r"页面存档：证据/网站\d+-[0-9a-f]{10}\.html", evidence.value)
    assert evidence.hyperlink.target == "../" + evidence.value.removeprefix("页面存档：")
    assert (out / "整改清单" / evidence.hyperlink.target).resolve().is_file()
    assert len(rsj) == Finding.objects.filter(round=rnd, round_site__website__name="清河县人社局网站").count() - 2
    ordinary = next(r for r in rows("清河县教育局") if r[4].value == old)
    assert ordinary[4].hyperlink.target == old  # a dead link on the unit's own site stays clickable
    other = next(r for r in rows("清河县卫健委") if "链接" in r[2].value)
    assert other[4].value == "www[.]xpj-casino888[.]top" and other[4].hyperlink is None
