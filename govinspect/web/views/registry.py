"""Registry screens (检查对象名录) for the office: units as a tree with their contacts, websites with their registered
columns and the columns the latest round discovered (the office confirms or corrects each discovered category: the
human confirmation tenders ask for), new-media accounts, leaders, and the Excel import with its row errors on the page.

Read-only leaders may look; units and supervisors get 403; every change is the office's (POST + CSRF).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from ...registry.models import COLUMN_CATEGORIES, Account, Column, Leader, Unit, Website
from ...rounds.models import ColumnCheck, RoundSite
from .. import access
from . import int_param

PAGE = 100
CATEGORY_LABELS = dict(COLUMN_CATEGORIES) | {"unknown": "未识别", "": "未设置"}


def _page(request, qs):
    return Paginator(qs, PAGE).get_page(request.GET.get("page"))


def _units_with_parents():
    """Every unit, each with its parent object attached from the same query (no query per chain walk)."""
    units = list(Unit.objects.all())
    by_id = {u.pk: u for u in units}
    for u in units:
        if u.parent_id is not None:
            u.parent = by_id.get(u.parent_id)
    return units, by_id


def _tree(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Depth-first by name: (unit, depth); a unit whose parent chain loops is listed at the top level."""
    children: dict[int | None, list[Unit]] = {}
    ids = {u.pk for u in units}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    out, seen = [], set()

    def walk(parent_id, depth):
        for u in sorted(children.get(parent_id, []), key=lambda x: x.name):
            if u.pk in seen:
                continue
            seen.add(u.pk)
            out.append((u, depth))
            walk(u.pk, depth + 1)

    walk(None, 0)
    for u in units:  # cycles entered by hand: still shown
        if u.pk not in seen:
            seen.add(u.pk)
            out.append((u, 0))
            walk(u.pk, 1)
    return out


def _unconfirmed_checks(qs):
    """Column checks whose URL is not a registered column of their site with a category (not yet confirmed)."""
    registered = Column.objects.filter(site=OuterRef("round_site__website"), url=OuterRef("url")).exclude(category="")
    return qs.annotate(registered=Exists(registered)).filter(registered=False)


def _latest_site_rounds():
    """The newest round site of each website (by round), as a queryset of ids."""
    from django.db.models import Max

    return RoundSite.objects.values("website").annotate(last=Max("id")).values("last")


@access.sees_everything_required
def index(request):
    today_leaders = Leader.objects.filter(Q(end__isnull=True) | Q(end__gte=dt.date.today()))
    units = Unit.objects.aggregate(total=Count("id"), contacts=Count("id", filter=~Q(contact_name="")),
                                   no_account=Count("id", filter=~Q(contact_name="") & Q(accounts_on_platform__isnull=True)))
    latest = _latest_site_rounds()
    pending = _unconfirmed_checks(ColumnCheck.objects.filter(round_site__in=latest)).count()
    columns = Column.objects.aggregate(total=Count("id"), uncategorised=Count("id", filter=Q(category="")))
    accounts = Account.objects.aggregate(total=Count("id"), unfiled=Count("id", filter=Q(filed=False)))
    ctx = {
        "units": units,
        "websites": Website.objects.count(),
        "columns": columns["total"],
        "uncategorised": columns["uncategorised"],
        "pending": pending,
        "accounts": accounts["total"],
        "unfiled": accounts["unfiled"],
        "leaders": today_leaders.count(),
        "can_change": access.can_change(request.user),
    }
    return render(request, "web/registry/index.html", ctx)


@access.sees_everything_required
def units(request):
    from ...rounds.result import UnitRef

    all_units, _ = _units_with_parents()
    sites = dict(Website.objects.values("owner").annotate(n=Count("id")).values_list("owner", "n"))
    platform = dict(Unit.objects.filter(accounts_on_platform__isnull=False).annotate(n=Count("accounts_on_platform"))
                    .values_list("id", "n"))
    rows = []
    for u, depth in _tree(all_units):
        ref = UnitRef.of(u)
        rows.append({"unit": u, "depth": range(depth), "region": ref.region_label, "supervisor": ref.supervisor,
                     "sites": sites.get(u.pk, 0), "platform": platform.get(u.pk, 0)})
    return render(request, "web/registry/units.html", {"rows": rows, "can_change": access.can_change(request.user)})


class ContactForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["contact_name", "contact_phone", "contact_email"]


@access.office_required
@require_http_methods(["GET", "POST"])
def unit_contacts(request, pk):
    unit = get_object_or_404(access.units(request.user), pk=pk)
    form = ContactForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"已保存“{unit.name}”的联系人")
        return redirect("web:registry_units")
    return render(request, "web/registry/unit_contacts.html", {"unit": unit, "form": form})


@access.sees_everything_required
def websites(request):
    qs = access.websites(request.user).select_related("owner").annotate(n_columns=Count("columns")).order_by("-is_portal", "name")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(home_url__icontains=q) | Q(owner__name__icontains=q))
    return render(request, "web/registry/websites.html", {"page": _page(request, qs), "q": q})


def _site_columns(site):
    """The site's registered columns, its latest round site and that round's column checks, each check with the
    registered column of its URL (or None) and whether its category is confirmed."""
    registered = list(site.columns.select_related("responsible_unit"))
    by_url = {c.url: c for c in registered}
    rs = RoundSite.objects.filter(website=site).select_related("round").order_by("-round_id").first()
    checks = []
    if rs is not None:
        for cc in rs.columns.order_by("id"):
            col = by_url.get(cc.url)
            checks.append({"check": cc, "column": col, "label": CATEGORY_LABELS.get(cc.category, cc.category),
                           # the registry's category is the office's word: the next round uses it
                           "confirmed": col is not None and bool(col.category),
                           "selected": (col.category if col is not None and col.category else cc.category)})
    return registered, rs, checks


