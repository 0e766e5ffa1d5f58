"""Column categories from names, as data (issue 15 item 2), and what an unrecognised name means.

Real column names (facts seen on real county, city, provincial and national portals: navigation menus, home-page
blocks, ColumnName meta tags) classify to the category whose update window applies; a name that says nothing of
what the column holds is `unknown` — “类别未识别，未判断更新情况”, counted as could-not-check in check-site output,
round.json and the bulletin — never silently `other` with no window.
"""

import datetime as dt
import re

import pytest

from govinspect.engine.checks.freshness import UNKNOWN, ColumnSpec, category_by_id, check_column, classify
from govinspect.engine.inspect import inspect_site
from govinspect.rules import load_rules
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()

# name -> category, as written on real portals (menus, blocks and ColumnName metas of the pages in
# ../shared/realdata and of the county portals described in reference/real-portals.md)
REAL_NAMES = {
    # 动态要闻 (2 weeks)
    "工作动态": "dynamic", "部门动态": "dynamic", "乡镇动态": "dynamic", "县市区动态": "dynamic", "图片新闻": "dynamic",
    "视频新闻": "dynamic", "政务要闻": "dynamic", "增城要闻": "dynamic", "山西要闻": "dynamic", "头条新闻": "dynamic",
    "综合新闻": "dynamic", "媒体聚焦": "dynamic", "天河动态": "dynamic", "监管动态": "dynamic", "政务动态": "dynamic",
    "动态资讯": "dynamic", "领导活动": "dynamic", "部门信息": "dynamic", "政声传递": "dynamic",
    # 通知公告 (6 months)
    "通知公告": "notice", "公示公告": "notice", "公告公示": "notice", "公告通知": "notice", "业务通知": "notice",
    "政府公告": "notice", "仲裁公告": "notice", "官方公告": "notice",
    # 政策文件 (6 months)
    "政策文件": "policy", "政府文件": "policy", "县政府办文件": "policy", "县政府文件": "policy", "部门文件": "policy",
    "规范性文件": "policy", "市部门规范性文件": "policy", "政策法规": "policy", "本级文件": "policy",
    # 人事 and 规划计划 (1 year)
    "人事信息": "personnel", "人事任免": "personnel", "人事工作": "personnel", "招考录用": "personnel",
    "规划计划": "plan", "发展规划": "plan", "规划信息": "plan", "工作总结": "plan", "政府工作报告": "plan",
    # 财政 (1 year)
    "财政预决算": "fiscal", "部门预决算": "fiscal", "三公经费": "fiscal", "财政资金": "fiscal", "财务信息": "fiscal",
    # recognised, no update window
    "政策解读": "interpretation", "文件解读": "interpretation", "数据解读": "interpretation",
    "领导信箱": "interaction", "区长信箱": "interaction", "省长信箱": "interaction", "政务咨询": "interaction",
    "意见征集": "interaction", "民意征集": "interaction", "调查征集": "interaction", "在线访谈": "interaction",
    "留言选登": "interaction", "网上信访": "interaction", "回应关切": "interaction", "网上调查": "interaction",
    "政府信息公开指南": "disclosure", "政府信息公开年报": "disclosure", "政府信息公开年度报告": "disclosure",
    "政府信息公开制度": "disclosure", "依申请公开": "disclosure", "网站年度报表": "disclosure", "政府信息公开": "disclosure",
    "机构概况": "info", "机构职能": "info", "领导之窗": "info", "增城概况": "info", "宜春概况": "info",
    "新闻发言人": "info",
    "新闻发布会": "other", "建议提案办理": "other", "统计数据": "other", "统计公报": "other", "行政许可": "other",
    "行政处罚": "other", "政府采购": "other", "采购招标": "other", "双随机、一公开": "other", "重大决策": "other",
    "政府公报": "other", "权责清单": "other", "行政法规": "other", "信用公示": "other", "办事指南": "other",
    "文件下载": "other", "双公示": "other", "招标公告": "other", "新闻发布": "other",
    # names that say nothing of what the column holds: must stay unrecognised
    "魅力广州": "unknown", "走进增城": "unknown", "专题专栏": "unknown", "业务专题": "unknown", "养老保险": "unknown",
    "民政": "unknown", "人才工作": "unknown", "投资运行": "unknown", "监管局本级": "unknown", "稳就业保就业信息": "unknown",
    "招生考试": "unknown", "政务公开": "unknown", "更多>>": "unknown", "第5期": "unknown", "美丽乡村": "unknown",
}


@pytest.mark.parametrize("name, category", sorted(REAL_NAMES.items()))
def test_real_column_names_classify(name, category):
    assert classify(name, RS['freshness'])["id"] == category


