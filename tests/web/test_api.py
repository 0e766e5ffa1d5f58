"""The API (govinspect/api) on the shared small county (tests/web/conftest.py): real tokens from POST /api/v1/auth/token/,
the pages' scoping (a unit never reads another unit's findings, evidence or units, even by guessing ids), pagination and
filters, the pre-publication check and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from api_util import ids, many_findings, token_for

PASSWORD = "Test-Passw0rd-42"  # tests/web/conftest.py

VALID_ID = "110101199003074514"  # a made-up number with a valid GB 11643 check digit

pytestmark = pytest.mark.usefixtures("fresh_throttles")


# --- token ---

def test_token_flow_and_wrong_password(platform):
    tok = token_for("unit_a", PASSWORD)
    assert tok == token_for("unit_a", PASSWORD)  # one token per account
    c = APIClient()
    assert c.get("/api/v1/findings/").status_code == 401  # anonymous: TokenAuthentication asks for credentials
    c.credentials(HTTP_AUTHORIZATION="Token " + tok)
    assert c.get("/api/v1/findings/").status_code == 200
    c.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert c.get("/api/v1/findings/").status_code == 401

    r = APIClient().post("/api/v1/auth/token/", {"username": "unit_a", "password": "wrong"}, format="json")
    assert r.status_code == 400 and r.json()["detail"] == "用户名或密码错误" and "token" not in r.json()
    r = APIClient().post("/api/v1/auth/token/", {"username": "unit_a"}, format="json")
    assert r.status_code == 400 and "密码" in r.json()["detail"]
    r = APIClient().post("/api/v1/auth/token/", "not json", content_type="application/json")
    assert r.status_code == 400 and "JSON" in r.json()["detail"]


def test_token_sign_in_is_throttled_by_axes(platform):
    for _ in range(4):
        r = APIClient().post("/api/v1/auth/token/", {"username": "office", "password": "wrong"}, format="json")
        assert r.status_code == 400
    r = APIClient().post("/api/v1/auth/token/", {"username": "office", "password": "wrong"}, format="json")
    assert r.status_code == 429  # the fifth failure locks the name out
    r = APIClient().post("/api/v1/auth/token/", {"username": "office", "password": PASSWORD}, format="json")
    assert r.status_code == 429 and "登录失败次数过多" in r.json()["detail"] and "token" not in r.json()
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="office").exists()  # counted by django-axes itself
    assert APIClient().post("/api/v1/auth/token/", {"username": "unit_a", "password": PASSWORD},
                            format="json").status_code == 200  # other names are not locked


def test_no_token_before_the_first_password_change_or_without_a_role(platform):
    from django.contrib.auth.models import User

    from govinspect.web.models import Profile

    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + token_for("unit_b", PASSWORD))
    Profile.objects.filter(user=platform.users["unit_b"]).update(must_change_password=True)
    r = APIClient().post("/api/v1/auth/token/", {"username": "unit_b", "password": PASSWORD}, format="json")
    assert r.status_code == 403 and "修改" in r.json()["detail"] and "token" not in r.json()
    r = c.get("/api/v1/findings/")  # a token issued earlier stops working too (the office reset the password)
    assert r.status_code == 403 and "修改" in r.json()["detail"]

    User.objects.create_user("nobody", password=PASSWORD)  # no profile, not a superuser: no role
    r = APIClient().post("/api/v1/auth/token/", {"username": "nobody", "password": PASSWORD}, format="json")
    assert r.status_code == 403 and "角色" in r.json()["detail"]


def test_session_sign_in_works_too(platform):
    c = APIClient()
    c.force_login(platform.users["unit_a"])
    assert c.get("/api/v1/units/").status_code == 200


# --- scoping ---

def test_unit_reads_only_its_own_findings(platform, api):
    F, cur = platform.findings, platform.rounds["current"]
    a = api("unit_a")
    assert ids(a.get(f"/api/v1/findings/?round={cur.pk}")) == {F["privacy"].pk, F["still"].pk, F["new_a"].pk}
    everything = ids(a.get("/api/v1/findings/"))
    assert not everything & {F["b1"].pk, F["b2"].pk, F["town"].pk, F["a_child"].pk}
    for key in ("b1", "b2", "town", "a_child"):  # guessing ids: 404, never the content
        r = a.get(f"/api/v1/findings/{F[key].pk}/")
        assert r.status_code == 404 and "不在本账号的查看范围内" in r.json()["detail"]
        assert F[key].detail not in r.content.decode()
        assert a.get(f"/api/v1/findings/{F[key].pk}/evidence/").status_code == 404
    assert a.get("/api/v1/findings/999999/").status_code == 404
    assert a.get("/api/v1/findings/abc/").status_code == 404
    assert a.get(f"/api/v1/findings/?unit={platform.units['b'].pk}").json()["count"] == 0

    b = api("unit_b")
    assert ids(b.get(f"/api/v1/findings/?round={cur.pk}")) == {F["b1"].pk, F["b2"].pk}
    assert b.get(f"/api/v1/findings/{F['privacy'].pk}/evidence/").status_code == 404


def test_finding_detail(platform, api):
    F = platform.findings
    r = api("unit_a").get(f"/api/v1/findings/{F['privacy'].pk}/")
    assert r.status_code == 200
    d = r.json()
    assert d["rule"] == "privacy.id_number" and d["rule_name"] and d["rule_name"] != "privacy.id_number"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in d["rule_name"])  # the Chinese name from the catalogue
    assert d["detail"] == "公开了身份证号码" and d["veto"] is True and d["severity"] == "high"
    assert d["unit"] == {"id": platform.units["a"].pk, "name": "测试县卫生健康局"}
    assert d["site"]["id"] == platform.sites["a"].pk and d["round"] == platform.rounds["current"].pk
    assert d["fingerprint"] == F["privacy"].fingerprint and d["location"] == {"url": F["privacy"].url}
    assert d["subject"]["kind"] == "page" and d["text"] == "110101********4518" and d["ignored"] is False
    # the portal finding A answers for: visible to A although the portal site is not A's
    r = api("unit_a").get(f"/api/v1/findings/{F['new_a'].pk}/")
    assert r.status_code == 200 and r.json()["site"]["id"] == platform.sites["portal"].pk
    assert "<script>" in r.json()["detail"]  # data as stored: JSON is not HTML (clients escape)


def test_evidence(platform, api):
    F = platform.findings
    r = api("unit_a").get(f"/api/v1/findings/{F['privacy'].pk}/evidence/")
    assert r.status_code == 200
    d = r.json()
    assert d["captured_at"] == "2026-09-29T10:00:00+08:00" and d["http_status"] == 200
    assert d["hit_text"] == "110101********4518" and d["excerpt"][d["hit"][0]:d["hit"][1]] == d["hit_text"]
    assert d["has_capture"] is True and "warc_file" not in d
    try:
        expected = reverse("web:finding_page", args=[F["privacy"].pk])
    except NoReverseMatch:  # the captured-page view is built by the findings screens
        expected = None
    assert d["page_url"] == expected
    r = api("unit_a").get(f"/api/v1/findings/{F['still'].pk}/evidence/")  # no capture stored for a dead link
    assert r.status_code == 200 and r.json()["has_capture"] is False and r.json()["page_url"] is None


def test_supervisor_scope(platform, api):
    F, U, cur = platform.findings, platform.units, platform.rounds["current"]
    s = api("supervisor")
    assert ids(s.get("/api/v1/findings/")) == {F["town"].pk}
    assert ids(s.get("/api/v1/units/")) == {U["town"].pk, U["town_child"].pk}
    assert s.get(f"/api/v1/units/{U['a'].pk}/").status_code == 404
    assert s.get(f"/api/v1/findings/{F['a_child'].pk}/").status_code == 404
    r = s.get(f"/api/v1/rounds/{cur.pk}/")
    assert r.status_code == 200
    d = r.json()
    assert d["counts"]["sites"] == {"total": 1, "checked": 0, "could_not_check": 1, "passed": 0, "failed": 0,
                                    "unknown": 1}
    assert d["counts"]["findings"]["total"] == 1 and d["counts"]["accounts"]["total"] == 0
    assert [x["website"] for x in d["sites"]] == [platform.sites["town"].pk]
    assert d["sites"][0]["reason"] == "首页无法访问（连接超时）"
    unit_town = s.get(f"/api/v1/units/{U['town_child'].pk}/").json()
    assert unit_town["parent"] == U["town"].pk
    assert s.get(f"/api/v1/units/{U['town'].pk}/").json()["parent"] is None  # the county above is not its to see


def test_units_scope(platform, api):
    U, S = platform.units, platform.sites
    a = api("unit_a")
    assert ids(a.get("/api/v1/units/")) == {U["a"].pk}  # not even its own child centre: a unit sees itself
    for key in ("top", "a_child", "b", "town"):
        assert a.get(f"/api/v1/units/{U[key].pk}/").status_code == 404
    d = a.get(f"/api/v1/units/{U['a'].pk}/").json()
    assert d["name"] == "测试县卫生健康局" and [w["id"] for w in d["websites"]] == [S["a"].pk] and d["parent"] is None
    assert "contact_email" not in d
    assert ids(api("office").get("/api/v1/units/")) == {u.pk for u in U.values()}


def test_rounds_counts_per_role(platform, api, django_assert_max_num_queries):
    cur, prev = platform.rounds["current"], platform.rounds["previous"]
    o = api("office")
    with django_assert_max_num_queries(7):  # token+user, profile, count, page, sites, accounts, findings counts
        office = o.get("/api/v1/rounds/").json()
    assert [r["id"] for r in office["results"]] == [cur.pk, prev.pk]
    c = office["results"][0]["counts"]
    assert c["sites"] == {"total": 4, "checked": 3, "could_not_check": 1, "passed": 2, "failed": 1, "unknown": 1}
    assert c["findings"] == {"total": 7, "veto": 2, "high": 3, "medium": 3, "low": 1}
    assert c["accounts"]["total"] == 2 and c["accounts"]["failed"] == 1
    a = api("unit_a").get("/api/v1/rounds/").json()["results"][0]["counts"]
    assert a["sites"]["total"] == 1 and a["sites"]["failed"] == 1 and a["findings"]["total"] == 3
    assert a["findings"]["veto"] == 1 and a["accounts"]["total"] == 1
    r = api("unit_a").get(f"/api/v1/rounds/{cur.pk}/").json()
    assert [x["website"] for x in r["sites"]] == [platform.sites["a"].pk] and r["status"] == "done"
    assert api("unit_a").get("/api/v1/rounds/999999/").status_code == 404


def test_anonymous_is_refused_everywhere(platform):
    c = APIClient()
    F = platform.findings
    for url in ("/api/v1/rounds/", f"/api/v1/rounds/{platform.rounds['current'].pk}/", "/api/v1/findings/",
                f"/api/v1/findings/{F['privacy'].pk}/", f"/api/v1/findings/{F['privacy'].pk}/evidence/",
                "/api/v1/units/", f"/api/v1/units/{platform.units['a'].pk}/"):
        r = c.get(url)
        assert r.status_code in (401, 403), url
        assert "110101" not in r.content.decode()
    r = c.post("/api/v1/check-text/", {"text": "博彩"}, format="json")
    assert r.status_code in (401, 403)


# --- pagination and filters ---

def test_pagination_and_filters(platform, api, django_assert_max_num_queries):
    many_findings(platform, 60)
    cur, prev = platform.rounds["current"], platform.rounds["previous"]
    a = api("unit_a")
    with django_assert_max_num_queries(7):
        r = a.get(f"/api/v1/findings/?round={cur.pk}")
    d = r.json()
    assert d["count"] == 63 and len(d["results"]) == 50 and d["next"] and d["previous"] is None
    page2 = a.get(d["next"]).json()
    assert len(page2["results"]) == 13 and page2["next"] is None
    assert not {x["id"] for x in d["results"]} & {x["id"] for x in page2["results"]}
    assert all(x["round"] == cur.pk for x in d["results"] + page2["results"])
    assert a.get(f"/api/v1/findings/?round={prev.pk}").json()["count"] == 2
    assert a.get(f"/api/v1/findings/?round={cur.pk}&rule=link.dead").json()["count"] == 61
    assert a.get(f"/api/v1/findings/?round={cur.pk}&rule=privacy").json()["count"] == 1
    assert a.get(f"/api/v1/findings/?round={cur.pk}&severity=low").json()["count"] == 1
    assert a.get(f"/api/v1/findings/?site={platform.sites['portal'].pk}").json()["count"] == 1
    assert a.get(f"/api/v1/findings/?unit={platform.units['a'].pk}&round={cur.pk}").json()["count"] == 63
    r = a.get("/api/v1/findings/?round=abc")
    assert r.status_code == 400 and "整数" in r.json()["detail"]
    assert a.get("/api/v1/findings/?severity=urgent").status_code == 400
    assert a.get("/api/v1/findings/?page=99").status_code == 404
    o = api("office")
    with django_assert_max_num_queries(6):  # token+user, profile, count, page, rule sets (cached after the first)
        office = o.get("/api/v1/findings/?page=2")
    assert office.json()["count"] == 63 + 4 + 3
    assert all(x["rule_name"] for x in office.json()["results"])


def test_ignored_findings_are_left_out_unless_asked(platform, api):
    from govinspect.rounds.models import Finding, Ignore

    F = platform.findings
    ig = Ignore.objects.create(rule="content.typo", scope="hit", website=platform.sites["portal"], reason="人名",
                               created_by="office", fingerprint=F["new_a"].fingerprint)
    Finding.objects.filter(pk=F["new_a"].pk).update(ignored_by=ig)
    a = api("unit_a")
    cur = platform.rounds["current"]
    assert F["new_a"].pk not in ids(a.get(f"/api/v1/findings/?round={cur.pk}"))
    rows = a.get(f"/api/v1/findings/?round={cur.pk}&include_ignored=1").json()["results"]
    assert {x["id"]: x["ignored"] for x in rows}[F["new_a"].pk] is True
    assert a.get(f"/api/v1/rounds/{cur.pk}/").json()["counts"]["findings"]["total"] == 2



def _walk(client, url: str) -> tuple[list[int], list[int]]:
    """Every id of a paginated list, page after page, and the number of queries each page took."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out, queries = [], []
    while url:
        with CaptureQueriesContext(connection) as q:
            r = client.get(url)
        assert r.status_code == 200, r.content.decode()
        d = r.json()
        out += [row["id"] for row in d["results"]]
        queries.append(len(q.captured_queries))
        url = d["next"]
    return out, queries


