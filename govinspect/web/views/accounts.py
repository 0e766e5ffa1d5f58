"""Platform accounts (office only): the list with role and unit, accounts for every registry unit that has a contact,
an account added by hand, password reset, deactivation. A temporary password appears once, on the page answering the
POST that made it (never stored in clear, never cached); the account must change it at its first sign-in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ...registry.models import Unit
from .. import access
from .. import accounts as service


class AddForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, help_text="字母、数字和 @/./+/-/_，如 wjj-zhang")
    role = forms.ChoiceField(label="角色", choices=list(service.ROLE_LABELS.items()))
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.order_by("name"), required=False,
                                  empty_label="（检查单位、只读账号不选）", help_text="责任单位、主管单位账号必选")
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    email = forms.EmailField(label="邮箱", required=False)


def _list_context(request, form=None):
    users = list(User.objects.select_related("profile__unit").order_by("profile__role", "profile__unit__name", "username"))
    rows = []
    for u in users:
        p = getattr(u, "profile", None)
        role = p.role if p else ("office" if u.is_superuser else "")
        rows.append({"user": u, "role": role, "role_label": service.ROLE_LABELS.get(role, "未分配角色"),
                     "unit": p.unit if p and p.unit_id else None, "must_change": bool(p and p.must_change_password)})
    eligible = Unit.objects.exclude(contact_name="").filter(accounts_on_platform__isnull=True)
    no_contact = Unit.objects.filter(contact_name="", accounts_on_platform__isnull=True).count()
    form = form or AddForm()
    chosen = str(form["unit"].value() or "")
    return {"rows": rows, "form": form, "eligible": list(eligible.order_by("name")[:50]),
            "eligible_count": eligible.count(), "no_contact": no_contact,
            # the unit list rendered by the template, not by the widget (thousands of options: 10x faster)
            "unit_choices": [(str(pk), name, str(pk) == chosen) for pk, name in Unit.objects.order_by("name").values_list("pk", "name")]}


@access.office_required
def index(request):
    return render(request, "web/accounts/index.html", _list_context(request))


def _passwords(request, title: str, created: list, note: str = ""):
    response = render(request, "web/accounts/passwords.html", {"title": title, "created": created, "note": note})
    response["Cache-Control"] = "no-store"
    return response


@access.office_required
@require_POST
@never_cache
def from_registry(request):
    created = service.create_unit_accounts()
    if not created:
        messages.info(request, "没有需要创建账号的单位：名录中有联系人的单位都已有账号")
        return redirect("web:accounts")
    return _passwords(request, f"已为 {len(created)} 个单位创建责任单位账号", created)


@access.office_required
@require_POST
@never_cache
def add(request):
    form = AddForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            created = service.add_account(d["username"], d["role"], d["unit"], d["full_name"], d["email"])
        except service.AccountError as e:
            form.add_error(None, str(e))
        else:
            return _passwords(request, f"已添加账号“{created.username}”", [created])
    return render(request, "web/accounts/index.html", _list_context(request, form), status=400)


def _platform_user(pk):
    """A platform account: never a Django superuser or staff account (those are managed on the command line), so that
    the office cannot take over the admin by resetting its password."""
    return get_object_or_404(User.objects.filter(is_superuser=False, is_staff=False), pk=pk)


@access.office_required
@require_POST
@never_cache
def reset(request, pk):
    user = _platform_user(pk)
    created = service.reset_password(user)
    note = "" if user.is_active else "该账号已停用：重新启用后才能用此密码登录。"
    return _passwords(request, f"已重置“{user.username}”的密码", [created], note)


@access.office_required
@require_POST
def deactivate(request, pk):
    user = _platform_user(pk)
    if user.pk == request.user.pk:
        messages.error(request, "不能停用自己正在使用的账号")
    else:
        service.deactivate(user)
        messages.success(request, f"账号“{user.username}”已停用")
    return redirect("web:accounts")


@access.office_required
@require_POST
def activate(request, pk):
    user = _platform_user(pk)
    User.objects.filter(pk=user.pk).update(is_active=True)
    messages.success(request, f"账号“{user.username}”已重新启用")
    return redirect("web:accounts")


urlpatterns = [
    path("accounts/", index, name="accounts"),
    path("accounts/from-registry/", from_registry, name="accounts_from_registry"),
    path("accounts/add/", add, name="accounts_add"),
    path("accounts/<int:pk>/reset/", reset, name="accounts_reset"),
    path("accounts/<int:pk>/deactivate/", deactivate, name="accounts_deactivate"),
    path("accounts/<int:pk>/activate/", activate, name="accounts_activate"),
]
