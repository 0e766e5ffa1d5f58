"""The rectification loop's services: issue a round's problems as items, follow them through later rounds, mark
what is overdue. transition() is the one function that changes an item's state; it writes the event with it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..rounds.models import Finding, Round, RoundSite
from .models import CLOSED_STATES, STATE_LABELS, Item, ItemEvent

# (from, to): every state change an item may make. Same-state pairs are re-checks that bring new evidence.
ALLOWED = {
    ("open", "claimed"), ("open", "disputed"), ("open", "present"), ("open", "fixed"), ("open", "overdue"),
    ("claimed", "fixed"), ("claimed", "present"), ("claimed", "unverified"), ("claimed", "overdue"),
    ("claimed", "disputed"),
    ("present", "present"), ("present", "claimed"), ("present", "disputed"), ("present", "fixed"),
    ("present", "overdue"),
    ("unverified", "unverified"), ("unverified", "fixed"), ("unverified", "present"), ("unverified", "claimed"),
    ("unverified", "overdue"),
    ("disputed", "open"), ("disputed", "present"), ("disputed", "fixed"),
    ("overdue", "claimed"), ("overdue", "present"), ("overdue", "fixed"), ("overdue", "disputed"),
    ("fixed", "open"),
    ("disputed", "accepted"), ("disputed", "overdue"), ("overdue", "overdue"),
}
# states of an item not verified as fixed: an open deadline (mark_overdue) and found again (sync_with_round)
OVERDUE_FROM = ("open", "claimed", "present", "unverified")
PRESENT_FROM = ("open", "claimed", "present", "unverified", "overdue")


class TransitionError(ValueError):
    pass


class StaleState(TransitionError):
    """The item is no longer in the state the caller decided on (another act changed it meanwhile)."""


def finding_evidence(f: Finding | None, **extra) -> dict:
    """An event's evidence for a finding: its id and round, where its capture is kept (WARC key, offset), when."""
    out = {}
    if f is not None:
        ev = f.evidence or {}
        out = {"finding": f.pk, "round": f.round_id}
        for src, dst in (("warc_file", "warc_file"), ("warc_offset", "warc_offset"), ("captured_at", "captured_at"),
                         ("http_status", "http_status")):
            if ev.get(src) not in (None, ""):
                out[dst] = ev[src]
    out.update({k: v for k, v in extra.items() if v not in (None, "")})
    return out


def transition(item: Item, to_state: str, actor: str, action: str, note: str = "", evidence: dict | None = None,
               expect: tuple | None = None, **changes) -> ItemEvent:
    """Change item's state to to_state (a pair of ALLOWED) and write its event, in one transaction. `changes` are other
    fields of the item set with it (finding, deadline, round_issued, last_round). Fixing closes the item (closed_at);
    reopening clears it, and a sign-off is of one fix: leaving 已整改 clears it. `expect`: the states the caller read
    and decided on; StaleState (nothing changed) when the item, read again under the lock, is no longer in one."""
    if to_state not in STATE_LABELS:
        raise TransitionError(f"未知的整改状态：{to_state}")
    if action not in dict(ItemEvent._meta.get_field("action").choices):
        raise TransitionError(f"未知的整改操作：{action}")
    if not actor:
        raise TransitionError("整改操作必须记录操作人")
    with transaction.atomic():
        fresh = Item.objects.select_for_update().get(pk=item.pk)
        frm = fresh.state
        if expect is not None and frm not in expect:
            raise StaleState(f"整改事项已变为“{STATE_LABELS[frm]}”，请刷新后再操作")
        if (frm, to_state) not in ALLOWED:
            raise TransitionError(f"整改事项不能从“{STATE_LABELS[frm]}”变为“{STATE_LABELS[to_state]}”")
        fresh.state = to_state
        if to_state in CLOSED_STATES:
            fresh.closed_at = timezone.now()
        elif frm in CLOSED_STATES:
            fresh.closed_at = None
        if frm == "fixed" and to_state != "fixed":  # the sign-off confirmed that fix, not a later one
            fresh.signed_off_at, fresh.signed_off_by = None, ""
        for k, v in changes.items():
            setattr(fresh, k, v)
        fresh.save()
        ev = ItemEvent.objects.create(item=fresh, actor=actor, action=action, from_state=frm, to_state=to_state,
                                      note=note, evidence=evidence or {})
    for f in Item._meta.concrete_fields:  # the caller's object shows the new state
        setattr(item, f.attname, getattr(fresh, f.attname))
    return ev


