"""Review before issue (审核并下发, issue 18 item 6): office only.

    /rounds/<id>/review/            the bulletin as it would be issued, sanity warnings, 主送/文号/落款/整改期限, typical
                                    examples per problem type, bulk clearing of doubtful findings, the issue button;
                                    once issued: when, by whom, how many items, the frozen files with their SHA-256
    /rounds/<id>/review/preview/    the composed bulletin alone (a readable, printable page)
    /rounds/<id>/review/settings/   POST 主送, 文号, 落款, 整改期限（工作日）
    /rounds/<id>/review/examples/   POST the typical examples: Round.examples = {rule: [finding ids]}
    /rounds/<id>/review/clear/      POST by host or URL pattern, with a reason: first a preview (count, 10 examples),
                                    then “确认忽略” records an audited ignore per finding (rounds.ignores)
    /rounds/<id>/review/issue/      POST: a confirmation step, then rectify.issue.issue()

The bulletin's text comes from crawled pages: rendered escaped (autoescape), never marked safe.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ...rectify.issue import DAYS_RANGE, IssueError, issuance_of, issue, refusal, sanity
from ...rounds.models import Finding, Round
from .. import access
from . import int_param

EXAMPLES_SHOWN = 20      # findings listed per problem type to pick examples from
EXAMPLES_MAX = 5         # examples kept per problem type
CLEAR_SHOWN = 10         # examples shown in the bulk-clear preview
ISSUE_AHEAD_DAYS = 31    # a bulletin may be dated at most this many days ahead of today
_HEAVY = ("rules_snapshot", "registers", "run_options", "owner", "error", "allow_networks")


class SettingsForm(forms.ModelForm):
    rectify_days = forms.IntegerField(label="整改期限（工作日）", required=False,
                                      validators=[MinValueValidator(DAYS_RANGE[0]), MaxValueValidator(DAYS_RANGE[1])],
                                      help_text=f"{DAYS_RANGE[0]}至{DAYS_RANGE[1]}个工作日；留空按考核方案")

    class Meta:
        model = Round
        fields = ["recipients", "doc_number", "office", "rectify_days"]
        labels = {"recipients": "主送", "doc_number": "文号", "office": "落款（发文单位）"}

    def clean_office(self):
        v = (self.cleaned_data.get("office") or "").strip()
        if not v:
            raise forms.ValidationError("落款不能为空")
        return v


def _round(pk: int) -> Round:
    return get_object_or_404(Round.objects.defer("rules_snapshot"), pk=pk)


def _who(request) -> str:
    return request.user.get_username()


def _composed(rnd: Round) -> tuple[dict, dict]:
    from ...reports.bulletin import compose
    from ...reports.data import round_data

    data = round_data(rnd)
    return data, compose(data)


def _hosts(rnd: Round) -> list[str]:
    """The hosts (with port) of the round's websites, for clearing by host."""
    seen = []
    for url in rnd.sites.values_list("website__home_url", flat=True).order_by("website__home_url"):
        h = urlsplit(url or "").netloc.lower()
        if h and h not in seen:
            seen.append(h)
    return seen


def _examples(rnd: Round, rule_names: dict) -> list[dict]:
    """Per problem type of the round: its count, the first EXAMPLES_SHOWN findings and the chosen ones (one query for
    the counts, one for the listed findings, one for chosen findings beyond the first ones)."""
    chosen = {int(i) for ids in (rnd.examples or {}).values() for i in ids if isinstance(i, int)}
    live = Finding.objects.filter(round=rnd, ignored_by__isnull=True)
    counts = dict(live.values_list("rule").annotate(n=Count("id")).order_by().values_list("rule", "n"))
    cols = ("id", "rule", "detail", "url", "responsible_unit__name", "severity")
    rows = list(live.annotate(rn=Window(RowNumber(), partition_by=[F("rule")], order_by=F("id").asc()))
                .filter(rn__lte=EXAMPLES_SHOWN).values(*cols))
    have = {r["id"] for r in rows}
    rows += list(live.filter(pk__in=chosen - have).values(*cols)) if chosen - have else []
    by_rule: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        r["chosen"] = r["id"] in chosen
        by_rule.setdefault(r["rule"], []).append(r)
    return [{"rule": rule, "name": rule_names.get(rule, rule), "count": counts.get(rule, 0), "findings": fs,
             "chosen": sum(f["chosen"] for f in fs)}
            for rule, fs in sorted(by_rule.items(), key=lambda kv: (-counts.get(kv[0], 0), kv[0]))]


