"""Disclosure columns, interaction and footer checks."""

import datetime as dt

import pytest

from govinspect.engine.checks.disclosure import _doc_key, report_due
from govinspect.engine.checks.furniture import footer_items
from govinspect.engine.extract import extract_page
from govinspect.engine.inspect import inspect_site
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()

D = dt.date


def test_annual_report_due_year():
    assert report_due(D(2026, 1, 31), False, RS['disclosure'])[0] == 2024  # deadline day itself: not late yet
    assert report_due(D(2026, 2, 1), False, RS['disclosure'])[0] == 2025
    assert report_due(D(2026, 3, 31), True, RS['disclosure'])[0] == 2024
    assert report_due(D(2026, 4, 1), True, RS['disclosure'])[0] == 2025
    assert report_due(D(2026, 2, 15), None, RS['disclosure'])[0] == 2024  # unknown kind: the later deadline


def test_doc_key():
    assert _doc_key("清河县人民政府关于印发《清河县2026年耕地保护实施方案》的通知") == "清河县2026年耕地保护实施方案"
    assert _doc_key("清河县人民政府关于加强燃气安全管理的意见") == "加强燃气安全管理"


def test_footer_items_found_and_missing():
    html = """<html><body><div class="footer"><a href="http://bszs.conac.cn/sitename?id=1"><img alt="党政机关"></a>
    主办单位：清河县人民政府办公室 联系电话：0319-6000000 网站标识码：1305350001 冀ICP备10000000号
    <a href="http://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=1305350001">我为政府网站找错</a></div></body></html>"""
    items = footer_items(extract_page(html, "http://x.gov.cn/"), RS["furniture"])
    assert items["site_code"] == "网站标识码：1305350001" and items["conac"] and items["jiucuo"] and items["icp"]
    assert items["police"] is None  # no 公网安备 number


@pytest.fixture(scope="module")
def reports(county, sandbox):
    return {s.key: inspect_site(sandbox.urls[s.key], county.as_of, sandbox.crawl_config(),
                                government=s.unit_kind in ("区县", "乡镇"), site_code=s.site_code)
            for s in county.sites if s.key in ("portal", "rsj", "cgz", "bmz", "nyj", "wjw")}


def _rules(rep):
    return {f.rule for f in rep.findings}


def test_footer_missing_named(reports):
    rsj = next(f for f in reports["rsj"].findings if f.rule == "site.footer_missing")
    assert "党政机关网站标识" in rsj.detail and "网站标识码" in rsj.detail and "ICP" not in rsj.detail
    nyj = next(f for f in reports["nyj"].findings if f.rule == "site.footer_missing")
    assert nyj.facts["missing"] == ["ICP备案编号"]
    assert "site.footer_missing" not in _rules(reports["portal"])


def test_annual_report_and_guides(reports, county):
    cgz = next(f for f in reports["cgz"].findings if f.rule == "disclosure.annual_report_missing")
    assert cgz.facts["due_year"] == county.as_of.year - 1 and county.as_of.year - 2 in cgz.facts["years_found"]
    assert "disclosure.annual_report_missing" not in _rules(reports["portal"])
    assert "disclosure.guide_no_year" in _rules(reports["nyj"]) and "disclosure.guide_no_year" not in _rules(reports["portal"])
    inc = next(f for f in reports["wjw"].findings if f.rule == "disclosure.guide_incomplete")
    assert inc.facts["missing"] == ["办公时间", "传真"]


def test_policy_interpretation_missing_exactly_once(reports, county):
    for key in ("portal", "bmz"):
        found = [f for f in reports[key].findings if f.rule == "policy.interpretation_missing"]
        planted = [p for p in county.site(key).problems if p["rule"] == "policy.interpretation_missing"]
        assert len(found) == len(planted) == 1
    assert "policy.interpretation_missing" not in _rules(reports["rsj"])


