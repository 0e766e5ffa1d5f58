"""Operators mark findings "not a problem": scoped, audited, kept in later rounds, out of the bulletin."""

import datetime as dt

import pytest

from govinspect.engine.checks.model import Finding as EngineFinding
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Unit, Website
from govinspect.reports.data import round_data
from govinspect.rounds.models import Finding, Ignore, Round
from govinspect.rounds.ignores import IgnoreError, ignore_finding, revoke_ignore
from govinspect.rounds.services import store_report

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)


def _report(site_url):
    def hit(rule, url, text, start):
        return EngineFinding(rule=rule, url=url, detail=f"{rule} {text}", evidence={"text": text, "start": start})

    page, other = site_url + "a.html", site_url + "b.html"
    return SiteReport(site_url=site_url, as_of=AS_OF, status="checked", verdict="fail", findings=[
        hit("content.typo", page, "博视", 10),  # a clinic's name, not a typo
        hit("content.typo", other, "博视", 3),
        hit("content.typo", page, "管里", 40),
        hit("content.misspelling", page, "再接再励", 60),
        EngineFinding(rule="interaction.unanswered", url=other, detail="留言未回复", evidence={}),  # a veto rule
    ])


def _round(site, n):
    rnd = Round.objects.create(name=f"第{n}轮", as_of=AS_OF + dt.timedelta(days=90 * n), status="done")
    rs = store_report(rnd, site, _report(site.home_url))
    return rnd, rs


def test_ignore_scopes_audit_and_later_rounds():
    site = Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/",
                                  owner=Unit.objects.create(name="清河县人民政府", kind="区县"))
    rnd, rs = _round(site, 1)
    typo_a = Finding.objects.get(round=rnd, rule="content.typo", evidence__text="博视", url__endswith="a.html")
    with pytest.raises(IgnoreError):
        ignore_finding(typo_a, "site", "  ", "张三")  # a reason is required
    with pytest.raises(IgnoreError):
        ignore_finding(typo_a, "everywhere", "机构名称", "张三")
    ig = ignore_finding(typo_a, "site", "博视眼科医院是机构名称", "张三")
    assert (ig.created_by, ig.rule, ig.text, ig.url) == ("张三", "content.typo", "博视", "")
    ignored = set(Finding.objects.filter(round=rnd, ignored_by=ig).values_list("url", "evidence__text"))
    assert ignored == {(site.home_url + "a.html", "博视"), (site.home_url + "b.html", "博视")}  # site scope: both pages
    assert Finding.objects.filter(round=rnd, ignored_by__isnull=True).count() == 3
    # page scope: every hit of that rule on that page; hit scope: only that hit
    mis = Finding.objects.get(round=rnd, rule="content.misspelling")
    ignore_finding(mis, "hit", "引用原文", "李四")
    data = round_data(rnd)
    assert sorted(f["evidence"].get("text", "") for f in data["findings"]) == ["", "管里"]
    assert data["sites"][0]["findings_ignored"] == 3
    # a veto finding ignored no longer fails the site; revoking brings it back (and is recorded)
    veto = Finding.objects.get(round=rnd, rule="interaction.unanswered")
    assert rs.verdict == "fail"
    page_ig = ignore_finding(veto, "page", "已电话回复并补录", "王五")
    rs.refresh_from_db()
    assert rs.verdict == "pass"
    revoke_ignore(page_ig, "赵六")
    page_ig.refresh_from_db()
    rs.refresh_from_db()
    assert page_ig.revoked_by == "赵六" and page_ig.revoked_at is not None and rs.verdict == "fail"
    assert Ignore.objects.count() == 3  # revoked, not deleted
    # the next round: the same hits are ignored again without anyone asking
    rnd2, rs2 = _round(site, 2)
    left = Finding.objects.filter(round=rnd2, ignored_by__isnull=True)
    assert sorted((f.rule, f.evidence.get("text", "")) for f in left) == [("content.typo", "管里"),
                                                                         ("interaction.unanswered", "")]


def test_ignore_cli(capsys):
    from govinspect.cli import main

    site = Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/",
                                  owner=Unit.objects.create(name="清河县人民政府", kind="区县"))
    rnd, _ = _round(site, 1)
    f = Finding.objects.get(round=rnd, rule="content.misspelling")
    assert main(["ignore", str(f.pk), "--scope", "hit"]) == 2
    assert "必须填写忽略理由" in capsys.readouterr().err
    assert main(["ignore", "999999", "--reason", "x"]) == 2
    assert "没有编号为 999999 的问题" in capsys.readouterr().err
    assert main(["ignore", str(f.pk), "--reason", "引用原文", "--by", "张三"]) == 0
    assert "本轮 1 条问题标记为忽略" in capsys.readouterr().out
    ig = Ignore.objects.get()
    assert main(["ignore", "--list"]) == 0
    out = capsys.readouterr().out
    assert "content.misspelling" in out and "引用原文" in out and "张三" in out and "有效" in out
    assert main(["ignore", "--revoke", str(ig.pk), "--by", "李四"]) == 0
    ig.refresh_from_db()
    assert ig.revoked_by == "李四"
    f.refresh_from_db()
    assert f.ignored_by is None