def settings_for(rnd: Round | None) -> dict:
    """The rectification settings (rules/rectify.toml with the scheme's [rectify]) the round was made with; rounds made
    before rectify.toml existed get the shipped file."""
    from ..rules import load_rules

    got = None
    if rnd is not None:
        from ..rounds.scoring import round_rules

        got = round_rules(rnd).get("rectify")
    return got or load_rules("rectify")


def rectify_days(rnd: Round) -> int:
    """The rectification period in working days: the round's own, else its scheme's (rectify.toml `days`)."""
    return int(rnd.rectify_days or settings_for(rnd)["days"])


def deadline_for(rnd: Round, issued_on: dt.date) -> dt.date:
    """rectify_days working days after issued_on, by the round's working-day calendar."""
    from ..rounds.scoring import round_rules

    return round_rules(rnd).calendar.add_workdays(issued_on, rectify_days(rnd))


def _order(rnd: Round | None) -> tuple:
    return (rnd.as_of, rnd.pk) if rnd is not None else (dt.date.min, 0)


def issue_round(rnd: Round, by: str, issued_on: dt.date | None = None) -> int:
    """Create the round's items: one per (fingerprint, responsible unit) of its non-ignored findings. An open item of
    the same problem gets this round's finding (not a second item); a fixed one is reopened. Idempotent. Returns the
    number of items created."""
    if rnd.status != "done":
        raise TransitionError(f"轮次“{rnd.name}”尚未完成，不能下发整改")
    if not by:
        raise TransitionError("下发整改必须记录操作人")
    issued_on = issued_on or timezone.localdate()
    due: list[dt.date] = []

    def deadline() -> dt.date:  # computed when an item needs it (a year without a calendar raises UnknownYear)
        if not due:
            due.append(deadline_for(rnd, issued_on))
        return due[0]

    findings = (Finding.objects.filter(round=rnd, ignored_by__isnull=True, responsible_unit__isnull=False)
                .exclude(fingerprint="").order_by("id"))
    first: dict[tuple, Finding] = {}
    for f in findings:
        first.setdefault((f.fingerprint, f.responsible_unit_id), f)
    created = 0
    with transaction.atomic():
        live = {(i.fingerprint, i.unit_id): i for i in Item.objects.filter(
            closed_at__isnull=True, fingerprint__in=[k[0] for k in first]).select_related("finding")}
        for key, f in first.items():
            item = live.get(key)
            if item is not None:
                if item.finding_id == f.pk:
                    continue  # issued already
                if item.finding is not None and _order(item.last_round) >= _order(rnd):
                    continue
                ItemEvent.objects.create(item=item, actor=by, action="issue", from_state=item.state, to_state=item.state,
                                         note=f"{rnd.name}再次发现，随本轮通报下发", evidence=finding_evidence(f))
                Item.objects.filter(pk=item.pk).update(finding=f, last_round=rnd)
                continue
            if f.round_site_id is None and Item.objects.filter(fingerprint=key[0], unit_id=key[1], state="accepted").exists():
                continue  # a dispute accepted for it: an account's or a register's finding has no ignore, this is it
            closed = (Item.objects.filter(fingerprint=key[0], unit_id=key[1], state="fixed")
                      .order_by("-closed_at", "-id").first())
            if closed is not None:
                if _order(closed.last_round) < _order(rnd):
                    transition(closed, "open", by, "reopen", note=f"{rnd.name}再次发现，重新下发",
                               evidence=finding_evidence(f), finding=f, last_round=rnd, round_issued=rnd,
                               deadline=deadline())
                continue
            item = Item.objects.create(fingerprint=f.fingerprint, rule=f.rule, unit_id=key[1], round_issued=rnd,
                                       finding=f, last_round=rnd, state="open", deadline=deadline())
            ItemEvent.objects.create(item=item, actor=by, action="issue", from_state="", to_state="open",
                                     note=f"随{rnd.name}通报下发，整改期限{item.deadline.isoformat()}",
                                     evidence=finding_evidence(f))
            created += 1
    return created


