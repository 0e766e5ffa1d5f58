"""The rectification screens (整改, issue 18).

    /rectify/                               the work queue: a unit's items by what it has to do (待处理 / 等待复查 / 已办结);
                                            the office's review queue (disputes, fixes awaiting sign-off) and every item
                                            with filters; supervisors and read-only users a read-only list of their scope
    /rectify/progress/                      items per unit (total, fixed, still present, overdue, disputed …): one query
    /rectify/items/<id>/                    one item: the problem, its trail (every event), re-check captures, files,
                                            the actions the user may take
    /rectify/items/<id>/claim|dispute/      the unit's acts (POST, multipart)
    /rectify/items/<id>/accept|reject|signoff/   the office's acts (POST)
    /rectify/items/<id>/capture/<event>/<before|after>/   a capture an event names, sandboxed like web:finding_page
    /rectify/attachments/<id>/              a file a unit attached (download only)
    /rectify/audit.xlsx                     the trail of the user's items as a workbook

Every item is looked up through access.items(user): outside the user's scope it is a 404. Only the unit an item is
assigned to answers for it (access.may_act_on_item); only the office judges. Nothing here edits or deletes a record.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from csp.decorators import csp

from ...rectify import services
from ...rectify.models import STATE_LABELS, STATES, Attachment, Item, ItemEvent
from ...rectify.uploads import MAX_FILES, UploadError
from ...rectify.workbook import clean_text
from ...rounds.models import Round
from .. import access
from . import int_param
from .findings import _HEAVY, PAGE_CSP, _PAGE_TYPES, _framed, _message_page, detect_charset, neutralise_refresh, \
    read_capture, rules_of

PAGE_SIZE = 50
REVIEW_LIMIT = 100
NOTE_MAX = 5000  # characters of a note or a reason, as the API (api.views.MAX_NOTE): files carry the long material
# the unit's tabs: what it has to do, what waits for the re-check (or the office's answer), what is closed
TABS = [("todo", "待处理", ("open", "present", "unverified", "overdue")),
        ("waiting", "等待复查", ("claimed", "disputed")),
        ("done", "已办结", ("fixed", "accepted"))]
CAME_BACK = ("present", "unverified")


def _rule_names() -> dict[str, str]:
    from ...reports.tables import rule_names

    return rule_names()


def _actor(request) -> str:
    return request.user.get_username()


# --------------------------------------------------------------------------------------------------- deadlines
class _Calendars:
    """Working days left to each item's deadline, by the calendar of the round that issued it (rounds read once)."""

    def __init__(self, round_ids):
        self.rounds = Round.objects.defer(*_HEAVY).in_bulk(set(round_ids))
        self.cache: dict[int, object] = {}
        self.memo: dict[tuple, int | None] = {}
        self.today = timezone.localdate()

    def days_left(self, item: Item) -> int | None:
        key = (item.round_issued_id, item.deadline)  # items of a round mostly share their deadline: counted once
        if key not in self.memo:
            self.memo[key] = self._days_left(item)
        return self.memo[key]

    def _days_left(self, item: Item) -> int | None:
        from ...engine.workdays import UnknownYear

        cal = self.cache.get(item.round_issued_id)
        if cal is None and item.round_issued_id in self.rounds:
            cal = self.cache[item.round_issued_id] = rules_of(self.rounds[item.round_issued_id]).calendar
        if cal is None:
            return None
        try:
            if item.deadline >= self.today:
                return cal.workdays_between(self.today, item.deadline)
            return -cal.workdays_between(item.deadline, self.today)
        except UnknownYear:
            return None


def _decorate(rows: list[Item], names: dict) -> None:
    cals = _Calendars(r.round_issued_id for r in rows)
    for r in rows:
        r.rule_name = names.get(r.rule, r.rule)
        r.state_name = STATE_LABELS.get(r.state, r.state)
        r.days_left = None if r.state in services.CLOSED_STATES else cals.days_left(r)
        r.days_late = -r.days_left if r.days_left is not None and r.days_left < 0 else 0


