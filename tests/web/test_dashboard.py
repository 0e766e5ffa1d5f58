"""The office dashboard, the unit and site drill-down pages and their statistics (govinspect/web/stats.py), on the small
county of tests/web/conftest.py: previous round (done) and current round (done) compared by fingerprint."""

import re

import pytest

from govinspect.web import stats


def _dash(client_for, who, **params):
    r = client_for(who).get("/dashboard/", params)
    assert r.status_code == 200
    return r


def _still_expected(platform):
    """What the fixture implies: the current findings whose fingerprint the previous round also found."""
    from govinspect.rounds.models import Finding

    prev = set(Finding.objects.filter(round=platform.rounds["previous"]).values_list("fingerprint", flat=True))
    return {k for k, f in platform.findings.items() if f.fingerprint in prev}


def test_office_sees_every_unit(platform, client_for):
    r = _dash(client_for, "office")
    st = r.context["st"]
    assert st.round.pk == platform.rounds["current"].pk and st.previous.pk == platform.rounds["previous"].pk
    assert st.sites == {"total": 4, "checked": 3, "passed": 2, "failed": 1, "unknown": 1, "rate": "66.67"}
    assert st.accounts["checked"] == 2 and st.accounts["passed"] == 1 and st.accounts["rate"] == "50.00"  # the scheme's way
    assert st.findings["n"] == 7 and st.findings["veto"] == 2
    assert {v["rule"]: v["n"] for v in st.veto_rules} == {"privacy.id_number": 1, "link.illegal": 1}
    U = platform.units
    by_unit = {u["id"]: u["n"] for u in st.units}
    assert by_unit[U["a"].pk] == 3 and by_unit[U["b"].pk] == 2 and by_unit[U["town"].pk] == 1
    assert by_unit[U["a_child"].pk] == 1
    assert [u["id"] for u in st.worst][:2] == [U["a"].pk, U["b"].pk]
    # problems by group, in Chinese (bulletin sections), each rule named by the catalogue
    groups = {g["name"]: g["n"] for g in st.groups}
    assert groups["网站链接存在问题"] == 2 and groups["公开内容泄露个人信息"] == 1 and groups["存在空白栏目"] == 1
    assert {r["rule"]: r["name"] for r in st.rules}["privacy.id_number"] == "公开内容含完整身份证号码"
    assert st.could_not_check == {"sites": [{"reason": "首页无法访问（连接超时）", "n": 1}], "accounts": [], "n": 1}
    html = r.content.decode()
    for name in ("测试县卫生健康局", "测试县教育局", "测试县城关镇人民政府", "66.67%", "首页无法访问（连接超时）",
                 "逾期未整改（上轮问题本轮仍存在）", "2026年10月27日"):  # the issued items' deadline (15 working days)
        assert name in html
    # drill-down links: a unit, the findings browser with its filters
    assert f'href="/units/{U["b"].pk}/?round={platform.rounds["current"].pk}"' in html
    assert f'/findings/?round={platform.rounds["current"].pk}&amp;unit={U["a"].pk}&amp;state=still' in html


def test_change_against_previous_round_by_fingerprint(platform, client_for):
    F, U = platform.findings, platform.units
    still = _still_expected(platform)
    assert "still" in still and "privacy" not in still and "new_a" not in still  # what conftest says of unit A
    st = _dash(client_for, "office").context["st"]
    assert st.findings["still"] == len(still)
    assert st.findings["new"] == len(F) - len(still)
    assert st.findings["fixed"] == 1 and st.findings["unknown"] == 0  # the previous column.stale of site A
    a = next(u for u in st.units if u["id"] == U["a"].pk)
    assert (a["new"], a["still"], a["fixed"]) == (2, 1, 1)
    # overdue rectifications: the previous round's problems still present, per unit
    assert {u["id"]: u["still"] for u in st.overdue} == {
        f.responsible_unit_id: sum(1 for k in still if F[k].responsible_unit_id == f.responsible_unit_id)
        for f in (F[k] for k in still)}
    assert st.chart_data()["change"] == {"previous": True, "new": len(F) - len(still), "still": len(still), "fixed": 1}


