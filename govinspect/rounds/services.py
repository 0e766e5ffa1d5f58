"""Run a round: inspect every registered website (the pure engine) and store the results."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from ..engine.checks.freshness import ColumnSpec
from ..engine.fetch import CrawlConfig
from ..engine.fetch.crawler import normalise_url
from ..engine.inspect import SiteReport, inspect_site, inspect_site_async
from ..engine.pool import default_processes, site_pool
from ..monitor.services import availability_findings, site_availability
from ..registry.models import Website
from .ignores import apply_ignores
from .models import ColumnCheck, Finding, RecheckResult, Round, RoundAccount, RoundSite


def round_dir(rnd: Round) -> Path:
    return Path(settings.DATA_DIR) / "rounds" / str(rnd.pk)


def _specs(site: Website) -> list[ColumnSpec]:
    return [ColumnSpec(name=c.name, url=c.url, category=c.category or None, window=c.window_override or None,
                       level=c.level, unit=c.responsible_unit.name if c.responsible_unit else None)
            for c in site.columns.select_related("responsible_unit").all()]


def previous_crawl(rnd: Round, site: Website) -> Path | None:
    """The crawl of this website in the latest earlier finished round: the baseline for conditional requests."""
    rs = (RoundSite.objects.filter(website=site, round__status="done", status="checked", round__as_of__lte=rnd.as_of)
          .exclude(round=rnd).order_by("-round__as_of", "-round__id").first())
    if rs is None:
        return None
    d = round_dir(rs.round) / f"site-{site.pk}"
    return d if (d / "crawl-state.sqlite").exists() else None


def content_checker(as_of):
    """All content rules, with the registry's leader roster for content.leader."""
    from ..engine.content import ContentChecker
    from ..engine.content.leaders import Roster, Term
    from ..registry.models import Leader

    terms = [Term(l.name, l.title, l.unit.name, l.start, l.end) for l in Leader.objects.select_related("unit")]
    return ContentChecker(roster=Roster(terms, as_of) if terms else None)


def run_round(rnd: Round, websites: list[Website] | None = None, crawl: dict | None = None, progress: bool = False,
              site_concurrency: int = 4, processes: int | None = None) -> Round:
    """Inspect the round's websites concurrently (site_concurrency at a time) and store everything. processes: worker
    processes the sites are spread over (default: one per CPU core, at most site_concurrency; 1: all in this one)."""
    sites = list(websites if websites is not None else Website.objects.select_related("owner").all())
    rnd.status, rnd.started_at, rnd.error = "running", timezone.now(), ""
    rnd.save()
    allow = tuple(n.strip() for n in rnd.allow_networks.split(",") if n.strip())
    base = round_dir(rnd)
    specs = {s.pk: _specs(s) for s in sites}
    previous = {s.pk: previous_crawl(rnd, s) for s in sites}
    portal = next((s.home_url for s in Website.objects.filter(is_portal=True)[:1]), None)
    checker = content_checker(rnd.as_of)
    from ..engine import workdays

    workdays.load()  # the admin's calendar is read here: the checks below run in async code

    procs = min(processes or default_processes(), max(1, site_concurrency), len(sites))
    pool = site_pool(procs) if procs > 1 else None  # forked before the event loop starts
    bar = tqdm(total=len(sites), desc="检查网站", unit="站", disable=not progress, dynamic_ncols=True)
    pages = 0

    async def one(sem: asyncio.Semaphore, site: Website) -> SiteReport:
        nonlocal pages
        cfg = CrawlConfig(allow_networks=allow, extra_hosts=tuple(site.extra_host_list))
        cfg = dataclasses.replace(cfg, **(crawl or {}))
        async with sem:
            bar.set_postfix_str(f"正在抓取 {site.name}")
            job = (site.home_url, rnd.as_of, cfg, specs[site.pk] or None, base / f"site-{site.pk}")
            kw = dict(period_start=rnd.period_start, government=site.owner.kind in ("区县", "乡镇"),
                      site_code=site.site_code or None, previous=previous[site.pk], is_portal=site.is_portal,
                      portal_url=portal, content=checker, scheme=rnd.scheme)
            try:
                if pool is None:
                    rep = await inspect_site_async(*job, **kw)
                else:
                    rep = await asyncio.get_running_loop().run_in_executor(pool, functools.partial(inspect_site, *job, **kw))
                pages += rep.pages_fetched
                return rep
            finally:
                bar.update(1)
                bar.set_postfix_str(f"已抓取 {pages} 页")

    async def main():
        sem = asyncio.Semaphore(max(1, site_concurrency))
        try:
            return await asyncio.gather(*(one(sem, s) for s in sites), return_exceptions=True)
        finally:
            bar.close()

    try:
        results = asyncio.run(main())
        for site, rep in zip(sites, results):
            store_report(rnd, site, rep)
        if websites is None:  # a full round also checks every registered new-media account
            check_newmedia(rnd, dataclasses.replace(CrawlConfig(allow_networks=allow), **(crawl or {})), checker)
        rnd.status = "done"
    except Exception as e:
        rnd.status, rnd.error = "failed", f"{type(e).__name__}: {e}"
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        rnd.finished_at = timezone.now()
        rnd.save()
    return rnd


