"""Bulletin charts: the trend over a region's rounds comes from stored rounds (re-checks are not rounds of their own)."""

import datetime as dt
import re

import pytest

from govinspect.registry.models import Unit, Website
from govinspect.reports.bulletin import group_titles
from govinspect.reports.charts import make_charts
from govinspect.reports.data import round_data
from govinspect.rounds.models import Round, RoundSite

pytestmark = pytest.mark.django_db


def test_trend_over_rounds(tmp_path):
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    sites = [Website.objects.create(name=f"网站{i}", home_url=f"http://w{i}.qh.gov.cn/", owner=unit) for i in range(4)]
    rounds = []
    for q, passing in ((1, 1), (2, 3)):
        r = Round.objects.create(name=f"第{q}季度", region="清河县", as_of=dt.date(2026, 3 * q, 28), status="done")
        for i, s in enumerate(sites):
            RoundSite.objects.create(round=r, website=s, status="checked", verdict="pass" if i < passing else "fail", score=80)
        rounds.append(r)
    Round.objects.create(name="复查", region="清河县", as_of=dt.date(2026, 6, 29), status="done", recheck_of=rounds[0])
    Round.objects.create(name="别的县", region="别县", as_of=dt.date(2026, 6, 1), status="done")
    data = round_data(rounds[1])
    assert [(h["name"], h["pass_rate"]) for h in data["history"]] == [("第1季度", "25.00"), ("第2季度", "75.00")]
    charts = make_charts(data, tmp_path, group_titles(), {})
    assert [c["caption"] for c in charts] == ["各类单位网站检查合格率", "政府网站检查合格率变化"]  # no findings: no problem chart
    assert all(c["path"].read_bytes()[:4] == b"\x89PNG" for c in charts)
    assert len(round_data(rounds[0])["history"]) == 1  # one round: no trend yet


# what the bulletin's 二、存在的主要问题 counts in a sentence: 共N个(栏目), 共有N个链接, …问题（N处）, N个网站首页超过…,
# or a count just before the examples (未在…备案2个，如…)
_COUNT = re.compile(r"共有?(\d+)个|问题（(\d+)处）|^(\d+)个网站首页超过|(\d+)[个处]$")


def _text_counts(paragraphs: list[str]) -> dict[str, int]:
    """{section title: the number of problems its sentences give} read from the bulletin's paragraphs."""
    part = paragraphs[paragraphs.index("二、存在的主要问题") + 1:paragraphs.index("三、下一步工作要求")]
    counts = {}
    for p in part:
        m = re.match(r"（[一二三四五六七八九十]+）([^。]+)。(.*)", p)
        title, body = m[1], m[2]
        n = 0
        for sentence in body.split("。"):
            head = re.split(r"，?如", sentence, maxsplit=1)[0]  # the count comes before the examples
            c = _COUNT.search(head)
            if c and "未能完成检查" not in sentence:  # websites not checked are not problems found
                n += int(next(g for g in c.groups() if g))
        if n:
            counts[title] = n
    return counts


def test_problem_chart_counts_what_the_bulletin_text_counts(tmp_path):
    """图2 counts one problem per line as the text does: the link that is dead, illegal and hidden once, the stale
    columns without their single-veto verdict, nothing from a website that could not be checked."""
    from docx import Document

    from govinspect.registry.models import Account
    from govinspect.reports.bulletin import write_bulletin
    from govinspect.rounds.models import Finding, RoundAccount
    from govinspect.rules import load_rules
    from test_bulletin import _county_round, _finding

    rnd = _county_round(tmp_path)
    rsj = rnd.sites.get(website__name="清河县人社局网站")
    for i, name in enumerate(("工作动态", "通知公告", "政策文件")):
        _finding(rsj, "column.stale", f"“{name}”栏目超过6个月未更新", url=f"{rsj.website.home_url}c{i}/", column=name,
                 newest_date=f"2026-0{i + 3}-01")
    _finding(rsj, "site.veto_columns", "栏目不更新单项否决：应更新但长期未更新的栏目数量超过(含)3个")
    jyj = rnd.sites.get(website__name="清河县教育局网站")
    _finding(jyj, "link.dead", f"站内链接“旧通知”无法访问（页面不存在，HTTP 404），共1处引用，如{jyj.website.home_url}",
             url="http://d3.qinghe.gov.cn/old.html", referrers=[{"page": jyj.website.home_url, "text": "旧通知"}], external=False)
    fgw = rnd.sites.get(website__name="清河县发展和改革局网站")  # could not be checked: not in the text
    _finding(fgw, "site.unreachable", "监测期内多次访问失败")
    acc = Account.objects.create(platform="微博", name="清河教育", owner=jyj.website.owner)
    ra = RoundAccount.objects.create(round=rnd, account=acc, status="checked", verdict="fail")
    for n in range(2):
        Finding.objects.create(round=rnd, round_account=ra, rule="newmedia.not_filed", url=f"http://weibo.example/{n}",
                               detail=f"账号{n}未备案", responsible_unit=jyj.website.owner)
    data = round_data(rnd)
    charts = make_charts(data, tmp_path / "图表", group_titles(), load_rules("catalog")["rules"])
    chart = dict(next(c for c in charts if c["caption"] == "发现问题数量（按类型）")["values"])
    doc = Document(write_bulletin(data, tmp_path / "通报.docx", charts=charts))
    text = _text_counts([p.text for p in doc.paragraphs])
    assert chart == text
    assert chart["网站链接存在问题"] == 2  # four link findings: one bad link (three) and one dead link
    assert chart["栏目更新不及时"] == 3 and chart["政务新媒体管理不规范"] == 2 and "部分网站未能完整检查" not in chart
    body = "".join(p.text for p in doc.paragraphs)  # the example read from the finding's subject and facts
    assert "清河县人社局网站“工作动态”栏目最新信息发布于2026年3月1日，已267天未更新" in body
