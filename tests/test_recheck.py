"""Re-check (复查): a round re-checks an earlier round's findings on the affected pages only.

A real round over a small sandbox county, then two problems are fixed on the live sandbox (a stale column gets a new
article, an article leaking personal data is cleaned), then the re-check: each finding is fixed / still present /
could not check, far fewer requests than the round, and both bulletins say so.
"""

import dataclasses
import datetime as dt
from urllib.parse import urlsplit

import pytest

from govinspect.registry.xlsx import import_registry
from govinspect.reports.bulletin import compose
from govinspect.reports.data import round_data
from govinspect.rounds.models import Finding, RecheckResult, Round
from govinspect.rounds.recheck import run_recheck
from govinspect.rounds.services import run_round
from govinspect.sandbox import generate_county
from govinspect.sandbox.county import Article, article_path
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

pytestmark = pytest.mark.django_db


def _article(county, url):
    path = urlsplit(url).path
    for site in county.sites:
        for c in site.columns:
            for a in c.articles:
                if a.path == path:
                    return a
    return None


def test_recheck_fixed_present_and_requests(tmp_path):
    county = generate_county(seed=7, n_sites=3, pages_per_site=60, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings()
        r1 = Round.objects.create(name="第一轮检查", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                  allow_networks="127.0.0.0/8", period_start=county.as_of - dt.timedelta(days=91))
        run_round(r1, crawl=crawl)
        first_requests = sum(a.requests for a in srv.apps.values())
        site_findings = list(r1.findings.filter(round_site__isnull=False, ignored_by__isnull=True))
        stale = [f for f in site_findings if f.rule == "column.stale"]
        leaks = [f for f in site_findings if f.rule.startswith("privacy.") and _article(county, f.url) is not None]
        assert stale and leaks, "the sandbox plants stale columns and personal data in articles"

        fixed_col = stale[0]
        col = next(c for s in county.sites for c in s.columns if urlsplit(fixed_col.url).path in (c.path, c.path.replace("index.html", "")))
        fam = "trs" if col.path.endswith("index.html") else "legacy"
        day = county.as_of - dt.timedelta(days=1)
        col.articles.insert(0, Article(aid=990001, title="关于做好冬季安全生产工作的通知", date=day,
                                       path=article_path(fam, col.slug, col.cid, 990001, day), column_slug=col.slug,
                                       paragraphs=["正文。"]))
        leak = leaks[0]
        art = _article(county, leak.url)
        art.paragraphs = ["（已按规定删除个人信息）"]
        art.attachments = []
        srv.refresh()
        before = sum(a.requests for a in srv.apps.values())

        rc = Round.objects.create(name="第一轮复查", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                  recheck_of=r1, allow_networks="127.0.0.0/8")
        counts = run_recheck(rc, crawl={**crawl, "link_recheck_interval": 0.1})
        recheck_requests = sum(a.requests for a in srv.apps.values()) - before

    states = {r.finding_id: r.state for r in RecheckResult.objects.filter(round=rc)}
    assert set(states) == set(r1.findings.filter(ignored_by__isnull=True).values_list("id", flat=True))  # every finding answered
    assert states[fixed_col.pk] == "fixed", RecheckResult.objects.get(round=rc, finding=fixed_col).reason
    same_leaks = [f for f in leaks if f.url == leak.url]
    assert all(states[f.pk] == "fixed" for f in same_leaks), [(f.rule, f.url, f.match, RecheckResult.objects.get(round=rc, finding=f).reason) for f in same_leaks]
    # what nobody touched is still there: the other stale columns and the other leaks
    assert all(states[f.pk] == "present" for f in stale[1:])
    assert all(states[f.pk] == "present" for f in leaks if f.url != leak.url)
    assert counts["fixed"] >= 2 and counts["present"] >= len(stale) - 1
    # the affected pages and, for site rules, the column lists (no general crawl): a fraction of the round's requests
    assert recheck_requests < first_requests / 2, (recheck_requests, first_requests)

    own = compose(round_data(rc))
    assert own["title"] == "关于第一轮检查发现问题整改复查情况的通报"
    assert own["overview"][0].startswith(f"（一）复查整改情况。对第一轮检查中发现的{len(states)}个问题进行了复查，已整改{counts['fixed']}个，"
                                         f"仍存在{counts['present']}个")
    table = own["attachments"][0]
    assert table["headers"][4] == "复查结果" and len(table["rows"]) == len(states)
    assert table["rows"][0][4] == "仍存在"  # what is still there comes first

    nxt = Round.objects.create(name="下一轮", region="清河县", office="清河县人民政府办公室",
                               as_of=county.as_of + dt.timedelta(days=30), status="done")
    paragraphs = compose(round_data(nxt))["overview"]
    assert any(p.endswith(f"已整改{counts['fixed']}个，仍存在{counts['present']}个，"
                          f"整改率为{100 * counts['fixed'] / (counts['fixed'] + counts['present']):.2f}%。"  # two decimals, 5.00 too
                          + (f"另有{counts['unknown']}个问题因相关页面无法访问或材料未重新提交，未能复查。" if counts["unknown"] else ""))
               for p in paragraphs), (paragraphs, counts)


def test_recheck_of_unreachable_site_is_could_not_check(tmp_path):
    county = generate_county(seed=8, n_sites=2, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        r1 = Round.objects.create(name="一轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r1, crawl=srv.crawl_settings())
        for s in county.sites:
            s.faults["down"] = 1.0
        srv.refresh()
        rc = Round.objects.create(name="复查", as_of=county.as_of, recheck_of=r1, allow_networks="127.0.0.0/8")
        counts = run_recheck(rc, crawl=srv.crawl_settings())
    n_site = Finding.objects.filter(round=r1, round_site__isnull=False, ignored_by__isnull=True).count()
    assert n_site > 0
    site_states = RecheckResult.objects.filter(round=rc, finding__round_site__isnull=False)
    assert site_states.count() == n_site and {r.state for r in site_states} == {"unknown"}  # never "fixed" by a dead site
    assert counts["unknown"] >= n_site
