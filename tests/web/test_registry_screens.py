"""Registry screens (govinspect/web/views/registry.py): the Excel import with its row errors on the page, unit
contacts, discovered column categories confirmed into the registry, and who may see or change what."""

from __future__ import annotations

import html
import re

import pytest

from govinspect.registry.models import Column, Leader, Unit, Website
from govinspect.registry.xlsx import write_template

REGISTRY_PAGES = ["/registry/", "/registry/units/", "/registry/websites/", "/registry/accounts/", "/registry/leaders/"]


def _row_errors(page: str) -> set[tuple[str, str, str, str]]:
    """(sheet, row, column, reason) of every row error the import page shows."""
    out = set()
    for tr in re.findall(r'<tr class="row-error">(.*?)</tr>', page, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        out.add(tuple(cells))
    return out


def _upload(client, path):
    with open(path, "rb") as fh:
        return client.post("/registry/import/", {"file": fh})


def test_import_with_bad_rows_shows_every_row_error_and_imports_nothing(platform, client_for, tmp_path):
    units_before = set(Unit.objects.values_list("name", "contact_email"))
    rows = {
        "单位": [["新区管委会", "开发区", "测试县人民政府"],                                   # row 2: unknown kind
                ["测试县水利局", "部门", "测试县人民政府", "", "", "", "赵六", "0710-1", "不是邮箱"],  # row 3: e-mail
                ["甲单位", "部门", "乙单位"], ["乙单位", "部门", "甲单位"]],                     # rows 4, 5: a cycle
        "网站": [["水利局网站", "shuili.example.gov.cn", "", "测试县水利局", "否", ""]],          # row 2: no scheme
        "栏目": [["http://127.0.0.1:9/a/", "通知公告", "http://127.0.0.1:9/a/tz/", "新闻类", "", "", 1]],  # unknown category
        "领导": [["张三", "局长", "测试县卫生健康局", "2026-05-01", "2025-01-01"]],             # ends before it starts
    }
    client = client_for("office")
    r = _upload(client, write_template(tmp_path / "坏名录.xlsx", rows))
    assert r.status_code == 400
    page = r.content.decode()
    assert "未导入任何数据" in page
    errors = _row_errors(page)
    by_cell = {(s, n, c) for s, n, c, _ in errors}
    assert {("单位", "2", "单位类型"), ("单位", "3", "联系邮箱"), ("单位", "4", "上级单位"), ("单位", "5", "上级单位"),
            ("网站", "2", "首页地址"), ("栏目", "2", "栏目类别"), ("领导", "2", "任职结束")} <= by_cell
    reasons = {(s, n, c): why for s, n, c, why in errors}
    assert "开发区" in reasons[("单位", "2", "单位类型")]
    assert "循环" in reasons[("单位", "4", "上级单位")]
    assert "不是有效的网址" in reasons[("网站", "2", "首页地址")]
    assert "任职结束早于任职开始" in reasons[("领导", "2", "任职结束")]
    # nothing half-imported: not even the rows that were right
    assert set(Unit.objects.values_list("name", "contact_email")) == units_before
    assert not Website.objects.filter(name="水利局网站").exists() and not Leader.objects.exists()


def test_good_import_with_contacts(platform, client_for, tmp_path):
    rows = {
        "单位": [["测试县水利局", "部门", "测试县人民政府", "", "", "水利局", "赵六", "0710-3300001", "slj@example.gov.cn"],
                ["测试县卫生健康局", "部门", "测试县人民政府", "", "", "卫健局", "王一一", "0710-3300002", "wjj@example.gov.cn"]],
        "网站": [["测试县水利局网站", "http://127.0.0.1:9/slj/", "", "测试县水利局", "否", ""]],
    }
    client = client_for("office")
    r = _upload(client, write_template(tmp_path / "名录.xlsx", rows))
    assert r.status_code == 302 and r.headers["Location"] == "/registry/"
    assert "单位2条" in client.get("/registry/").content.decode()
    slj = Unit.objects.get(name="测试县水利局")
    assert (slj.contact_name, slj.contact_phone, slj.contact_email) == ("赵六", "0710-3300001", "slj@example.gov.cn")
    assert slj.parent == platform.units["top"] and slj.websites.get().home_url == "http://127.0.0.1:9/slj/"
    assert Unit.objects.get(name="测试县卫生健康局").contact_name == "王一一"  # updated in place
    # a template from before the contact columns keeps the contacts registered
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["单位名称", "单位类型", "上级单位"])
    ws.append(["测试县水利局", "部门", "测试县人民政府"])
    wb.save(tmp_path / "旧模板.xlsx")
    assert _upload(client, tmp_path / "旧模板.xlsx").status_code == 302
    assert Unit.objects.get(name="测试县水利局").contact_email == "slj@example.gov.cn"
    units = client.get("/registry/units/").content.decode()
    assert "赵六" in units and "slj@example.gov.cn" in units


