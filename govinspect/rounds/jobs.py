"""A round is rows of per-target jobs; run_job(job_id) runs one, in any process, and commits its results at once.

    plan_jobs(rnd, websites, accounts=True, registers={...})   -> the round's jobs (queued)
    run_job(job.pk)                                           -> claims the job, checks its target, stores the results
                                                                 in ONE transaction (a job run twice replaces its rows)

Kinds: "site" (one website: crawl and every site check), "accounts" (every registered new-media account: originality
and duplicate judgements compare accounts, so they are one job), "registers" (the office's registers and reply letters
submitted with the round), "letters" (letters and 12345 tickets of the round's period: overdue ones are findings on
their handling unit). run_job creates no pool and needs nothing but the database and the storage: the local runner
(rounds/services.py) calls it in forked children; queue workers can call it the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import socket
import threading
import time
from pathlib import Path

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..engine.checks.freshness import ColumnSpec
from ..engine.fetch import CrawlConfig
from ..registry.models import Account, Website
from ..rules.ruleset import RuleSet
from ..storage import storage
from .models import ColumnCheck, Finding, Round, RoundAccount, RoundJob, RoundSite
from .scoring import round_rules, score_account, score_site

HEARTBEAT_SECONDS = 10
PROGRESS_SECONDS = 2  # a running job's live progress (pages fetched so far) is written at most this often
TERMINAL = ("done", "could_not_check")


# ------------------------------------------------------------------------------------------- planning
def plan_jobs(rnd: Round, websites: list[Website] | None = None, accounts: bool = True,
              registers: dict | None = None, letters: bool = False) -> list[RoundJob]:
    """Create the round's jobs (existing ones are kept: planning twice adds nothing)."""
    sites = websites if websites is not None else list(Website.objects.all())
    want = [("site", s.pk, s.name) for s in sites]
    if accounts and Account.objects.exists():
        want.append(("accounts", 0, "政务新媒体账号"))
    if registers:
        want.append(("registers", 0, "台账与答复书"))
    if letters:
        want.append(("letters", 0, "信件与工单"))
    out = []
    for kind, target, label in want:
        job, _ = RoundJob.objects.get_or_create(round=rnd, kind=kind, target=target,
                                                defaults={"label": label[:300],
                                                          "params": registers if kind == "registers" else {}})
        out.append(job)
    return out


def largest_first(rnd: Round, jobs: list) -> list:
    """The order jobs are handed to workers: the round's other jobs first (few), then its sites by their size in the
    latest earlier round (pages fetched), largest first — a big site started last would keep the round open long after
    the others (docs/province-model.md: a 2,000-site daily pass on 8 workers, 15.3 h in registry order, 9.4 h so);
    sites never crawled before come after the known ones. `jobs`: RoundJob objects."""
    sites = [j.target for j in jobs if j.kind == "site"]
    sizes: dict[int, int] = {}
    for w, n in (RoundSite.objects.filter(website__in=sites, round__status="done", pages_fetched__gt=0).exclude(round=rnd)
                 .order_by("round__as_of", "round_id").values_list("website_id", "pages_fetched")):
        sizes[w] = n  # the latest round's size wins
    return sorted(jobs, key=lambda j: (j.kind == "site", -sizes.get(j.target, 0) if j.kind == "site" else 0, j.pk))


def _me() -> str:
    from .services import _proc_start

    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid)}"


def owner_alive(owner: str) -> bool | None:
    """Whether the process named by a job's owner ("host:pid:start") is alive; None when it is on another machine."""
    from .services import owner_alive as alive

    host, _, rest = (owner or "").partition(":")
    pid, _, started = rest.partition(":")
    if not pid.isdigit():
        return None
    return alive({"host": host, "pid": int(pid), "started": started})


STALE_SECONDS = 30 * HEARTBEAT_SECONDS  # a running job silent this long is abandoned, wherever its owner ran