def _checked(rnd: Round):
    """What rnd looked at again (Round.looked_at, the rule the dashboard uses too), as sets."""
    return tuple(set(q) for q in rnd.looked_at())


def _looked(f: Finding | None, sites, accounts, kinds) -> bool:
    if f is None:
        return False
    if f.round_site_id is not None:
        return f.round_site.website_id in sites
    if f.round_account_id is not None:
        return f.round_account.account_id in accounts
    return f.job_id is not None and f.job.kind in kinds


class _PagesFetched:
    """A page's problem is gone only where the round fetched that page again: a checked site says nothing about a page
    its crawl did not reach (a page budget, a link removed, the page deleted). The pages a finding needs (re-check
    rules: the page it is on; a link: the pages that carried it) must be in the round's crawl log with a 2xx answer."""

    def __init__(self, rnd: Round):
        from ..rounds.scoring import round_rules

        self.rnd, self.rules, self.cache = rnd, round_rules(rnd), {}

    def _fetched(self, website_id: int) -> set[str]:
        if website_id not in self.cache:
            import json

            from ..engine.fetch.crawler import normalise_url
            from ..storage import StorageError, storage

            got: set[str] = set()
            rs = RoundSite.objects.filter(round=self.rnd, website_id=website_id, status="checked").first()
            try:
                with open(storage().resolve(rs.log_path), encoding="utf-8") if rs and rs.log_path else _nothing() as fh:
                    for line in fh:
                        try:
                            e = json.loads(line)
                        except ValueError:
                            continue
                        status = e.get("status")
                        if not e.get("error") and isinstance(status, int) and 200 <= status < 300:
                            got.update(normalise_url(u) for u in (e.get("url"), e.get("final_url")) if u)
            except (OSError, StorageError):
                got = set()
            self.cache[website_id] = got
        return self.cache[website_id]

    def all_of(self, f: Finding) -> bool:
        from ..rounds.recheck import _pages_of, recheck_kind

        if f.round_site_id is None or recheck_kind(f.rule, self.rules) not in ("page", "links"):
            return True  # accounts, registers, whole-site rules: the round checked them again as a whole
        need = _pages_of(f, self.rules)
        return bool(need) and need <= self._fetched(f.round_site.website_id)

    def elsewhere(self, f: Finding) -> bool:
        """Text met on many pages is one finding on the first page a crawl met (engine): when this round met the same
        text first on another page, the item's page may still carry it (the re-checks' rule: recheck._seen_elsewhere)."""
        from types import SimpleNamespace

        from ..rounds.recheck import _seen_elsewhere

        if f.round_site_id is None or not f.match:
            return False
        same = Finding.objects.filter(round=self.rnd, rule=f.rule, match=f.match,
                                      round_site__website_id=f.round_site.website_id)
        return _seen_elsewhere(f, SimpleNamespace(findings=list(same))) is not None


def _nothing():
    import io

    return io.StringIO("")


