"""Registry import/export through the .xlsx template: all or nothing, errors that say where."""

import pytest
from openpyxl import load_workbook

from govinspect.registry.models import Account, Column, Leader, Unit, Website
from govinspect.registry.xlsx import RegistryImportError, TEMPLATE, export_registry, import_registry, write_template
from govinspect.sandbox.registry import write_registry

pytestmark = pytest.mark.django_db


def test_import_sandbox_registry_and_roundtrip(county, sandbox, tmp_path):
    path = write_registry(county, sandbox.urls, tmp_path / "名录.xlsx")
    counts = import_registry(path)
    assert counts["网站"] == len(county.sites)
    assert Website.objects.count() == len(county.sites)
    assert Column.objects.count() == sum(len(s.columns) for s in county.sites)
    portal = Website.objects.get(is_portal=True)
    assert portal.site_code == county.site("portal").site_code
    assert Column.objects.filter(site=portal, name="通知公告").get().category == "notice"
    assert Leader.objects.count() == sum(len(s.leaders) for s in county.sites) and Account.objects.count() == sum(len(s.accounts) for s in county.sites)
    bmz = Account.objects.get(name="清河白马镇人民政府发布")
    assert bmz.interaction is False and bmz.source.endswith("/rss.xml")  # the new columns 互动功能 and 内容来源
    # export and re-import: same rows, nothing duplicated
    out = export_registry(tmp_path / "export.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == list(TEMPLATE)
    assert [c.value for c in wb["网站"][1]] == [t for t, _, _ in TEMPLATE["网站"]]
    import_registry(out)
    assert Website.objects.count() == len(county.sites)
    assert Column.objects.count() == sum(len(s.columns) for s in county.sites)


def _bad_workbook(tmp_path):
    rows = {
        "单位": [["清河县人民政府", "区县", ""], ["清河县教育局", "部门", "清河县人民政府"], ["清河县水利局", "局", ""]],
        "网站": [["清河县人民政府", "http://www.qinghe.gov.cn/", "1305350001", "清河县人民政府", "是", ""],
               ["清河县教育局", "www.jyj.qinghe.gov.cn", "12345", "清河县教育局", "否", ""],
               ["清河县民政局", "http://mzj.qinghe.gov.cn/", "", "清河县民政局", "也许", ""]],
        "栏目": [["http://www.qinghe.gov.cn/", "通知公告", "http://www.qinghe.gov.cn/tzgg/", "通知公告类", "", "2周", 1]],
        "领导": [["张伟", "县长", "清河县人民政府", "2021-06-01", "2020-01-01"]],
    }
    return write_template(tmp_path / "bad.xlsx", rows)


def test_bad_file_imports_nothing_and_says_where(tmp_path):
    path = _bad_workbook(tmp_path)
    with pytest.raises(RegistryImportError) as e:
        import_registry(path)
    msg = str(e.value)
    assert "未导入任何数据" in msg
    assert "工作表「单位」第4行「单位类型」" in msg
    assert "工作表「网站」第3行「首页地址」：不是有效的网址" in msg
    assert "工作表「网站」第3行「网站标识码」" in msg
    assert "工作表「网站」第4行「主办单位」：单位“清河县民政局”不在" in msg
    assert "工作表「网站」第4行「门户网站」" in msg
    assert "工作表「栏目」第2行「更新周期」" in msg
    assert "工作表「领导」第2行「任职结束」" in msg
    assert Unit.objects.count() == 0 and Website.objects.count() == 0  # all or nothing


def test_missing_required_header(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "网站"
    ws.append(["网站名称", "主办单位"])
    ws.append(["清河县人民政府", "清河县人民政府"])
    wb.save(tmp_path / "h.xlsx")
    with pytest.raises(RegistryImportError) as e:
        import_registry(tmp_path / "h.xlsx")
    assert "工作表「网站」第1行「首页地址」：缺少必填列" in str(e.value)


@pytest.mark.parametrize("content", [b"", b"not a spreadsheet at all", b"PK\x03\x04garbage"])
def test_not_an_xlsx(tmp_path, content):
    p = tmp_path / "x.xlsx"
    p.write_bytes(content)
    with pytest.raises(RegistryImportError) as e:
        import_registry(p)
    assert "xlsx" in str(e.value)
    assert Unit.objects.count() == 0


def test_zip_bomb_is_refused(tmp_path):
    import zipfile

    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (600 * 1024 * 1024))
    assert p.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(RegistryImportError) as e:
        import_registry(p)
    assert "压缩炸弹" in str(e.value)


def test_duplicate_column_and_account_rows_are_row_errors(tmp_path):
    rows = {
        "单位": [["清河县人民政府", "区县", ""]],
        "网站": [["清河县人民政府", "http://www.qinghe.gov.cn/", "", "清河县人民政府", "是", ""]],
        "栏目": [["http://www.qinghe.gov.cn/", "通知公告", "http://www.qinghe.gov.cn/tzgg/", "通知公告类", "", "", 1],
               ["http://www.qinghe.gov.cn/", "政务动态", "http://www.qinghe.gov.cn/zwdt/", "动态要闻类", "", "", 1],
               ["http://www.qinghe.gov.cn/", "公告", "http://www.qinghe.gov.cn/tzgg/", "通知公告类", "", "14d", 1]],
        "新媒体账号": [["微信公众号", "清河发布", "清河县人民政府", "是", "", "", ""],
                  ["微博", "清河发布", "清河县人民政府", "是", "", "", ""],  # another platform: another account
                  ["微信公众号", "清河发布", "清河县人民政府", "否", "", "", ""]],
    }
    with pytest.raises(RegistryImportError) as e:
        import_registry(write_template(tmp_path / "dup.xlsx", rows))
    msg = str(e.value)
    assert "工作表「栏目」第4行「栏目地址」：与第2行重复" in msg
    assert "工作表「新媒体账号」第4行「账号名称」：与第2行重复" in msg
    assert len(e.value.errors) == 2  # the other rows are fine
    assert Unit.objects.count() == Column.objects.count() == Account.objects.count() == 0  # nothing imported


def test_export_writes_formula_looking_names_as_text(tmp_path):
    evil = ['=HYPERLINK("http://evil.example/","点此")', "+清河县测试局", "-清河县测试局", "@SUM(1+1)"]
    for i, name in enumerate(evil):
        u = Unit.objects.create(name=name, kind="部门", short_name="\x1b简称")  # a control character from an import
        Website.objects.create(name=name, home_url=f"http://site{i}.qinghe.gov.cn/", owner=u)
        Account.objects.create(platform="微博", name=f"={i}", owner=u)
    out = export_registry(tmp_path / "export.xlsx")
    wb = load_workbook(out)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if c.value.startswith(("=", "+", "-", "@"))]
    assert {c.value for c in risky} >= set(evil) | {"=0", "=3"}
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)
    assert not any("\x1b" in c.value for c in cells)
    # and the export imports again as the same names (text, not formulas)
    assert import_registry(out)["单位"] == len(evil)
    assert set(Unit.objects.values_list("name", flat=True)) == set(evil)


