"""Run a round: inspect every registered website (the pure engine) and store the results."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import queue
import socket
import threading
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
from ..rules import load_rules
from .ignores import apply_ignores
from .models import ColumnCheck, Finding, RecheckResult, Round, RoundAccount, RoundEvent, RoundSite


def round_dir(rnd: Round) -> Path:
    return Path(settings.DATA_DIR) / "rounds" / str(rnd.pk)


def _fresh_dir(rnd: Round) -> None:
    """A round that starts afresh must not resume crawls left under its number by a deleted round (the database may
    give a deleted round's number again): such a directory is set aside, not reused."""
    d = round_dir(rnd)
    if d.exists():
        d.rename(d.with_name(f"{d.name}.orphan-{timezone.now():%Y%m%d%H%M%S%f}"))


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


# ------------------------------------------------------------------------------------------- lifecycle
def _proc_start(pid: int) -> str:
    """When the process started (clock ticks since boot, Linux /proc): tells a live owner from a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_alive(owner: dict) -> bool | None:
    """True/False when the process that runs a round is / is not alive on this machine; None when we cannot tell."""
    if not owner or owner.get("host") != socket.gethostname() or not owner.get("pid"):
        return None
    pid = int(owner["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _proc_start(pid)
    return not (owner.get("started") and started and started != owner["started"])  # the pid now belongs to another process


def event(rnd: Round, kind: str, detail: str = "") -> RoundEvent:
    return RoundEvent.objects.create(round=rnd, kind=kind, detail=detail[:2000])


def _begin(rnd: Round, kind: str, detail: str = "") -> None:
    """The round is running in this process from now on: recorded on the round and as a start/resume event."""
    pid = os.getpid()
    rnd.owner = {"host": socket.gethostname(), "pid": pid, "started": _proc_start(pid)}
    rnd.status, rnd.error, rnd.finished_at = "running", "", None
    if kind == "start" or rnd.started_at is None:
        rnd.started_at = timezone.now()
    rnd.save()
    event(rnd, kind, f"进程 {pid}（主机 {rnd.owner['host']}）" + (f"：{detail}" if detail else ""))


def _end(rnd: Round, status: str, detail: str = "") -> None:
    rnd.status, rnd.owner, rnd.finished_at = status, {}, timezone.now()
    if status == "failed":
        rnd.error = detail
    rnd.save()
    event(rnd, {"done": "finish", "failed": "fail", "interrupted": "interrupt"}[status], detail)


def mark_interrupted() -> list[Round]:
    """Rounds still "running" whose process on this machine is gone (killed, machine restarted) become "interrupted"
    (can be continued with round --resume). Called by every command that reads or runs rounds."""
    out = []
    for rnd in Round.objects.filter(status="running"):
        if owner_alive(rnd.owner) is False:
            o = rnd.owner
            _end(rnd, "interrupted", f"运行本轮的进程 {o.get('pid')}（主机 {o.get('host')}）已不存在（被强制结束或机器重启），"
                                     f"已检查的网站结果保留，可用 govinspect round --resume {rnd.pk} 继续")
            out.append(rnd)
    return out


def _jsonable(crawl: dict | None) -> dict:
    """Crawl settings as JSON (kept on the round for a resume): tuples and sets as lists, anything else as text."""
    return json.loads(json.dumps(crawl or {}, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)))


def _from_json(crawl: dict) -> dict:
    """CrawlConfig fields as stored in JSON, with their tuples back (lists in JSON; resolve_map: host -> (ip, port))."""
    return {k: tuple(v) if isinstance(v, list) else {h: tuple(x) if isinstance(x, list) else x for h, x in v.items()}
            if isinstance(v, dict) else v for k, v in crawl.items()}


def crawl_options(rnd: Round) -> dict:
    """The crawl settings the round was started with (resume uses the same)."""
    return _from_json((rnd.run_options or {}).get("crawl") or {})


def resume_round(rnd: Round, progress: bool = False) -> Round:
    """Continue an interrupted or failed round with the settings it was started with: the sites already stored are
    kept, the others are checked (a site's crawl resumes from its crawl-state.sqlite), then the new-media accounts."""
    opts = rnd.run_options or {}
    crawl = crawl_options(rnd)
    ids = opts.get("websites")
    sites = None if ids is None else list(Website.objects.filter(pk__in=ids).select_related("owner"))
    return run_round(rnd, sites, crawl, progress, opts.get("site_concurrency", 4), opts.get("processes"), resume=True)


def run_round(rnd: Round, websites: list[Website] | None = None, crawl: dict | None = None, progress: bool = False,
              site_concurrency: int = 4, processes: int | None = None, resume: bool = False) -> Round:
    """Inspect the round's websites concurrently (site_concurrency at a time), storing each site's results as soon as
    that site is done (a killed round loses at most the sites in flight), then check the new-media accounts.
    processes: worker processes the sites are spread over (default: one per CPU core, at most site_concurrency;
    1: all in this one). resume: keep the sites stored already and check the others (resume_round)."""
    full = websites is None
    all_sites = list(websites if websites is not None else Website.objects.select_related("owner").all())
    if not resume:
        rnd.run_options = {"crawl": _jsonable(crawl), "site_concurrency": site_concurrency, "processes": processes,
                           "websites": None if full else [s.pk for s in all_sites]}
    if not resume:
        _fresh_dir(rnd)
    stored = set(RoundSite.objects.filter(round=rnd).values_list("website_id", flat=True)) if resume else set()
    sites = [s for s in all_sites if s.pk not in stored]
    _begin(rnd, "resume" if resume else "start",
           f"已保存{len(stored)}个网站的结果，继续检查其余{len(sites)}个网站" if resume else f"检查{len(sites)}个网站")
    allow = tuple(n.strip() for n in rnd.allow_networks.split(",") if n.strip())
    base = round_dir(rnd)
    pool, pages = None, 0
    bar = tqdm(total=len(all_sites), initial=len(stored), desc="检查网站", unit="站", disable=not progress, dynamic_ncols=True)
    done: queue.Queue = queue.Queue()  # (site, report) as each site ends; stored by this thread (Django's connection)

    async def one(sem: asyncio.Semaphore, site: Website) -> None:
        nonlocal pages
        cfg = CrawlConfig(allow_networks=allow, extra_hosts=tuple(site.extra_host_list))
        cfg = dataclasses.replace(cfg, **(crawl or {}))
        if site.max_pages:  # the registry's limit for this site wins over the round's default (round --max-pages)
            cfg = dataclasses.replace(cfg, max_pages=site.max_pages)
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
            except Exception as e:  # a bug must not stop the other sites: this one is recorded as could not check
                rep = e
            done.put((site, rep))
            bar.update(1)
            bar.set_postfix_str(f"已抓取 {pages} 页")

    async def main():
        sem = asyncio.Semaphore(max(1, site_concurrency))
        await asyncio.gather(*(one(sem, s) for s in sites))

    def loop():
        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - handed to the storing thread
            done.put((None, e))
        finally:
            done.put(None)

    ok = False
    try:
        specs = {s.pk: _specs(s) for s in sites}
        previous = {s.pk: previous_crawl(rnd, s) for s in sites}
        portal = next((s.home_url for s in Website.objects.filter(is_portal=True)[:1]), None)
        checker = content_checker(rnd.as_of)
        from ..engine import workdays

        workdays.load()  # the admin's calendar is read here: the checks below run in async code
        procs = min(processes or default_processes(), max(1, site_concurrency), max(1, len(sites)))
        pool = site_pool(procs) if procs > 1 else None  # forked before the event loop starts
        worker = threading.Thread(target=loop, name=f"round-{rnd.pk}", daemon=True)
        worker.start()
        while (item := done.get()) is not None:
            site, rep = item
            if site is None:
                raise rep
            store_report(rnd, site, rep)
        worker.join()
        bar.close()
        if full:  # a full round also checks every registered new-media account
            check_newmedia(rnd, dataclasses.replace(CrawlConfig(allow_networks=allow), **(crawl or {})), checker)
        ok = True
    except KeyboardInterrupt:
        _end(rnd, "interrupted", "检查被操作员中断（Ctrl+C 或终止信号），已检查的网站结果保留，"
                                 f"可用 govinspect round --resume {rnd.pk} 继续")
        raise
    except Exception as e:
        _end(rnd, "failed", f"{type(e).__name__}: {e}")
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=ok, cancel_futures=True)
    n = RoundSite.objects.filter(round=rnd).count()
    checked = RoundSite.objects.filter(round=rnd, status="checked").count()
    _end(rnd, "done", f"共{n}个网站，检查{checked}个，未能检查{n - checked}个")
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
        crawl_stats=rep.crawl_stats, check_stats=rep.check_stats, warc_path=rep.warc_path or "", log_path=rep.log_path or "",
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


def recheck_kind(rule: str) -> str:
    """What a re-check of the rule needs (rules/catalog.toml `recheck`): page | site | links | account | register |
    none. A rule the catalogue does not declare cannot be re-checked."""
    return load_rules("catalog")["rules"].get(rule, {}).get("recheck", "none")


# rules judged on something a single re-check cannot see again (recheck = "none")
_CANNOT = {
    "site.unreachable": "网站可用性按监测期内多次访问的记录判断，一次复查不能证明已整改",
    "content.backdated": "伪造发稿日期须与上一轮抓取对比判断，复查不能自动判定已整改",
    "site.defaced": "首页篡改须与上一轮抓取对比判断，复查不能自动判定已整改",
}
_FEED_RULES_SEE_REGISTRY = {"newmedia.not_filed", "newmedia.no_interaction", "newmedia.duplicate_account"}


def _is_page(u) -> bool:
    return isinstance(u, str) and u.startswith(("http://", "https://"))


def _referrer_pages(f: Finding) -> list[str]:
    """The pages a link finding was seen on."""
    ev = f.evidence or {}
    pages = [r.get("page") or r.get("url") for r in ev.get("referrers") or [] if isinstance(r, dict)]
    pages.append(ev.get("page"))
    return sorted({normalise_url(p) for p in pages if _is_page(p)})


def _pages_of(f: Finding) -> set[str]:
    """The pages a re-check must fetch successfully before it may call the finding fixed: where it was seen (links:
    the pages that link to it), and for site rules the other pages the rule read (sampled inner pages, a document's
    解读 ...)."""
    kind = recheck_kind(f.rule)
    if kind == "links":
        return set(_referrer_pages(f))
    pages = {f.url} if _is_page(f.url) else set()
    if kind == "site":
        ev = f.evidence or {}
        for key in ("inner_sampled", "articles_sampled", "linked", "listed"):
            pages.update(u for u in ev.get(key) or [] if _is_page(u))
    return {normalise_url(u) for u in pages}


def _seeds_of(f: Finding) -> set[str]:
    """What a re-check fetches for a finding: the pages it needs, and a link's target (fetched when on the site)."""
    return _pages_of(f) | ({normalise_url(f.url)} if recheck_kind(f.rule) == "links" and _is_page(f.url) else set())


def run_recheck(rnd: Round, crawl: dict | None = None, progress: bool = False) -> dict:
    """Re-check the findings of rnd.recheck_of, each as its rule declares (recheck_kind): fetch again the pages the
    findings are on, and for site rules every column list of the site (no general crawl); run the same checks on them;
    record each finding as fixed only on positive evidence (the pages it needs fetched, the rule no longer holding),
    still present, or could not check with the reason. New problems seen on the way are not recorded: a re-check
    answers for the earlier findings only."""
    prev = rnd.recheck_of
    if prev is None:
        raise ValueError("not a re-check round")
    rnd.run_options = {"crawl": _jsonable(crawl), "recheck": True}
    _fresh_dir(rnd)  # a re-check answers afresh every time it runs
    _begin(rnd, "start", f"复查第{prev.pk}轮发现的问题")
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

    async def one(site: Website, specs: list[ColumnSpec], seeds: set[str]):
        cfg = dataclasses.replace(CrawlConfig(allow_networks=allow, extra_hosts=tuple(site.extra_host_list), follow_links=False),
                                  **(crawl or {}))
        try:
            return await inspect_site_async(site.home_url, rnd.as_of, cfg, specs or None, base / f"site-{site.pk}", rnd.period_start,
                                            government=site.owner.kind in ("区县", "乡镇"), site_code=site.site_code or None,
                                            is_portal=site.is_portal, content=checker, scheme=rnd.scheme, seeds=sorted(seeds))
        finally:
            bar.update(1)

    async def main(sites, plan):
        return await asyncio.gather(*(one(s, *plan[s.pk][:2]) for s in sites), return_exceptions=True)

    try:
        sites = list(Website.objects.filter(pk__in=by_site).select_related("owner"))
        plan = {}
        for s in sites:  # the database is read here, not in the async checks
            rs = prev.sites.filter(website=s).first()
            before = list(rs.columns.all()) if rs else []
            # the round's columns: registered, else those the round found (a re-check judges the same columns)
            specs = _specs(s) or [ColumnSpec(name=c.name, url=c.url, category=c.category or None, level=c.level) for c in before]
            fs = by_site[s.pk]
            seeds = set().union(*(_seeds_of(f) for f in fs))
            if any(recheck_kind(f.rule) == "site" for f in fs):  # the site's lists, as the rule read them
                seeds |= {normalise_url(c.url) for c in specs}
            plan[s.pk] = (specs, seeds, before)
        for site, rep in zip(sites, asyncio.run(main(sites, plan))):
            results += _judge(rnd, by_site[site.pk], rep, plan[site.pk][2])
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
    except KeyboardInterrupt:
        _end(rnd, "interrupted", "复查被操作员中断（Ctrl+C 或终止信号）")
        raise
    except Exception as e:
        _end(rnd, "failed", f"{type(e).__name__}: {e}")
        raise
    finally:
        bar.close()
    counts = {s: sum(r.state == s for r in results) for s in ("fixed", "present", "unknown")}
    _end(rnd, "done", f"已整改{counts['fixed']}个，仍存在{counts['present']}个，未能复查{counts['unknown']}个")
    return counts


def _judge(rnd: Round, old: list[Finding], rep, before: list[ColumnCheck] = ()) -> list[RecheckResult]:
    """Each finding of one site against its re-check (rep): present when found again; fixed only when everything the
    rule needs was fetched and the rule no longer holds; otherwise could not check, with the reason."""
    def result(f, state, reason):
        return RecheckResult(round=rnd, finding=f, state=state, reason=reason[:1000])

    if isinstance(rep, BaseException):
        return [result(f, "unknown", f"复查程序内部错误，该网站未能复查（{type(rep).__name__}）") for f in old]
    if rep.status != "checked":
        return [result(f, "unknown", rep.reason or "网站未能复查") for f in old]
    now = {finding_key(f.rule, f.url, f.column or "", f.evidence) for f in rep.findings}
    fetched = rep.fetched_ok
    columns = {normalise_url(c.url): c for c in rep.columns}
    # site rules read the site's lists: every column the round could read must have been read again
    lost = [c.name for c in before if c.status != "unknown"
            and (columns.get(normalise_url(c.url)) is None or columns[normalise_url(c.url)].status == "unknown")]
    # pages and attachments the content checks could not read this time (an unreadable file is not a clean one)
    unreadable = {normalise_url(u["url"]): u.get("reason", "") for u in rep.check_stats.get("content_unreadable") or []
                  if _is_page(u.get("url"))}
    out = []
    for f in old:
        kind = recheck_kind(f.rule)
        if finding_key(f.rule, f.url, f.column_name, f.evidence) in now:
            out.append(result(f, "present", "复查时问题仍然存在"))
            continue
        if kind == "none":
            out.append(result(f, "unknown", _CANNOT.get(f.rule, "该类问题不能自动复查，请人工核实")))
            continue
        if f.rule in rep.undecided:
            out.append(result(f, "unknown", rep.undecided[f.rule]))
            continue
        missing = sorted(u for u in _pages_of(f) if u not in fetched)
        if missing:
            out.append(result(f, "unknown", f"复查时未能取得判断所需的页面：{missing[0]}" + (f" 等{len(missing)}个" if len(missing) > 1 else "")))
            continue
        if kind == "page":
            col = columns.get(normalise_url(f.url))
            elsewhere = _seen_elsewhere(f, rep)
            if f.rule.startswith("column.") and (col is None or col.status == "unknown"):
                out.append(result(f, "unknown", (col.reason if col else "") or "栏目未能复查"))
            elif elsewhere:
                out.append(result(f, *elsewhere))
            elif normalise_url(f.url) in unreadable:
                out.append(result(f, "unknown", f"复查时未能读取该页面或附件的内容（{unreadable[normalise_url(f.url)]}）"))
            else:
                out.append(result(f, "fixed", "复查时重新取得该页面，问题已不存在"))
        elif kind == "site":
            unseen = _unsampled(f, rep)
            if unseen:
                out.append(result(f, "unknown", f"复查抽查的页面未包括原来有问题的页面（如{unseen[0]}），无法判断"))
            elif lost:
                out.append(result(f, "unknown", f"该问题要结合全站栏目判断，复查时未能重新读取“{lost[0]}”" + (f"等{len(lost)}个栏目" if len(lost) > 1 else "栏目")))
            else:
                out.append(result(f, "fixed", "复查时重新读取了全部栏目和相关页面，问题已不存在"))
        elif kind == "links":
            out.append(_judge_link(f, rep, result))
        else:
            out.append(result(f, "unknown", "该类问题不能在网站上复查"))
    return out


def _seen_elsewhere(f: Finding, rep) -> tuple[str, str] | None:
    """Content found on many pages is one finding on the first page a crawl met (the others a sample): when the re-check
    met the same text first on another page, this page may still carry it. (state, reason), or None when it was not
    seen again anywhere."""
    text = (f.evidence or {}).get("text")
    if not text:
        return None
    url, unsure = normalise_url(f.url), False
    for g in rep.findings:
        if g.rule == f.rule and (g.evidence or {}).get("text") == text:
            others = [normalise_url(u) for u in g.evidence.get("others") or []]
            if url in others:
                return "present", "复查时问题仍然存在"
            unsure |= (g.evidence.get("also_on") or 0) > len(others)
    return ("unknown", "复查时同一内容仍出现在本站其他页面，未能确认该页面已改正") if unsure else None


def _unsampled(f: Finding, rep) -> list[str]:
    """Pages that lacked something when the finding was made but were not among the pages the rule sampled this time
    (a sample of other pages that are fine says nothing about them)."""
    ev = f.evidence or {}
    lacked = {normalise_url(u) for us in (ev.get("inner_missing") or {}).values() for u in us if _is_page(u)}
    if ev.get("article_missing"):  # site.meta_missing: which sampled article lacked a tag is not kept, so all of them
        lacked |= {normalise_url(u) for u in ev.get("articles_sampled") or [] if _is_page(u)}
    return sorted(lacked - {normalise_url(u) for u in rep.sampled.get(f.rule, [])})


def _judge_link(f: Finding, rep, result) -> RecheckResult:
    """A link finding not seen again is fixed when the link is gone from every page it was on, or (a dead link on the
    site itself) its target now opens; a link still there that the probes did not confirm is could not check."""
    target = normalise_url(f.url)
    refs = _referrer_pages(f)
    if not refs:
        return result(f, "unknown", "原问题未记录引用该链接的页面，无法复查")
    count = (f.evidence or {}).get("referrer_count") or len(refs)
    still = [r for r in refs if target in rep.page_links.get(r, ())]
    if not still and count <= len(refs):
        return result(f, "fixed", "复查时原引用页面均已删除该链接")
    if f.rule == "link.dead" and target in rep.fetched_ok:
        return result(f, "fixed", "复查时链接目标已可正常访问")
    if not still:
        return result(f, "unknown", f"复查的{len(refs)}个页面已删除该链接，但原有{count}处引用，其余页面未复查")
    return result(f, "unknown", "链接仍在页面上，复查未能确认问题已消除")


def _recheck_accounts(rnd: Round, by_account: dict[int, list[Finding]], cfg: CrawlConfig, checker) -> list[RecheckResult]:
    """New-media findings: every registered account is checked again (duplicates are judged over all accounts)."""
    from ..engine.newmedia import AccountSpec, check_accounts
    from ..registry.models import Account

    accounts = list(Account.objects.select_related("owner"))
    specs = [AccountSpec(a.platform, a.name, a.owner.name, a.filed, a.interaction, a.source) for a in accounts]
    results = dict(zip((a.pk for a in accounts), asyncio.run(check_accounts(specs, rnd.as_of, cfg, checker))))
    out = []
    for pk, fs in by_account.items():
        res = results.get(pk)
        now = {finding_key(f.rule, f.url, "", f.evidence) for f in res.findings} if res else set()
        for f in fs:
            if res is None:
                state, why = "unknown", "账号已不在名录中，未能复查"
            elif finding_key(f.rule, f.url, "", f.evidence) in now:
                state, why = "present", "复查时问题仍然存在"
            elif f.rule in _FEED_RULES_SEE_REGISTRY:
                state, why = "fixed", "复查时名录中该账号的登记情况已不再有该问题"
            elif res.status != "checked":
                state, why = "unknown", res.reason or "未能取得发布内容"
            elif not f.rule.startswith("newmedia."):
                state, why = "unknown", "发布内容中的问题须在原文中核实，订阅源中未再出现不能证明已删除"
            else:
                state, why = "fixed", "复查时重新读取了账号发布内容，问题已不存在"
            out.append(RecheckResult(round=rnd, finding=f, state=state, reason=why))
    return out