def sync_with_round(rnd: Round, by: str = "system") -> dict:
    """Follow the items of earlier rounds through rnd (done), by fingerprint: found again → 仍存在 (a fixed item is
    reopened); not found where rnd looked again → 已整改; not looked at → unchanged (never counted as fixed). Items
    already judged by rnd or by a later round are left alone (idempotent). Returns the counts."""
    if rnd.status != "done":
        raise TransitionError(f"轮次“{rnd.name}”尚未完成，不能据以核对整改")
    counts = {"present": 0, "fixed": 0, "reopened": 0, "unchanged": 0, "not_checked": 0}
    items = [i for i in Item.objects.filter(Q(closed_at__isnull=True) | Q(state="fixed"))
             .select_related("last_round", "finding__round_site", "finding__round_account", "finding__job")
             .order_by("id") if _order(i.last_round) < _order(rnd)]
    if not items:
        return counts
    fps = {i.fingerprint for i in items}
    found: dict[str, list[Finding]] = {}
    ignored: set[str] = set()
    for f in Finding.objects.filter(round=rnd, fingerprint__in=fps).order_by("id"):
        if f.ignored_by_id is not None:
            ignored.add(f.fingerprint)
        else:
            found.setdefault(f.fingerprint, []).append(f)
    sites, accounts, kinds = _checked(rnd)
    seen = _PagesFetched(rnd)

    def follow(item: Item) -> str:
        again = found.get(item.fingerprint)
        if again:
            f = next((x for x in again if x.responsible_unit_id == item.unit_id), again[0])
            if item.state == "fixed":
                if Item.objects.filter(fingerprint=item.fingerprint, unit=item.unit_id, closed_at__isnull=True).exists():
                    return "unchanged"  # a newer item of the same problem is open: that one carries it
                transition(item, "open", by, "reopen", note=f"{rnd.name}再次发现该问题", evidence=finding_evidence(f),
                           expect=("fixed",), finding=f, last_round=rnd)
                return "reopened"
            if item.state in PRESENT_FROM:
                # found again after its deadline: still 逾期 (the new evidence recorded), never back to 仍存在
                late = item.state == "overdue" or item.deadline < timezone.localdate()
                transition(item, "overdue" if late else "present", by, "recheck", note=f"{rnd.name}再次发现该问题",
                           evidence=finding_evidence(f, before=item.finding_id), expect=(item.state,), finding=f,
                           last_round=rnd)
                return "present"
            return "unchanged"
        if item.fingerprint in ignored or item.state in ("fixed", "accepted"):
            return "unchanged"
        if _looked(item.finding, sites, accounts, kinds) and seen.all_of(item.finding) and not seen.elsewhere(item.finding):
            rs = RoundSite.objects.filter(round=rnd, website_id=item.finding.round_site.website_id).first() \
                if item.finding.round_site_id else None
            transition(item, "fixed", by, "recheck", note=f"{rnd.name}重新检查，未再发现该问题",
                       evidence=finding_evidence(item.finding, checked_round=rnd.pk,
                                                 after_warc=rs.warc_path if rs else None), expect=(item.state,),
                       last_round=rnd)
            return "fixed"
        return "not_checked"

    with transaction.atomic():
        for item in items:
            try:
                got = follow(item)
            except StaleState:  # an item re-check or a unit's act changed it since it was read: decide on what it is now
                item.refresh_from_db()
                got = follow(item)
            counts[got] += 1
    return counts


def mark_overdue(today: dt.date, by: str = "system") -> int:
    """Items past their deadline without a verified fix → 逾期 (an `overdue` event each). Idempotent."""
    n = 0
    # a claim whose re-check is still pending was made in time: it waits for the answer
    pending = Q(state="claimed", recheck_round__isnull=False)
    for item in (Item.objects.filter(state__in=OVERDUE_FROM, deadline__lt=today, closed_at__isnull=True)
                 .exclude(pending).order_by("id")):
        try:
            transition(item, "overdue", by, "overdue", note=f"整改期限{item.deadline.isoformat()}已过，未核实整改",
                       expect=(item.state,))
        except StaleState:  # disputed, claimed or fixed since it was read: that act stands (the next run looks again)
            continue
        n += 1
    return n


# ------------------------------------------------------------------------------------------- the unit's and office's acts
CLAIM_FROM = ("open", "present", "unverified", "overdue")
DISPUTE_FROM = ("open", "claimed", "present", "overdue")