def test_fixed_needs_the_target_checked_again(platform, client_for):
    """A previous problem whose site could not be checked this round is not "fixed" but could not be re-checked."""
    from govinspect.rounds.models import RoundSite

    RoundSite.objects.filter(round=platform.rounds["current"], website=platform.sites["a"]).update(
        status="could_not_check", verdict="unknown")
    st = _dash(client_for, "office").context["st"]
    assert st.findings["fixed"] == 0 and st.findings["unknown"] == 1


def test_supervisor_counts_only_its_units(platform, client_for):
    from govinspect.rounds.models import RoundSite

    # the engine's wording of a reason is shortened as the reports shorten it
    RoundSite.objects.filter(round=platform.rounds["current"], website=platform.sites["town"]).update(
        reason="首页无法访问（连接超时），本轮未能检查")
    r = _dash(client_for, "supervisor")
    st = r.context["st"]
    U = platform.units
    assert {u["id"] for u in st.units} <= {U["town"].pk, U["town_child"].pk}
    assert st.findings["n"] == 1 and st.sites["total"] == 1 and st.sites["unknown"] == 1
    assert st.accounts["total"] == 0 and st.veto_rules == []
    assert st.could_not_check["sites"] == [{"reason": "首页无法访问（连接超时）", "n": 1}]
    html = r.content.decode()
    assert "测试县城关镇人民政府" in html
    for other in ("测试县卫生健康局", "测试县教育局", "测试县疾病预防控制中心", "身份证"):
        assert other not in html


def test_unit_role_goes_to_its_portal(platform, client_for):
    r = client_for("unit_a").get("/dashboard/")
    assert r.status_code == 302 and r.headers["Location"] == "/portal/"


def test_readonly_sees_the_dashboard_without_office_actions(platform, client_for):
    r = _dash(client_for, "readonly")
    assert r.context["st"].findings["n"] == 7 and not r.context["can_change"]


def test_round_picker_and_bad_round(platform, client_for):
    prev = platform.rounds["previous"]
    r = _dash(client_for, "office", round=prev.pk)
    st = r.context["st"]
    assert st.round.pk == prev.pk and st.previous is None and st.findings["n"] == 3 and st.findings["still"] == 0
    assert "没有可对比的上一轮" in r.content.decode()
    c = client_for("office")
    assert c.get("/dashboard/", {"round": 999999}).status_code == 404
    assert c.get("/dashboard/", {"round": "x"}).status_code == 404


def test_empty_state_without_rounds(db, client_for):
    from django.contrib.auth.models import User

    from govinspect.web.models import Profile

    u = User.objects.create_user("office0", password="x")
    Profile.objects.create(user=u, role="office", must_change_password=False)
    r = client_for("office0").get("/dashboard/")
    html = r.content.decode()
    assert r.status_code == 200 and "还没有已完成的检查轮次" in html and "/rounds/" in html
    assert "echarts.min.js" not in html


def test_ignored_finding_leaves_the_counts(platform, client_for):
    """An ignore (不是问题) changes the numbers at once, although the counts are cached."""
    from govinspect.rounds.ignores import ignore_finding

    assert _dash(client_for, "office").context["st"].findings["n"] == 7
    ignore_finding(platform.findings["b2"], "page", "测试：链接已核实为合法网站", "office")
    st = _dash(client_for, "office").context["st"]
    assert st.findings["n"] == 6 and st.findings["veto"] == 1