@access.sees_everything_required
def website(request, pk):
    site = get_object_or_404(access.websites(request.user).select_related("owner"), pk=pk)
    registered, rs, checks = _site_columns(site)
    return render(request, "web/registry/website.html", {
        "site": site, "registered": registered, "rs": rs, "checks": checks, "categories": COLUMN_CATEGORIES,
        "labels": CATEGORY_LABELS, "can_change": access.can_change(request.user)})


@access.office_required
@require_POST
def confirm_column(request, pk):
    """Confirm or correct a column's category: a discovered column (a ColumnCheck of the site's latest round) becomes
    a registered Column with the chosen category; a registered column gets its category changed."""
    site = get_object_or_404(access.websites(request.user), pk=pk)
    category = request.POST.get("category", "")
    if category not in dict(COLUMN_CATEGORIES):
        messages.error(request, "请选择栏目类别")
        return redirect("web:registry_website", pk=site.pk)
    label = dict(COLUMN_CATEGORIES)[category]
    if request.POST.get("column"):
        col = get_object_or_404(Column, pk=int_param(request.POST["column"]) or 0, site=site)
        col.category = category
        col.save(update_fields=["category"])
        messages.success(request, f"栏目“{col.name}”的类别已改为{label}")
    else:
        cc = get_object_or_404(ColumnCheck, pk=int_param(request.POST.get("check")) or 0, round_site__website=site)
        col, created = Column.objects.get_or_create(site=site, url=cc.url, defaults={
            "name": cc.name[:100], "category": category, "level": cc.level or 1})
        if not created:
            col.category = category
            col.save(update_fields=["category"])
        messages.success(request, f"栏目“{col.name}”已{'登记到名录' if created else '确认'}，类别：{label}")
    return redirect("web:registry_website", pk=site.pk)


@access.sees_everything_required
def accounts(request):
    qs = access.accounts(request.user).select_related("owner")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(owner__name__icontains=q) | Q(platform=q))
    return render(request, "web/registry/accounts.html", {"page": _page(request, qs), "q": q})


@access.sees_everything_required
def leaders(request):
    qs = Leader.objects.select_related("unit").order_by("unit__name", "-start")
    return render(request, "web/registry/leaders.html", {"page": _page(request, qs)})


@access.office_required
@require_http_methods(["GET", "POST"])
def import_view(request):
    """Upload a 名录.xlsx: everything or nothing is imported; every row error is listed on the page."""
    from ...registry.xlsx import MAX_FILE_BYTES, RegistryImportError, import_registry

    ctx = {"errors": None, "counts": None, "max_mb": MAX_FILE_BYTES // (1024 * 1024)}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            ctx["errors"] = [{"sheet": "-", "row": 0, "column": "-", "reason": "请选择要导入的 .xlsx 文件"}]
        elif upload.size > MAX_FILE_BYTES:
            ctx["errors"] = [{"sheet": "-", "row": 0, "column": "-",
                              "reason": f"文件过大（{upload.size} 字节，上限 {MAX_FILE_BYTES}）"}]
        else:
            with tempfile.TemporaryDirectory(prefix="govinspect-import-") as tmp:
                dest = Path(tmp) / "名录.xlsx"
                with open(dest, "wb") as fh:
                    for chunk in upload.chunks():
                        fh.write(chunk)
                try:
                    ctx["counts"] = import_registry(dest)
                except RegistryImportError as e:
                    ctx["errors"] = e.errors
            ctx["filename"] = upload.name
        if ctx["counts"] is not None:
            messages.success(request, f"已导入“{upload.name}”：" + "，".join(f"{k}{v}条" for k, v in ctx["counts"].items()))
            return redirect("web:registry")
    return render(request, "web/registry/import.html", ctx, status=400 if ctx["errors"] else 200)


@access.sees_everything_required
def export(request):
    """The registry as the import template (名录.xlsx), e.g. to fill in contacts and import back."""
    from ...registry.xlsx import export_registry, write_template

    blank = request.GET.get("blank") == "1"
    tmp = tempfile.NamedTemporaryFile(prefix="govinspect-export-", suffix=".xlsx", delete=False)
    tmp.close()
    path = Path(tmp.name)
    try:
        write_template(path) if blank else export_registry(path)
        data = open(path, "rb")
    finally:
        path.unlink(missing_ok=True)  # the open handle keeps the content readable (POSIX)
    return FileResponse(data, as_attachment=True, filename="名录模板.xlsx" if blank else "名录.xlsx")


urlpatterns = [
    path("registry/", index, name="registry"),
    path("registry/units/", units, name="registry_units"),
    path("registry/units/<int:pk>/contacts/", unit_contacts, name="registry_unit_contacts"),
    path("registry/websites/", websites, name="registry_websites"),
    path("registry/websites/<int:pk>/", website, name="registry_website"),
    path("registry/websites/<int:pk>/columns/", confirm_column, name="registry_column_confirm"),
    path("registry/accounts/", accounts, name="registry_accounts"),
    path("registry/leaders/", leaders, name="registry_leaders"),
    path("registry/import/", import_view, name="registry_import"),
    path("registry/export/", export, name="registry_export"),
]