def test_the_issues_examples_get_their_windows():
    """The names an office's real site showed as `other` with no window now carry their category's window."""
    assert classify("县政府办文件", RS['freshness'])["window"] == "6m"
    assert classify("财政预决算", RS['freshness'])["window"] == "1y" and classify("部门预决算", RS['freshness'])["window"] == "1y"
    assert classify("乡镇动态", RS['freshness'])["window"] == "14d" and classify("公示公告", RS['freshness'])["window"] == "6m"
    # the most specific wording wins over a shorter keyword of another category
    assert classify("新闻发布会", RS['freshness'])["id"] != "dynamic" and classify("文件解读", RS['freshness'])["id"] == "interpretation"
    assert classify("领导信箱", RS['freshness'])["id"] == "interaction" and classify("计划生育", RS['freshness'])["id"] != "plan"


def test_every_category_has_a_label_and_a_valid_window():
    cats = load_rules("freshness")["category"]
    ids = [c["id"] for c in cats]
    assert len(ids) == len(set(ids)) and UNKNOWN in ids and "fiscal" in ids
    for c in cats:
        assert c["label"] and re.fullmatch(r"(\d+[dmy])?", c["window"]), c
    unknown = category_by_id(UNKNOWN, RS['freshness'])
    assert unknown["keywords"] == [] and unknown["window"] == "" and unknown["reason"] == "类别未识别，未判断更新情况"


def test_registry_offers_every_category_an_office_can_confirm():
    """The registry's 栏目类别 choices are the rules' categories (an office confirms or corrects one), except
    `unknown`, which is what a name without a category gets, not something to choose."""
    from govinspect.registry.models import COLUMN_CATEGORIES

    rules = {c["id"]: c["label"] for c in load_rules("freshness")["category"] if c["id"] != UNKNOWN}
    assert dict(COLUMN_CATEGORIES) == rules


def test_realdata_column_names(realdata):
    """ColumnName metas and menu texts of the real pages classify as a person reading them would."""
    names = set()
    for f in sorted(realdata.glob("pages*/**/*.html")):
        text = f.read_bytes().decode("utf-8", "replace")
        names.update(re.findall(r'<meta name="ColumnName" content="([^"]+)"', text))
    expected = {"通知公告": "notice", "业务通知": "notice", "仲裁公告": "notice", "媒体聚焦": "dynamic", "山西要闻": "dynamic",
                "统计公报": "other", "统计数据": "other", "行政法规": "other", "政府信息公开平台": "disclosure",
                "养老保险": "unknown", "民政": "unknown", "投资运行": "unknown", "招生考试": "unknown", "第5期": "unknown"}
    present = {n: c for n, c in expected.items() if n in names}
    assert len(present) >= 10, sorted(names)  # the pages are the ones described in labels.json
    assert {n: classify(n, RS['freshness'])["id"] for n in present} == present


# menu and block texts of real home pages and article pages, by file: they must be on the page (so the names are
# real) and classify as listed
NAVIGATION = {
    "pages/yichun-home.html": {"政务要闻": "dynamic", "县市区动态": "dynamic", "部门信息": "dynamic", "政府文件": "policy",
                               "规划计划": "plan", "财政资金": "fiscal", "政府信息公开指南": "disclosure",
                               "领导信箱": "interaction", "调查征集": "interaction", "政府公告": "notice", "宜春概况": "info",
                               "走进宜春": "unknown", "专题专栏": "unknown"},
    "pages-v2/gz-zc/article-1.html": {"增城要闻": "dynamic", "部门动态": "dynamic", "人事工作": "personnel",
                                      "区长信箱": "interaction", "意见征集": "interaction", "政策解读": "interpretation",
                                      "通知公告": "notice", "魅力增城": "unknown", "走进增城": "unknown"},
    "pages-v2/drc-gd/list-1.html": {"工作动态": "dynamic", "公告公示": "notice", "政策文件": "policy", "规划计划": "plan",
                                    "业务通知": "notice", "建议提案办理": "other", "机构概况": "info"},
    "pages/zjfgw-article.html": {"动态资讯": "dynamic", "政策文件": "policy", "财务信息": "fiscal", "人事信息": "personnel",
                                 "机构职能": "info"},
}


@pytest.mark.parametrize("path", sorted(NAVIGATION))
def test_realdata_navigation_names(realdata, path):
    f = realdata / path
    if not f.exists():
        pytest.skip(f"{path} is not present")
    text = f.read_bytes().decode("utf-8", "replace")
    for name, category in NAVIGATION[path].items():
        assert name in text, (path, name)  # a real name on that page
        assert classify(name, RS['freshness'])["id"] == category, (path, name)


def test_rules_file_decides(tmp_path, monkeypatch):
    """Categories are data: an office's own freshness.toml recognises its own names."""
    from govinspect.rules import RULES_DIR

    text = (RULES_DIR / "freshness.toml").read_text(encoding="utf-8")
    text = text.replace('keywords = ["要闻", "动态",', 'keywords = ["魅力", "要闻", "动态",', 1)
    (tmp_path / "freshness.toml").write_text(text, encoding="utf-8")
    assert classify("魅力清河", RuleSet.load(overrides=tmp_path)["freshness"])["id"] == "dynamic"
    assert classify("魅力清河", RS['freshness'])["id"] == UNKNOWN