# --------------------------------------------------------------------------------------------------- the queues
def _signoff_rounds(qs) -> list[int]:
    """The issuing rounds (of qs's fixed, unsigned items) whose rules require the office's sign-off."""
    ids = set(qs.filter(state="fixed", signed_off_at__isnull=True).values_list("round_issued_id", flat=True).distinct())
    from ...rules import load_rules

    # the round's rules as services.settings_for reads them, from the per-round cache of the findings pages
    return [r.pk for r in Round.objects.filter(pk__in=ids).only("id", "scheme", "rules_hash")
            if (rules_of(r).get("rectify") or load_rules("rectify")).get("signoff")]


def _page(request, qs):
    page = Paginator(qs.values_list("id", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = list(page.object_list)
    came_back = Exists(ItemEvent.objects.filter(item=OuterRef("pk"), action="claim"))
    by_id = (Item.objects.select_related("unit", "finding").annotate(was_claimed=came_back).in_bulk(ids))
    rows = [by_id[i] for i in ids if i in by_id]
    for r in rows:
        r.came_back = r.state in CAME_BACK and r.was_claimed
    return page, rows


@access.login_required_view
@require_GET
def index(request):
    user = request.user
    role = access.role(user)
    names = _rule_names()
    qs = access.items(user, Item.objects.all())
    if role == access.UNIT:
        return _unit_queue(request, qs, names)
    # the office's, the supervisor's and the read-only user's list: every item of their scope, filtered
    applied: dict = {}
    rid = int_param(request.GET.get("round"))
    listed = qs
    if rid is not None:
        listed, applied["round"] = listed.filter(round_issued_id=rid), rid
    uid = int_param(request.GET.get("unit"))
    if uid is not None:
        listed, applied["unit"] = listed.filter(unit_id=uid), uid
    state = request.GET.get("state") or ""
    if state in STATE_LABELS:
        listed, applied["state"] = listed.filter(state=state), state
    rule = clean_text(request.GET.get("rule") or "").strip()
    if rule:
        listed, applied["rule"] = listed.filter(rule=rule), rule
    page, rows = _page(request, listed.order_by("deadline", "id"))
    _decorate(rows, names)
    review, review_count = [], 0
    if role == access.OFFICE:
        signoff = _signoff_rounds(qs)
        rq = qs.filter(Q(state="disputed") | Q(state="fixed", signed_off_at__isnull=True, round_issued__in=signoff))
        review_count = rq.count()
        review = list(rq.select_related("unit", "finding").order_by("deadline", "id")[:REVIEW_LIMIT])
        _decorate(review, names)
        for r in review:
            r.review = "dispute" if r.state == "disputed" else "signoff"
    round_ids = qs.values("round_issued_id")
    rounds = list(Round.objects.filter(pk__in=round_ids).order_by("-as_of", "-id").values_list("id", "name"))
    rules = sorted(((r, names.get(r, r)) for r in qs.order_by().values_list("rule", flat=True).distinct()),
                   key=lambda t: t[1])
    return render(request, "web/rectify/index.html", {
        "role": role, "page": page, "rows": rows, "applied": applied, "review": review, "review_count": review_count,
        "review_more": review_count > len(review), "rounds": rounds, "rules": rules, "states": STATES,
        "units": list(access.units(user).filter(pk__in=qs.values("unit_id")).order_by("name").values_list("id", "name")),
        "total": page.paginator.count, "can_change": access.can_change(user),
    })


def _unit_queue(request, qs, names):
    counts = qs.aggregate(**{key: Count("id", filter=Q(state__in=states)) for key, _, states in TABS},
                          came_back=Count("id", filter=Q(state__in=CAME_BACK)))
    tab = request.GET.get("tab") or "todo"
    if tab not in {k for k, _, _ in TABS}:
        tab = "todo"
    states = next(s for k, _, s in TABS if k == tab)
    page, rows = _page(request, qs.filter(state__in=states).order_by("deadline", "id"))
    _decorate(rows, names)
    tabs = [{"key": k, "label": label, "count": counts[k], "on": k == tab} for k, label, _ in TABS]
    came_back = sum(1 for r in rows if r.came_back)
    return render(request, "web/rectify/index.html", {
        "role": access.UNIT, "tabs": tabs, "tab": tab, "page": page, "rows": rows, "came_back": came_back,
        "unit": request.user.profile.unit, "can_change": False,
    })


@access.login_required_view
@require_GET
def progress(request):
    """Per unit: total, fixed, still present, overdue, disputed, not verified, open or claimed (one grouped query)."""
    if access.role(request.user) == access.UNIT:
        return redirect("web:rectify")
    qs = access.items(request.user, Item.objects.all())
    rid = int_param(request.GET.get("round"))
    if rid is not None:
        qs = qs.filter(round_issued_id=rid)

    def n(*states):
        return Count("id", filter=Q(state__in=states))

    rows = list(qs.order_by().values("unit_id", "unit__name").annotate(
        total=Count("id"), fixed=n("fixed"), present=n("present"), overdue=n("overdue"), disputed=n("disputed"),
        unverified=n("unverified"), pending=n("open", "claimed"), accepted=n("accepted"))
        .order_by("-overdue", "-present", "unit__name"))
    keys = ("total", "fixed", "present", "overdue", "disputed", "unverified", "pending", "accepted")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    for r in rows:
        r["share"] = round(100 * (r["fixed"] + r["accepted"]) / r["total"]) if r["total"] else 0
    rounds = list(Round.objects.filter(pk__in=access.items(request.user).values("round_issued_id"))
                  .order_by("-as_of", "-id").values_list("id", "name"))
    return render(request, "web/rectify/progress.html", {"rows": rows, "totals": totals, "rounds": rounds,
                                                         "round_id": rid})


# --------------------------------------------------------------------------------------------------- one item
def _scoped(request, pk: int) -> Item:
    qs = access.items(request.user, Item.objects.select_related("unit", "finding__round", "finding__round_site__website",
                                                                "round_issued", "recheck_round"))
    return get_object_or_404(qs, pk=pk)


def _capture_evidence(evidence: dict, side: str) -> dict | None:
    """The capture an event's evidence names for side "before" or "after": a re-check's {before, after}; the finding's
    own capture (issue, reopen, found again by a round) counts as "before"."""
    ev = evidence or {}
    sub = ev.get(side)
    if isinstance(sub, dict):
        cand = sub
    elif side == "before" and "warc_file" in ev:
        cand = ev
    else:
        return None
    if cand.get("warc_file") and cand.get("warc_offset") is not None:
        return cand
    return None


def _item_context(request, item: Item, form: dict | None = None) -> dict:
    user = request.user
    events = list(item.events.prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("at", "id"))))
    for ev in events:
        ev.from_name = STATE_LABELS.get(ev.from_state, "")
        ev.to_name = STATE_LABELS.get(ev.to_state, ev.to_state)
        ev.captures = [(side, label) for side, label in (("before", "整改前页面"), ("after", "复查时页面"))
                       if _capture_evidence(ev.evidence, side)]
        e = ev.evidence or {}
        after = e.get("after") if isinstance(e.get("after"), dict) else {}
        ev.after_url = after.get("url") or ""
        ev.after_excerpt = after.get("excerpt") or ""
        ev.after_status = after.get("http_status") or ""
        ev.captured_at = after.get("captured_at") or e.get("captured_at") or ""
    f = item.finding
    fev = (f.evidence or {}) if f is not None else {}
    may_act = access.may_act_on_item(user, item)
    office = access.can_change(user)
    last = events[-1] if events else None
    cal = _Calendars([item.round_issued_id])
    return {
        "item": item, "f": f, "ev": fev, "rule_name": _rule_names().get(item.rule, item.rule),
        "state_name": STATE_LABELS.get(item.state, item.state), "events": events, "last": last,
        "attachments": list(item.attachments.select_related("event").order_by("at", "id")),
        "days_left": None if item.state in services.CLOSED_STATES else cal.days_left(item),
        "may_claim": may_act and item.state in services.CLAIM_FROM,
        "may_dispute": may_act and item.state in services.DISPUTE_FROM,
        "may_judge": office and item.state == "disputed",
        "may_signoff": office and services.needs_signoff(item),
        "waiting": item.state == "claimed" and item.recheck_round_id is not None,
        "max_files": MAX_FILES, "form": form or {}, "finding_visible": f is not None
        and access.findings(user).filter(pk=f.pk).exists(),
    }


