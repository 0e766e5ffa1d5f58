"""Platform accounts: created from the registry's unit contacts, added by hand, reset, deactivated; the demo's
accounts; and `govinspect accounts list|add|from-registry|reset|deactivate`.

Every password goes through Django's hashers. A temporary password is returned once to the caller (the page or the
command shows it) and never stored in clear; an account created or reset with one must set its own password at its next
sign-in (Profile.must_change_password, enforced by web/middleware.py).

Temporary (and demo) passwords are random, about 70 bits, so what protects them is their length, not the hash's work
factor: they are hashed with Django's PBKDF2 hasher at TEMPORARY_ITERATIONS (a standard pbkdf2_sha256 hash Django
verifies with the iterations it records, and re-hashes at the default strength at the first successful sign-in).
At Django's default 1,000,000 iterations one hash takes about 0.5 s here: creating the accounts of 60 units would
keep the office's request waiting half a minute. A password a person chose (password=...) gets set_password as is.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from ..cliutil import CliError, _setup_django

ROLE_LABELS = {"office": "检查单位", "unit": "责任单位", "supervisor": "主管单位", "readonly": "只读"}
NEEDS_UNIT = ("unit", "supervisor")
# no 0/O, 1/l/I: a temporary password is read off a screen and typed in
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AccountError(Exception):
    """A request the account services refuse (message in Chinese, shown as is)."""


@dataclass
class NewPassword:
    """An account and the temporary (or demo) password it was just given: shown once, never stored."""

    username: str
    password: str
    role: str
    unit: str | None
    full_name: str = ""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def temporary_password() -> str:
    """Fifteen random characters in three groups (about 87 bits), e.g. "k7Qm-x3Hp-Tz9w"."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(chars[i:i + 4] for i in range(0, 12, 4))


TEMPORARY_ITERATIONS = 20_000


def _set_random_password(user, password: str) -> None:
    """Hash a random temporary password with Django's PBKDF2 hasher at TEMPORARY_ITERATIONS (see the module doc)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    class Temporary(PBKDF2PasswordHasher):
        iterations = TEMPORARY_ITERATIONS

    user.password = make_password(password, hasher=Temporary())
    user._password = password  # as set_password: password validators' password_changed() sees it


def unit_username(unit) -> str:
    """The stable ascii username of a unit's account."""
    return f"unit-{unit.pk}"


def _free_username(base: str) -> str:
    from django.contrib.auth.models import User

    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _make(username: str, role: str, unit, full_name: str, email: str, password: str, must_change: bool,
          chosen: bool = False):
    from django.contrib.auth.models import User

    from .models import Profile

    user = User(username=username, first_name=(full_name or "")[:150], email=email or "")  # a Chinese name is whole
    if chosen:
        user.set_password(password)
    else:
        _set_random_password(user, password)
    user.save()
    Profile.objects.create(user=user, role=role, unit=unit, must_change_password=must_change)
    return user


def create_unit_accounts(units=None) -> list[NewPassword]:
    """One 责任单位 account for each unit that has a contact (联系人) and no platform account yet (of any role, active
    or not: a deactivated account is not recreated). Username unit-<id>, full name the contact, a temporary password
    that must be changed at first sign-in. units: a Unit queryset to limit to (default every unit)."""
    from django.db import transaction

    from ..registry.models import Unit

    qs = (Unit.objects.all() if units is None else units).exclude(contact_name="") \
        .filter(accounts_on_platform__isnull=True).order_by("pk")
    out = []
    with transaction.atomic():
        for unit in qs:
            password = temporary_password()
            user = _make(_free_username(unit_username(unit)), "unit", unit, unit.contact_name, unit.contact_email,
                         password, must_change=True)
            out.append(NewPassword(user.username, password, "unit", unit.name, unit.contact_name))
    return out


def _unit(unit):
    from ..registry.models import Unit

    if unit is None or unit == "" or isinstance(unit, Unit):
        return unit or None
    found = Unit.objects.filter(pk=unit).first() if isinstance(unit, int) or str(unit).isdigit() else None
    found = found or Unit.objects.filter(name=str(unit).strip()).first()
    if found is None:
        raise AccountError(f"名录中没有单位“{unit}”")
    return found