def _grow(platform, n_units):
    """n_units more units, each with a website checked in both rounds and two findings (one still present)."""
    from govinspect.registry.models import Unit, Website
    from govinspect.rounds.models import Finding, RoundJob, RoundSite

    for i in range(n_units):
        u = Unit.objects.create(name=f"扩展单位{i}", kind="部门", parent=platform.units["top"])
        w = Website.objects.create(name=f"扩展网站{i}", home_url=f"http://127.0.0.1:9/x{i}/", owner=u)
        for key in ("previous", "current"):
            rnd = platform.rounds[key]
            job = RoundJob.objects.create(round=rnd, kind="site", target=w.pk, state="done")
            rs = RoundSite.objects.create(round=rnd, job=job, website=w, status="checked", verdict="fail" if i % 2 else "pass")
            Finding.objects.create(round=rnd, job=job, round_site=rs, rule="link.dead", fingerprint=f"same{i:028d}",
                                   detail="链接无法访问", responsible_unit=u, severity="medium")
            if key == "current":
                Finding.objects.create(round=rnd, job=job, round_site=rs, rule="content.typo", fingerprint=f"new{i:029d}",
                                       detail="疑似错别字", responsible_unit=u, severity="low")


@pytest.mark.parametrize("who", ["office", "supervisor"])
def test_query_count_does_not_grow_with_the_round(platform, client_for, django_assert_max_num_queries, who):
    from django.core.cache import cache

    c = client_for(who)
    cache.clear()
    # the first view of a round without its summary makes it: two grouped scans and one upsert (with its savepoint);
    # the bulletin deadline of the round and of the previous one: one query each (reports.data.bulletin_deadline)
    with django_assert_max_num_queries(30) as small:
        assert c.get("/dashboard/").status_code == 200
    _grow(platform, 30)  # the rounds' findings changed: the summary is made again
    cache.clear()
    with django_assert_max_num_queries(30) as big:
        r = c.get("/dashboard/")
    assert r.status_code == 200 and len(big.captured_queries) == len(small.captured_queries)
    if who == "office":
        assert r.context["st"].findings["n"] == 7 + 60 and r.context["st"].findings["still"] == len(_still_expected(platform)) + 30
    # later views, in any process (nothing in this one's cache), read the summary kept in the database
    cache.clear()
    with django_assert_max_num_queries(25) as later:
        r = c.get("/dashboard/")
    assert r.status_code == 200 and len(later.captured_queries) == len(big.captured_queries) - 5
    assert not any("rounds_roundsummary" in q["sql"] and not q["sql"].startswith("SELECT")
                   for q in later.captured_queries)


def test_pages_escape_crawled_text(platform, client_for):
    c = client_for("office")
    r = c.get(f"/units/{platform.units['a'].pk}/", {"round": platform.rounds["current"].pk})
    html = r.content.decode()
    assert r.status_code == 200
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html


def test_no_inline_script_and_charts_from_json(platform, client_for):
    html = _dash(client_for, "office").content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert 'id="dash-data"' in html and "/static/web/vendor/echarts/echarts.min.js" in html
    assert "/static/web/dashboard.js" in html and " style=" not in html and "onclick" not in html


def test_echarts_served_from_our_static_files(platform, client):
    r = client.get("/static/web/vendor/echarts/echarts.min.js")
    assert r.status_code == 200
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert b"Apache Software Foundation" in body[:2000] and len(body) > 500_000
    assert client.get("/static/web/dashboard.js").status_code == 200
    assert client.get("/static/web/vendor/echarts/LICENSE").status_code == 200


def test_unit_page(platform, client_for, django_assert_max_num_queries):
    U, cur = platform.units, platform.rounds["current"]
    c = client_for("office")
    with django_assert_max_num_queries(22):  # 2: the deadlines of the round and of the previous one
        r = c.get(f"/units/{U['a'].pk}/", {"round": cur.pk})
    assert r.status_code == 200
    us = r.context["us"]
    assert us.counts["n"] == 3 and us.counts["new"] == 2 and us.counts["still"] == 1 and us.counts["fixed"] == 1
    html = r.content.decode()
    assert "公开了身份证号码" in html and "测试县疾病预防控制中心" in html  # the child unit is linked, not counted
    assert "表述不规范" not in html
    site_a = r.context["us"].sites[0]
    assert f'href="/rounds/{cur.pk}/sites/{site_a.pk}/"' in html
    # scope: a unit reads its own page only, a supervisor only its subtree
    assert client_for("unit_b").get(f"/units/{U['a'].pk}/").status_code == 404
    assert client_for("supervisor").get(f"/units/{U['b'].pk}/").status_code == 404
    assert client_for("supervisor").get(f"/units/{U['town_child'].pk}/").status_code == 200