@access.login_required_view
@require_GET
def item_page(request, pk: int):
    item = _scoped(request, pk)
    return render(request, "web/rectify/item.html", _item_context(request, item))


def _failed(request, item: Item, err: Exception, form: dict):
    """The act was refused: the item page again, the reason as a message, what the user typed still in the form."""
    messages.error(request, str(err))
    item.refresh_from_db()  # the refused act was rolled back; transition() had already set the object's new state
    return render(request, "web/rectify/item.html", _item_context(request, item, form), status=400)


def _too_long(text: str) -> None:
    if len(text) > NOTE_MAX:
        raise services.TransitionError(f"说明不能超过{NOTE_MAX}字（现为{len(text)}字），详细材料请作为附件上传")


def _unit_act(request, pk: int, act, field: str, done: str, which: str):
    item = _scoped(request, pk)
    if not access.may_act_on_item(request.user, item):
        raise PermissionDenied("只有整改事项所属的责任单位可以执行此操作")
    text = clean_text(request.POST.get(field) or "")
    files = request.FILES.getlist("files")
    try:
        _too_long(text)
        act(item, _actor(request), text, files)
    except (services.TransitionError, UploadError) as e:
        return _failed(request, item, e, {which: text})
    messages.success(request, done)
    return redirect("web:rectify_item", pk=item.pk)