CLEAR_MAX = 30_000       # findings one pattern may select (their ids go into one query)


def _seg_at(seg: str, s: str, i: int) -> bool:
    """Whether the glob segment `seg` (no *, ? any one character) matches `s` at position i."""
    return i + len(seg) <= len(s) and all(c == "?" or c == s[i + j] for j, c in enumerate(seg))


def glob_match(pattern: str, s: str) -> bool:
    """Whether the whole of `s` matches the glob `pattern` (* any run of characters, ? one), in O(len(s)·len(pattern)):
    the segments between the stars found leftmost, in order. (A glob turned into a regular expression with one .* per
    star backtracks exponentially: "*a*a*a*a*a*a*b" took 79 s on one URL of 129 characters.)"""
    parts = pattern.split("*")
    if len(parts) == 1:
        return len(s) == len(pattern) and _seg_at(pattern, s, 0)
    first, last = parts[0], parts[-1]
    if not _seg_at(first, s, 0):
        return False
    pos = len(first)
    for seg in parts[1:-1]:
        at = next((i for i in range(pos, len(s) - len(seg) + 1) if _seg_at(seg, s, i)), None)
        if at is None:
            return False
        pos = at + len(seg)
    return len(s) - len(last) >= pos and _seg_at(last, s, len(s) - len(last))


def _clear_selection(rnd: Round, post) -> tuple[dict, object, str]:
    """(the form's values, the matching findings of the round not yet ignored, an error message)."""
    from ...rectify.workbook import clean_text

    mode = post.get("mode") or "host"
    host = clean_text(post.get("host") or "").strip().lower()
    pattern = clean_text(post.get("pattern") or "").strip()
    reason = clean_text(post.get("reason") or "").strip()
    values = {"mode": mode, "host": host, "pattern": pattern, "reason": reason}
    live = Finding.objects.filter(round=rnd, ignored_by__isnull=True)
    if not reason:
        return values, None, "请填写忽略理由（将随每条忽略记录保存）"
    if mode == "host":
        if host not in _hosts(rnd):
            return values, None, "请选择本轮检查的网站主机"
        qs = live.filter(Q(url__istartswith=f"http://{host}/") | Q(url__istartswith=f"https://{host}/")
                         | Q(url__iexact=f"http://{host}") | Q(url__iexact=f"https://{host}"))
    elif mode == "pattern":
        if len(pattern) < 3 or pattern.strip("*?/") == "":
            return values, None, "地址模式太宽：请至少写出地址中的一段，如 */old/* 或 /old/"
        if "*" in pattern or "?" in pattern:
            # candidates by the pattern's longest literal piece in the database, the glob matched here (linear time)
            piece = max(re.split(r"[*?]", pattern), key=len)
            cand = live.filter(url__contains=piece) if piece else live
            ids = [i for i, url in cand.values_list("id", "url").iterator(chunk_size=5000) if glob_match(pattern, url)]
            if len(ids) > CLEAR_MAX:
                return values, None, f"地址模式“{pattern}”匹配了{len(ids)}个问题，超过{CLEAR_MAX}个：请缩小范围"
            qs = live.filter(pk__in=ids)
        else:
            qs = live.filter(url__contains=pattern)
        # a pattern that takes in every problem of a round of several websites ("http", "*.*", the common host) is
        # not a selection of doubtful findings: refused (a whole host is cleared by host, a whole round not at all)
        total = live.count()
        if total and qs.count() == total and live.values("round_site_id").distinct().count() > 1:
            return values, None, (f"地址模式“{pattern}”匹配了本轮全部{total}个问题，范围太宽：请写出可疑地址特有的一段，"
                                  "如 */old/*；整站忽略请按主机选择")
    else:
        return values, None, "请选择按主机或按地址模式忽略"
    return values, qs, ""


