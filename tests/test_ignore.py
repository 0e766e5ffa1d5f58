"""Operators mark findings "not a problem": scoped, audited, kept in later rounds, out of the bulletin."""

import datetime as dt

import pytest

from govinspect.engine.finding import Finding as EngineFinding
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Unit, Website
from govinspect.reports.data import round_data
from govinspect.rounds.models import Finding, Ignore, Round
from govinspect.rounds.ignores import IgnoreError, ignore_finding, revoke_ignore
from govinspect.rounds.jobs import store_report

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)


def _report(site_url):
    def hit(rule, url, text, start):
        return EngineFinding.at_url(rule, url, f"{rule} {text}", facts={"text": text})

    page, other = site_url + "a.html", site_url + "b.html"
    return SiteReport(site_url=site_url, as_of=AS_OF, status="checked", verdict="fail", findings=[
        hit("content.typo", page, "博视", 10),  # a clinic's name, not a typo
        hit("content.typo", other, "博视", 3),
        hit("content.typo", page, "管里", 40),
        hit("content.misspelling", page, "再接再励", 60),
        EngineFinding.at_url("interaction.unanswered", other, "留言未回复", kind="site"),  # a veto rule
    ])


def _round(site, n):
    rnd = Round.objects.create(name=f"第{n}轮", as_of=AS_OF + dt.timedelta(days=90 * n), status="done")
    rs = store_report(rnd, site, _report(site.home_url))
    return rnd, rs


def test_ignore_scopes_audit_and_later_rounds():
    site = Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/",
                                  owner=Unit.objects.create(name="清河县人民政府", kind="区县"))
    rnd, rs = _round(site, 1)
    typo_a = Finding.objects.get(round=rnd, rule="content.typo", match="博视", url__endswith="a.html")
    with pytest.raises(IgnoreError):
        ignore_finding(typo_a, "site", "  ", "张三")  # a reason is required
    with pytest.raises(IgnoreError):
        ignore_finding(typo_a, "everywhere", "机构名称", "张三")
    ig = ignore_finding(typo_a, "site", "博视眼科医院是机构名称", "张三")
    assert (ig.created_by, ig.rule, ig.text, ig.url) == ("张三", "content.typo", "博视", "")
    ignored = set(Finding.objects.filter(round=rnd, ignored_by=ig).values_list("url", "match"))
    assert ignored == {(site.home_url + "a.html", "博视"), (site.home_url + "b.html", "博视")}  # site scope: both pages
    assert Finding.objects.filter(round=rnd, ignored_by__isnull=True).count() == 3
    # page scope: every hit of that rule on that page; hit scope: only that hit
    mis = Finding.objects.get(round=rnd, rule="content.misspelling")
    ignore_finding(mis, "hit", "引用原文", "李四")
    data = round_data(rnd)
    assert sorted(f.get("match", "") for f in data["findings"]) == ["", "管里"]
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
    assert sorted((f.rule, f.match) for f in left) == [("content.typo", "管里"),
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
    assert main(["ignore", str(f.pk), "--reason", "引用原文", "--by", "张三", "--yes"]) == 0
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


GOV_LINKS = ["http://www.gov.cn/", "http://www.hebei.gov.cn/", "http://bszs.conac.cn/", "http://zfwzgl.www.gov.cn/"]


def _dead_links_round(site, n=1, stale_columns=()):
    """A round whose site has the four dead outbound links of a machine without a route (中国政府网 and co.),
    plus stale columns: findings of rules without matched text."""
    def dead(url):
        return EngineFinding.at_url("link.dead", url, f"链接“{url}”无法访问（域名无法解析），共1处引用", kind="link",
                                    site=site.home_url, facts={"referrers": [{"page": site.home_url, "text": "中国政府网"}], "external": True})

    def stale(path):
        return EngineFinding.at_url("column.stale", site.home_url + path, f"“{path}”栏目已200天未更新", kind="column",
                                    site=site.home_url, column=path, facts={"newest_date": "2026-05-01"})

    rep = SiteReport(site_url=site.home_url, as_of=AS_OF, status="checked", verdict="fail",
                     findings=[dead(u) for u in GOV_LINKS] + [stale(p) for p in stale_columns])
    rnd = Round.objects.create(name=f"第{n}轮", as_of=AS_OF + dt.timedelta(days=90 * n), status="done")
    return rnd, store_report(rnd, site, rep)


def _site():
    return Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/",
                                  owner=Unit.objects.create(name="清河县人民政府", kind="区县"))