@pytest.fixture(scope="module")
def discovered(county, sandbox):
    """Three sandbox sites checked with no registry: columns from the navigation, categories from names."""
    return {key: inspect_site(sandbox.urls[key], county.as_of, sandbox.crawl_config(), content=False)
            for key in ("portal", "zrzyj", "jyj")}


def test_unrecognised_column_is_could_not_check_never_judged(discovered, county):
    # the portal's 魅力清河: items two years old — not stale, not fresh: not judged
    portal = {c.name: c for c in discovered["portal"].columns}
    m = portal["魅力清河"]
    assert m.category == UNKNOWN and m.category_label == "类别未识别" and m.status == "unknown"
    assert m.reason == "类别未识别，未判断更新情况" and m.item_count > 0
    d = m.to_dict()
    assert d["stale"] is None and d["empty"] is None and d["reason"] == "类别未识别，未判断更新情况"
    # zrzyj's unrecognised column is empty (暂无信息): not accused of being a blank column either
    zr = county.site("zrzyj")
    col = next(c for c in zr.columns if c.slug == "ywzt")
    assert not col.articles
    got = next(c for c in discovered["zrzyj"].columns if c.url.endswith(col.path))
    assert got.status == "unknown" and got.reason == "类别未识别，未判断更新情况"
    assert not [f for f in discovered["zrzyj"].findings if f.url == got.url]
    assert discovered["zrzyj"].veto["unknown"] >= 1


def test_fiscal_columns_have_a_one_year_window(discovered, county, sandbox):
    jyj = county.site("jyj")
    col = next(c for c in jyj.columns if c.slug == "czyjs")
    got = next(c for c in discovered["jyj"].columns if c.url.endswith(col.path))
    assert got.category == "fiscal" and got.window == "1y" and got.status == "stale"
    assert (county.as_of - got.newest_date).days > 365
    stale = [f for f in discovered["jyj"].findings if f.rule == "column.stale" and f.url == got.url]
    assert stale and "应在1年内更新" in stale[0].detail
    # not one of the 2015 普查 "应更新" columns: it does not count towards the WV-4b single veto
    assert discovered["jyj"].veto["should_update_stale"] == sum(
        1 for c in discovered["jyj"].columns if c.status == "stale" and c.category != "fiscal")


def test_registered_category_overrides_the_name(county, sandbox):
    """Once the office confirms a category in the registry, the unrecognised column is judged by it."""
    from govinspect.engine.fetch.crawler import crawl_site

    site = county.site("portal")
    col = next(c for c in site.columns if c.slug == "mlqh")
    url = sandbox.url("portal", col.path)
    crawl = crawl_site(sandbox.urls["portal"], sandbox.crawl_config(max_pages=60), seeds=[url])
    assert check_column(crawl, ColumnSpec(col.name, url), county.as_of, RS['freshness']).status == "unknown"
    confirmed = check_column(crawl, ColumnSpec(col.name, url, "dynamic"), county.as_of, RS['freshness'])
    assert confirmed.status == "stale" and confirmed.category == "dynamic"


@pytest.mark.django_db
def test_round_json_and_bulletin_count_unrecognised_columns_as_could_not_check():
    from govinspect.registry.models import Unit, Website
    from govinspect.reports.bulletin import compose
    from govinspect.reports.data import round_data
    from govinspect.rounds.models import ColumnCheck, Round, RoundSite

    unit = Unit.objects.create(name="清河县人民政府", kind="区县")
    rnd = Round.objects.create(name="2026年第四季度检查", region="清河县", office="清河县人民政府办公室", as_of=dt.date(2026, 11, 23),
                               period_start=dt.date(2026, 8, 24), status="done")
    w = Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/", owner=unit, is_portal=True)
    rs = RoundSite.objects.create(round=rnd, website=w, status="checked", verdict="pass", score=95, publication_count=10)
    rows = [("工作动态", "dynamic", "ok", ""), ("魅力清河", "unknown", "unknown", "类别未识别，未判断更新情况"),
            ("党建园地", "unknown", "unknown", "类别未识别，未判断更新情况"),
            ("通知公告", "notice", "unknown", "栏目页面无法访问：timeout")]
    for i, (name, cat, status, reason) in enumerate(rows):
        ColumnCheck.objects.create(round_site=rs, name=name, url=f"http://www.qinghe.gov.cn/c{i}/", category=cat, status=status,
                                   reason=reason, item_count=5)
    data = round_data(rnd)
    cols = {c["name"]: c for c in data["sites"][0]["columns"]}
    assert cols["魅力清河"]["reason"] == "类别未识别，未判断更新情况" and cols["魅力清河"]["stale"] is None
    assert cols["魅力清河"]["unclassified"] and not cols["通知公告"]["unclassified"]
    assert data["summary"]["columns_unknown"] == 3 and data["summary"]["columns_unclassified"] == 2
    text = "\n".join(compose(data)["overview"])
    assert "另有3个栏目未能检查，未计入问题。其中2个栏目类别未识别，未判断更新情况" in text