@transaction.atomic
def store_report(rnd: Round, site: Website, rep: SiteReport | BaseException) -> RoundSite:
    RoundSite.objects.filter(round=rnd, website=site).delete()
    if isinstance(rep, BaseException):  # a bug must not turn into an accusation: record "could not check"
        return RoundSite.objects.create(round=rnd, website=site, status="could_not_check", verdict="unknown",
                                        reason=f"检查程序内部错误：{type(rep).__name__}: {rep}"[:1000])
    rs = RoundSite.objects.create(
        round=rnd, website=site, status=rep.status, reason=rep.reason, verdict=rep.verdict, pages_fetched=rep.pages_fetched,
        score=rep.score if rep.status == "checked" else None, deductions=rep.deductions,
        home_newest=rep.home.newest_date if rep.home else None, home_status=rep.home.status if rep.home else "",
        publication_count=rep.publication_count, columns_discovered=rep.columns_discovered, veto=rep.veto,
        crawl_stats=rep.crawl_stats, warc_path=rep.warc_path or "", log_path=rep.log_path or "",
        started_at=rep.started_at, finished_at=rep.finished_at)
    # WV-2 from the stored availability probes of the round's window (monitoring data, not the crawl)
    avail = site_availability(site, rnd.as_of)
    rs.availability = avail.to_dict()
    extra = availability_findings(site.home_url, avail)
    if extra:  # monitoring evidence decides even when the crawl itself could not run
        rep.findings = list(rep.findings) + extra
        rs.verdict, rs.status = "fail", "checked"
        rs.reason = (rs.reason + "；" if rs.reason else "") + extra[0].detail
    rs.save(update_fields=["availability", "verdict", "status", "reason"])
    registered = {c.url: c for c in site.columns.select_related("responsible_unit")}
    ColumnCheck.objects.bulk_create([
        ColumnCheck(round_site=rs, column=registered.get(c.url), name=c.name, url=c.url, category=c.category, window=c.window,
                    level=c.level, status=c.status, newest_date=c.newest_date, newest_title=(c.newest_title or "")[:500],
                    item_count=c.item_count, reason=c.reason)
        for c in rep.columns])
    findings = []
    for f in rep.findings:
        col = registered.get(f.url)
        unit = col.responsible_unit if col and col.responsible_unit else site.owner
        findings.append(Finding(round=rnd, round_site=rs, rule=f.rule, url=f.url, column_name=f.column or "",
                                detail=f.detail, evidence=f.evidence, responsible_unit=unit))
    Finding.objects.bulk_create(findings)
    apply_ignores(rs)
    return rs