def test_ignoring_one_dead_link_hides_exactly_that_link():
    """The 中国政府网 case: four dead links; ignoring one with each scope hides exactly one, or is refused."""
    site = _site()
    rnd, _ = _dead_links_round(site)
    gov = Finding.objects.get(round=rnd, url="http://www.gov.cn/")
    with pytest.raises(IgnoreError, match="不能按整个网站忽略.*--scope hit.*这一个链接"):
        ignore_finding(gov, "site", "省里统一维护", "张三")
    assert not Ignore.objects.exists() and not Finding.objects.filter(ignored_by__isnull=False).exists()
    for scope in ("hit", "page"):
        ig = ignore_finding(gov, scope, "省里统一维护", "张三")
        assert list(Finding.objects.filter(ignored_by__isnull=False).values_list("url", flat=True)) == ["http://www.gov.cn/"]
        revoke_ignore(ig, "张三")
        assert not Finding.objects.filter(ignored_by__isnull=False).exists()
    # the next round: still only that link, the three other dead links are reported again
    ignore_finding(gov, "hit", "省里统一维护", "张三")
    rnd2, _ = _dead_links_round(site, 2)
    assert sorted(Finding.objects.filter(round=rnd2, ignored_by__isnull=True).values_list("url", flat=True)) == sorted(GOV_LINKS[1:])


def test_site_scope_record_without_text_keeps_to_its_own_finding():
    """A site-scope ignore without matched text recorded by the old code (it hid every dead link of the site)
    now hides only the problem it was made for."""
    site = _site()
    rnd, rs = _dead_links_round(site)
    gov = Finding.objects.get(round=rnd, url="http://www.gov.cn/")
    Ignore.objects.create(rule="link.dead", scope="site", website=site, url="", text="", reason="旧记录",
                          source_finding=gov, created_by="张三")
    from govinspect.rounds.ignores import apply_ignores

    assert apply_ignores(rs) == 1
    assert list(Finding.objects.filter(ignored_by__isnull=False).values_list("url", flat=True)) == ["http://www.gov.cn/"]
    rnd2, _ = _dead_links_round(site, 2)
    assert Finding.objects.filter(round=rnd2, ignored_by__isnull=False).count() == 1


def test_stale_column_cannot_be_ignored_site_wide():
    from django.core.exceptions import ValidationError

    site = _site()
    rnd, _ = _dead_links_round(site, stale_columns=("zwdt/", "tzgg/"))
    col = Finding.objects.get(round=rnd, rule="column.stale", column_name="zwdt/")
    with pytest.raises(IgnoreError, match="不能按整个网站忽略.*这一个栏目"):
        ignore_finding(col, "site", "栏目已撤并", "张三")
    ignore_finding(col, "page", "栏目已撤并", "张三")
    assert list(Finding.objects.filter(ignored_by__isnull=False).values_list("column_name", flat=True)) == ["zwdt/"]
    # the admin refuses the same record
    with pytest.raises(ValidationError):
        Ignore(rule="column.stale", scope="site", website=site, reason="x", created_by="张三").clean()


