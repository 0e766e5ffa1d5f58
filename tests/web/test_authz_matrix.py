"""The authorization matrix: every URL pattern of the pages and the API × every role.

Each pattern is asked for with the ids of objects that belong to unit B (教育局): its unit, site, round site, finding,
account, workbook. `MATRIX` says which roles may use each pattern on such objects; every other role must be refused
(anonymous: sent to sign in, or 401/403 on the API; signed in: 403 or 404, or sent elsewhere) and no response any
role outside B's scope receives may carry B's data. A pattern missing from MATRIX fails the test: a new page or
endpoint cannot ship without an authorization decision. Guessing ids is covered: B's objects are exactly the ids a
unit would guess.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "office", "readonly", "supervisor", "unit_a")
SIGNED_IN = {"office", "readonly", "supervisor", "unit_a"}
EVERYONE = set(ROLES)
SEE_ALL = {"office", "readonly"}
OFFICE = {"office"}
# text only B's own data carries (its finding details, its illegal-link host, its unit and site names)
B_MARKERS = ("中华人民共和国国务院", "www.bad.top", "测试县教育局")

# name -> (method, args(platform) -> list, query string, roles allowed on B's objects)
MATRIX = {
    "web:home": ("GET", lambda p: [], "", SIGNED_IN),
    "web:login": ("GET", lambda p: [], "", EVERYONE),
    "web:logout": ("POST", lambda p: [], "", EVERYONE),
    "web:password_change": ("GET", lambda p: [], "", SIGNED_IN),
    "web:dashboard": ("GET", lambda p: [], "", {"office", "readonly", "supervisor"}),
    "web:unit": ("GET", lambda p: [p.units["b"].pk], "", SEE_ALL),
    "web:site": ("GET", lambda p: [p.rounds["current"].pk, _round_site(p, "b").pk], "", SEE_ALL),
    "web:rounds": ("GET", lambda p: [], "", {"office", "readonly", "supervisor"}),
    "web:round_create": ("GET", lambda p: [], "", OFFICE),
    "web:round": ("GET", lambda p: [p.rounds["current"].pk], "", {"office", "readonly", "supervisor"}),
    "web:round_progress": ("GET", lambda p: [p.rounds["current"].pk], "", {"office", "readonly", "supervisor"}),
    "web:round_launch": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:round_cancel": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:round_resume": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:round_download": ("GET", lambda p: [p.rounds["current"].pk, "rectification"], "unit={b}", SEE_ALL),
    "web:findings": ("GET", lambda p: [], "", SIGNED_IN),
    "web:finding": ("GET", lambda p: [p.findings["b1"].pk], "", SEE_ALL),
    "web:finding_page": ("GET", lambda p: [p.findings["b1"].pk], "", SEE_ALL),
    "web:finding_ignore": ("POST", lambda p: [p.findings["b1"].pk], "", OFFICE),
    "web:finding_unignore": ("POST", lambda p: [p.findings["b1"].pk], "", OFFICE),
    "web:portal": ("GET", lambda p: [], "unit={b}", SEE_ALL),
    "web:registry": ("GET", lambda p: [], "", SEE_ALL),
    "web:registry_units": ("GET", lambda p: [], "", SEE_ALL),
    "web:registry_unit_contacts": ("POST", lambda p: [p.units["b"].pk], "", OFFICE),
    "web:registry_websites": ("GET", lambda p: [], "", SEE_ALL),
    "web:registry_website": ("GET", lambda p: [p.sites["b"].pk], "", SEE_ALL),
    "web:registry_column_confirm": ("POST", lambda p: [p.sites["b"].pk], "", OFFICE),
    "web:registry_accounts": ("GET", lambda p: [], "", SEE_ALL),
    "web:registry_leaders": ("GET", lambda p: [], "", SEE_ALL),
    "web:registry_import": ("POST", lambda p: [], "", OFFICE),
    "web:registry_export": ("GET", lambda p: [], "", SEE_ALL),
    "web:accounts": ("GET", lambda p: [], "", OFFICE),
    "web:accounts_from_registry": ("POST", lambda p: [], "", OFFICE),
    "web:accounts_add": ("POST", lambda p: [], "", OFFICE),
    "web:accounts_reset": ("POST", lambda p: [p.users["unit_b"].pk], "", OFFICE),
    "web:accounts_deactivate": ("POST", lambda p: [p.users["unit_b"].pk], "", OFFICE),
    "web:accounts_activate": ("POST", lambda p: [p.users["unit_b"].pk], "", OFFICE),
    "api:token": ("POST", lambda p: [], "", EVERYONE),
    "api:check_text": ("POST", lambda p: [], "", SIGNED_IN),
    "api:schema": ("GET", lambda p: [], "", EVERYONE),  # the interface description, no data
    "api:round-list": ("GET", lambda p: [], "", SIGNED_IN),
    "api:round-detail": ("GET", lambda p: [p.rounds["current"].pk], "", SIGNED_IN),
    "api:finding-list": ("GET", lambda p: [], "", SIGNED_IN),
    "api:finding-detail": ("GET", lambda p: [p.findings["b1"].pk], "", SEE_ALL),
    "api:finding-evidence": ("GET", lambda p: [p.findings["b1"].pk], "", SEE_ALL),
    "api:unit-list": ("GET", lambda p: [], "", SIGNED_IN),
    "api:unit-detail": ("GET", lambda p: [p.units["b"].pk], "", SEE_ALL),
}


def _area_matrices() -> None:
    """Areas keep their entries in tests/web/authz_<area>.py (a MATRIX dict of the same shape), merged here."""
    import importlib.util
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("authz_*.py")):
        spec = importlib.util.spec_from_file_location(f"_authz_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        twice = set(mod.MATRIX) & set(MATRIX)
        assert not twice, f"{path.name}: entries already in the matrix: {twice}"
        MATRIX.update(mod.MATRIX)


_area_matrices()
# POSTs by an allowed role would change the fixture (launch a round, reset a password): their success is tested by
# each area's own tests; here only the refusals of the other roles are asked for.
SIDE_EFFECTS = {n for n, (m, *_) in MATRIX.items() if m == "POST"} - {"api:token", "api:check_text", "web:logout"}


def _round_site(p, key):
    from govinspect.rounds.models import RoundSite

    return RoundSite.objects.get(round=p.rounds["current"], website=p.sites[key])


def url_names() -> set[str]:
    def walk(patterns, ns=None):
        for pat in patterns:
            if isinstance(pat, URLResolver):
                if str(pat.pattern).startswith("admin"):
                    continue  # Django admin: staff only, its own permission system (tested in test_admin_access)
                yield from walk(pat.url_patterns, pat.namespace or ns)
            elif isinstance(pat, URLPattern) and pat.name:
                yield f"{ns}:{pat.name}"

    return set(walk(get_resolver().url_patterns))


def test_every_url_pattern_has_an_authorization_decision():
    names = url_names()
    assert names - set(MATRIX) == set(), "URL patterns without an entry in the authorization matrix"
    assert set(MATRIX) - names == set(), "matrix entries for URL patterns that no longer exist"


def _request(client, method, url, name):
    if name == "api:token":
        return client.post(url, {"username": "unit_b", "password": "wrong"}, content_type="application/json")
    if name == "api:check_text":
        return client.post(url, {"text": "测试文本"}, content_type="application/json")
    return client.post(url, {}) if method == "POST" else client.get(url)


def _denied(role, name, r) -> bool:
    if role == "anonymous":
        if name.startswith("api:"):
            return r.status_code in (401, 403)
        return r.status_code == 302 and "/login/" in r.headers.get("Location", "")
    if r.status_code in (403, 404):
        return True
    # a page a role does not use may send it to its own home (a unit opening the dashboard lands on its portal)
    return r.status_code == 302 and "/login/" not in r.headers.get("Location", "")


def _body(r) -> str:
    if getattr(r, "streaming", False):
        return b"".join(r.streaming_content).decode("utf-8", "replace") if r.get("Content-Type", "").startswith(
            ("text/", "application/json")) else ""
    return r.content.decode("utf-8", "replace")


@pytest.mark.parametrize("role", ROLES)
def test_matrix(platform, role, client):
    from django.contrib.auth.models import User

    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    problems = []
    for name, (method, args, query, allowed) in sorted(MATRIX.items()):
        if role in allowed and name in SIDE_EFFECTS:
            continue
        url = reverse(name, args=args(platform))
        if query:
            url += "?" + query.format(b=platform.units["b"].pk)
        r = _request(client, method, url, name)
        if role in allowed:
            if name in ("web:home", "web:logout"):
                ok = r.status_code == 302
            elif name == "web:login":
                ok = r.status_code in (200, 302)  # a signed-in user is sent on to its home
            elif name == "api:token":
                ok = r.status_code == 400  # wrong password, answered (not refused)
            else:
                ok = r.status_code == 200
            if not ok:
                problems.append(f"{role} {method} {url}: expected to be served, got {r.status_code}")
        elif not _denied(role, name, r):
            problems.append(f"{role} {method} {url}: expected a refusal, got {r.status_code}")
        if role in ("unit_a", "supervisor", "anonymous") and r.status_code == 200:
            body = _body(r)
            leaked = [m for m in B_MARKERS if m in body]
            if leaked:
                problems.append(f"{role} {method} {url}: response carries unit B's data {leaked}")
        if name == "web:logout" and role != "anonymous":
            client.force_login(User.objects.get(username=role))  # signed out by the request: sign in again
    assert not problems, "\n".join(problems)


def test_unit_reads_its_own_objects(platform, client_for):
    """The refusals above are not a page refusing everyone: unit A is served its own unit, finding, page, evidence."""
    c = client_for("unit_a")
    F, U = platform.findings, platform.units
    for url in (reverse("web:finding", args=[F["privacy"].pk]), reverse("web:finding_page", args=[F["privacy"].pk]),
                reverse("web:portal"), reverse("api:finding-detail", args=[F["privacy"].pk]),
                reverse("api:finding-evidence", args=[F["privacy"].pk]), reverse("api:unit-detail", args=[U["a"].pk]),
                reverse("web:round_download", args=[platform.rounds["current"].pk, "rectification"])):
        assert c.get(url).status_code == 200, url


def test_admin_is_for_staff_only(platform, client_for):
    """Django admin: platform accounts (office included) are not staff; they are sent to the admin's sign-in."""
    r = client_for("office").get("/admin/rounds/finding/")
    assert r.status_code == 302 and "/admin/login/" in r.headers["Location"]


def test_csrf_is_enforced(platform):
    from django.contrib.auth.models import User
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(User.objects.get(username="office"))
    r = c.post(reverse("web:finding_ignore", args=[platform.findings["b1"].pk]), {"reason": "x", "scope": "hit"})
    assert r.status_code == 403
    platform.findings["b1"].refresh_from_db()
    assert platform.findings["b1"].ignored_by_id is None