@pytest.mark.parametrize("who", ["office", "unit_a"])
def test_findings_list_order_and_queries_whatever_the_size(platform, api, who):
    """Newest round first, then in stored order, every finding once; each page takes the same few queries (the page's
    ids in index order, then its rows with their unit, site and account), however many findings there are."""
    from govinspect.rounds.models import Finding, Ignore

    from govinspect.web import access
    from django.contrib.auth.models import User

    user = User.objects.get(username=who)

    def expected(include_ignored=False):
        qs = access.findings(user, Finding.objects.all())
        if not include_ignored:
            qs = qs.filter(ignored_by__isnull=True)
        return [f.pk for f in sorted(qs, key=lambda f: (-f.round_id, f.pk))]

    c = api(who)
    small, q_small = _walk(c, "/api/v1/findings/")
    assert small == expected()
    many_findings(platform, 130)
    prev = platform.rounds["previous"]
    rs = platform.findings["still"].round_site
    Finding.objects.bulk_create([Finding(round=prev, rule="link.dead", detail=f"上轮 {i}", fingerprint=f"old{i:029d}",
                                         responsible_unit=platform.units["a"], severity="medium") for i in range(40)])
    F = platform.findings
    ig = Ignore.objects.create(rule=F["new_a"].rule, scope="hit", website=rs.website, reason="测试", created_by="office",
                               fingerprint=F["new_a"].fingerprint)
    Finding.objects.filter(pk=F["new_a"].pk).update(ignored_by=ig)
    big, q_big = _walk(c, "/api/v1/findings/")
    assert big == expected() and F["new_a"].pk not in big and len(big) > 150
    assert len(q_big) == 4 and max(q_big) <= 6 and max(q_big) == max(q_small)
    every, _ = _walk(c, "/api/v1/findings/?include_ignored=1")
    assert every == expected(include_ignored=True) and F["new_a"].pk in every
    cur = platform.rounds["current"]
    in_round, _ = _walk(c, f"/api/v1/findings/?round={cur.pk}")
    assert in_round == [pk for pk in expected() if Finding.objects.get(pk=pk).round_id == cur.pk]


