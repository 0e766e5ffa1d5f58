"""The unit portal (我的问题): a unit's own problems by site and rule, what is new since the last round, deadlines and
its downloads.

    /portal/?round=<id>&unit=<id>      web:portal

A unit account sees its own unit; a supervisor without ?unit= sees the units it supervises; anyone may name a unit
within their scope with ?unit= (others are 404). The office and read-only accounts choose a unit first.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path

from .. import access, stats
from . import int_param
from .dashboard import pick_round


@access.login_required_view
def index(request):
    user = request.user
    raw = request.GET.get("unit", "").strip()
    unit = None
    if raw:
        if int_param(raw) is None:
            raise Http404("没有这个单位")
        unit = get_object_or_404(access.units(user), pk=int_param(raw))
        ids = [unit.pk]
    else:
        scope = access.unit_ids(user)
        ids = sorted(scope) if scope is not None else None
        if ids is not None and access.role(user) == access.UNIT and user.profile.unit_id:
            unit = user.profile.unit
    rnd, choices = pick_round(request)
    ctx = {"round": rnd, "rounds": choices, "unit": unit, "unit_param": raw if unit else "",
           "overdue_label": stats.OVERDUE_LABEL, "choose": ids is None}
    if ids is None:  # the office / read-only: pick a unit
        ctx["units"] = list(access.units(user).only("id", "name", "kind"))
    elif not ids:
        ctx["no_unit"] = True
    else:
        ctx["scope_units"] = list(access.units(user).filter(pk__in=ids).only("id", "name")) if unit is None else [unit]
        if rnd is not None:
            ctx["us"] = stats.unit_stats(rnd, user, ids)
            ctx["site_ids"] = set(access.round_sites(user).filter(round=rnd, website__owner__in=ids)
                                  .values_list("pk", flat=True))
            ctx["unit_id"] = unit.pk if unit is not None else ""
    return render(request, "web/portal/index.html", ctx)


urlpatterns = [path("portal/", index, name="portal")]