def _sites(limits: list, header: bool = True) -> dict:
    """Rows of the 网站 sheet, one per limit (the last column, 抓取页面上限)."""
    return {"单位": [["清河县人民政府", "区县", ""]],
            "网站": [[f"网站{i}", f"http://s{i}.qinghe.gov.cn/", "", "清河县人民政府", "否", "", v] for i, v in enumerate(limits)]}


def test_a_sites_crawl_limit_is_imported_exported_and_kept(tmp_path):
    """抓取页面上限 (issue 15 item 10): a whole number per site, blank for the round's default."""
    import_registry(write_template(tmp_path / "a.xlsx", _sites([50000, "1,000", "", 7.0])))
    limits = dict(Website.objects.values_list("name", "max_pages"))
    assert limits == {"网站0": 50000, "网站1": 1000, "网站2": None, "网站3": 7}
    out = export_registry(tmp_path / "export.xlsx")
    ws = load_workbook(out)["网站"]
    col = [c.value for c in ws[1]].index("抓取页面上限")
    assert {r[0].value: r[col].value for r in ws.iter_rows(min_row=2)} == {"网站0": 50000, "网站1": 1000, "网站2": None, "网站3": 7}
    Website.objects.update(max_pages=123)
    import_registry(out)  # the export imports back as it was
    assert dict(Website.objects.values_list("name", "max_pages")) == limits
    # a file from the template before the column existed leaves the registered limits alone
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "网站"
    ws.append([t for t, key, _ in TEMPLATE["网站"] if key != "max_pages"])
    ws.append(["网站0改名", "http://s0.qinghe.gov.cn/", "", "清河县人民政府", "否", ""])
    wb.save(tmp_path / "old.xlsx")
    import_registry(tmp_path / "old.xlsx")
    assert Website.objects.get(home_url="http://s0.qinghe.gov.cn/").name == "网站0改名"
    assert Website.objects.get(home_url="http://s0.qinghe.gov.cn/").max_pages == 50000


def test_a_bad_crawl_limit_is_a_row_error(tmp_path):
    with pytest.raises(RegistryImportError) as e:
        import_registry(write_template(tmp_path / "bad.xlsx", _sites(["0", "很多", -5, 3.5, 200])))
    msg = str(e.value)
    for row, shown in ((2, "0"), (3, "很多"), (4, "-5"), (5, "3.5")):
        assert f"工作表「网站」第{row}行「抓取页面上限」：应为正整数（页数，如 50000）或留空，实际为“{shown}”" in msg
    assert len(e.value.errors) == 4  # 200 is fine
    assert Website.objects.count() == 0