def check_newmedia(rnd: Round, cfg: CrawlConfig, checker=None) -> list[RoundAccount]:
    """Check every registered account (engine/newmedia.py) and store the results and findings."""
    from ..engine.newmedia import AccountSpec, check_accounts
    from ..engine.scheme import load_scheme
    from ..registry.models import Account

    accounts = list(Account.objects.select_related("owner"))
    specs = [AccountSpec(a.platform, a.name, a.owner.name, a.filed, a.interaction, a.source) for a in accounts]
    results = asyncio.run(check_accounts(specs, rnd.as_of, cfg, checker))
    out = []
    with transaction.atomic():
        RoundAccount.objects.filter(round=rnd).delete()
        for acc, res in zip(accounts, results):
            scored = load_scheme(rnd.scheme).score([f.rule for f in res.findings], "newmedia")
            verdict = scored.verdict if res.status == "checked" else ("fail" if scored.vetoes else "unknown")
            ra = RoundAccount.objects.create(
                round=rnd, account=acc, status=res.status, verdict=verdict, reason=res.reason,
                score=scored.score if res.status == "checked" else None,
                last_post=timezone.make_aware(res.last_post) if res.last_post else None,
                posts_in_window=res.posts_in_window, original_share=res.original_share)
            Finding.objects.bulk_create([Finding(round=rnd, round_account=ra, rule=f.rule, url=f.url, detail=f.detail,
                                                 evidence=f.evidence, responsible_unit=acc.owner) for f in res.findings])
            out.append(ra)
    return out


@transaction.atomic
def attach_registers(rnd: Round, documents: Path | None = None, proposals: Path | None = None,
                     replies: list[Path] | None = None) -> dict:
    """Check the office's document register, proposal register and 依申请公开 reply letters for this round;
    their findings join the round (no website: round_site is empty) and their statistics go to the bulletin."""
    from ..engine.content.documents import extract_document
    from ..engine.register import check_proposals, check_register, read_register
    from ..engine.replies import check_reply
    from ..registry.models import Unit

    units = {u.name: u for u in Unit.objects.all()}
    out: dict = {}
    rows: list[Finding] = []

    def unit_of(name):
        return units.get(name) or next((u for n, u in units.items() if name and (name in n or n in name)), None)

    if documents:
        docs, errors = read_register(Path(documents))
        findings, stats = check_register(docs, rnd.as_of)
        by_row = {d.row: d for d in docs}
        out["documents"] = {"file": Path(documents).name, **stats, "errors": [str(e) for e in errors]}
        rows += [Finding(round=rnd, rule=f["rule"], url=f["url"] or f"register:{Path(documents).name}#{f['row']}", detail=f["detail"],
                         evidence={"file": Path(documents).name, "row": f["row"], "number": f["number"]},
                         responsible_unit=unit_of(by_row[f["row"]].unit)) for f in findings]
    if proposals:
        findings, stats, errors = check_proposals(Path(proposals))
        out["proposals"] = {"file": Path(proposals).name, **stats, "errors": [str(e) for e in errors]}
        rows += [Finding(round=rnd, rule=f["rule"], url=f"register:{Path(proposals).name}#{f['row']}", detail=f["detail"],
                         evidence={"file": Path(proposals).name, "row": f["row"], "number": f["number"]}) for f in findings]
    if replies:
        checked, unreadable, late = 0, [], 0
        for path in replies:
            path = Path(path)
            doc = extract_document(path.read_bytes(), path.name)
            if doc.error:
                unreadable.append(f"{path.name}（{doc.error}）")
                continue
            text = "\n".join(x.text for x in doc.segments)
            lines = text.strip().splitlines()
            sign = lines[-2] if len(lines) >= 2 else ""  # the issuing agency signs above the date
            res = check_reply(text, issuer=sign)
            dates = res.to_dict()
            checked += 1
            late += any(f.rule == "reply.late" for f in res.findings)
            rows += [Finding(round=rnd, rule=f.rule, url=f"reply:{path.name}", detail=f"答复书《{path.name}》{f.detail}",
                             evidence={"file": path.name, "sentence": f.evidence, "received": dates["received"],
                                       "replied": dates["replied"]}, responsible_unit=unit_of(sign)) for f in res.findings]
        with_problems = len({r.url for r in rows if r.url.startswith("reply:")})
        out["replies"] = {"checked": checked, "unreadable": unreadable, "late": late, "with_problems": with_problems,
                          "text": f"抽查依申请公开答复书{checked}份，{with_problems}份存在问题，其中超期答复{late}份。"}
    Finding.objects.filter(round=rnd, round_site__isnull=True, round_account__isnull=True).delete()
    Finding.objects.bulk_create(rows)
    rnd.registers = out
    rnd.save(update_fields=["registers"])
    return out


