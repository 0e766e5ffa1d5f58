"""The daily incremental pass: every site crawled with conditional requests against its previous crawl; the pages that
are new or changed get the content checks (personal data, wording, illegal and hidden links); new problems are recorded
as findings of a daily monitoring round.

How it is modelled: a Round named "日常监测 YYYY-MM-DD" (Round.daily) with one site job per website,
run by the same machinery as any round (rounds/jobs.py run_job: the local runner in embedded mode, Celery workers in
cluster mode). A site job of a daily round calls daily_site_work instead of the full inspection:

- the crawl is the site's full crawl (every page reached, so new pages are found wherever they are linked) with
  If-None-Match / If-Modified-Since against the previous crawl (rounds/jobs.py previous_crawl: the latest finished
  round's, a full round's or yesterday's daily one); an unchanged page answers 304 and is reused from the earlier WARC;
- only pages fetched with a body (new, or changed since) are scanned, and only the links found on them are probed;
- a problem already recorded for the site in an earlier round (same fingerprint) is not raised again: the round's
  findings are what appeared since, for the office to act on between full rounds;
- availability (WV-2), columns, freshness and the other site-wide checks are the full rounds' business: a daily round
  has none of them, it is not scored against the scheme and it never closes or reopens rectification items.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

DAILY_PREFIX = "日常监测"
# the content rules a daily pass applies to new pages (engine/content ALL_RULES) and the link rules it keeps
LINK_RULES = ("link.illegal", "link.hidden")


def is_daily(rnd) -> bool:
    return bool(rnd.daily)


def daily_name(day: dt.date) -> str:
    return f"{DAILY_PREFIX} {day.isoformat()}"


def start_daily_round(day: dt.date | None = None, crawl: dict | None = None, websites=None):
    """The daily monitoring round of `day` (today, Asia/Shanghai), planned and queued for the runner or the workers; the
    existing one when it was started already (a schedule sent twice starts one round). None when no site is registered.
    crawl: CrawlConfig fields; default those of the template round (schedules.template_round: the latest full round, or
    GOVINSPECT_ROUND_TEMPLATE) with its allowed networks (else GOVINSPECT_ALLOW_NETWORKS)."""
    from django.db import transaction
    from django.utils import timezone

    from ..registry.models import Website
    from ..rounds.models import Round
    from ..rounds.services import crawl_options, event, start_round
    from ..schedules import template_round

    day = day or timezone.localdate()
    name = daily_name(day)
    tpl = template_round() if crawl is None else None  # the crawl settings of the full rounds (networks, DNS, limits)
    if crawl is None:
        crawl = crawl_options(tpl) if tpl else {}
    allow = tpl.allow_networks if tpl is not None and tpl.allow_networks else _allow_networks()
    sites = list(websites) if websites is not None else list(Website.objects.all())
    if not sites:
        return None
    with transaction.atomic():
        existing = Round.objects.select_for_update().filter(name=name, daily=True).first()
        if existing is not None:
            return existing
        rnd = Round.objects.create(name=name, as_of=day, region="日常监测", allow_networks=allow, daily=True)
    options = {"delay": 0.5, **(crawl or {})}
    jobs = start_round(rnd, websites=sites, crawl=options, accounts=False)
    Round.objects.filter(pk=rnd.pk, status="pending").update(status="queued")
    event(rnd, "queue", f"计划任务：日常增量抓取，检查任务{len(jobs)}项（新增和变化的页面做内容检查）")
    rnd.refresh_from_db()
    return rnd


def _allow_networks() -> str:
    import os

    return os.environ.get("GOVINSPECT_ALLOW_NETWORKS", "").strip()


# ------------------------------------------------------------------------------------------- the job's work
def daily_site_work(job, rules):
    """rounds/jobs.py WORK["site"] for a daily round: (SiteReport, artifacts) like the full inspection's."""
    from ..registry.models import Website
    from ..rounds.jobs import content_checker, previous_crawl, site_config, site_key
    from ..rounds.models import Finding
    from ..storage import storage

    rnd = job.round
    site = Website.objects.get(pk=job.target)
    key = site_key(rnd, site)
    previous = previous_crawl(rnd, site)
    rep = asyncio.run(inspect_changes(site.home_url, rnd.as_of, site_config(rnd, site), storage().path(key), previous,
                                      content_checker(rnd.as_of, rules), rules,
                                      on_progress=getattr(job, "report_progress", None)))
    rep.crawl_stats["baseline"] = bool(previous)
    known = set(Finding.objects.filter(round_site__website=site).exclude(round=rnd)
                .filter(fingerprint__in=[f.fingerprint for f in rep.findings]).values_list("fingerprint", flat=True))
    rep.check_stats["daily"] = {**rep.check_stats.get("daily", {}), "known_before": sum(f.fingerprint in known for f in rep.findings)}
    rep.findings = [f for f in rep.findings if f.fingerprint not in known]
    return rep, {"crawl": key}