def add_account(username: str, role: str, unit=None, full_name: str = "", email: str = "",
                password: str | None = None, must_change: bool = True) -> NewPassword:
    """An account added by hand. unit (a Unit, its id or its name) is required for unit/supervisor accounts and
    ignored otherwise. password None: a temporary one (returned)."""
    from django.contrib.auth.models import User
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    username = (username or "").strip()
    if not username:
        raise AccountError("请填写用户名")
    if len(username) > 150:
        raise AccountError("用户名不能超过150个字符")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise AccountError("用户名只能包含字母、数字和 @/./+/-/_") from None
    if role not in ROLE_LABELS:
        raise AccountError(f"角色应为 {'、'.join(f'{k}（{v}）' for k, v in ROLE_LABELS.items())} 之一")
    unit = _unit(unit) if role in NEEDS_UNIT else None
    if role in NEEDS_UNIT and unit is None:
        raise AccountError(f"{ROLE_LABELS[role]}账号必须指定单位")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise AccountError(f"邮箱格式不正确：{email}") from None
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"用户名“{username}”已存在")
    chosen = bool(password)
    password = password or temporary_password()
    _make(username, role, unit, full_name.strip(), email, password, must_change, chosen=chosen)
    return NewPassword(username, password, role, unit.name if unit else None, full_name.strip())


def _user(username):
    from django.contrib.auth.models import User

    if isinstance(username, User):
        return username
    user = User.objects.filter(username=str(username).strip()).first()
    if user is None:
        raise AccountError(f"没有账号“{username}”")
    return user


def _profile_of(user):
    return getattr(user, "profile", None)


def reset_password(username) -> NewPassword:
    """A new temporary password (must be changed at the next sign-in); the account's failed sign-ins are cleared so
    a locked-out user can sign in with it."""
    from .models import Profile

    user = _user(username)
    password = temporary_password()
    _set_random_password(user, password)
    user.save(update_fields=["password"])
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()  # the API token of the old password stops working
    profile = _profile_of(user)
    if profile is not None:
        Profile.objects.filter(pk=profile.pk).update(must_change_password=True)
    try:
        from axes.utils import reset as axes_reset

        axes_reset(username=user.username)
    except Exception:  # noqa: BLE001 -- the lockout store is optional; the password is reset either way
        pass
    return NewPassword(user.username, password, profile.role if profile else "office",
                       profile.unit.name if profile and profile.unit_id else None, user.get_full_name())


def deactivate(username) -> None:
    """The account can no longer sign in (its sessions and API tokens stop working: Django refuses inactive users)."""
    user = _user(username)
    user.is_active = False
    user.save(update_fields=["is_active"])