def requeue_abandoned(rnd: Round) -> int:
    """Jobs left "running" by a process that is gone (killed, machine restarted), or whose heartbeat stopped long ago,
    are queued again (run_job stores a job only while its claimant still owns it)."""
    n = 0
    stale = timezone.now() - dt.timedelta(seconds=STALE_SECONDS)
    for job in rnd.jobs.filter(state="running"):
        if owner_alive(job.owner) is False or (job.heartbeat is not None and job.heartbeat < stale):
            n += RoundJob.objects.filter(pk=job.pk, state="running", owner=job.owner).update(state="queued")
    return n


# ------------------------------------------------------------------------------------------- running
class _Heartbeat(threading.Thread):
    """Beside a running job: its heartbeat every HEARTBEAT_SECONDS, and its live progress (what the work last passed
    to report(), e.g. the crawl's pages fetched so far) every PROGRESS_SECONDS when it changed."""

    def __init__(self, job_id: int):
        super().__init__(daemon=True, name=f"job-{job_id}-heartbeat")
        self.job_id, self.stop = job_id, threading.Event()
        self.progress: dict | None = None  # replaced whole by report() (the work's thread), read here

    def report(self, progress: dict) -> None:
        self.progress = dict(progress)

    def run(self):
        written, last_beat = None, time.monotonic()
        try:
            while not self.stop.wait(PROGRESS_SECONDS):
                fields, now = {}, time.monotonic()
                if now - last_beat >= HEARTBEAT_SECONDS:
                    fields["heartbeat"], last_beat = timezone.now(), now
                progress = self.progress
                if progress is not None and progress != written:
                    fields["progress"], written = progress, progress
                if fields:
                    try:
                        RoundJob.objects.filter(pk=self.job_id, state="running").update(**fields)
                    except (OperationalError, InterfaceError):  # the connection dropped: a new one next beat
                        connection.close()
                        last_beat, written = 0.0, None  # beat (and report) again as soon as it is back
        finally:
            connection.close()


def run_job(job_id: int) -> RoundJob:
    """Run one job: claim it (only a queued or failed job: a job another live process runs is left to it), check its
    target, store everything in one transaction while it is still ours. A job that fails, in its work or in storing, is
    recorded as failed with its error (its target as could not check), never half stored."""
    me = _me()
    now = timezone.now()
    claimed = RoundJob.objects.filter(pk=job_id, state__in=("queued", "failed")).update(
        state="running", owner=me, heartbeat=now, started_at=now, finished_at=None, attempts=F("attempts") + 1, reason="")
    job = RoundJob.objects.select_related("round").get(pk=job_id)
    if not claimed:
        return job
    rules = round_rules(job.round)
    beat = _Heartbeat(job_id)
    beat.start()
    job.report_progress = beat.report  # the work may pass its live progress (site jobs: pages fetched so far)
    try:
        try:
            result, error = WORK[job.kind](job, rules), None
        except Exception as e:  # a bug must not turn into an accusation: the target is "could not check"
            result, error = None, e
        try:
            with transaction.atomic():
                if not RoundJob.objects.select_for_update().filter(pk=job_id, state="running", owner=me).exists():
                    return RoundJob.objects.get(pk=job_id)  # taken from us (requeued as abandoned): store nothing
                state, reason = STORE[job.kind](job, rules, result, error)
                if error is not None:
                    state, reason = "failed", f"{type(error).__name__}: {error}"[:2000]
                RoundJob.objects.filter(pk=job_id).update(state=state, reason=reason, finished_at=timezone.now(),
                                                          heartbeat=timezone.now(), progress=_progress(job.kind, result))
        except Exception as e:  # storing failed (a database error, text the database refuses): recorded, nothing kept
            RoundJob.objects.filter(pk=job_id, owner=me).update(
                state="failed", reason=f"保存检查结果时出错：{type(e).__name__}: {e}"[:2000], finished_at=timezone.now())
    finally:
        beat.stop.set()
        del job.report_progress  # the job goes back to the runner's process (pickled): no thread in it
    job.refresh_from_db()
    return job


def _progress(kind: str, result) -> dict:
    if kind == "site" and result is not None:
        return {"pages": result[0].pages_fetched}
    return {}