def test_unanswered_letters(reports, county):
    f = next(f for f in reports["portal"].findings if f.rule == "interaction.unanswered")
    assert f.facts["days"] > 92
    # a letter received less than 3 months ago and not answered yet is not a problem
    assert sum(x.rule == "interaction.unanswered" for x in reports["portal"].findings) == 1
    letters = reports["portal"].check_stats["letters"]
    recent = [d for s in county.sites if s.key == "portal" for d in s.decoys if d["rule"] == "interaction.unanswered"]
    assert letters["unanswered"] == 1 + len(recent) and letters["answered"] >= 1


def test_domain_rules():
    from govinspect.engine.checks.structure import domain_findings

    ST = RS["structure"]

    assert domain_findings("http://127.0.0.1:8080/", None, None, ST) == []  # an address cannot be judged
    assert domain_findings("http://www.qinghe.gov.cn/", True, None, ST) == []
    assert "不以 .gov.cn 结尾" in domain_findings("http://www.qinghe.com.cn/", True, None, ST)[0].detail
    assert "www" in domain_findings("http://qinghe.gov.cn/", True, None, ST)[0].detail
    assert domain_findings("http://jyj.qinghe.gov.cn/", False, "http://www.qinghe.gov.cn/", ST) == []
    assert "下级域名" in domain_findings("http://jyj.other.gov.cn/", False, "http://www.qinghe.gov.cn/", ST)[0].detail


def test_required_columns_and_meta(reports):
    nyj = next(f for f in reports["nyj"].findings if f.rule == "site.required_column_missing")
    assert nyj.facts["missing"] == ["负责人信息"]
    assert "site.required_column_missing" not in _rules(reports["portal"])
    meta = next(f for f in reports["rsj"].findings if f.rule == "site.meta_missing")
    assert meta.facts["home_missing"] == ["SiteName", "SiteDomain", "SiteIDCode"]
    assert "site.meta_missing" not in _rules(reports["portal"])


def test_site_search_works_in_the_page_charset(reports, county, sandbox):
    # legacy GBK sites: the query is sent GBK-encoded, as a browser would, and finds the title
    for key in ("rsj", "nyj", "portal"):
        assert "site.search" not in _rules(reports[key])
    assert any("search.html?q=%" in k for k in sandbox.apps["nyj"].counts)


def test_broken_search_is_reported(county, sandbox):
    rep = inspect_site(sandbox.urls["zrzyj"], county.as_of, sandbox.crawl_config(check_links=False))
    f = next(f for f in rep.findings if f.rule == "site.search")
    assert f.facts["results"] == 0 and f.facts["query"] in f.facts["expected_title"]


def test_guide_qr_codes_only_when_the_local_scheme_asks(county, sandbox, tmp_path, monkeypatch):
    """LOC-8 is local: off by default (no finding above), on through a rules override."""
    from govinspect.engine.checks.freshness import ColumnSpec
    from govinspect.engine.extract import extract_page
    from govinspect.engine.inspect import inspect_site
    from govinspect.rules import RULES_DIR

    assert extract_page('<html><body><img src="/images/ewm_weixin.png"></body></html>', "http://x/").meta.get("__qr__") == "1"
    assert "__qr__" not in extract_page('<html><body><img src="/images/logo.png" alt="标志"></body></html>', "http://x/").meta
    text = (RULES_DIR / "disclosure.toml").read_text(encoding="utf-8").replace("require_qr = false", "require_qr = true")
    (tmp_path / "disclosure.toml").write_text(text, encoding="utf-8")
    s = county.site("portal")
    specs = [ColumnSpec(c.name, sandbox.url(s.key, c.path), c.category) for c in s.columns]
    rep = inspect_site(sandbox.urls[s.key], county.as_of, sandbox.crawl_config(check_links=False), specs, content=False,
                       rules=RuleSet.load(overrides=tmp_path))
    guide = [f for f in rep.findings if f.rule == "disclosure.guide_incomplete"]
    assert guide and "政务新媒体二维码（本地方案要求）" in guide[0].detail
