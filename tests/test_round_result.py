"""The typed round result (rounds/result.py) and round.json built from it: findings as the contract (fingerprint,
subject, typed location, facts, capture evidence with the WARC record, severity, veto from the scheme), the round's
rule-set hash, ignored findings left out, every rate with the round's rounding."""

import datetime as dt
import json

import pytest

from govinspect.engine.fetch.warc import WarcSink
from govinspect.engine.finding import Evidence, Finding as EngineFinding, Location, Subject
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Unit, Website
from govinspect.reports.bulletin import _example, compose, sentences
from govinspect.reports.data import round_data
from govinspect.rounds.jobs import store_report
from govinspect.rounds.models import Finding, Ignore, Round, RoundSite
from govinspect.rounds.result import round_result
from govinspect.rules import load_rules
from govinspect.rules.ruleset import RuleSet
from govinspect.storage import storage

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)
HOME = "http://jyj.qinghe.gov.cn/"


def _round(scheme="county-example") -> tuple[Round, RuleSet]:
    rules = RuleSet.load(scheme)
    rnd = Round.objects.create(name="第四季度", region="清河县", office="清河县人民政府办公室", as_of=AS_OF, status="done",
                               scheme=scheme, rules_hash=rules.hash, rules_snapshot=rules.snapshot())
    return rnd, rules


def _stored(tmp_path):
    rnd, rules = _round()
    county = Unit.objects.create(name="清河县人民政府", kind="区县")
    unit = Unit.objects.create(name="清河县教育局", short_name="教育局", kind="部门", parent=county)
    site = Website.objects.create(name="清河县教育局网站", home_url=HOME, owner=unit)
    warc = storage().path(f"rounds/{rnd.pk}/site-{site.pk}/crawl.warc.gz")
    sink = WarcSink(warc, HOME)
    offset = sink.write_response(HOME + "a.html", 200, "OK", [("Content-Type", "text/html")], "加强管里工作".encode())
    sink.close()
    stale = EngineFinding.at_url("site.homepage_stale", HOME, "首页最新信息发布于2026年10月30日，超过2周未更新", kind="site",
                                 facts={"newest_date": "2026-10-30"})
    typo = EngineFinding.at_url("content.typo", HOME + "a.html", "疑似错别字“管里”", site=HOME, facts={"text": "管里"})
    typo.evidence = Evidence(captured_at="2026-11-23T02:00:00+00:00", http_status=200, warc_file=str(warc), warc_offset=offset,
                             excerpt="加强管里工作", hit=(2, 4))
    dead = EngineFinding.at_url("link.dead", HOME + "old.html", "站内链接“旧通知”无法访问", kind="link", site=HOME,
                                facts={"referrers": [{"page": HOME, "text": "旧通知"}], "referrer_count": 1, "external": False,
                                       "second_probe": {"status": 404}})
    store_report(rnd, site, SiteReport(site_url=HOME, as_of=AS_OF, status="checked", pages_fetched=3, findings=[stale, typo, dead],
                                       warc_path=str(warc)), rules)
    ignore = Ignore.objects.create(rule="link.dead", scope="page", website=site, url=HOME + "old.html", reason="已撤下",
                                   created_by="测试")
    Finding.objects.filter(round=rnd, rule="link.dead").update(ignored_by=ignore)
    reg = EngineFinding(rule="document.published_late", detail="《关于印发方案的通知》公开不及时",
                        subject=Subject(kind="register_row", unit="清河县教育局", ref="清教〔2026〕3号"),
                        location=Location(file="公文台账.xlsx", sheet="Sheet1", row=3), facts={"workdays": 25})
    Finding.from_engine(reg, rules, round=rnd, responsible_unit=unit).save()
    return rnd, rules, offset