# --- the pre-publication check ---

def check(client, **body):
    return client.post("/api/v1/check-text/", body, format="json")


def test_check_text_finds_personal_data_and_wrong_words(platform, api):
    c = api("unit_b")
    text = f"本站提供博彩服务。张三，身份证号 {VALID_ID}，住址城关镇。坚持中国特色社会主意道路。"
    r = check(c, text=text)
    assert r.status_code == 200, r.content.decode()
    d = r.json()
    assert VALID_ID not in r.content.decode()  # never the full number, not even in the context
    by_rule = {f["rule"]: f for f in d["findings"]}
    pid = by_rule["privacy.id_number"]
    assert pid["text"] != VALID_ID and "*" in pid["text"] and pid["text"].endswith("4514")
    assert text[pid["start"]:pid["end"]] == VALID_ID and "【" in pid["context"]
    assert by_rule["content.sensitive"]["text"] == "博彩" and by_rule["content.sensitive"]["category"] == "赌博"
    assert by_rule["content.expression"]["suggestion"] == "中国特色社会主义"
    assert all(f["rule_name"] and f["severity"] in ("high", "medium", "low") for f in d["findings"])
    assert d["characters"] == len(text) and d["masked"] == 0

    r = check(c, text="身份证号 110101********4514 已按规定脱敏。", typos=False)
    assert r.status_code == 200 and r.json()["findings"] == [] and r.json()["masked"] == 1

    r = check(c, text=text, rules=["privacy"])
    assert {f["rule"] for f in r.json()["findings"]} == {"privacy.id_number"}
    r = check(c, text=text, rules=["content.sensitive"], typos=False)
    assert {f["rule"] for f in r.json()["findings"]} == {"content.sensitive"}
    r = check(c, text=text, rules=["nonsense.rule"])
    assert r.status_code == 400 and "未知的规则" in r.json()["detail"]


