"""New-media accounts: sources (RSS/Atom, CSV/XLSX, JSON), health, the checks, the sandbox ground truth."""

import asyncio
import datetime as dt
import json

import pytest

from govinspect.engine.content import ContentChecker
from govinspect.engine.finding import Location, Subject
from govinspect.engine.newmedia import AccountSpec, Post, Source, check_account, check_accounts, load_source, parse_feed
from govinspect.rules.ruleset import RuleSet
from govinspect.sandbox.evaluate import evaluate
from govinspect.sandbox.letters import export_csv_gbk

AS_OF = dt.date(2026, 11, 23)
RS = RuleSet.load()


def spec(**kw):
    return AccountSpec(**{"platform": "微信公众号", "name": "清河发布", "owner": "清河县人民政府办公室", "source": "x", **kw})


def posts(days_ago, **kw):
    return [Post(dt.datetime.combine(AS_OF - dt.timedelta(days=d), dt.time(9)), f"标题{d}", kw.get("text", "正文"), f"https://x/{d}")
            for d in days_ago]


def rules_of(res):
    return sorted(f.rule for f in res.findings)


def vetoes(res, rules=RS):
    """The scheme's single-veto items among the account's findings (scoring is the rounds' business)."""
    return rules.scheme.score(rules_of(res), "newmedia").vetoes


def test_update_windows_and_veto():
    ok = check_account(spec(), Source(True, posts([13, 20, 30, 40, 50])), AS_OF, RS)
    assert ok.status == "checked" and rules_of(ok) == [] and RS.scheme.score([], "newmedia").verdict == "pass"
    stale = check_account(spec(), Source(True, posts([15, 30])), AS_OF, RS)
    assert rules_of(stale) == ["newmedia.not_updated"] and vetoes(stale) == ["newmedia.not_updated"]
    f = stale.findings[0]
    assert f.subject == Subject(kind="account", account="微信公众号/清河发布", unit="清河县人民政府办公室")
    assert f.location == Location() and f.facts["last_post"] == (AS_OF - dt.timedelta(days=15)).isoformat()
    assert f.facts["account"] == "清河发布" and f.facts["platform"] == "微信公众号" and f.match == ""
    zombie = check_account(spec(), Source(True, posts([100])), AS_OF)
    assert rules_of(zombie) == ["newmedia.not_updated", "newmedia.zombie"]
    empty = check_account(spec(), Source(True, []), AS_OF)
    assert "newmedia.not_updated" in rules_of(empty)
    future = check_account(spec(), Source(True, posts([-3, 20])), AS_OF)  # a post after the as-of date does not count
    assert rules_of(future) == ["newmedia.not_updated"]


def test_broken_source_is_could_not_check_never_not_updated():
    r = check_account(spec(filed=False), Source(False, reason="订阅源无法访问（HTTP 404）"), AS_OF)
    assert r.status == "could_not_check" and r.reason.startswith("订阅源无法访问")
    assert rules_of(r) == ["newmedia.not_filed"] and vetoes(r) == []  # registry facts still stand
    r = check_account(spec(interaction=False), Source(False, reason="x"), AS_OF)
    assert r.status == "could_not_check" and rules_of(r) == ["newmedia.no_interaction"]
    assert vetoes(r) == ["newmedia.no_interaction"]  # a veto established anyway fails the account


def test_original_share():
    rep = posts(range(1, 11))
    for p in rep[:5]:
        p.text = "来源：新华社"
    rep[5].text = "来源：清河县人民政府办公室"  # its own unit: original
    r = check_account(spec(), Source(True, rep), AS_OF)
    assert r.original_share == 0.5 and rules_of(r) == ["newmedia.original_low"]
    few = posts([1, 2, 3])
    for p in few:
        p.text = "转载"
    assert rules_of(check_account(spec(), Source(True, few), AS_OF)) == []  # too few posts to judge
    marked = posts(range(1, 11))
    for p in marked[:3]:
        p.original = False
    assert check_account(spec(), Source(True, marked), AS_OF).original_share == 0.7


