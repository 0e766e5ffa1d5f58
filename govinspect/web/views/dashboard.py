"""The office dashboard (总览) and its drill-down pages: a unit, and a site of a round.

    /dashboard/?round=<id>                         web:dashboard  the round's numbers (default: the latest done round)
    /units/<id>/?round=<id>                        web:unit       one unit's problems, sites and accounts in a round
    /rounds/<round_id>/sites/<round_site_id>/      web:site       one site's result: verdict, score, columns, problems

Every number comes from govinspect/web/stats.py, scoped by govinspect/web/access.py; objects outside the user's scope
are 404. A unit account is sent to its portal.
"""

from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from .. import access, stats
from . import int_param
from ...registry.models import COLUMN_CATEGORIES, Unit
from ...rounds.models import ColumnCheck


UNIT_ROWS = 50  # rows of the per-unit tables unless ?units=all (a province has thousands of units)


def pick_round(request):
    """(the round named by ?round=, else the latest done round; the rounds for the picker). A bad id is a 404."""
    raw = request.GET.get("round", "").strip()
    if raw:
        if int_param(raw) is None:
            raise Http404("没有这个检查轮次")
        rnd = get_object_or_404(stats.rounds(), pk=int_param(raw))
    else:
        rnd = stats.default_round()
    choices = list(stats.rounds().exclude(status="pending").only("id", "name", "as_of", "status")[:60])
    if rnd is not None and all(r.pk != rnd.pk for r in choices):
        choices.insert(0, rnd)
    return rnd, choices


@access.login_required_view
def index(request):
    if access.role(request.user) == access.UNIT:
        return redirect("web:portal")
    rnd, choices = pick_round(request)
    ctx = {"round": rnd, "rounds": choices, "can_change": access.can_change(request.user),
           "role": access.role(request.user)}
    if rnd is not None:
        st = stats.round_stats(rnd, request.user)
        every = request.GET.get("units") == "all"
        cap = (lambda rows: rows) if every else (lambda rows: rows[:UNIT_ROWS])
        changed = [u for u in st.units if u["n"] or u["fixed"] or u["unknown"]]
        ctx.update(st=st, chart=st.chart_data(), overdue_label=stats.OVERDUE_LABEL, unit_rows=cap(st.units),
                   change_rows=cap(changed), overdue_rows=cap(st.overdue), all_units=every,
                   capped=not every and max(len(st.units), len(changed), len(st.overdue)) > UNIT_ROWS)
    return render(request, "web/dashboard/index.html", ctx)


@access.login_required_view
def unit(request, unit_id):
    u = get_object_or_404(access.units(request.user).select_related("parent"), pk=unit_id)
    rnd, choices = pick_round(request)
    ctx = {"unit": u, "round": rnd, "rounds": choices, "overdue_label": stats.OVERDUE_LABEL,
           "children": list(access.units(request.user, Unit.objects.filter(parent=u)).only("id", "name")),
           "parent_visible": u.parent_id is not None and access.may_see_unit(request.user, u.parent_id)}
    if rnd is not None:
        ctx["us"] = stats.unit_stats(rnd, request.user, [u.pk])
        ctx["site_ids"] = set(access.round_sites(request.user).filter(round=rnd).values_list("pk", flat=True))
    return render(request, "web/dashboard/unit.html", ctx)


SITE_FINDINGS = 100


@access.login_required_view
def site(request, round_id, round_site_id):
    rs = get_object_or_404(access.round_sites(request.user).filter(round_id=round_id)
                           .select_related("website", "website__owner"), pk=round_site_id)
    rnd = stats.rounds().get(pk=round_id)
    info = stats.rule_info(rnd)
    prev = stats.previous_round(rnd)
    cur = stats.current_findings(rnd, request.user, prev).filter(round_site=rs)
    rows = cur.values("rule").annotate(n=Count("id"), still=Count("id", filter=stats.still_q(prev)),
                                       veto=Count("id", filter=Q(veto=True))).order_by()
    rules = sorted(({"rule": r["rule"], "name": info.name(r["rule"]), "n": r["n"], "still": r["still"],
                     "new": r["n"] - r["still"], "veto": r["veto"]} for r in rows), key=lambda r: (-r["n"], r["rule"]))
    listing = stats.finding_rows(cur, prev, info, SITE_FINDINGS)
    columns = list(ColumnCheck.objects.filter(round_site=rs).order_by("level", "id"))
    by_column = dict(cur.exclude(column_name="").values_list("column_name").annotate(n=Count("id")).order_by())
    categories = dict(COLUMN_CATEGORIES)
    for c in columns:
        c.problems = by_column.get(c.name, 0)
        c.category_name = categories.get(c.category, c.category)
    from ...reports.data import cn_reason

    total = sum(r["n"] for r in rules)
    ctx = {"rs": rs, "round": rnd, "site": rs.website, "rules": rules, "findings": listing, "total": total,
           "more": total > len(listing), "columns": columns, "reason": cn_reason(rs.reason) if rs.reason else "",
           "owner_visible": access.may_see_unit(request.user, rs.website.owner_id), "previous": prev}
    return render(request, "web/dashboard/site.html", ctx)


urlpatterns = [
    path("dashboard/", index, name="dashboard"),
    path("units/<int:unit_id>/", unit, name="unit"),
    path("rounds/<int:round_id>/sites/<int:round_site_id>/", site, name="site"),
]