def test_check_text_reports_typos_of_the_context_method(platform, api):
    """The pre-publication check runs the typo check of this process: the context method when the Debian language
    model is installed (make installs it), which finds slips the dictionary method misses."""
    from govinspect.engine.content.typo import LmTypoDetector, classic_detector, detector

    text = "要进一步加强党风廉政建设，坚决惩治腐败，营造风清气正的政治生太。"
    if not isinstance(detector(), LmTypoDetector):
        pytest.skip("the typo language model is not installed (apt-get install libime-data-language-model)")
    assert classic_detector().scan(text) == []
    r = check(api("unit_b"), text=text)
    assert r.status_code == 200, r.content.decode()
    typos = [f for f in r.json()["findings"] if f["rule"] == "content.typo"]
    assert [(f["text"], f["suggestion"]) for f in typos] == [("生太", "生态")]
    assert text[typos[0]["start"]:typos[0]["end"]] == "生太"
    r = check(api("unit_b"), text=text, typos=False)
    assert not [f for f in r.json()["findings"] if f["rule"] == "content.typo"]


def test_check_text_html(platform, api):
    c = api("unit_a")
    html = ("<html><head><title>通知</title><style>p{color:red}</style></head><body>"
            "<script>var s='博彩';</script><!-- 彩金 --><p>欢迎访问网上赌博平台</p>"
            f"<p>联系人身份证号 {VALID_ID}</p></body></html>")
    r = check(c, html=html, typos=False)
    assert r.status_code == 200, r.content.decode()
    found = [(f["rule"], f["text"]) for f in r.json()["findings"]]
    assert ("content.sensitive", "网上赌博") in found and any(rule == "privacy.id_number" for rule, _ in found)
    assert ("content.sensitive", "博彩") not in found and ("content.sensitive", "彩金") not in found  # script, comment
    assert VALID_ID not in r.content.decode()

    broken = "<div><p>彩金<b>未闭合<table><tr><td>赌博网站</i></span></p><<<>>&#xffffff;&bogus;<p"
    r = check(c, html=broken, typos=False)
    assert r.status_code == 200 and any(f["text"] == "彩金" for f in r.json()["findings"])
    r = check(c, html="<div>" * 5000 + "博彩" + "</div>" * 10, typos=False)  # deeper than libxml2's limit
    assert r.status_code == 200 and [f["text"] for f in r.json()["findings"]] == ["博彩"]
    r = check(c, html="<div><script>博彩</script></div>")
    assert r.status_code == 400 and "没有可检查的文字" in r.json()["detail"]