def test_sandbox_registry_gives_every_unit_a_contact(county, db, tmp_path):
    from govinspect.registry.xlsx import import_registry
    from govinspect.sandbox.registry import write_registry

    urls = {s.key: f"http://127.0.0.1:9/{s.key}/" for s in county.sites}
    import_registry(write_registry(county, urls, tmp_path / "名录.xlsx"))
    units = list(Unit.objects.all())
    assert len(units) == len(county.sites) + 1
    assert all(u.contact_name and u.contact_phone and u.contact_email for u in units)
    assert len({u.contact_email for u in units}) == len(units)


def _discovered(platform):
    """The current round discovered two columns on site B (nothing registered there)."""
    from govinspect.rounds.models import ColumnCheck, RoundSite

    rs = RoundSite.objects.get(round=platform.rounds["current"], website=platform.sites["b"])
    rs.columns_discovered = True
    rs.save()
    policy = ColumnCheck.objects.create(round_site=rs, name="政策文件", url="http://127.0.0.1:9/b/zcwj/", category="policy",
                                        status="ok")
    leaders = ColumnCheck.objects.create(round_site=rs, name="领导之窗", url="http://127.0.0.1:9/b/ldzc/", category="unknown",
                                         status="unknown")
    return policy, leaders


def test_office_confirms_or_corrects_discovered_categories(platform, client_for):
    policy, leaders = _discovered(platform)
    site = platform.sites["b"]
    client = client_for("office")
    assert re.search(r"待确认类别的栏目</div><div class=\"value\">2<", client.get("/registry/").content.decode())
    page = client.get(f"/registry/websites/{site.pk}/").content.decode()
    assert "自动发现" in page and "政策文件" in page and "领导之窗" in page and page.count("未登记") == 2
    # confirm the discovered category
    r = client.post(f"/registry/websites/{site.pk}/columns/", {"check": policy.pk, "category": "policy"})
    assert r.status_code == 302
    col = Column.objects.get(site=site, url=policy.url)
    assert (col.name, col.category) == ("政策文件", "policy")
    # correct an unrecognised one
    client.post(f"/registry/websites/{site.pk}/columns/", {"check": leaders.pk, "category": "info"})
    assert Column.objects.get(site=site, url=leaders.url).category == "info"
    # and correct it again: updated, not duplicated
    client.post(f"/registry/websites/{site.pk}/columns/", {"check": leaders.pk, "category": "personnel"})
    assert Column.objects.filter(site=site, url=leaders.url).get().category == "personnel"
    page = client.get(f"/registry/websites/{site.pk}/").content.decode()
    assert "已确认" in page and "未登记" not in page
    assert "已确认：人事信息类" in page  # the office's category, different from what the round found, is the registry's
    assert re.search(r"待确认类别的栏目</div><div class=\"value\">0<", client.get("/registry/").content.decode())
    # a registered column's category corrected
    col_a = Column.objects.get(site=platform.sites["a"], name="通知公告")
    client.post(f"/registry/websites/{platform.sites['a'].pk}/columns/", {"column": col_a.pk, "category": "dynamic"})
    col_a.refresh_from_db()
    assert col_a.category == "dynamic"
    # a check of another site, or no valid category: nothing written
    n = Column.objects.count()
    assert client.post(f"/registry/websites/{platform.sites['a'].pk}/columns/",
                       {"check": policy.pk, "category": "notice"}).status_code == 404
    client.post(f"/registry/websites/{site.pk}/columns/", {"check": policy.pk, "category": "unknown"})
    assert Column.objects.count() == n and Column.objects.get(site=site, url=policy.url).category == "policy"


def test_unit_contacts_edited_by_the_office(platform, client_for):
    unit = platform.units["town"]
    client = client_for("office")
    r = client.post(f"/registry/units/{unit.pk}/contacts/", {"contact_name": "周五", "contact_phone": "0710-1",
                                                              "contact_email": "不是邮箱"})
    assert r.status_code == 200 and "请输入合法的邮件地址" in r.content.decode()
    unit.refresh_from_db()
    assert unit.contact_name == ""
    r = client.post(f"/registry/units/{unit.pk}/contacts/", {"contact_name": "周五", "contact_phone": "0710-1",
                                                              "contact_email": "cgz@example.gov.cn"})
    assert r.status_code == 302
    unit.refresh_from_db()
    assert (unit.contact_name, unit.contact_email) == ("周五", "cgz@example.gov.cn")