def test_cli_previews_what_an_ignore_hides_and_asks(capsys, monkeypatch):
    import io

    from govinspect.cli import main

    site = _site()
    _round(site, 1)
    rnd2, _ = _round(site, 2)
    f = Finding.objects.get(round=rnd2, rule="content.typo", match="博视", url__endswith="a.html")
    args = ["ignore", str(f.pk), "--scope", "site", "--reason", "博视眼科医院是机构名称", "--by", "张三"]
    # no terminal and no --yes: the preview, then a refusal that names --yes; nothing changes
    assert main(args) == 2
    cap = capsys.readouterr()
    assert "涉及 4 条问题：本轮隐藏 2 条；以往各轮同样的、尚未整改的问题 2 条" in cap.out
    examples = [l for l in cap.out.splitlines() if l.startswith("  问题 ")]
    ids = set(Finding.objects.filter(rule="content.typo", match="博视").values_list("pk", flat=True))
    assert len(examples) == 4 and {int(l.split()[1].split("（")[0]) for l in examples} == ids
    assert "「博视」" in examples[0] and "第2轮" in examples[0] and "第1轮" in examples[-1]
    assert "--yes" in cap.err and "未做任何更改" in cap.err
    assert not Ignore.objects.exists() and not Finding.objects.filter(ignored_by__isnull=False).exists()

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    # at a terminal the operator is asked: anything but yes changes nothing
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(args) == 1
    assert "已取消" in capsys.readouterr().out and not Ignore.objects.exists()
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(args) == 0
    assert "本轮 2 条问题标记为忽略" in capsys.readouterr().out
    assert Finding.objects.filter(round=rnd2, ignored_by__isnull=False).count() == 2


def test_cli_preview_caps_examples_at_five(capsys):
    from govinspect.cli import main

    site = _site()
    for n in range(1, 5):
        _round(site, n)
    f = Finding.objects.filter(rule="content.typo", match="博视").order_by("-round__as_of").first()
    assert main(["ignore", str(f.pk), "--scope", "site", "--reason", "机构名称", "--by", "张三", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "涉及 8 条问题：本轮隐藏 2 条；以往各轮同样的、尚未整改的问题 6 条" in out
    assert len([l for l in out.splitlines() if l.startswith("  问题 ")]) == 5


def test_cli_dead_link_ignore_names_the_link(capsys):
    from govinspect.cli import main

    site = _site()
    rnd, _ = _dead_links_round(site)
    gov = Finding.objects.get(round=rnd, url="http://www.gov.cn/")
    assert main(["ignore", str(gov.pk), "--scope", "site", "--reason", "省里统一维护", "--by", "张三", "--yes"]) == 2
    assert "不能按整个网站忽略" in capsys.readouterr().err and not Ignore.objects.exists()
    assert main(["ignore", str(gov.pk), "--scope", "page", "--reason", "省里统一维护", "--by", "张三", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "范围：仅此链接（http://www.gov.cn/）），涉及 1 条问题：本轮隐藏 1 条" in out
    assert "本轮 1 条问题标记为忽略" in out


def _site_level_round(site, n, footer_detail):
    """Findings of rules judged from the whole site: one finding on the home page sums up the site's state."""
    rep = SiteReport(site_url=site.home_url, as_of=AS_OF, status="checked", verdict="fail", findings=[
        EngineFinding.at_url("site.footer_missing", site.home_url, footer_detail, kind="site"),
        EngineFinding.at_url("site.veto_columns", site.home_url, "栏目不更新达到单项否决标准", kind="site"),
    ])
    rnd = Round.objects.create(name=f"第{n}轮", as_of=AS_OF + dt.timedelta(days=90 * n), status="done")
    return rnd, store_report(rnd, site, rep)


def test_ignoring_a_site_level_finding_hides_that_problem_only_not_the_next_one():
    """An ignore of today's footer finding (a false alarm about the 网站标识码) must not hide a different footer problem
    of a later round on the same home page (a sub-site lacking the ICP number), and the single veto over stale
    columns cannot be waved away as a whole."""
    site = _site()
    first = "页面底部网站标识码 1300000001 与登记的 1300000002 不一致"
    _, rs = _site_level_round(site, 1, first)
    footer = rs.findings.get(rule="site.footer_missing")
    ignore_finding(footer, "hit", "标识码登记有误，已更正", "张三")
    with pytest.raises(IgnoreError, match="单项否决由各栏目问题汇总"):
        ignore_finding(rs.findings.get(rule="site.veto_columns"), "page", "不是问题", "张三")
    _, same = _site_level_round(site, 2, first)
    assert same.findings.get(rule="site.footer_missing").ignored_by is not None  # the same problem stays ignored
    _, other = _site_level_round(site, 3, "/bm/nyj/ 下 20 个页面缺少ICP备案号")
    assert other.findings.get(rule="site.footer_missing").ignored_by is None  # a new problem is reported
    assert other.findings.get(rule="site.veto_columns").ignored_by is None