# ------------------------------------------------------------------------------------------- re-check
def finding_key(rule: str, url: str, column: str, evidence: dict) -> tuple:
    """What makes two findings the same problem across rounds: rule, place and, for content, the matched text."""
    return rule, normalise_url(url) if url.startswith("http") else url, column or "", (evidence or {}).get("text", "")


def _pages_of(f: Finding) -> set[str]:
    """The pages whose fresh copy decides a finding: where it was seen (links: the pages that link to it)."""
    refs = {r["url"] for r in (f.evidence or {}).get("referrers") or [] if r.get("url")}
    if f.rule.startswith("link."):
        return refs or {f.url}
    return {f.url} | refs


def _seeds_of(f: Finding) -> set[str]:
    """What a re-check fetches for a finding: its pages, and a dead internal link's target itself."""
    return _pages_of(f) | ({f.url} if f.rule == "link.dead" else set())


def run_recheck(rnd: Round, crawl: dict | None = None, progress: bool = False) -> dict:
    """Re-check the findings of rnd.recheck_of: fetch again only the home pages and the pages those findings are on
    (no link following), run the same checks on them, and record each finding as fixed, still present or could not
    check. New problems seen on the way are not recorded: a re-check answers for the earlier findings only."""
    prev = rnd.recheck_of
    if prev is None:
        raise ValueError("not a re-check round")
    rnd.status, rnd.started_at, rnd.error = "running", timezone.now(), ""
    rnd.save()
    allow = tuple(n.strip() for n in rnd.allow_networks.split(",") if n.strip())
    base = round_dir(rnd)
    old = list(prev.findings.filter(ignored_by__isnull=True).select_related("round_site__website__owner", "round_account__account__owner"))
    by_site: dict[int, list[Finding]] = {}
    by_account: dict[int, list[Finding]] = {}
    for f in old:
        if f.round_site_id:
            by_site.setdefault(f.round_site.website_id, []).append(f)
        elif f.round_account_id:
            by_account.setdefault(f.round_account.account_id, []).append(f)
    checker = content_checker(rnd.as_of)
    from ..engine import workdays

    workdays.load()
    results: list[RecheckResult] = []
    bar = tqdm(total=len(by_site) + bool(by_account), desc="复查", unit="站", disable=not progress, dynamic_ncols=True)

    async def one(site: Website, fs: list[Finding], specs: list[ColumnSpec]):
        pages = set().union(*(_seeds_of(f) for f in fs))
        cfg = dataclasses.replace(CrawlConfig(allow_networks=allow, extra_hosts=tuple(site.extra_host_list), follow_links=False),
                                  **(crawl or {}))
        try:
            return await inspect_site_async(site.home_url, rnd.as_of, cfg, specs or None, base / f"site-{site.pk}", rnd.period_start,
                                            government=site.owner.kind in ("区县", "乡镇"), site_code=site.site_code or None,
                                            is_portal=site.is_portal, content=checker, scheme=rnd.scheme, seeds=sorted(pages))
        finally:
            bar.update(1)

    async def main(sites):
        return await asyncio.gather(*(one(s, by_site[s.pk], specs[s.pk]) for s in sites), return_exceptions=True)

    try:
        sites = list(Website.objects.filter(pk__in=by_site).select_related("owner"))
        specs = {s.pk: _specs(s) for s in sites}  # the database is read here, not in the async checks
        for site, rep in zip(sites, asyncio.run(main(sites))):
            results += _judge(rnd, by_site[site.pk], rep)
        if by_account:
            results += _recheck_accounts(rnd, by_account, dataclasses.replace(CrawlConfig(allow_networks=allow), **(crawl or {})),
                                         checker)
            bar.update(1)
        for f in old:
            if not f.round_site_id and not f.round_account_id:  # registers and reply letters: submitted again, not fetched
                results.append(RecheckResult(round=rnd, finding=f, state="unknown", reason="台账和答复书类问题需重新提交材料后检查"))
        with transaction.atomic():
            RecheckResult.objects.filter(round=rnd).delete()
            RecheckResult.objects.bulk_create(results)
        rnd.status = "done"
    except Exception as e:
        rnd.status, rnd.error = "failed", f"{type(e).__name__}: {e}"
        raise
    finally:
        bar.close()
        rnd.finished_at = timezone.now()
        rnd.save()
    return {s: sum(r.state == s for r in results) for s in ("fixed", "present", "unknown")}