# ------------------------------------------------------------------------------------------- sites
def site_key(rnd: Round, site: Website) -> str:
    return f"rounds/{rnd.pk}/site-{site.pk}"


def _specs(site: Website) -> list[ColumnSpec]:
    return [ColumnSpec(name=c.name, url=c.url, category=c.category or None, window=c.window_override or None,
                       level=c.level, unit=c.responsible_unit.name if c.responsible_unit else None)
            for c in site.columns.select_related("responsible_unit").all()]


def previous_crawl(rnd: Round, site: Website) -> Path | None:
    """The crawl of this website in the latest earlier finished round, as its job recorded it in the storage."""
    job = (RoundJob.objects.filter(kind="site", target=site.pk, state="done", round__as_of__lte=rnd.as_of)
           .filter(Q(round__status="done")).exclude(round=rnd).order_by("-round__as_of", "-round_id").first())
    key = (job.artifacts or {}).get("crawl") if job else None
    if not key:
        return None
    d = storage().path(key)
    return d if (d / "crawl-state.sqlite").exists() else None


def content_checker(as_of, rules: RuleSet):
    """All content rules, with the registry's leader roster for content.leader; the registry's unit and website names
    (and the leaders') are never "corrected" by the typo check."""
    from ..engine.content import ContentChecker
    from ..engine.content.leaders import Roster, Term
    from ..registry.models import Leader, Unit, Website

    terms = [Term(l.name, l.title, l.unit.name, l.start, l.end) for l in Leader.objects.select_related("unit")]
    names = [n for pair in Unit.objects.values_list("name", "short_name") for n in pair if n]
    names += list(Website.objects.values_list("name", flat=True))
    return ContentChecker(rules, roster=Roster(terms, as_of) if terms else None, names=names)


def round_config(rnd: Round, **over) -> CrawlConfig:
    """The round's crawl settings: the networks it may fetch from and the options it was started with; in cluster mode
    the per-host slots shared through Redis (cluster/slots.py), so two rounds on one host stay polite."""
    from ..cluster.slots import gate_factory
    from .services import crawl_options

    return dataclasses.replace(CrawlConfig(allow_networks=rnd.allowed_networks, gate_factory=gate_factory()),
                               **{**crawl_options(rnd), **over})


def site_config(rnd: Round, site: Website, **over) -> CrawlConfig:
    cfg = round_config(rnd, extra_hosts=tuple(site.extra_host_list), **over)
    if site.max_pages:  # the registry's limit for this site wins over the round's default (round --max-pages)
        cfg = dataclasses.replace(cfg, max_pages=site.max_pages)
    return cfg


def _site_work(job: RoundJob, rules: RuleSet):
    from ..engine.inspect import inspect_site_async
    from ..monitor.daily import daily_site_work, is_daily

    rnd = job.round
    if is_daily(rnd):  # a daily monitoring round: incremental crawl, content checks of new and changed pages
        return daily_site_work(job, rules)
    site = Website.objects.select_related("owner").get(pk=job.target)
    key = site_key(rnd, site)
    portal = next((s.home_url for s in Website.objects.filter(is_portal=True)[:1]), None)
    rep = asyncio.run(inspect_site_async(
        site.home_url, rnd.as_of, site_config(rnd, site), _specs(site) or None, storage().path(key),
        period_start=rnd.period_start, government=site.owner.kind in ("区县", "乡镇"), site_code=site.site_code or None,
        previous=previous_crawl(rnd, site), is_portal=site.is_portal, portal_url=portal,
        content=content_checker(rnd.as_of, rules), rules=rules, on_progress=getattr(job, "report_progress", None)))
    return rep, {"crawl": key}


