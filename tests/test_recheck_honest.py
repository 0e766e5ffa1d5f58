"""Honest re-checks (issue 14, item 4): a finding is 已整改 only on positive evidence.

One round over a five-site sandbox county that plants problems of every rule family, then two re-checks of it:
on the unchanged sandbox (nothing may be called fixed, whatever the family), and after the units really removed
some problems (govinspect/sandbox/fixes.py): exactly those are fixed, everything else is not.
"""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest

from govinspect.engine.fetch.crawler import normalise_url
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import RecheckResult, Round, RoundEvent
from govinspect.rounds.recheck import recheck_kind, run_recheck
from govinspect.rounds.services import run_round
from govinspect.rules.ruleset import RuleSet
from govinspect.sandbox import generate_county
from govinspect.sandbox.fixes import FIXABLE, fix_problems
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

pytestmark = pytest.mark.django_db

FAMILIES = {"site": "site.", "column": "column.", "links": "link.", "content": ("content.", "privacy."),
            "disclosure": "disclosure.", "policy": "policy.", "interaction": "interaction.", "newmedia": "newmedia."}


def family(f) -> str:
    if f.round_account_id:
        return "newmedia"
    return next(k for k, p in FAMILIES.items() if f.rule.startswith(p))


def test_every_rule_declares_what_a_recheck_needs():
    rules = RuleSet.load()["catalog"]["rules"]
    kinds = {r: spec.get("recheck") for r, spec in rules.items()}
    assert not [r for r, k in kinds.items() if k is None], "every rule must declare recheck"
    assert set(kinds.values()) <= {"page", "site", "links", "account", "register", "none"}, set(kinds.values())
    # what needs other pages or the whole site is never judged from one page
    for rule in ("interaction.unanswered", "disclosure.guide_no_year", "policy.interpretation_missing",
                 "policy.interpretation_late", "policy.interpretation_unlinked", "site.footer_missing", "site.veto_columns"):
        assert kinds[rule] == "site", rule
    assert kinds["site.unreachable"] == kinds["content.backdated"] == "none"
    assert recheck_kind("no.such_rule") == "none"


def _masked_in(text: str, sentence: str) -> bool:
    """The finding's matched text (personal numbers masked: 1305**********8024) is part of the planted sentence."""
    pattern = "".join(f"[0-9Xx]{{{len(run)}}}" if run.startswith("*") else re.escape(run) for run in re.findall(r"\*+|[^*]+", text))
    return re.search(pattern, sentence) is not None


def _matches(f, gone: dict, srv, county) -> bool:
    """Is finding f one of the planted problems the units removed?"""
    for g in gone:
        site = county.site(g["site"])
        if f.rule != g["rule"]:
            continue
        if f.round_account_id:
            if g["path"] == "/rss.xml" and f.round_account.account.owner.name == site.unit:
                return True
            continue
        if f.round_site.website.home_url.rstrip("/") != srv.urls[g["site"]].rstrip("/"):
            continue
        place = g["url"] or srv.url(g["site"], g["path"])
        same_place = normalise_url(f.url) == normalise_url(place) or (
            f.rule.startswith("column.") and urlsplit(f.url).path in (g["path"], g["path"].replace("index.html", "")))
        if not same_place and f.rule == "content.sensitive" and g["path"] == "/":
            same_place = normalise_url(f.url) == normalise_url(srv.url(g["site"], "/"))
        text = f.match
        if same_place and (not g["text"] or not text or _masked_in(text, g["text"])):
            return True
    return False