def demo_accounts() -> list[dict]:
    """The demo's accounts: an office account "office" and one 责任单位 account per unit (unit-<id>), with random
    passwords that need no change (must_change_password False); accounts already there get a new password.
    Returns [{"username", "password", "role", "unit"}] (role in English, unit the unit's name or None)."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from ..registry.models import Unit
    from .models import Profile

    wanted = [("office", "office", None, "演示账号")]
    wanted += [(unit_username(u), "unit", u, u.contact_name) for u in Unit.objects.order_by("pk")]
    out = []
    with transaction.atomic():
        for username, role, unit, full_name in wanted:
            password = temporary_password()
            user = User.objects.filter(username=username).first()
            if user is None:
                _make(username, role, unit, full_name, unit.contact_email if unit else "", password, must_change=False)
            else:
                _set_random_password(user, password)
                user.is_active = True
                user.save()
                Profile.objects.update_or_create(user=user, defaults={"role": role, "unit": unit,
                                                                      "must_change_password": False})
            out.append({"username": username, "password": password, "role": role, "unit": unit.name if unit else None})
    return out


def write_demo_accounts(accounts: list[dict], path) -> None:
    from pathlib import Path

    Path(path).write_text(json.dumps(accounts, ensure_ascii=False, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------------------------ command
def register(sub) -> None:
    p = sub.add_parser("accounts", help="平台账号：列出、添加、从名录创建责任单位账号、重置密码、停用",
                       description="平台账号管理。临时密码只显示这一次，账号首次登录时须修改密码。")
    s = p.add_subparsers(dest="action", required=True, metavar="操作")
    ls = s.add_parser("list", help="列出平台账号")
    ls.add_argument("--json", action="store_true", help="以 JSON 输出")
    add = s.add_parser("add", help="添加一个账号（打印临时密码）")
    add.add_argument("username", help="用户名（字母、数字和 @/./+/-/_）")
    add.add_argument("--role", required=True, choices=list(ROLE_LABELS),
                     help="角色：office 检查单位，unit 责任单位，supervisor 主管单位，readonly 只读")
    add.add_argument("--unit", default="", help="单位名称或编号（责任单位、主管单位账号必填）")
    add.add_argument("--name", default="", help="姓名")
    add.add_argument("--email", default="", help="邮箱")
    fr = s.add_parser("from-registry", help="为名录中有联系人、尚无账号的单位各创建一个责任单位账号（打印临时密码）")
    fr.add_argument("--json", action="store_true", help="以 JSON 输出新账号和临时密码")
    rs = s.add_parser("reset", help="重置密码（打印新的临时密码，下次登录须修改）")
    rs.add_argument("username")
    de = s.add_parser("deactivate", help="停用账号（不能再登录）")
    de.add_argument("username")
    p.set_defaults(func=cmd_accounts)


def _print_new(rows: list[NewPassword], as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
        return
    for r in rows:
        unit = f"（{r.unit}）" if r.unit else ""
        print(f"  {r.username}\t{r.role_label}{unit}\t{r.full_name}\t临时密码：{r.password}")


def cmd_accounts(a) -> int:
    _setup_django()
    from django.contrib.auth.models import User

    try:
        if a.action == "list":
            rows = []
            for u in User.objects.select_related("profile__unit").order_by("username"):
                p = getattr(u, "profile", None)
                role = p.role if p else ("office" if u.is_superuser else "")
                rows.append({"username": u.username, "full_name": u.get_full_name(), "role": role,
                             "unit": p.unit.name if p and p.unit_id else None, "active": u.is_active,
                             "must_change_password": bool(p and p.must_change_password)})
            if a.json:
                print(json.dumps(rows, ensure_ascii=False, indent=1))
                return 0
            if not rows:
                print("还没有平台账号。可用 govinspect accounts from-registry 为名录中的单位创建账号。")
            for r in rows:
                flags = ("" if r["active"] else "【已停用】") + ("（待修改密码）" if r["must_change_password"] else "")
                label = ROLE_LABELS.get(r["role"], "未分配角色")
                print(f"{r['username']}\t{label}{'（' + r['unit'] + '）' if r['unit'] else ''}\t{r['full_name']}{flags}")
            print(f"共 {len(rows)} 个账号")
        elif a.action == "add":
            r = add_account(a.username, a.role, a.unit or None, a.name, a.email)
            print("已添加账号（首次登录须修改密码）：")
            _print_new([r], False)
        elif a.action == "from-registry":
            rows = create_unit_accounts()
            if a.json:
                _print_new(rows, True)
            elif rows:
                print(f"已为 {len(rows)} 个单位创建责任单位账号（临时密码只显示这一次，首次登录须修改）：")
                _print_new(rows, False)
            else:
                print("没有需要创建账号的单位（名录中有联系人的单位都已有账号）")
        elif a.action == "reset":
            r = reset_password(a.username)
            print("密码已重置（下次登录须修改）：")
            _print_new([r], False)
        elif a.action == "deactivate":
            deactivate(a.username)
            print(f"账号“{a.username}”已停用")
    except AccountError as e:
        raise CliError(str(e)) from None
    return 0