async def inspect_changes(site_url: str, as_of: dt.date, cfg, out_dir, previous, checker, rules, on_progress=None):
    """Crawl the site incrementally and check the content of its new and changed pages (and the links on them).
    A SiteReport with those findings only (no columns, no availability, no site-wide checks)."""
    from ..engine.checks.content import SiteContent
    from ..engine.checks.registry import SiteContext, site_checks
    from ..engine.fetch.crawler import crawl_site_async
    from ..engine.inspect import SiteReport, _capture_evidence

    content = SiteContent(checker)
    changed: set[str] = set()

    def on_page(rec, page):
        if rec.revisit:  # 304 Not Modified: the page as the previous crawl saw it, checked then
            return
        if not (200 <= (rec.status or 0) < 300):  # an error page (a dead link's 404) is no content of the site
            return
        changed.add(rec.url)
        content.on_page(rec, page)

    crawl = await crawl_site_async(site_url, cfg, out_dir, [], previous, on_page, on_progress)
    home_url = crawl.site_url
    report = SiteReport(site_url=home_url, as_of=as_of, status="checked", pages_fetched=crawl.pages_fetched,
                        crawl_stats=crawl.stats, warc_path=crawl.warc_path, log_path=crawl.log_path,
                        started_at=crawl.started_at, finished_at=crawl.finished_at)
    home = crawl.get(home_url)
    if home is None or not home.ok or home.page is None:
        why = (home.error if home and home.error else f"HTTP {home.status}" if home else "未抓取")
        report.status, report.reason = "could_not_check", f"首页无法访问（{why}），本次日常监测未能检查"
        return report
    # the new and changed part of the site: HTML pages fetched with a body, and attachments fetched anew
    fresh = {u: r for u, r in crawl.records.items() if not r.revisit and r.ok and (r.page is None or r.url in changed)}
    view = dataclasses.replace(crawl, records=fresh, _full_cache={})
    # dead links are the full rounds' (confirmed by a second probe a while later): here a failed probe is not waited on
    link_cfg = dataclasses.replace(cfg, link_recheck_interval=0.0)
    ctx = SiteContext(crawl=view, home_url=home_url, as_of=as_of, rules=rules, cfg=link_cfg, content=content,
                      check_stats=report.check_stats, undecided=report.undecided, sampled=report.sampled)
    checks = {c.id: c for c in site_checks()}
    findings = list(checks["content"].run(ctx))
    if cfg.check_links:
        found = checks["links"].run(ctx)
        if asyncio.iscoroutine(found):
            found = await found
        findings += [f for f in found if f.rule in LINK_RULES]
    _capture_evidence(findings, crawl, home_url)
    report.findings = findings
    report.check_stats["daily"] = {
        "pages_new_or_changed": sum(1 for r in fresh.values() if r.page is not None and r.ok),
        "attachments_new_or_changed": sum(1 for r in fresh.values() if r.page is None and r.ok),
        "pages_not_modified": crawl.stats.get("not_modified", 0),
    }
    return report
