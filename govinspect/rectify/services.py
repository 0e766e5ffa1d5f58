"""The rectification loop's services: issue a round's problems as items, follow them through later rounds, mark
what is overdue. transition() is the one function that changes an item's state; it writes the event with it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..rounds.models import Finding, Round, RoundSite
from .models import STATE_LABELS, Item, ItemEvent

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
}
# states of an item not verified as fixed: an open deadline (mark_overdue) and found again (sync_with_round)
OVERDUE_FROM = ("open", "claimed", "present", "unverified")
PRESENT_FROM = ("open", "claimed", "present", "unverified", "overdue")


class TransitionError(ValueError):
    pass


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
               **changes) -> ItemEvent:
    """Change item's state to to_state (a pair of ALLOWED) and write its event, in one transaction. `changes` are other
    fields of the item set with it (finding, deadline, round_issued, last_round). Fixing closes the item (closed_at);
    reopening clears it."""
    if to_state not in STATE_LABELS:
        raise TransitionError(f"未知的整改状态：{to_state}")
    if action not in dict(ItemEvent._meta.get_field("action").choices):
        raise TransitionError(f"未知的整改操作：{action}")
    if not actor:
        raise TransitionError("整改操作必须记录操作人")
    with transaction.atomic():
        fresh = Item.objects.select_for_update().get(pk=item.pk)
        frm = fresh.state
        if (frm, to_state) not in ALLOWED:
            raise TransitionError(f"整改事项不能从“{STATE_LABELS[frm]}”变为“{STATE_LABELS[to_state]}”")
        fresh.state = to_state
        if to_state == "fixed":
            fresh.closed_at = timezone.now()
        elif frm == "fixed":
            fresh.closed_at = None
        for k, v in changes.items():
            setattr(fresh, k, v)
        fresh.save()
        ev = ItemEvent.objects.create(item=fresh, actor=actor, action=action, from_state=frm, to_state=to_state,
                                      note=note, evidence=evidence or {})
    for f in Item._meta.concrete_fields:  # the caller's object shows the new state
        setattr(item, f.attname, getattr(fresh, f.attname))
    return ev


def rectify_days(rnd: Round) -> int:
    """The rectification period of the round's bulletin (bulletin.toml rectify_days, the round's own rules first)."""
    from ..rounds.scoring import round_rules

    days = (round_rules(rnd).get("bulletin") or {}).get("rectify_days")
    if days is None:
        from ..rules import load_rules

        days = load_rules("bulletin")["rectify_days"]
    return int(days)


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
    with transaction.atomic():
        for item in items:
            again = found.get(item.fingerprint)
            if again:
                f = next((x for x in again if x.responsible_unit_id == item.unit_id), again[0])
                if item.state == "fixed":
                    if Item.objects.filter(fingerprint=item.fingerprint, unit=item.unit_id, closed_at__isnull=True).exists():
                        counts["unchanged"] += 1  # a newer item of the same problem is open: that one carries it
                        continue
                    transition(item, "open", by, "reopen", note=f"{rnd.name}再次发现该问题", evidence=finding_evidence(f),
                               finding=f, last_round=rnd)
                    counts["reopened"] += 1
                elif item.state in PRESENT_FROM:
                    transition(item, "present", by, "recheck", note=f"{rnd.name}再次发现该问题",
                               evidence=finding_evidence(f, before=item.finding_id), finding=f, last_round=rnd)
                    counts["present"] += 1
                else:
                    counts["unchanged"] += 1
            elif item.fingerprint in ignored or item.state == "fixed":
                counts["unchanged"] += 1
            elif _looked(item.finding, sites, accounts, kinds):
                rs = RoundSite.objects.filter(round=rnd, website_id=item.finding.round_site.website_id).first() \
                    if item.finding.round_site_id else None
                transition(item, "fixed", by, "recheck", note=f"{rnd.name}重新检查，未再发现该问题",
                           evidence=finding_evidence(item.finding, checked_round=rnd.pk,
                                                     after_warc=rs.warc_path if rs else None), last_round=rnd)
                counts["fixed"] += 1
            else:
                counts["not_checked"] += 1
    return counts


def mark_overdue(today: dt.date, by: str = "system") -> int:
    """Items past their deadline without a verified fix → 逾期 (an `overdue` event each). Idempotent."""
    n = 0
    for item in Item.objects.filter(state__in=OVERDUE_FROM, deadline__lt=today, closed_at__isnull=True).order_by("id"):
        transition(item, "overdue", by, "overdue", note=f"整改期限{item.deadline.isoformat()}已过，未核实整改")
        n += 1
    return n