def test_check_text_limits_and_odd_input(platform, api):
    c = api("unit_a")
    r = check(c, text="博" * 800_000)  # 2.4 MB of UTF-8
    assert r.status_code == 413 and "2 MB" in r.json()["detail"]
    r = check(c, html="<p>" + "博" * 800_000 + "</p>")
    assert r.status_code == 413
    for body in ({"text": ""}, {"text": "   \n "}, {}, {"html": ""}):
        r = check(c, **body)
        assert r.status_code == 400 and r.json()["detail"], body
    assert check(c, text="博彩", html="<p>博彩</p>").status_code == 400
    r = c.post("/api/v1/check-text/", "{broken", content_type="application/json")
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = c.post("/api/v1/check-text/", "[1, 2]", content_type="application/json")
    assert r.status_code == 400
    assert check(c, text=["博彩"]).status_code == 400
    # a formula-looking start and control characters are just text
    r = check(c, text="=HYPERLINK(\"http://x\")\x00\x01\x1b博彩\x7f\u202e彩金")
    assert r.status_code == 200 and {f["text"] for f in r.json()["findings"]} >= {"博彩", "彩金"}
    # a lone surrogate (valid JSON, not UTF-8) does not break the answer
    r = c.post("/api/v1/check-text/", '{"text": "\\ud800\u535a\u5f69"}', content_type="application/json")
    assert r.status_code == 200 and r.json()["findings"][0]["start"] == 1


