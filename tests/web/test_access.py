"""Roles and scoping (govinspect/web/access.py) on the shared small county."""

from govinspect.web import access


def test_units_scope_per_role(platform):
    U, users = platform.units, platform.users
    assert access.unit_ids(users["office"]) is None
    assert access.unit_ids(users["readonly"]) is None
    assert access.unit_ids(users["unit_a"]) == {U["a"].pk}
    assert access.unit_ids(users["supervisor"]) == {U["town"].pk, U["town_child"].pk}


def test_findings_scope_never_crosses_units(platform):
    F, users = platform.findings, platform.users
    mine = set(access.findings(users["unit_a"]).filter(round=platform.rounds["current"]).values_list("pk", flat=True))
    assert mine == {F["privacy"].pk, F["still"].pk, F["new_a"].pk}  # the portal column A answers for is A's too
    assert F["b1"].pk not in mine and F["a_child"].pk not in mine
    assert set(access.findings(users["supervisor"]).filter(round=platform.rounds["current"]).values_list("pk", flat=True)) \
        == {F["town"].pk}
    assert access.findings(users["office"]).filter(round=platform.rounds["current"]).count() == 7


def test_sign_in_and_forced_password_change(platform, client):
    from govinspect.web.models import Profile

    Profile.objects.filter(user=platform.users["unit_b"]).update(must_change_password=True)
    r = client.post("/login/", {"username": "unit_b", "password": "Test-Passw0rd-42"})
    assert r.status_code == 302
    r = client.get("/findings/")
    assert r.status_code == 302 and r.headers["Location"] == "/password/"
    r = client.post("/password/", {"old_password": "Test-Passw0rd-42", "new_password1": "Another-Pass-77x",
                                   "new_password2": "Another-Pass-77x"})
    assert r.status_code == 302
    assert client.get("/").headers["Location"] == "/portal/"


def test_sign_in_is_throttled(platform, client):
    for _ in range(5):
        client.post("/login/", {"username": "office", "password": "wrong"})
    r = client.post("/login/", {"username": "office", "password": "Test-Passw0rd-42"})
    assert r.status_code == 429 and "锁定" in r.content.decode()


def test_idle_session_expires_and_security_headers(platform, client, settings):
    r = client.get("/login/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE <= 3600