def test_round_result_is_typed_and_complete(tmp_path):
    rnd, rules, offset = _stored(tmp_path)
    res = round_result(rnd)
    assert res.rules_hash == rules.hash == rnd.rules_hash and res.rules.scheme_key == "county-example"
    (site,) = res.sites
    assert site.owner.name == "清河县教育局" and site.owner.region_name == "" and site.status == "checked"
    by_rule = {sf.rule: sf for sf in site.findings}
    assert set(by_rule) == {"site.homepage_stale", "content.typo", "link.dead"}
    assert by_rule["site.homepage_stale"].veto and not by_rule["content.typo"].veto  # the scheme's veto list
    assert by_rule["link.dead"].ignored and [sf.rule for sf in res.findings()] != [sf.rule for sf in res.findings(ignored=True)]
    typo = by_rule["content.typo"]
    assert typo.finding.fingerprint == Finding.objects.get(pk=typo.id).fingerprint
    assert typo.finding.evidence.warc_offset == offset and typo.unit.name == "清河县教育局"
    (office,) = res.office_findings
    assert office.finding.location.row == 3 and office.finding.subject.kind == "register_row"


def test_round_json_findings_carry_the_contract(tmp_path):
    rnd, rules, offset = _stored(tmp_path)
    data = json.loads(json.dumps(round_data(rnd), ensure_ascii=False))  # JSON-able as written
    assert data["round"]["rules_hash"] == rules.hash
    assert data["sites"][0]["findings_ignored"] == 1
    assert {f["rule"] for f in data["findings"]} == {"site.homepage_stale", "content.typo", "document.published_late"}
    for f in data["findings"]:
        assert len(f["fingerprint"]) == 32 and f["subject"]["kind"] and f["location"]
        assert {"facts", "evidence", "severity", "veto"} <= set(f)
    typo = next(f for f in data["findings"] if f["rule"] == "content.typo")
    assert typo["location"] == {"url": HOME + "a.html"} and typo["facts"] == {"text": "管里"}
    assert typo["evidence"]["warc_file"] == f"rounds/{rnd.pk}/site-{rnd.sites.get().website_id}/crawl.warc.gz"
    assert typo["evidence"]["warc_offset"] == offset and typo["evidence"]["hit"] == [2, 4]
    reg = next(f for f in data["findings"] if f["rule"] == "document.published_late")
    assert reg["location"] == {"file": "公文台账.xlsx", "sheet": "Sheet1", "row": 3} and reg["url"] == ""
    assert next(f for f in data["findings"] if f["rule"] == "site.homepage_stale")["veto"] is True
    # the bulletin reads facts: the home page's date comes from facts.newest_date, in the one date format
    groups = dict(compose(data)["groups"])
    assert "1个网站首页超过2周未更新，如清河县教育局网站首页最新信息发布于2026年10月30日" in "".join(groups.values())


@pytest.mark.parametrize("scheme, rate", [("county-example", "93.54"), ("national-2019", "93.55")])
def test_rates_with_the_rounds_rounding(scheme, rate):
    """29 of 31 websites passed: the scheme's rounding (seed 003 truncates) in round.json and the bulletin."""
    rnd, _ = _round(scheme)
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    for i in range(31):
        w = Website.objects.create(name=f"网站{i}", home_url=f"http://w{i}.qinghe.gov.cn/", owner=unit)
        RoundSite.objects.create(round=rnd, website=w, status="checked", verdict="pass" if i < 29 else "fail", score=80)
    data = round_data(rnd)
    assert data["summary"]["pass_rate"] == rate and data["summary"]["pass_rate_by_kind"] == {"部门": rate}
    assert data["history"][-1]["pass_rate"] == rate
    assert f"检查合格率为{rate}%" in compose(data)["overview"][0]