def _store_site(job: RoundJob, rules: RuleSet, result, error) -> tuple[str, str]:
    from ..monitor.services import availability_findings, site_availability
    from .ignores import apply_ignores

    rnd = job.round
    site = Website.objects.select_related("owner").get(pk=job.target)
    RoundSite.objects.filter(round=rnd, website=site).delete()  # a job run again replaces its rows (findings cascade)
    Finding.objects.filter(job=job).delete()
    if error is not None:
        rs = RoundSite.objects.create(round=rnd, website=site, job=job, status="could_not_check", verdict="unknown",
                                      reason=f"检查程序内部错误：{type(error).__name__}: {error}"[:1000])
        return "failed", ""
    rep, artifacts = result
    store = storage()
    RoundJob.objects.filter(pk=job.pk).update(artifacts=artifacts)
    rs = RoundSite.objects.create(
        round=rnd, website=site, job=job, status=rep.status, reason=rep.reason, pages_fetched=rep.pages_fetched,
        home_newest=rep.home.newest_date if rep.home else None, home_status=rep.home.status if rep.home else "",
        publication_count=rep.publication_count, columns_discovered=rep.columns_discovered, veto=rep.veto,
        crawl_stats=rep.crawl_stats, check_stats=rep.check_stats, warc_path=store.key_or_path(rep.warc_path),
        log_path=store.key_or_path(rep.log_path), started_at=rep.started_at, finished_at=rep.finished_at)
    # WV-2 from the stored availability probes of the round's window (monitoring data, not the crawl)
    avail = site_availability(site, rnd.as_of, rules["availability"])
    rs.availability = avail.to_dict()
    daily = (rnd.run_options or {}).get("daily")  # a daily monitoring round: WV-2 is the full rounds' (monitor/daily.py)
    findings = list(rep.findings) + ([] if daily else availability_findings(site.home_url, avail, rules))
    if len(findings) > len(rep.findings):  # monitoring evidence decides even when the crawl itself could not run
        rs.status = "checked"
        rs.reason = (rs.reason + "；" if rs.reason else "") + findings[len(rep.findings)].detail
    rs.save(update_fields=["availability", "status", "reason"])
    registered = {c.url: c for c in site.columns.select_related("responsible_unit")}
    ColumnCheck.objects.bulk_create([
        ColumnCheck(round_site=rs, column=registered.get(c.url), name=c.name, url=c.url, category=c.category, window=c.window,
                    level=c.level, status=c.status, newest_date=c.newest_date, newest_title=(c.newest_title or "")[:500],
                    item_count=c.item_count, reason=c.reason)
        for c in rep.columns])
    rows = []
    for f in findings:
        col = registered.get(f.url)
        unit = col.responsible_unit if col and col.responsible_unit else site.owner
        if f.evidence.warc_file:
            f.evidence.warc_file = store.key_or_path(f.evidence.warc_file)
        rows.append(Finding.from_engine(f, rules, round=rnd, job=job, round_site=rs, responsible_unit=unit))
    Finding.objects.bulk_create(rows)
    apply_ignores(rs, rules)
    return ("done" if rs.status == "checked" else "could_not_check"), rs.reason


# ------------------------------------------------------------------------------------------- new media
def _accounts_work(job: RoundJob, rules: RuleSet):
    from ..engine.newmedia import AccountSpec, check_accounts

    rnd = job.round
    accounts = Account.objects.select_related("owner").order_by("pk")
    if (job.params or {}).get("owners"):  # a round scoped to a unit subtree (web): that subtree's accounts only
        accounts = accounts.filter(owner__in=job.params["owners"])
    accounts = list(accounts)
    specs = [AccountSpec(a.platform, a.name, a.owner.name, a.filed, a.interaction, a.source) for a in accounts]
    results = asyncio.run(check_accounts(specs, rnd.as_of, round_config(rnd), content_checker(rnd.as_of, rules), rules=rules))
    return list(zip(accounts, results))