def claim(item: Item, actor: str, note: str, files=()) -> ItemEvent:
    """The unit says the problem is fixed (已反馈), with a note and optional files (uploads.store); the re-check of the
    item is queued at once (request_recheck) and its result is a later state of the item."""
    from .uploads import attach, discard

    note = (note or "").strip()
    if not note:
        raise TransitionError("请说明整改情况")
    if item.state not in CLAIM_FROM:
        raise TransitionError(f"整改事项为“{STATE_LABELS[item.state]}”，不能反馈已整改")
    if item.finding_id is None:
        raise TransitionError("该事项没有可复查的问题记录，请联系检查单位")
    stored = []
    try:
        with transaction.atomic():
            ev = transition(item, "claimed", actor, "claim", note=note)
            stored = attach(item, ev, files, actor)
            request_recheck([item], actor)
    except BaseException:  # the claim is not made: neither are its files kept, nor its state in the caller's object
        discard(stored)
        item.refresh_from_db()
        raise
    return ev


def dispute(item: Item, actor: str, reason: str, files=()) -> ItemEvent:
    """The unit says it is not a problem (申诉), with its reason; the office accepts or rejects it."""
    from .uploads import attach, discard

    reason = (reason or "").strip()
    if not reason:
        raise TransitionError("申诉必须说明理由")
    if item.state not in DISPUTE_FROM:
        raise TransitionError(f"整改事项为“{STATE_LABELS[item.state]}”，不能申诉")
    stored = []
    try:
        with transaction.atomic():
            ev = transition(item, "disputed", actor, "dispute", note=reason, recheck_round=None)
            stored = attach(item, ev, files, actor)
    except BaseException:
        discard(stored)
        item.refresh_from_db()
        raise
    return ev


def accept_dispute(item: Item, actor: str, note: str) -> ItemEvent:
    """The office accepts a dispute: the finding becomes an audited ignore (this problem, "hit" scope, so later rounds do
    not report it again) and the item ends 申诉成立."""
    from ..rounds.ignores import ignore_finding

    note = (note or "").strip()
    if not note:
        raise TransitionError("同意申诉须说明理由")
    if item.state != "disputed":
        raise TransitionError(f"整改事项为“{STATE_LABELS[item.state]}”，没有待处理的申诉")
    with transaction.atomic():
        f, ignore = item.finding, None
        if f is not None and f.round_site_id is not None and f.ignored_by_id is None:
            ignore = ignore_finding(f, "hit", f"整改申诉成立（事项{item.pk}）：{note}", actor)
        return transition(item, "accepted", actor, "accept", note=note, expect=("disputed",),
                          evidence=finding_evidence(f, ignore=ignore.pk if ignore else None))


def reject_dispute(item: Item, actor: str, note: str, today: dt.date | None = None) -> ItemEvent:
    """The office rejects a dispute: the item is the unit's to fix again (逾期 when its deadline has passed)."""
    note = (note or "").strip()
    if not note:
        raise TransitionError("驳回申诉须说明理由")
    if item.state != "disputed":
        raise TransitionError(f"整改事项为“{STATE_LABELS[item.state]}”，没有待处理的申诉")
    today = today or timezone.localdate()
    return transition(item, "overdue" if item.deadline < today else "open", actor, "reject", note=note,
                      expect=("disputed",))


def sign_off(item: Item, actor: str, note: str = "") -> ItemEvent:
    """The office confirms an item the re-check found fixed (确认整改; required when rectify.toml `signoff` is true)."""
    with transaction.atomic():
        fresh = Item.objects.select_for_update().get(pk=item.pk)
        if fresh.state != "fixed":
            raise TransitionError(f"整改事项为“{STATE_LABELS[fresh.state]}”，复查确认已整改后才能确认")
        if fresh.signed_off_at is not None:
            raise TransitionError("该事项已经确认")
        now = timezone.now()
        Item.objects.filter(pk=item.pk).update(signed_off_at=now, signed_off_by=actor)
        item.signed_off_at, item.signed_off_by = now, actor
        return ItemEvent.objects.create(item=fresh, actor=actor, action="signoff", from_state="fixed", to_state="fixed",
                                        note=(note or "").strip())