# ------------------------------------------------------------------------------------------------------------- pages
def _page(request, rnd: Round, **extra):
    from ...reports.tables import rule_names

    iss = issuance_of(rnd)
    composed, warnings = None, []
    if rnd.status == "done":  # the bulletin of a round not done would be a draft: nothing to review yet
        data, composed = _composed(rnd)
        warnings = sanity(rnd, data, composed)
    form = extra.pop("form", None) or SettingsForm(instance=rnd)
    names = rule_names()
    ctx = {
        "round": rnd, "issuance": iss, "composed": composed, "warnings": warnings, "form": form,
        "examples": _examples(rnd, names), "examples_max": EXAMPLES_MAX, "hosts": _hosts(rnd),
        "why_not": refusal(rnd) if iss is None else "", "today": timezone.localdate().isoformat(),
        "findings_total": Finding.objects.filter(round=rnd, ignored_by__isnull=True).count(),
        "clear": {"mode": "host", "host": "", "pattern": "", "reason": ""},
    }
    if iss is not None:
        from ...rectify.issue import verify

        ctx["issued_items"] = rnd.rectify_items.count()
        ctx["tampered"] = verify(iss)  # frozen files changed or missing since they were issued
    status = extra.pop("status", 200)
    ctx.update(extra)
    return render(request, "web/review/review.html", ctx, status=status)


@access.office_required
@require_GET
def review(request, pk: int):
    return _page(request, _round(pk))


@access.office_required
@require_GET
def preview(request, pk: int):
    rnd = _round(pk)
    if rnd.status != "done":
        return render(request, "web/rounds/not_ready.html", {"round": rnd}, status=409)
    _, composed = _composed(rnd)
    return render(request, "web/review/preview.html", {"round": rnd, "composed": composed, "issuance": issuance_of(rnd)})


@access.office_required
@require_POST
def settings(request, pk: int):
    rnd = _round(pk)
    days_before, issued = rnd.rectify_days, issuance_of(rnd) is not None
    form = SettingsForm(request.POST, instance=rnd)
    if form.is_valid() and issued and form.cleaned_data.get("rectify_days") != days_before:
        # the items' deadlines were set when issued (Issuance.rectify_days): a new period would change nothing but
        # what the round says its period is
        form.add_error("rectify_days", "本轮已下发，整改期限已按下发时的设置计算，不能再修改")
    if not form.is_valid():
        messages.error(request, "设置未保存：请按提示更正")
        return _page(request, Round.objects.defer("rules_snapshot").get(pk=pk), form=form, status=400)
    form.save()
    note = "（已下发的文件不受影响）" if issuance_of(rnd) is not None else ""
    messages.success(request, f"已保存主送、文号、落款和整改期限{note}")
    return redirect("web:review", pk=pk)


@access.office_required
@require_POST
def examples(request, pk: int):
    rnd = _round(pk)
    if issuance_of(rnd) is not None:
        messages.error(request, "本轮已下发，典型问题不能再修改（下发的通报已冻结）")
        return redirect("web:review", pk=pk)
    raw = request.POST.getlist("example")
    ids = [int_param(v) for v in raw]
    if any(i is None for i in ids):
        messages.error(request, "典型问题未保存：问题编号不正确")
        return redirect("web:review", pk=pk)
    rows = dict(Finding.objects.filter(round=rnd, ignored_by__isnull=True, pk__in=ids).values_list("id", "rule"))
    bad = [i for i in ids if i not in rows]
    if bad:
        messages.error(request, f"典型问题未保存：问题 {'、'.join(map(str, bad[:5]))} 不属于本轮或已忽略")
        return redirect("web:review", pk=pk)
    chosen: dict[str, list[int]] = {}
    for i in dict.fromkeys(ids):
        chosen.setdefault(rows[i], []).append(i)
    over = [r for r, v in chosen.items() if len(v) > EXAMPLES_MAX]
    if over:
        messages.error(request, f"典型问题未保存：每类问题最多选{EXAMPLES_MAX}个（{'、'.join(over)}）")
        return redirect("web:review", pk=pk)
    rnd.examples = chosen
    rnd.save(update_fields=["examples"])
    messages.success(request, f"已保存典型问题：{len(chosen)}类问题共{sum(map(len, chosen.values()))}个")
    return redirect("web:review", pk=pk)