def _store_accounts(job: RoundJob, rules: RuleSet, result, error) -> tuple[str, str]:
    rnd = job.round
    RoundAccount.objects.filter(round=rnd).delete()
    Finding.objects.filter(job=job).delete()
    if error is not None:
        return "failed", ""
    for acc, res in result:
        ra = RoundAccount.objects.create(
            round=rnd, account=acc, status=res.status, reason=res.reason,
            last_post=timezone.make_aware(res.last_post) if res.last_post and timezone.is_naive(res.last_post) else res.last_post,
            posts_in_window=res.posts_in_window, original_share=res.original_share)
        Finding.objects.bulk_create([Finding.from_engine(f, rules, round=rnd, job=job, round_account=ra,
                                                         responsible_unit=acc.owner) for f in res.findings])
        score_account(ra, rules)
    return "done", ""


# ------------------------------------------------------------------------------------------- registers
def _unit_lookup():
    from ..registry.models import Unit

    units = {u.name: u for u in Unit.objects.all()}

    def unit_of(name):
        return units.get(name) or next((u for n, u in units.items() if name and (name in n or n in name)), None)

    return unit_of


def _registers_work(job: RoundJob, rules: RuleSet):
    from ..engine.register import check_proposals, check_register, read_register
    from ..engine.replies import check_replies

    rnd, p, store = job.round, job.params or {}, storage()
    out, findings = {}, []
    if p.get("documents"):
        path = store.resolve(p["documents"])
        docs, errors = read_register(path)
        fs, stats = check_register(docs, rnd.as_of, rules=rules)
        out["documents"] = {"file": path.name, **stats, "errors": [str(e) for e in errors]}
        findings += fs
    if p.get("proposals"):
        path = store.resolve(p["proposals"])
        fs, stats, errors = check_proposals(path, rules=rules)
        out["proposals"] = {"file": path.name, **stats, "errors": [str(e) for e in errors]}
        findings += fs
    if p.get("replies"):
        fs, stats = check_replies([store.resolve(k) for k in p["replies"]], rules=rules)
        out["replies"] = stats
        findings += fs
    return out, findings


def _store_registers(job: RoundJob, rules: RuleSet, result, error) -> tuple[str, str]:
    rnd = job.round
    Finding.objects.filter(job=job).delete()
    if error is not None:
        return "failed", ""
    stats, findings = result
    unit_of = _unit_lookup()
    Finding.objects.bulk_create([Finding.from_engine(f, rules, round=rnd, job=job, responsible_unit=unit_of(f.subject.unit))
                                 for f in findings])
    Round.objects.filter(pk=rnd.pk).update(registers=stats)
    return "done", ""


# ------------------------------------------------------------------------------------------- letters
def _letters_work(job: RoundJob, rules: RuleSet):
    from ..engine.letters import letter_findings
    from ..letters.services import engine_letters

    rnd = job.round
    start = rnd.period_start or rnd.as_of.replace(month=1, day=1)
    return letter_findings(engine_letters(start, rnd.as_of), rnd.as_of, (start, rnd.as_of), rules)


def _store_letters(job: RoundJob, rules: RuleSet, result, error) -> tuple[str, str]:
    rnd = job.round
    Finding.objects.filter(job=job).delete()
    if error is not None:
        return "failed", ""
    unit_of = _unit_lookup()
    Finding.objects.bulk_create([Finding.from_engine(f, rules, round=rnd, job=job, responsible_unit=unit_of(f.subject.unit))
                                 for f in result])
    return "done", ""


WORK = {"site": _site_work, "accounts": _accounts_work, "registers": _registers_work, "letters": _letters_work}
STORE = {"site": _store_site, "accounts": _store_accounts, "registers": _store_registers, "letters": _store_letters}


def store_report(rnd: Round, site: Website, rep, rules: RuleSet | None = None) -> RoundSite:
    """Store a site report made elsewhere (check-site output, tests) as the result of the round's job for that site."""
    rules = rules or round_rules(rnd)
    job, _ = RoundJob.objects.get_or_create(round=rnd, kind="site", target=site.pk, defaults={"label": site.name[:300]})
    with transaction.atomic():
        state, reason = _store_site(job, rules, (rep, {}), None)
        RoundJob.objects.filter(pk=job.pk).update(state=state, reason=reason, finished_at=timezone.now())
    return RoundSite.objects.get(round=rnd, website=site)