def test_recheck_invents_no_fixes_and_finds_real_ones(tmp_path):
    # portal, 教育局, 卫健委, 自然资源局, 人社局, 城关镇: every rule family is planted; no infinite calendar, no 11 MB page
    county = generate_county(seed=2026, n_sites=6, pages_per_site=40,
                             faults={"wjw": {"traps": False}, "zrzyj": {"oversize": False}})
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings(link_recheck_interval=0.05)
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8",
                                  period_start=county.as_of - dt.timedelta(days=91))
        run_round(r1, crawl=crawl, processes=1)
        findings = list(r1.findings.filter(ignored_by__isnull=True).select_related("round_site__website", "round_account__account__owner"))
        assert {family(f) for f in findings} == set(FAMILIES), {family(f) for f in findings}

        # 1. the unchanged sandbox: zero 已整改, in every family
        same = Round.objects.create(name="复查（未整改）", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        counts = run_recheck(same, crawl=crawl)
        res = {r.finding_id: r for r in RecheckResult.objects.filter(round=same)}
        assert set(res) == {f.pk for f in findings}
        invented = [(f.rule, f.url, res[f.pk].reason) for f in findings if res[f.pk].state == "fixed"]
        assert not invented and counts["fixed"] == 0, invented
        for fam in FAMILIES:  # not "could not check" across the board either: each family is seen again
            assert any(res[f.pk].state == "present" for f in findings if family(f) == fam), fam
        assert all(r.reason for r in res.values() if r.state == "unknown")  # a Chinese reason, never blank
        assert [e.kind for e in RoundEvent.objects.filter(round=same)] == ["start", "finish"]

        # 2. the units really removed some problems: those, and only those, are fixed
        # a fresh article in a stale column also freshens the home page and the veto count: the stale fix is made
        # on the portal only, whose home page and veto count do not depend on it
        gone = fix_problems(county, [r for r in FIXABLE if r != "column.stale"]) + fix_problems(county, ["column.stale"], ["portal"])
        srv.refresh()
        assert {g["rule"] for g in gone} >= {"site.footer_missing", "column.stale", "link.hidden", "link.illegal", "privacy.id_number",
                                            "disclosure.guide_no_year", "policy.interpretation_missing",
                                            "interaction.unanswered", "newmedia.not_updated"}
        fixed = Round.objects.create(name="复查（已整改）", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        run_recheck(fixed, crawl=crawl)
    res = {r.finding_id: r for r in RecheckResult.objects.filter(round=fixed)}
    expected = {f.pk for f in findings if _matches(f, gone, srv, county)}
    got = {pk for pk, r in res.items() if r.state == "fixed"}
    by_pk = {f.pk: f for f in findings}
    assert not got - expected, [(by_pk[pk].rule, by_pk[pk].url, by_pk[pk].match, res[pk].reason) for pk in got - expected]
    assert not expected - got, [(by_pk[pk].rule, by_pk[pk].url, res[pk].state, res[pk].reason) for pk in expected - got]
    assert {family(by_pk[pk]) for pk in got} == set(FAMILIES)  # at least one real fix seen in every family


def test_recheck_with_discovered_columns_invents_no_fixes(tmp_path):
    # no columns in the registry: the round finds them in the navigation, and the re-check reads the same ones again
    from govinspect.registry.models import Column

    county = generate_county(seed=2027, n_sites=3, pages_per_site=30, faults={"wjw": {"traps": False}})
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        Column.objects.all().delete()
        crawl = srv.crawl_settings(link_recheck_interval=0.05)
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r1, crawl=crawl, processes=1)
        assert r1.sites.filter(columns_discovered=True).count() == 3
        findings = list(r1.findings.filter(ignored_by__isnull=True, round_site__isnull=False))
        rc = Round.objects.create(name="复查", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        counts = run_recheck(rc, crawl=crawl)
    res = {r.finding_id: r for r in RecheckResult.objects.filter(round=rc)}
    assert counts["fixed"] == 0, [(f.rule, f.url, res[f.pk].reason) for f in findings if res[f.pk].state == "fixed"]
    site_rules = [f for f in findings if recheck_kind(f.rule) == "site"]
    assert site_rules and all(res[f.pk].state == "present" for f in site_rules), \
        [(f.rule, res[f.pk].state, res[f.pk].reason) for f in site_rules if res[f.pk].state != "present"]


def test_text_found_on_several_pages_is_not_fixed_because_another_page_was_met_first(tmp_path):
    # the same misspelt sentence on two articles: one finding (on the smaller URL), the other page in its facts. The
    # re-check meets the pages in another order: that must not turn the finding into 已整改.
    from govinspect.sandbox import ids

    county = generate_county(seed=31, n_sites=1, pages_per_site=100, no_default_faults=True)
    col = county.sites[0].column("zwyw")
    assert len(col.articles) > 5
    newer, older = col.articles[0], col.articles[-1]  # on the home page; only in the column's list
    body = ["为进一步做好全县安全生产工作，切实保障人民群众生命财产安全，现就有关事项通知如下。",
            "请各单位认真按装调试设备，确保正常运行。",
            "各乡镇、各有关部门要加强协调配合，形成工作合力，及时报送工作进展情况和存在的问题。"]
    newer.paragraphs = list(body)
    older.paragraphs = body + ["本通知未尽事宜请咨询联系人。", f"联系人：张伟，联系电话：{ids.make_mobile(__import__('random').Random(1))}。"]
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        # one request at a time: the round meets the newer article first (linked from the home page), the re-check the
        # older one (the pages it fetches go in URL order)
        crawl = srv.crawl_settings(link_recheck_interval=0.05, concurrency_per_host=1)
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r1, crawl=crawl, processes=1)
        typo = r1.findings.get(rule="content.misspelling", match="按装")
        pages = {normalise_url(srv.url("portal", a.path)) for a in (newer, older)}
        assert {normalise_url(typo.url), *map(normalise_url, typo.facts.get("others", []))} == pages
        assert normalise_url(typo.url) == min(pages)  # on the smallest URL, whichever page the crawl met first
        assert r1.findings.filter(rule="privacy.mobile", url=srv.url("portal", older.path)).exists()  # the re-check fetches it
        rc = Round.objects.create(name="复查", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        run_recheck(rc, crawl=crawl)
    r = RecheckResult.objects.get(round=rc, finding=typo)
    assert r.state == "present", r.reason
    assert rc.findings.count() == 0  # (a re-check records no findings of its own: the order is the crawler's)


def test_an_attachment_that_cannot_be_read_is_not_a_clean_one(tmp_path):
    county = generate_county(seed=2026, n_sites=1, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings(link_recheck_interval=0.05)
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r1, crawl=crawl, processes=1)
        leak = r1.findings.get(rule="privacy.id_number", url__endswith=".pdf")
        # the unit replaces the PDF by a damaged file: nothing can be read from it, which proves nothing
        county.sites[0].extra_routes[urlsplit(leak.url).path] = ("raw", (b"%PDF-1.4\n%damaged", "application/pdf"))
        srv.refresh()
        rc = Round.objects.create(name="复查", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        run_recheck(rc, crawl=crawl)
    r = RecheckResult.objects.get(round=rc, finding=leak)
    assert r.state == "unknown" and "未能读取" in r.reason, (r.state, r.reason)