@access.office_required
@require_POST
def clear(request, pk: int):
    from ...rounds.ignores import DERIVED, IgnoreError, ignore_finding

    rnd = _round(pk)
    if issuance_of(rnd) is not None:
        messages.error(request, "本轮已下发，不能再批量忽略；已下发的问题请通过申诉处理")
        return redirect("web:review", pk=pk)
    values, qs, error = _clear_selection(rnd, request.POST)
    if error:
        messages.error(request, error)
        return _page(request, rnd, clear=values, status=400)
    if request.POST.get("confirm") != "yes":
        total = qs.count()
        blocked = qs.filter(Q(round_site__isnull=True) | Q(rule__in=list(DERIVED))).count()
        shown = list(qs.select_related("responsible_unit").order_by("id")[:CLEAR_SHOWN])
        return _page(request, rnd, clear=values, clear_preview={"total": total, "blocked": blocked,
                                                                 "clearable": total - blocked, "shown": shown})
    done, refused = 0, []
    for f in qs.select_related("round_site__website", "round").order_by("id"):
        f.refresh_from_db(fields=["ignored_by"])
        if f.ignored_by_id is not None:  # covered by an ignore recorded a moment ago (the same problem twice)
            continue
        try:
            ignore_finding(f, "hit", values["reason"], by=_who(request))
            done += 1
        except IgnoreError as e:
            refused.append(f"问题{f.pk}：{e}")
    if done:
        messages.success(request, f"已忽略{done}个问题（理由：{values['reason']}），每个忽略均已记录操作人和时间")
    if refused:
        messages.error(request, f"{len(refused)}个问题不能批量忽略：" + "；".join(refused[:5]) + ("等" if len(refused) > 5 else ""))
    if not done and not refused:
        messages.info(request, "没有需要忽略的问题")
    return redirect("web:review", pk=pk)


@access.office_required
@require_POST
def issue_view(request, pk: int):
    rnd = _round(pk)
    raw_on = (request.POST.get("issued_on") or "").strip()
    try:
        on = dt.date.fromisoformat(raw_on) if raw_on else timezone.localdate()
    except ValueError:
        messages.error(request, f"通报日期不正确：{raw_on}")
        return redirect("web:review", pk=pk)
    why = refusal(rnd)
    if why:
        messages.error(request, why)
        return redirect("web:review", pk=pk)
    if on < rnd.as_of:  # a bulletin dated before the check it reports on: a typo, and deadlines already passed
        messages.error(request, f"通报日期{on:%Y-%m-%d}早于本轮检查时点{rnd.as_of:%Y-%m-%d}，请核对通报日期")
        return redirect("web:review", pk=pk)
    ahead = (on - timezone.localdate()).days
    if ahead > ISSUE_AHEAD_DAYS:  # dated when it goes out: months ahead is a typo (2062 for 2026) and no one is overdue
        messages.error(request, f"通报日期{on:%Y-%m-%d}在{ahead}天之后，超过{ISSUE_AHEAD_DAYS}天，请核对通报日期")
        return redirect("web:review", pk=pk)
    if request.POST.get("confirm") != "yes":
        from ...rectify.services import deadline_for

        from ...engine.workdays import UnknownYear

        try:
            deadline = deadline_for(rnd, on)
        except UnknownYear as e:  # a year without a working-day calendar: said before issuing, not after
            messages.error(request, f"无法计算整改期限：{e}")
            return redirect("web:review", pk=pk)
        except OverflowError:  # a date near 9999-12-31: the deadline would be past the last date there is
            messages.error(request, f"无法计算整改期限：通报日期{on:%Y-%m-%d}超出可计算的日期范围，请核对通报日期")
            return redirect("web:review", pk=pk)
        live = Finding.objects.filter(round=rnd, ignored_by__isnull=True)
        counts = live.aggregate(n=Count("id"), units=Count("responsible_unit", distinct=True),
                                no_unit=Count("id", filter=Q(responsible_unit__isnull=True)))
        return render(request, "web/review/confirm.html", {
            "round": rnd, "issued_on": on, "deadline": deadline, "counts": counts,
            "warnings": sanity(rnd)})
    try:
        iss = issue(rnd, _who(request), issued_on=on)
    except IssueError as e:
        messages.error(request, str(e))
        return redirect("web:review", pk=pk)
    messages.success(request, f"第{rnd.pk}轮已下发：新建整改事项{iss.items_created}个，通报和附件已冻结保存")
    return redirect("web:review", pk=pk)


urlpatterns = [
    path("rounds/<int:pk>/review/", review, name="review"),
    path("rounds/<int:pk>/review/preview/", preview, name="review_preview"),
    path("rounds/<int:pk>/review/settings/", settings, name="review_settings"),
    path("rounds/<int:pk>/review/examples/", examples, name="review_examples"),
    path("rounds/<int:pk>/review/clear/", clear, name="review_clear"),
    path("rounds/<int:pk>/review/issue/", issue_view, name="review_issue"),
]