def needs_signoff(item: Item) -> bool:
    return item.state == "fixed" and item.signed_off_at is None and bool(settings_for(item.round_issued).get("signoff"))


# ------------------------------------------------------------------------------------------- per-item re-checks
def request_recheck(items: list[Item], by: str, as_of: dt.date | None = None) -> list[Round]:
    """Queue a re-check of the items' latest findings now: one item-recheck round (Round.item_recheck) per round the
    findings come from, run by the runner (`govinspect serve` starts it) like any queued round. A queued one that has
    not started yet takes the new findings too. Returns the rounds."""
    by_round: dict[int, list[Item]] = {}
    for it in items:
        if it.finding_id is None:
            raise TransitionError(f"整改事项{it.pk}没有可复查的问题记录")
        by_round.setdefault(it.finding.round_id, []).append(it)
    out = []
    for orig_id, its in by_round.items():
        orig = Round.objects.get(pk=orig_id)
        ids = [it.finding_id for it in its]
        rnd = None
        for cand in Round.objects.filter(item_recheck=True, recheck_of=orig, status="queued", cancel_requested__isnull=True):
            opts = dict(cand.run_options)
            opts["findings"] = sorted(set(opts.get("findings") or []) | set(ids))
            # only while still queued and unchanged since read (a concurrent claim or the runner got there first)
            if Round.objects.filter(pk=cand.pk, status="queued", run_options=cand.run_options).update(run_options=opts):
                rnd = cand
                break
        if rnd is None:
            day = max(as_of or timezone.localdate(), orig.as_of)
            rnd = Round.objects.create(
                name=f"整改复查：{orig.name}", region=orig.region, office=orig.office, as_of=day, period_start=orig.period_start,
                scheme=orig.scheme, allow_networks=orig.allow_networks, recheck_of=orig, item_recheck=True, status="queued",
                run_options={"findings": sorted(set(ids)), "crawl": (orig.run_options or {}).get("crawl"), "requested_by": by})
        Item.objects.filter(pk__in=[it.pk for it in its]).update(recheck_round=rnd)
        for it in its:
            it.recheck_round = rnd
        out.append(rnd)
    return out


WAITING = ("claimed", "unverified", "overdue")  # states of an item whose re-check may answer it


def apply_recheck(rnd: Round, by: str = "system") -> dict:
    """An item re-check ended: each waiting item takes its answer — 已整改 or 仍存在 with before/after evidence, or
    未能复查 with the reason (also when the re-check itself failed or was cancelled: never counted as fixed)."""
    from ..rounds.models import RecheckResult

    counts = {"fixed": 0, "present": 0, "unverified": 0, "overdue": 0}
    results = {r.finding_id: r for r in RecheckResult.objects.filter(round=rnd)} if rnd.status == "done" else {}
    for item in Item.objects.filter(recheck_round=rnd).select_related("finding").order_by("id"):
        if item.state not in WAITING:  # disputed or judged by a round meanwhile: the answer is no longer asked for
            Item.objects.filter(pk=item.pk).update(recheck_round=None)
            continue
        r = results.get(item.finding_id)
        before = finding_evidence(item.finding)
        if r is None:
            why = "复查任务被取消" if rnd.cancel_requested else {
                "failed": "复查任务失败", "cancelled": "复查任务被取消", "interrupted": "复查任务被中断"}.get(
                rnd.status, "复查未能得出结果")
            state, note, after = "unverified", f"{why}，将按计划再次复查", {}
        else:
            from ..reports.data import cn_reason

            state = {"fixed": "fixed", "present": "present"}.get(r.state, "unverified")
            note, after = r.reason, dict(r.evidence or {})
            if state == "unverified":  # the unit reads the cause in Chinese; the engine's words stay in the evidence
                note = cn_reason(r.reason) or "复查未能得出结果"
                if note != r.reason:
                    after["reason_detail"] = r.reason
        if state == "unverified" and item.state == "overdue":
            state = "overdue"  # still not verified, past the deadline: stays overdue, the attempt recorded
        try:
            transition(item, state, by, "recheck", note=note, expect=(item.state,),
                       evidence={"before": before, "after": after, "recheck_round": rnd.pk}, recheck_round=None)
        except StaleState:  # disputed or judged meanwhile (after the list was read): that act stands
            Item.objects.filter(pk=item.pk, recheck_round=rnd).update(recheck_round=None)
            continue
        counts[state] += 1
    return counts