@access.login_required_view
@require_POST
def claim(request, pk: int):
    return _unit_act(request, pk, services.claim, "note", "已反馈整改情况，系统正在复查该问题，复查结果将显示在本页", "claim")


@access.login_required_view
@require_POST
def dispute(request, pk: int):
    return _unit_act(request, pk, services.dispute, "reason", "已提交申诉，等待检查单位审核", "dispute")


def _office_act(request, pk: int, act, done: str, which: str):
    item = _scoped(request, pk)
    note = clean_text(request.POST.get("note") or "")
    try:
        _too_long(note)
        act(item, _actor(request), note)
    except services.TransitionError as e:
        return _failed(request, item, e, {which: note})
    messages.success(request, done)
    return redirect("web:rectify_item", pk=item.pk)


@access.office_required
@require_POST
def accept(request, pk: int):
    return _office_act(request, pk, services.accept_dispute, "已同意申诉：该问题已标记为“不是问题”（已记录），事项办结", "accept")


@access.office_required
@require_POST
def reject(request, pk: int):
    return _office_act(request, pk, services.reject_dispute, "已驳回申诉，事项退回责任单位整改", "reject")


def _sign_off(item: Item, actor: str, note: str):
    if item.state == "fixed" and item.signed_off_at is None and not services.needs_signoff(item):
        raise services.TransitionError("按检查方案，该事项不需要检查单位确认")
    return services.sign_off(item, actor, note)


@access.office_required
@require_POST
def signoff(request, pk: int):
    return _office_act(request, pk, _sign_off, "已确认整改", "signoff")