def _judge(rnd: Round, old: list[Finding], rep) -> list[RecheckResult]:
    if isinstance(rep, BaseException):
        return [RecheckResult(round=rnd, finding=f, state="unknown", reason=f"复查程序出错：{type(rep).__name__}: {rep}"[:500])
                for f in old]
    if rep.status != "checked":
        return [RecheckResult(round=rnd, finding=f, state="unknown", reason=rep.reason) for f in old]
    now = {finding_key(f.rule, f.url, f.column or "", f.evidence) for f in rep.findings}
    fetched = rep.fetched_ok
    columns = {c.url: c for c in rep.columns}
    out = []
    for f in old:
        key = finding_key(f.rule, f.url, f.column_name, f.evidence)
        if key in now:
            out.append(RecheckResult(round=rnd, finding=f, state="present", reason="复查时问题仍然存在"))
            continue
        col = columns.get(f.url)
        if f.rule.startswith("column.") and (col is None or col.status == "unknown"):
            out.append(RecheckResult(round=rnd, finding=f, state="unknown", reason=col.reason if col else "栏目未能复查"))
            continue
        missing = [u for u in _pages_of(f) if u.startswith("http") and normalise_url(u) not in fetched]
        if missing:
            out.append(RecheckResult(round=rnd, finding=f, state="unknown", reason=f"复查时页面无法访问：{missing[0]}"))
            continue
        out.append(RecheckResult(round=rnd, finding=f, state="fixed", reason="复查时未再发现"))
    return out


def _recheck_accounts(rnd: Round, by_account: dict[int, list[Finding]], cfg: CrawlConfig, checker) -> list[RecheckResult]:
    from ..engine.newmedia import AccountSpec, check_accounts
    from ..registry.models import Account

    accounts = list(Account.objects.filter(pk__in=by_account).select_related("owner"))
    specs = [AccountSpec(a.platform, a.name, a.owner.name, a.filed, a.interaction, a.source) for a in accounts]
    out = []
    for acc, res in zip(accounts, asyncio.run(check_accounts(specs, rnd.as_of, cfg, checker))):
        now = {finding_key(f.rule, f.url, "", f.evidence) for f in res.findings}
        for f in by_account[acc.pk]:
            if finding_key(f.rule, f.url, "", f.evidence) in now:
                out.append(RecheckResult(round=rnd, finding=f, state="present", reason="复查时问题仍然存在"))
            elif res.status != "checked" and f.rule not in ("newmedia.not_filed", "newmedia.no_interaction", "newmedia.duplicate_account"):
                out.append(RecheckResult(round=rnd, finding=f, state="unknown", reason=res.reason or "未能取得发布内容"))
            else:
                out.append(RecheckResult(round=rnd, finding=f, state="fixed", reason="复查时未再发现"))
    return out
