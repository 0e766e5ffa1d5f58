"""Platform accounts: created from the registry's unit contacts (first sign-in forces a password change), added by
hand, reset, deactivated; the `govinspect accounts` command; the demo's accounts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import User

from govinspect.registry.models import Unit
from govinspect.web.models import Profile

PASSWORD = "Test-Passw0rd-42"  # tests/web/conftest.py


def _shown_passwords(page: str) -> dict[str, str]:
    """username -> temporary password, from the page that shows them once."""
    return dict(re.findall(r"<tr><td>([^<]+)</td><td><code class=\"password\">([^<]+)</code>", page))


def test_accounts_from_registry_must_change_password_at_first_sign_in(platform, client_for, client):
    child = platform.units["town_child"]
    Unit.objects.filter(pk=child.pk).update(contact_name="陈七", contact_email="sq@example.gov.cn")
    office = client_for("office")
    page = office.get("/accounts/").content.decode()
    assert "为 1 个单位创建账号" in page and "陈七" in page  # units a and b have contacts but already have accounts
    r = office.post("/accounts/from-registry/")
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    shown = _shown_passwords(r.content.decode())
    assert list(shown) == [f"unit-{child.pk}"]
    password = shown[f"unit-{child.pk}"]
    user = User.objects.get(username=f"unit-{child.pk}")
    assert user.get_full_name() == "陈七" and user.email == "sq@example.gov.cn"
    assert user.profile.role == "unit" and user.profile.unit_id == child.pk and user.profile.must_change_password
    # hashed by Django's PBKDF2 hasher, at the temporary work factor (a random ~70-bit password)
    assert password not in user.password and user.password.startswith("pbkdf2_sha256$20000$")
    # shown once: the next request creates nothing and shows no password
    assert office.post("/accounts/from-registry/").status_code == 302
    assert User.objects.filter(profile__unit=child).count() == 1
    assert "code class=\"password\"" not in office.get("/accounts/").content.decode()

    office.logout()
    assert client.post("/login/", {"username": user.username, "password": password}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$1000000$")  # Django re-hashed it at full strength on sign-in
    r = client.get("/portal/")
    assert r.status_code == 302 and r.headers["Location"] == "/password/"
    assert "首次登录" in client.get("/password/").content.decode()
    r = client.post("/password/", {"old_password": password, "new_password1": "Own-Pass-2026x",
                                   "new_password2": "Own-Pass-2026x"})
    assert r.status_code == 302
    assert client.get("/").headers["Location"] == "/portal/"
    user.refresh_from_db()
    assert not user.profile.must_change_password and user.check_password("Own-Pass-2026x")


def test_add_an_account_by_hand(platform, client_for):
    office = client_for("office")
    r = office.post("/accounts/add/", {"username": "town-leader", "role": "supervisor", "full_name": "刘八"})
    assert r.status_code == 400 and "主管单位账号必须指定单位" in r.content.decode()
    assert not User.objects.filter(username="town-leader").exists()
    r = office.post("/accounts/add/", {"username": "town-leader", "role": "supervisor", "full_name": "刘八",
                                       "unit": platform.units["town"].pk})
    assert r.status_code == 200
    password = _shown_passwords(r.content.decode())["town-leader"]
    p = Profile.objects.get(user__username="town-leader")
    assert (p.role, p.unit_id, p.must_change_password) == ("supervisor", platform.units["town"].pk, True)
    assert p.user.check_password(password)
    r = office.post("/accounts/add/", {"username": "TOWN-leader", "role": "readonly"})
    assert r.status_code == 400 and "已存在" in r.content.decode()
    r = office.post("/accounts/add/", {"username": "boss", "role": "readonly", "unit": platform.units["a"].pk})
    assert Profile.objects.get(user__username="boss").unit is None  # a unit means nothing to a readonly account
    page = office.get("/accounts/").content.decode()
    assert "town-leader" in page and "刘八" in page and "待修改密码" in page


def test_reset_and_deactivate(platform, client_for):
    office = client_for("office")
    unit_b = platform.users["unit_b"]
    r = office.post(f"/accounts/{unit_b.pk}/reset/")
    new = _shown_passwords(r.content.decode())["unit_b"]
    unit_b.refresh_from_db()
    assert not unit_b.check_password(PASSWORD) and unit_b.check_password(new) and unit_b.profile.must_change_password
    assert office.post(f"/accounts/{platform.users['office'].pk}/deactivate/").status_code == 302
    assert User.objects.get(username="office").is_active  # not oneself

    from django.test import Client

    other = Client()
    other.force_login(unit_b)
    Profile.objects.filter(user=unit_b).update(must_change_password=False)
    assert other.get("/").headers["Location"] == "/portal/"  # signed in
    office.post(f"/accounts/{unit_b.pk}/deactivate/")
    assert not User.objects.get(pk=unit_b.pk).is_active
    r = other.get("/")  # the open session ends with the account
    assert r.status_code == 302 and r.headers["Location"].startswith("/login/")
    fresh = Client()
    r = fresh.post("/login/", {"username": "unit_b", "password": new})
    assert r.status_code == 200 and "_auth_user_id" not in fresh.session
    office.post(f"/accounts/{unit_b.pk}/activate/")
    assert User.objects.get(pk=unit_b.pk).is_active


def test_accounts_list_is_bounded(platform, client_for, django_assert_max_num_queries, settings):
    from govinspect.web.accounts import add_account

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 40 accounts: hashing is not tested here
    for i in range(40):
        u = Unit.objects.create(name=f"测试单位{i}", kind="部门", contact_name=f"联系人{i}")
        add_account(f"u{i}", "unit", u)
    office = client_for("office")
    with django_assert_max_num_queries(12):
        assert office.get("/accounts/").status_code == 200


def _cli(data_dir, *args, check=True):
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(data_dir)}
    r = subprocess.run([sys.executable, "-m", "govinspect.cli", *args], env=env, capture_output=True, text=True,
                       timeout=180)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_accounts_command(tmp_path, db):
    from govinspect.registry.xlsx import write_template

    data = tmp_path / "data"
    reg = write_template(tmp_path / "名录.xlsx", {"单位": [
        ["演示县人民政府", "区县", "", "", "", "", "孙九", "0710-1", "zf@example.gov.cn"],
        ["演示县教育局", "部门", "演示县人民政府", "", "", "", "钱十", "", ""],
        ["演示县水利局", "部门", "演示县人民政府"]]})
    _cli(data, "registry", "import", str(reg))
    created = json.loads(_cli(data, "accounts", "from-registry", "--json").stdout)
    assert sorted(c["full_name"] for c in created) == ["孙九", "钱十"]  # the unit without a contact gets none
    assert all(c["role"] == "unit" and c["username"].startswith("unit-") and len(c["password"]) >= 12 for c in created)
    r = _cli(data, "accounts", "add", "leader", "--role", "supervisor", check=False)
    assert r.returncode == 2 and "主管单位账号必须指定单位" in r.stderr
    r = _cli(data, "accounts", "add", "leader", "--role", "supervisor", "--unit", "演示县人民政府", "--name", "周一")
    assert "临时密码" in r.stdout
    r = _cli(data, "accounts", "reset", created[0]["username"])
    new = re.search(r"临时密码：(\S+)", r.stdout).group(1)
    assert new != created[0]["password"]
    listed = {x["username"]: x for x in json.loads(_cli(data, "accounts", "list", "--json").stdout)}
    assert set(listed) == {c["username"] for c in created} | {"leader"}
    assert listed["leader"]["role"] == "supervisor" and listed["leader"]["unit"] == "演示县人民政府"
    assert all(x["must_change_password"] for x in listed.values())
    # the reset password is the one that signs in, hashed in the database the command used
    check = ("import django,os;os.environ['DJANGO_SETTINGS_MODULE']='govinspect.settings';django.setup();"
             "from django.contrib.auth.models import User;u=User.objects.get(username=%r);"
             "print(u.check_password(%r), u.check_password(%r), u.password.split('$')[0])")
    out = subprocess.run([sys.executable, "-c", check % (created[0]["username"], new, created[0]["password"])],
                         env={**os.environ, "GOVINSPECT_DATA_DIR": str(data)}, capture_output=True, text=True,
                         timeout=120).stdout.split()
    assert out[:2] == ["True", "False"] and out[2] in ("pbkdf2_sha256", "argon2", "bcrypt_sha256", "scrypt")
    assert "共 3 个账号" in _cli(data, "accounts", "list").stdout


def test_demo_accounts_json(db, tmp_path, capsys):
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    from govinspect.sandbox.demo import _demo_accounts

    top = Unit.objects.create(name="演示县人民政府", kind="区县")
    Unit.objects.create(name="演示县教育局", kind="部门", parent=top, contact_name="钱十")
    Unit.objects.create(name="演示县城关镇人民政府", kind="乡镇", parent=top)
    path = _demo_accounts(tmp_path)
    assert path == tmp_path / "demo-accounts.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and all(set(x) == {"username", "password", "role", "unit"} for x in data)
    assert [(x["role"], x["unit"]) for x in data] == [("office", None), ("unit", "演示县人民政府"), ("unit", "演示县教育局"),
                                                      ("unit", "演示县城关镇人民政府")]
    assert len({x["username"] for x in data}) == 4
    printed = capsys.readouterr().out
    for x in data:
        assert x["password"] in printed
        request = RequestFactory().post("/login/")
        user = authenticate(request, username=x["username"], password=x["password"])
        assert user is not None and not user.profile.must_change_password  # the demo's accounts sign straight in
    # a second demo run on the same database: the same accounts, new passwords
    again = {x["username"]: x["password"] for x in json.loads(_demo_accounts(tmp_path).read_text(encoding="utf-8"))}
    assert set(again) == {x["username"] for x in data} and User.objects.count() == 4