# --------------------------------------------------------------------------------------------------- captures and files
@access.login_required_view
@require_GET
@xframe_options_sameorigin
@csp(PAGE_CSP)
def capture(request, pk: int, event: int, side: str):
    """The page an event's evidence names (before: the problem as found; after: as the re-check fetched it), from its
    WARC record, under the same sandbox policy as web:finding_page."""
    item = _scoped(request, pk)
    ev = get_object_or_404(ItemEvent, pk=event, item=item)
    if side not in ("before", "after"):
        raise Http404("没有这个存档")
    where = item.finding.url if item.finding_id else ""
    cap = _capture_evidence(ev.evidence, side)
    if cap is None:
        return _framed(_message_page(request, 200, "没有网页存档", "这条记录没有保存该网页的存档（WARC 记录），因此没有可显示的页面。",
                                     where))
    where = cap.get("url") or where
    try:
        body, content_type = read_capture(cap)
    except FileNotFoundError:
        return _framed(_message_page(request, 404, "网页存档已不存在", "这条记录的网页存档文件已被清理或移动，无法显示页面。记录本身仍然有效。",
                                     where))
    except Exception:  # a damaged file, a wrong offset, a key outside the store: say so, no traceback
        return _framed(_message_page(request, 404, "网页存档无法读取", "这条记录的网页存档文件已损坏或记录位置不正确，无法显示页面。", where))
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _PAGE_TYPES:
        return _framed(_message_page(request, 200, "存档的是附件，不是网页",
                                     f"抓取时取得的是 {mime} 文件（{len(body):,} 字节），不能在此显示。", where))
    charset = detect_charset(body, content_type)
    if charset.startswith(("utf-16", "utf-32")):
        body = body.decode(charset, "replace").encode("utf-8")
        charset = "utf-8"
    kind = "text/plain" if mime == "text/plain" else "text/html"
    return _framed(HttpResponse(neutralise_refresh(body), content_type=f"{kind}; charset={charset}"))


@access.login_required_view
@require_GET
def attachment(request, pk: int):
    """A file a unit attached: only to those who may see its item, always as a download with its checked type."""
    from ...storage import StorageError, storage

    att = get_object_or_404(Attachment.objects.filter(item__in=access.items(request.user).values("pk")), pk=pk)
    try:
        p = storage().path(att.key)
    except StorageError:
        raise Http404("文件不存在") from None
    if not p.is_file():
        raise Http404("文件已不存在")
    resp = FileResponse(open(p, "rb"), as_attachment=True, filename=att.name, content_type=att.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    resp["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return resp


@access.login_required_view
@require_GET
def audit(request):
    """The trail of the user's items (a unit: its own), optionally of one issuing round, as .xlsx."""
    from ...rectify.audit import write_audit

    qs = access.items(request.user, Item.objects.all())
    rid = int_param(request.GET.get("round"))
    name = "整改记录"
    if rid is not None:  # by id only: a unit is not told the names of rounds it has no items of
        qs, name = qs.filter(round_issued_id=rid), f"整改记录-轮次{rid}"
    with tempfile.TemporaryDirectory() as tmp:
        data = write_audit(qs, Path(tmp) / "audit.xlsx").read_bytes()
    from urllib.parse import quote

    from ...safetext import file_stem

    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    stem = file_stem(name)
    resp["Content-Disposition"] = (f"attachment; filename=\"rectify-audit-{dt.date.today():%Y%m%d}.xlsx\"; "
                                   f"filename*=UTF-8''{quote(stem + '.xlsx')}")
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp


urlpatterns = [
    path("rectify/", index, name="rectify"),
    path("rectify/progress/", progress, name="rectify_progress"),
    path("rectify/audit.xlsx", audit, name="rectify_audit"),
    path("rectify/items/<int:pk>/", item_page, name="rectify_item"),
    path("rectify/items/<int:pk>/claim/", claim, name="rectify_claim"),
    path("rectify/items/<int:pk>/dispute/", dispute, name="rectify_dispute"),
    path("rectify/items/<int:pk>/accept/", accept, name="rectify_accept"),
    path("rectify/items/<int:pk>/reject/", reject, name="rectify_reject"),
    path("rectify/items/<int:pk>/signoff/", signoff, name="rectify_signoff"),
    path("rectify/items/<int:pk>/capture/<int:event>/<str:side>/", capture, name="rectify_capture"),
    path("rectify/attachments/<int:pk>/", attachment, name="rectify_attachment"),
]