def test_content_rules_on_posts():
    p = posts([1, 2, 3])
    p[0].text = "希望大家再接再励，咨询电话13812345678"
    r = check_account(spec(), Source(True, p), AS_OF, content=ContentChecker(typos=False))
    assert rules_of(r) == ["content.misspelling", "privacy.mobile"]
    assert all(f.location == Location(url="https://x/1") and f.subject.account == "微信公众号/清河发布" for f in r.findings)
    assert "13812345678" not in json.dumps([f.to_dict() for f in r.findings], ensure_ascii=False)
    typo = next(f for f in r.findings if f.rule == "content.misspelling")
    assert typo.match == "再接再励" and typo.facts["suggestion"] == "再接再厉"
    a, b = typo.evidence.hit
    assert typo.evidence.excerpt[a:b] == "再接再励"
    # the same problem on another post of the account is another finding
    p[1].text = "希望大家再接再励"
    again = check_account(spec(), Source(True, p), AS_OF, content=ContentChecker(typos=False))
    assert len({f.fingerprint for f in again.findings if f.rule == "content.misspelling"}) == 2


def test_sources_feed_export_json_and_health(tmp_path):
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><title>A</title><link href="https://x/a"/><updated>2026-11-20T02:00:00Z</updated><summary>s</summary></entry></feed>"""
    src = parse_feed(atom)
    assert src.ok and src.posts[0].published == dt.datetime(2026, 11, 20, 10, 0) and src.posts[0].url == "https://x/a"
    assert not parse_feed(b"<html>not a feed").ok
    rows = [["发布时间", "标题", "内容", "链接", "是否原创"], ["2026/11/20 09:00", "标题", "正文", "https://x/1", "否"],
            ["2026年11月1日", "标题2", "正文", "https://x/2", "是"], ["不是日期", "坏行", "", "", ""]]
    f = tmp_path / "导出.csv"
    f.write_bytes(export_csv_gbk(rows))
    src = asyncio.run(load_source(spec(source=str(f))))
    assert src.ok and len(src.posts) == 2 and src.posts[0].original is False and "1行" in src.reason
    j = tmp_path / "posts.json"
    j.write_text(json.dumps([{"published": "2026-11-21 08:00", "title": "t", "text": "x", "url": "u"}]), encoding="utf-8")
    assert asyncio.run(load_source(spec(source=str(j)))).posts[0].published == dt.datetime(2026, 11, 21, 8, 0)
    j.write_text("[{\"title\": 1}]", encoding="utf-8")
    assert not asyncio.run(load_source(spec(source=str(j)))).ok
    assert "不存在" in asyncio.run(load_source(spec(source=str(tmp_path / "none.csv")))).reason
    assert "没有登记" in asyncio.run(load_source(spec(source=""))).reason
    # a feed on a private address is refused unless the operator allowed the range
    blocked = asyncio.run(load_source(spec(source="http://127.0.0.1:9/rss.xml")))
    assert not blocked.ok and "禁止" in blocked.reason


def test_sandbox_accounts_against_ground_truth(county, sandbox, truth):
    from govinspect.sandbox.demo import _check_county_accounts

    results = _check_county_accounts(county, sandbox)
    findings = [f.to_dict() for r in results for f in r.findings]
    rules = [r for r in RS["catalog"]["rules"] if r.startswith("newmedia.")]
    res = evaluate(findings, truth, rules)
    for rule in rules:
        assert res[rule]["tp"] > 0 and res[rule]["precision"] == 1.0 and res[rule]["recall"] == 1.0, (rule, res[rule])
    by_name = {r.account.name: r for r in results}
    assert by_name["清河人力资源和社会保障局发布"].status == "could_not_check"  # broken feed (decoy for not_updated)
    assert by_name["清河发展和改革局发布"].status == "could_not_check"  # the site is down
    assert sum(f["rule"] == "privacy.mobile" for f in findings) == 1


def test_copies_of_other_accounts_posts_are_not_original(tmp_path):
    text = "全县召开经济运行分析会议，研究部署第四季度重点工作，要求各部门狠抓落实确保完成全年目标任务。"
    mk = lambda d, t: Post(dt.datetime.combine(AS_OF - dt.timedelta(days=d), dt.time(9)), "标题", t, f"https://x/{d}")

    def write(name, posts_):
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps([{"published": p.published.isoformat(sep=" "), "title": p.title, "text": p.text, "url": p.url}
                                 for p in posts_], ensure_ascii=False), encoding="utf-8")
        return str(f)

    source_posts = [mk(d, text + str(d)) for d in range(2, 12)]  # the county account, first
    copier = [mk(d - 1, text + str(d)) for d in range(2, 12)]  # the same texts a day later, unmarked
    specs = [spec(name="清河发布", source=write("a", source_posts)),
             AccountSpec("微信公众号", "某镇发布", "某镇", source=write("b", copier))]
    a, b = asyncio.run(check_accounts(specs, AS_OF))
    assert a.original_share == 1.0 and b.original_share == 0.0
    assert [f.rule for f in b.findings] == ["newmedia.original_low"]


@pytest.mark.django_db
def test_national_filing_list_import(tmp_path, capsys):
    from govinspect.cli import main
    from govinspect.registry.models import Account, Unit

    town = Unit.objects.create(name="清河县白马镇人民政府", kind="乡镇")
    Account.objects.create(platform="微信公众号", name="白马发布", owner=town, filed=False)
    Account.objects.create(platform="微博", name="白马微博", owner=town, filed=True)
    rows = [["平台", "账号名称", "主办单位", "备案状态"], ["微信", "白马发布", "清河县白马镇人民政府", "已备案"],
            ["抖音", "白马抖音", "清河县白马镇人民政府", "已备案"], ["抖音", "某某", "不存在的单位", "已备案"],
            ["传真", "x", "清河县白马镇人民政府", "已备案"], ["微博", "旧号", "清河县白马镇人民政府", "已注销"]]
    f = tmp_path / "备案清单.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["registry", "filing-list", str(f)]) == 0
    out = capsys.readouterr().out
    assert Account.objects.get(name="白马发布").filed and Account.objects.get(name="白马抖音").filed
    assert not Account.objects.get(name="白马微博").filed  # not on the list: not filed
    assert "新增到名录 1 个" in out and "未备案：白马微博" in out and "不存在的单位" in out and "未知平台“传真”" in out


def test_scheme_newmedia_rules_change_the_judgement(tmp_path):
    """A scheme's [newmedia_rules] (as in rules/schemes/county-example.toml) reaches the checks through the RuleSet."""
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "monthly.toml").write_text(
        'name = "每月更新"\nversion = "1"\nextends = "county-example"\n'
        '[newmedia_rules.update]\nwindow = "1m"\nlabel = "1个月"\n[newmedia_rules.zombie]\nwindow = "30d"\n', encoding="utf-8")
    monthly = RuleSet.load("monthly", overrides=tmp_path)
    assert monthly["newmedia"]["update"]["window"] == "1m" and monthly.hash != RuleSet.load("county-example").hash
    src = Source(True, posts([20, 40, 60]))
    assert rules_of(check_account(spec(), src, AS_OF, RS)) == ["newmedia.not_updated"]
    assert rules_of(check_account(spec(), src, AS_OF, monthly)) == []  # updated within the month
    late = Source(True, posts([35, 60]))
    assert rules_of(check_account(spec(), late, AS_OF, RS)) == ["newmedia.not_updated"]
    assert rules_of(check_account(spec(), late, AS_OF, monthly)) == ["newmedia.not_updated", "newmedia.zombie"]
    d = next(f.detail for f in check_account(spec(), late, AS_OF, monthly).findings if f.rule == "newmedia.not_updated")
    assert "1个月内未更新" in d