def test_site_page(platform, client_for, django_assert_max_num_queries):
    from govinspect.rounds.models import ColumnCheck, RoundSite

    cur = platform.rounds["current"]
    rs = RoundSite.objects.get(round=cur, website=platform.sites["a"])
    rs.deductions = [{"id": "D1", "name": "链接不可用", "count": 1, "points": 2, "confirmed": True}]
    rs.save()
    ColumnCheck.objects.create(round_site=rs, name="通知公告", url="http://127.0.0.1:9/a/tzgg/", category="notice",
                               window="6m", status="ok", newest_date="2026-09-01", newest_title="关于<b>公示</b>的通知",
                               item_count=12)
    ColumnCheck.objects.create(round_site=rs, name="政策文件", url="http://127.0.0.1:9/a/zcwj/", category="policy",
                               window="6m", status="stale", newest_date="2025-12-01", item_count=3)
    c = client_for("office")
    with django_assert_max_num_queries(20):
        r = c.get(f"/rounds/{cur.pk}/sites/{rs.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "不合格" in html and "80" in html and "链接不可用" in html and "120" in html
    assert "通知公告类" in html and "2026-09-01" in html and "未按期更新" in html
    assert "关于&lt;b&gt;公示&lt;/b&gt;的通知" in html
    assert (f"/findings/?round={cur.pk}&amp;site={platform.sites['a'].pk}&amp;column=%E6%94%BF%E7%AD%96%E6%96%87%E4%BB%B6"
            in html)
    assert "公开了身份证号码" in html and r.context["total"] == 3  # two of unit A, one of its child centre
    # a site that could not be checked shows why
    town = RoundSite.objects.get(round=cur, website=platform.sites["town"])
    html = c.get(f"/rounds/{cur.pk}/sites/{town.pk}/").content.decode()
    assert "首页无法访问（连接超时）" in html and "未能检查" in html
    # scope and a wrong round: 404
    assert client_for("unit_b").get(f"/rounds/{cur.pk}/sites/{rs.pk}/").status_code == 404
    assert client_for("unit_a").get(f"/rounds/{cur.pk}/sites/{rs.pk}/").status_code == 200
    assert c.get(f"/rounds/{platform.rounds['previous'].pk}/sites/{rs.pk}/").status_code == 404


def test_previous_round_skips_recheck_rounds_and_follows_recheck_of(platform):
    import datetime as dt

    from govinspect.rounds.models import Round

    prev, cur = platform.rounds["previous"], platform.rounds["current"]
    recheck = Round.objects.create(name="复查", as_of=dt.date(2026, 8, 15), status="done", recheck_of=prev)
    assert stats.previous_round(cur).pk == prev.pk
    assert stats.previous_round(recheck).pk == prev.pk
    assert stats.default_round().pk == cur.pk
    Round.objects.create(name="进行中", as_of=dt.date(2026, 12, 31), status="running")
    assert stats.default_round().pk == cur.pk


def test_finding_without_responsible_unit_belongs_to_the_owner(platform, client_for):
    """A finding stored without a responsible unit counts for its site's (or account's) owner, as access.py scopes it."""
    from govinspect.rounds.models import Finding, RoundAccount, RoundSite

    cur = platform.rounds["current"]
    rs_b = RoundSite.objects.get(round=cur, website=platform.sites["b"])
    ra_a = RoundAccount.objects.get(round=cur, account=platform.accounts["a"])
    Finding.objects.create(round=cur, round_site=rs_b, rule="link.dead", fingerprint="orphan-site", detail="无责任单位的问题",
                           severity="medium")
    Finding.objects.create(round=cur, round_account=ra_a, rule="newmedia.not_updated", fingerprint="orphan-acc",
                           detail="账号长期未更新", severity="medium")
    st = _dash(client_for, "office").context["st"]
    by_unit = {u["id"]: u["n"] for u in st.units}
    assert by_unit[platform.units["b"].pk] == 3 and by_unit[platform.units["a"].pk] == 4 and st.findings["n"] == 9
    assert _dash(client_for, "supervisor").context["st"].findings["n"] == 1
    us = client_for("unit_a").get("/portal/").context["us"]
    assert us.counts["n"] == 4
    account = next(s for s in us.by_site if s["kind"] == "account")
    assert account["name"] == "健康测试县（微信公众号）" and account["rules"][0]["rule"] == "newmedia.not_updated"


# --- the round summary (rounds.models.RoundSummary): made once, the same numbers as counting finding by finding ---

def _reference(rnd, prev, user):
    """finding_counts' numbers counted finding by finding, in Python, from the plain scoped querysets (no summary)."""
    from collections import defaultdict

    from django.db.models import BooleanField, Case, Value, When

    rules, units, fixed = defaultdict(lambda: [0, 0, 0, 0]), defaultdict(lambda: [0, 0, 0, 0]), defaultdict(lambda: [0, 0])
    still = Case(When(stats.still_q(prev), then=Value(True)), default=Value(False), output_field=BooleanField())
    for unit, rule, veto, severity, is_still in (stats.current_findings(rnd, user, prev).annotate(u=stats.UNIT_OF, s=still)
                                                 .values_list("u", "rule", "veto", "severity", "s")):
        for row in (rules[rule], units[unit]):
            row[0] += 1
            row[1] += veto
            row[2] += severity == "high"
            row[3] += bool(is_still)
    if prev is not None:
        looked = Case(When(stats.looked_q(rnd, prev), then=Value(True)), default=Value(False), output_field=BooleanField())
        for unit, was_looked in stats.fixed_findings(rnd, prev, user).annotate(u=stats.UNIT_OF, l=looked).values_list("u", "l"):
            fixed[unit][0 if was_looked else 1] += 1
    return {"rules": dict(rules), "units": dict(units), "fixed": dict(fixed)}


def _check_all_roles(platform):
    from django.contrib.auth.models import User
    from django.core.cache import cache

    cur = stats.rounds().get(pk=platform.rounds["current"].pk)
    prev = stats.previous_round(cur)
    for who in ("office", "readonly", "supervisor", "unit_a", "unit_b"):
        user = User.objects.get(username=who)
        cache.clear()
        assert stats.finding_counts(cur, prev, user) == _reference(cur, prev, user), who


def test_summary_counts_equal_counting_each_finding(platform, monkeypatch):
    """Whatever happens after the summary was made (ignores in both rounds and their revoking, findings without a
    responsible unit, a site not checked again, a job run again), the dashboard's counts for every role are those of
    counting each finding."""
    from django.contrib.auth.models import User

    from govinspect.rounds.ignores import ignore_finding, revoke_ignore
    from govinspect.rounds.models import Finding, RoundSite, RoundSummary

    cur, prev = platform.rounds["current"], platform.rounds["previous"]
    _grow(platform, 3)
    gone = Finding.objects.create(round=prev, round_site=RoundSite.objects.get(round=prev, website=platform.sites["b"]),
                                  rule="link.dead", fingerprint="gone-b", detail="上轮问题，本轮未再发现",
                                  responsible_unit=platform.units["b"], severity="medium")
    stats.summarize_round(cur)
    made = RoundSummary.objects.get(round=cur)
    _check_all_roles(platform)
    # ignores: a current finding (still present) and a previous one not found again
    F = platform.findings
    ig = ignore_finding(F["still"], "hit", "测试：不是问题", "office")
    ignore_finding(gone, "hit", "测试：不是问题", "office")
    assert Finding.objects.filter(ignored_by__isnull=False, round=cur).exists()
    assert Finding.objects.filter(ignored_by__isnull=False, round=prev).exists()
    _check_all_roles(platform)
    monkeypatch.setattr(stats, "IGNORED_IDS_MAX", 0)  # very many ignored findings: read by round, not by id
    _check_all_roles(platform)
    monkeypatch.undo()
    assert RoundSummary.objects.get(round=cur).made_at == made.made_at  # an ignore does not remake the summary
    revoke_ignore(ig, "office")
    _check_all_roles(platform)
    # a finding without a responsible unit in each round, one found again
    for rnd in (prev, cur):
        rs = RoundSite.objects.get(round=rnd, website=platform.sites["b"])
        Finding.objects.create(round=rnd, round_site=rs, rule="link.dead", fingerprint="orphan-both", detail="无责任单位",
                               severity="medium")
    Finding.objects.create(round=prev, round_site=RoundSite.objects.get(round=prev, website=platform.sites["b"]),
                           rule="link.dead", fingerprint="orphan-gone", detail="无责任单位，已整改", severity="medium")
    _check_all_roles(platform)
    # a site of this round that could not be checked after all: its previous problems are no longer "fixed"
    office = _reference(stats.rounds().get(pk=cur.pk), prev, User.objects.get(username="office"))
    assert office["fixed"][platform.units["a"].pk] == [1, 0]
    RoundSite.objects.filter(round=cur, website=platform.sites["a"]).update(status="could_not_check")
    _check_all_roles(platform)
    # a job run again (its findings replaced): the summary is made again at the next view
    Finding.objects.filter(round=cur, rule="content.typo").delete()
    _check_all_roles(platform)
    assert RoundSummary.objects.get(round=cur).stamp != made.stamp


def test_dashboard_reads_the_summary_made_at_the_round_end(platform, client_for):
    """The runner makes the summary when a round ends; the dashboard then reads it (shown here by altering it), and
    makes it again once the round's findings change."""
    from django.core.cache import cache

    from govinspect.rounds.models import Finding, RoundSummary
    from govinspect.rounds.services import _end

    cur = platform.rounds["current"]
    RoundSummary.objects.all().delete()
    _end(cur, "done", "测试")
    s = RoundSummary.objects.get(round=cur)
    assert s.stamp.startswith(f"v{stats.SUMMARY_VERSION}|{cur.pk}:") and s.data["units"] and s.data["gone"]
    cache.clear()
    assert _dash(client_for, "office").context["st"].findings["n"] == 7
    data = s.data
    data["units"] = [row[:2] + [row[2] + 100] + row[3:] for row in data["units"]]  # 100 more per unit and rule
    RoundSummary.objects.filter(pk=s.pk).update(data=data)
    cache.clear()
    assert _dash(client_for, "office").context["st"].findings["n"] == 7 + 100 * len(data["units"])
    rs = Finding.objects.filter(round=cur).first()
    Finding.objects.create(round=cur, round_site=rs.round_site, job=rs.job, rule="link.dead", fingerprint="x-new",
                           detail="新发现", responsible_unit=rs.responsible_unit, severity="medium")
    assert _dash(client_for, "office").context["st"].findings["n"] == 8  # the stamp changed: counted again
    assert RoundSummary.objects.get(round=cur).stamp != s.stamp


def test_running_round_summary_is_not_kept(platform):
    from govinspect.rounds.models import Round, RoundSummary
    from django.contrib.auth.models import User

    cur = platform.rounds["current"]
    Round.objects.filter(pk=cur.pk).update(status="running")
    rnd = stats.rounds().get(pk=cur.pk)
    stats.finding_counts(rnd, stats.previous_round(rnd), User.objects.get(username="office"))
    assert not RoundSummary.objects.filter(round=cur).exists()