def run_item_recheck(rnd: Round) -> dict:
    """Run an item re-check round in this process (the runner's child does this) and answer its items, whatever the end
    (a failed re-check leaves them 未能复查, retried later)."""
    from ..rounds.recheck import run_recheck
    from ..rounds.services import crawl_options

    counts: dict = {}
    try:
        run_recheck(rnd, crawl=crawl_options(rnd))
    except BaseException as e:
        rnd.refresh_from_db()
        if rnd.status in ("running", "queued"):  # it failed before services.recorded() took over: ended here
            from ..rounds.services import _end

            _end(rnd, "interrupted" if isinstance(e, KeyboardInterrupt) else "failed", f"{type(e).__name__}: {e}")
        raise
    finally:
        rnd.refresh_from_db()
        if rnd.status not in ("running", "queued"):
            counts = apply_recheck(rnd)
    return counts


def retry_unverified(by: str = "system", now=None) -> list[Round]:
    """Items left 未能复查 are re-checked again `retry_hours` after their last attempt (never counted as fixed meanwhile).
    An item whose re-check round is gone or ended without answering it is re-queued too."""
    from ..rounds.recheck import recheck_kind
    from ..rounds.scoring import round_rules

    now = now or timezone.now()
    due, rules = [], {}
    for item in (Item.objects.filter(state__in=WAITING, closed_at__isnull=True, finding__isnull=False)
                 .select_related("recheck_round", "round_issued", "finding__round").order_by("id")):
        if item.state == "overdue" and not _claimed_since_issue(item):
            continue  # overdue without any claim: nothing to re-check until the unit says it fixed it
        rr = item.recheck_round
        if rr is not None and rr.status in ("queued", "running", "pending"):
            continue
        if rr is not None:  # it ended without apply_recheck (a crash between the two): answer it now
            apply_recheck(rr, by)
            item.refresh_from_db()
            if item.state not in WAITING:
                continue
        rid = item.finding.round_id
        if rid not in rules:
            rules[rid] = round_rules(item.finding.round)
        if item.state != "claimed" and recheck_kind(item.rule, rules[rid]) in ("register", "none"):
            continue  # no re-check can answer it (registers are submitted again; "none": one visit proves nothing)
        last = item.events.order_by("-at", "-id").first()
        hours = float(settings_for(item.round_issued).get("retry_hours", 24))
        if item.state == "claimed" or last is None or (now - last.at).total_seconds() >= hours * 3600:
            due.append(item)
    return request_recheck(due, by) if due else []


def _claimed_since_issue(item: Item) -> bool:
    """Whether the unit's last claim still waits for a verified answer (a re-check finding the problem still there
    answered it: nothing to re-check until the unit claims again)."""
    last = (item.events.filter(Q(action__in=("claim", "issue", "reopen", "reject"))
                               | Q(action="recheck", to_state="present")).order_by("-at", "-id").first())
    return last is not None and last.action == "claim"


def housekeeping(today: dt.date | None = None, by: str = "system") -> dict:
    """What the loop does on a schedule (the runner every few minutes; `govinspect rectify tick` from cron): items past
    their deadline → 逾期, reminders before/on the deadline, re-checks of 未能复查 items retried."""
    from .reminders import send_due

    today = today or timezone.localdate()
    out = {"overdue": mark_overdue(today, by)}
    out["reminders"] = send_due(today)
    out["retried"] = len(retry_unverified(by))
    return out