def test_placeholder_text_sentence_from_facts(tmp_path):
    """site.placeholder_text: the bulletin's example is bulletin.toml's sentence filled from the finding's facts
    (its hits: field and text), never from its detail."""
    e = sentences(load_rules("bulletin"))["site.placeholder_text"]
    hits = [{"field": "title", "text": "公司网站", "placeholder": "公司网站"},
            {"field": "navigation", "text": "公司概况", "placeholder": "公司概况"}]
    f = {"rule": "site.placeholder_text", "detail": "（不读）", "facts": {"hits": hits}}
    assert _example(e, f, "甲网站") == "甲网站首页标题“公司网站”、主导航“公司概况”仍为模板占位内容"
    # the whole path: a stored finding, round.json, the bulletin's 二、存在的主要问题
    rnd, rules = _round()
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    site = Website.objects.create(name="清河县教育局网站", home_url=HOME, owner=unit)
    found = EngineFinding.at_url("site.placeholder_text", HOME, "网站首页仍保留模板占位内容", kind="site", facts={"hits": hits})
    store_report(rnd, site, SiteReport(site_url=HOME, as_of=AS_OF, status="checked", pages_fetched=1, findings=[found]), rules)
    c = compose(round_data(rnd))
    text = "".join(t for _, t in c["groups"])
    assert "清河县教育局网站首页标题“公司网站”、主导航“公司概况”仍为模板占位内容" in text and "（不读）" not in text
    row = next(r for a in c["attachments"] if a["key"] == "website" for r in a["rows"])  # 附件 政府网站
    assert row[2] == "首页仍保留模板占位内容（网页标题、关键词、描述或导航）"


def test_dead_link_written_from_its_facts():
    """A dead link's sentence in the lists comes from its facts (bulletin.toml line), not from its detail's technical
    text."""
    rnd, rules = _round()
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    site = Website.objects.create(name="清河县教育局网站", home_url=HOME, owner=unit)
    probe = {"status": None, "error": "ServerDisconnectedError: Server disconnected"}
    dead = EngineFinding.at_url("link.dead", "http://other.example/x.html", "外部链接无法访问（ServerDisconnectedError）", kind="link",
                                site=HOME, facts={"referrers": [{"page": HOME + "a.html", "text": "友情链接"}], "referrer_count": 2,
                                                  "external": True, "first_probe": probe, "second_probe": probe})
    store_report(rnd, site, SiteReport(site_url=HOME, as_of=AS_OF, status="checked", pages_fetched=1, findings=[dead]), rules)
    data = round_data(rnd)
    (line,) = data["problems"]
    assert line["detail"] == f"外部链接“友情链接”无法访问（无法连接网站服务器），共2处引用，如{HOME}a.html"
    assert data["findings"][0]["detail_raw"] == "外部链接无法访问（ServerDisconnectedError）"


def test_overdue_letters_on_their_units():
    """letter.overdue / ticket.overdue findings (on the handling unit) in 二、存在的主要问题 and the unit's 附件 row,
    written from their facts."""
    rnd, rules = _round()
    county = Unit.objects.create(name="清河县人民政府", kind="区县")
    unit = Unit.objects.create(name="清河县教育局", kind="部门", parent=county)
    for n, finished in ((1, "2026-11-20 10:00:00"), (2, None)):
        f = EngineFinding(rule="letter.overdue", detail="（不读）", subject=Subject(kind="letter", unit=unit.name, ref=f"N{n}"),
                          location=Location(file="信箱.xlsx", row=n + 1),
                          facts={"number": f"N{n}", "kind": "咨询", "unit": unit.name, "received": "2026-11-03 09:00:00",
                                 "due": "2026-11-10", "finished": finished, "workdays": 5})
        Finding.from_engine(f, rules, round=rnd, responsible_unit=unit).save()
    c = compose(round_data(rnd))
    groups = dict(c["groups"])
    assert groups["（一）网民留言和12345工单办理不及时。"] == (
        "信件办理超期2件，如清河县教育局承办的咨询类信件N1（2026年11月3日收到，应于2026年11月10日前办结）；"
        "清河县教育局承办的咨询类信件N2（2026年11月3日收到，应于2026年11月10日前办结）。")
    row = next(r for a in c["attachments"] if a["key"] == "disclosure" for r in a["rows"])
    assert row[2] == "2件网民留言办理超期" and row[3] == "清河县教育局"
