"""The unit portal (我的问题): a unit's own problems by site and rule, new since the last round, deadlines, downloads."""

import datetime as dt

from django.urls import NoReverseMatch, reverse


def test_unit_sees_its_three_findings_and_nothing_of_unit_b(platform, client_for, django_assert_max_num_queries):
    F = platform.findings
    c = client_for("unit_a")
    with django_assert_max_num_queries(22):  # 2: the deadlines of the round and of the previous one
        r = c.get("/portal/")
    assert r.status_code == 200
    us = r.context["us"]
    assert {f["id"] for f in us.findings} == {F["privacy"].pk, F["still"].pk, F["new_a"].pk}
    assert us.counts == {"n": 3, "new": 2, "still": 1, "veto": 1, "high": 1, "fixed": 1, "unknown": 0}
    assert {f["id"] for f in us.new} == {F["privacy"].pk, F["new_a"].pk}
    html = r.content.decode()
    for mine in ("公开了身份证号码", "链接无法访问：http://127.0.0.1:9/a/x.html", "测试县卫生健康局网站",
                 "测试县人民政府网"):  # the portal column A answers for is A's problem too
        assert mine in html
    for theirs in (F["b1"].detail, F["b2"].detail, F["town"].detail, F["a_child"].detail, "测试县教育局网站", "测试县教育",
                   "www.bad.top"):
        assert theirs not in html


def test_problems_by_site_and_rule(platform, client_for):
    us = client_for("unit_a").get("/portal/").context["us"]
    by_site = {s["name"]: {r["rule"]: (r["n"], r["new"], r["still"]) for r in s["rules"]} for s in us.by_site}
    assert by_site == {"测试县卫生健康局网站": {"privacy.id_number": (1, 1, 0), "link.dead": (1, 0, 1)},
                       "测试县人民政府网": {"content.typo": (1, 1, 0)}}


def test_portal_escapes_crawled_text(platform, client_for):
    html = client_for("unit_a").get("/portal/").content.decode()
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html


def test_deadlines(platform, client_for):
    r = client_for("unit_a").get("/portal/")
    html = r.content.decode()
    from govinspect.rectify.services import deadline_for
    from govinspect.reports.data import bulletin_deadline, cn_date

    cur = platform.rounds["current"]
    # the current round is issued: its items' deadline, 15 working days from the issue date (National Day not counted)
    due = deadline_for(cur, cur.as_of)
    assert {i.deadline for i in platform.items.values()} == {due} and due == dt.date(2026, 10, 27)
    assert r.context["us"].deadline == cn_date(due) and cn_date(due) in html
    # the previous round was not issued: 15 working days from its as-of date; its problem is still present
    prev = platform.rounds["previous"]
    assert f"{cn_date(bulletin_deadline(prev)[0])}（已过）" in html
    cur.status = "running"
    cur.save()
    r = client_for("unit_a").get("/portal/", {"round": cur.pk})
    assert r.context["us"].deadline == "待通报" and "待通报" in r.content.decode()


def test_downloads_link_or_note(platform, client_for):
    cur = platform.rounds["current"]
    html = client_for("unit_a").get("/portal/").content.decode()
    try:
        url = reverse("web:round_download", args=[cur.pk, "rectification"])
    except NoReverseMatch:
        assert "本轮整改清单暂不能下载" in html
    else:
        assert f'href="{url}"' in html


def test_unit_cannot_open_another_units_portal(platform, client_for):
    c = client_for("unit_a")
    assert c.get("/portal/", {"unit": platform.units["b"].pk}).status_code == 404
    assert c.get("/portal/", {"unit": platform.units["a_child"].pk}).status_code == 404
    assert c.get("/portal/", {"unit": "x"}).status_code == 404
    assert c.get("/portal/", {"unit": platform.units["a"].pk}).status_code == 200


def test_office_chooses_a_unit(platform, client_for):
    c = client_for("office")
    r = c.get("/portal/")
    assert r.status_code == 200 and r.context["choose"] and "请选择要查看的单位" in r.content.decode()
    r = c.get("/portal/", {"unit": platform.units["b"].pk})
    html = r.content.decode()
    assert r.context["us"].counts["n"] == 2 and platform.findings["b2"].detail in html
    assert "公开了身份证号码" not in html


def test_supervisor_portal_covers_its_units(platform, client_for):
    c = client_for("supervisor")
    r = c.get("/portal/")
    assert r.status_code == 200
    assert [f["id"] for f in r.context["us"].findings] == [platform.findings["town"].pk]
    assert "首页无法访问（连接超时）" in r.content.decode()  # why its site could not be checked
    assert c.get("/portal/", {"unit": platform.units["a"].pk}).status_code == 404
    assert c.get("/portal/", {"unit": platform.units["town_child"].pk}).status_code == 200


def test_portal_before_any_round(db, client_for):
    from django.contrib.auth.models import User

    from govinspect.registry.models import Unit
    from govinspect.web.models import Profile

    unit = Unit.objects.create(name="某局", kind="部门")
    u = User.objects.create_user("u0", password="x")
    Profile.objects.create(user=u, role="unit", unit=unit, must_change_password=False)
    r = client_for("u0").get("/portal/")
    assert r.status_code == 200 and "还没有已完成的检查轮次" in r.content.decode()