def _posts(platform):
    """Every POST of the registry and accounts screens, with data that would change something."""
    from govinspect.rounds.models import ColumnCheck

    check = ColumnCheck.objects.filter(round_site__website=platform.sites["b"]).first()
    unit_b = platform.users["unit_b"]
    return [
        (f"/registry/units/{platform.units['town'].pk}/contacts/", {"contact_name": "X", "contact_email": "x@example.gov.cn"}),
        (f"/registry/websites/{platform.sites['b'].pk}/columns/", {"check": check.pk, "category": "policy"}),
        (f"/registry/websites/{platform.sites['a'].pk}/columns/",
         {"column": Column.objects.get(site=platform.sites["a"]).pk, "category": "dynamic"}),
        ("/registry/import/", {}),
        ("/accounts/from-registry/", {}),
        ("/accounts/add/", {"username": "intruder", "role": "office"}),
        (f"/accounts/{unit_b.pk}/reset/", {}),
        (f"/accounts/{unit_b.pk}/deactivate/", {}),
        (f"/accounts/{unit_b.pk}/activate/", {}),
    ]


@pytest.mark.parametrize("who", ["unit_a", "supervisor", "readonly"])
def test_every_registry_and_accounts_post_is_office_only(platform, client_for, who, tmp_path):
    from django.contrib.auth.models import User

    _discovered(platform)
    Unit.objects.filter(pk=platform.units["town_child"].pk).update(contact_name="陈七")
    before = (list(Unit.objects.values_list("contact_name", "contact_email").order_by("pk")),
              list(Column.objects.values_list("url", "category").order_by("pk")),
              list(User.objects.values_list("username", "password", "is_active").order_by("pk")))
    client = client_for(who)
    upload = write_template(tmp_path / "名录.xlsx", {"单位": [["新单位", "部门", ""]]})
    for url, data in _posts(platform):
        if url == "/registry/import/":
            with open(upload, "rb") as fh:
                r = client.post(url, {"file": fh})
        else:
            r = client.post(url, data)
        assert r.status_code == 403, (who, url, r.status_code)
    after = (list(Unit.objects.values_list("contact_name", "contact_email").order_by("pk")),
             list(Column.objects.values_list("url", "category").order_by("pk")),
             list(User.objects.values_list("username", "password", "is_active").order_by("pk")))
    assert after == before


@pytest.mark.parametrize("who", ["unit_a", "supervisor"])
def test_units_and_supervisors_cannot_read_the_registry(platform, client_for, who):
    client = client_for(who)
    urls = REGISTRY_PAGES + [f"/registry/websites/{platform.sites['a'].pk}/", "/registry/import/", "/registry/export/",
                             f"/registry/units/{platform.units['a'].pk}/contacts/", "/accounts/"]
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_readonly_reads_the_registry_without_forms(platform, client_for):
    _discovered(platform)
    client = client_for("readonly")
    for url in REGISTRY_PAGES + [f"/registry/websites/{platform.sites['b'].pk}/"]:
        r = client.get(url)
        assert r.status_code == 200, url
        page = r.content.decode()
        assert "category-form" not in page and "编辑联系人" not in page and "导入名录 Excel</a>" not in page, url
    assert "测试县卫生健康局" in client.get("/registry/units/").content.decode()
    assert "领导之窗" in client.get(f"/registry/websites/{platform.sites['b'].pk}/").content.decode()
    r = client.get("/registry/export/")
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"PK"
    assert client.get("/registry/import/").status_code == 403  # importing is a change: the office's
    assert client.get("/accounts/").status_code == 403


def test_registry_list_pages_have_bounded_queries(platform, client_for, django_assert_max_num_queries):
    top = platform.units["top"]
    for i in range(60):
        u = Unit.objects.create(name=f"测试县第{i}局", kind="部门", parent=top, contact_name=f"联系人{i}")
        Website.objects.create(name=f"第{i}局网站", home_url=f"http://127.0.0.1:9/u{i}/", owner=u)
        Leader.objects.create(name=f"领导{i}", title="局长", unit=u, start="2025-01-01")
    _discovered(platform)
    client = client_for("office")
    for url in REGISTRY_PAGES + [f"/registry/websites/{platform.sites['b'].pk}/"]:
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200, url


def test_registry_and_accounts_posts_need_the_csrf_token(platform):
    from django.contrib.auth.models import User
    from django.test import Client

    policy, _ = _discovered(platform)
    client = Client(enforce_csrf_checks=True)
    client.force_login(platform.users["office"])
    site = platform.sites["b"]
    assert client.post(f"/registry/websites/{site.pk}/columns/", {"check": policy.pk, "category": "policy"}).status_code == 403
    assert client.post("/accounts/add/", {"username": "csrf", "role": "office"}).status_code == 403
    assert not Column.objects.filter(site=site).exists() and not User.objects.filter(username="csrf").exists()
    # with the token from the page the same POST goes through
    page = client.get(f"/registry/websites/{site.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    r = client.post(f"/registry/websites/{site.pk}/columns/",
                    {"check": policy.pk, "category": "policy", "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and Column.objects.filter(site=site, url=policy.url).exists()