def test_check_text_is_throttled_per_account_and_builds_its_checker_once(platform, api):
    from govinspect.api import views

    assert views.checker(True) is views.checker(True)
    a, b = api("unit_a"), api("unit_b")
    for _ in range(60):
        assert check(a, text="政务公开", typos=False).status_code == 200
    r = check(a, text="政务公开", typos=False)
    assert r.status_code == 429
    assert check(b, text="政务公开", typos=False).status_code == 200  # per account, not global


# --- schema ---

def test_openapi_schema_lists_every_endpoint(platform):
    r = APIClient().get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    schema = json.loads(r.content)
    paths = schema["paths"]
    for p in ("/api/v1/auth/token/", "/api/v1/check-text/", "/api/v1/findings/", "/api/v1/findings/{id}/",
              "/api/v1/findings/{id}/evidence/", "/api/v1/rounds/", "/api/v1/rounds/{id}/", "/api/v1/units/",
              "/api/v1/units/{id}/"):
        assert p in paths, p
    ct = paths["/api/v1/check-text/"]["post"]
    assert ct["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CheckTextRequest")
    assert set(ct["responses"]) >= {"200", "400", "413"}
    comps = schema["components"]["schemas"]
    assert {"findings", "masked", "characters"} <= set(comps["CheckTextResponse"]["properties"])
    assert {"username", "password"} <= set(comps["TokenRequest"]["properties"])
    assert "token" in comps["TokenResponse"]["properties"]
    assert {"round", "severity", "rule", "unit", "site"} <= {p["name"] for p in paths["/api/v1/findings/"]["get"]["parameters"]}
    assert {"captured_at", "http_status", "excerpt", "hit", "hit_text", "page_url"} <= set(comps["Evidence"]["properties"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]
