"""The findings browser and the safe evidence viewer (govinspect/web/views/findings.py) on the `platform` county."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from captures import write_warc as _warc





def _ids(resp) -> set[int]:
    """The finding ids a list page links to."""
    return {int(m) for m in re.findall(r'href="/findings/(\d+)/"', resp.content.decode())}


def _list(client, **params):
    resp = client.get(reverse("web:findings"), params)
    assert resp.status_code == 200
    return _ids(resp)


# ------------------------------------------------------------------------------------------------ scoping
def test_unit_lists_exactly_its_current_findings(platform, client_for):
    F = platform.findings
    c = client_for("unit_a")
    assert _list(c) == {F["privacy"].pk, F["still"].pk, F["new_a"].pk}
    html = c.get(reverse("web:findings")).content.decode()
    assert "测试县教育局网站" not in html  # B's site is not even in the dropdown
    # its own site, and the portal where a column it answers for has a finding
    assert f'<option value="{platform.sites["a"].pk}">' in html and f'<option value="{platform.sites["portal"].pk}">' in html
    assert f'<option value="{platform.units["a"].pk}">' in html and f'<option value="{platform.units["b"].pk}">' not in html
    assert F["b1"].detail not in html


def test_office_lists_every_current_finding_and_defaults_to_latest_done_round(platform, client_for):
    F = platform.findings
    assert _list(client_for("office")) == {f.pk for f in F.values()}
    prev = platform.rounds["previous"]
    from govinspect.rounds.models import Finding

    assert _list(client_for("office"), round=prev.pk) == set(Finding.objects.filter(round=prev).values_list("pk", flat=True))


def test_unit_cannot_open_another_units_finding_or_its_page(platform, client_for):
    F = platform.findings
    c = client_for("unit_a")
    for name in ("web:finding", "web:finding_page"):
        assert c.get(reverse(name, args=[F["b1"].pk])).status_code == 404
        assert c.get(reverse(name, args=[F["b2"].pk])).status_code == 404
    c = client_for("unit_b")
    assert c.get(reverse("web:finding", args=[F["privacy"].pk])).status_code == 404
    resp = c.get(reverse("web:finding_page", args=[F["privacy"].pk]))
    assert resp.status_code == 404 and b"110101" not in resp.content


def test_supervisor_and_readonly_scopes(platform, client_for):
    F = platform.findings
    assert _list(client_for("supervisor")) == {F["town"].pk}
    assert client_for("supervisor").get(reverse("web:finding", args=[F["privacy"].pk])).status_code == 404
    assert _list(client_for("readonly")) == {f.pk for f in F.values()}
    html = client_for("readonly").get(reverse("web:finding", args=[F["new_a"].pk])).content.decode()
    assert 'name="reason"' not in html


def test_unit_filter_outside_scope_gives_nothing(platform, client_for):
    assert _list(client_for("unit_a"), unit=platform.units["b"].pk) == set()


# ------------------------------------------------------------------------------------------------ filters
def test_filters_state_group_severity_unit_veto_rule(platform, client_for):
    F = platform.findings
    c = client_for("office")
    # previous round has link.dead (old.html, A) and content.expression (b/1.html, B): same fingerprints now
    assert _list(c, state="still") == {F["still"].pk, F["b1"].pk}
    assert _list(c, state="new") == {F[k].pk for k in ("privacy", "new_a", "b2", "town", "a_child")}
    assert _list(c, group="links") == {F["still"].pk, F["b2"].pk}
    assert _list(c, group="content") == {F["new_a"].pk, F["a_child"].pk, F["b1"].pk}
    assert _list(c, group="privacy") == {F["privacy"].pk}
    assert _list(c, severity="high") == {F["privacy"].pk, F["b2"].pk, F["a_child"].pk}
    assert _list(c, severity="low") == {F["new_a"].pk}
    assert _list(c, unit=platform.units["a"].pk) == {F["privacy"].pk, F["still"].pk, F["new_a"].pk}
    assert _list(c, veto="1") == {F["privacy"].pk, F["b2"].pk}
    assert _list(c, rule="link.dead") == {F["still"].pk}
    assert _list(c, site=platform.sites["portal"].pk) == {F["new_a"].pk}
    assert _list(c, unit=platform.units["a"].pk, state="new") == {F["privacy"].pk, F["new_a"].pk}
    # a unit's state filter stays inside its scope
    assert _list(client_for("unit_a"), state="still") == {F["still"].pk}


def test_state_ignored_and_open(platform, client_for):
    from govinspect.rounds.ignores import ignore_finding

    F = platform.findings
    ignore_finding(F["b1"], "hit", "规范表述，不是问题", by="office")
    c = client_for("office")
    assert _list(c, state="ignored") == {F["b1"].pk}
    assert F["b1"].pk not in _list(c, state="open")
    assert len(_list(c, state="open")) == len(F) - 1


def test_list_shows_chinese_rule_names_badges_and_location(platform, client_for):
    html = client_for("unit_a").get(reverse("web:findings")).content.decode()
    assert "公开内容含完整身份证号码</a>" in html and "privacy.id_number</a>" not in html
    assert 'class="badge veto"' in html and 'class="badge new"' in html and 'class="badge still"' in html
    assert "http://127.0.0.1:9/a/tzgg/2026/0901.html" in html
    assert "<script>alert" not in html  # F["new_a"].detail is escaped in the list too


# ------------------------------------------------------------------------------------------------ the finding page
def test_finding_page_escapes_detail_and_marks_the_hit(platform, client_for):
    F = platform.findings
    c = client_for("unit_a")
    html = c.get(reverse("web:finding", args=[F["new_a"].pk])).content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    html = c.get(reverse("web:finding", args=[F["privacy"].pk])).content.decode()
    assert "<mark>110101********4518</mark>" in html
    assert "张三，身份证号 <mark>" in html
    assert "公开内容含完整身份证号码" in html and "个保法第二十五条（已核实）" in html  # the rule in Chinese with its basis
    assert "2026-09-29 10:00:00" in html and ">200<" in html  # capture time (local, Asia/Shanghai), HTTP status
    assert f'<iframe sandbox="" class="evidence" src="{reverse("web:finding_page", args=[F["privacy"].pk])}"' in html


def test_highlight_filter_escapes_each_part():
    from govinspect.web.templatetags.findings_tags import highlight

    assert str(highlight("a<b>c</b>d", (1, 4))) == "a<mark>&lt;b&gt;</mark>c&lt;/b&gt;d"
    assert str(highlight("<i>x</i>", (5, 99))) == "&lt;i&gt;x&lt;/i&gt;"  # impossible hit: escaped, unmarked
    assert str(highlight("<i>x</i>", None)) == "&lt;i&gt;x&lt;/i&gt;"


def test_finding_history_across_rounds(platform, client_for):
    from govinspect.rounds.models import Finding

    F = platform.findings
    old = Finding.objects.get(round=platform.rounds["previous"], fingerprint=F["still"].fingerprint)
    c = client_for("unit_a")
    html = c.get(reverse("web:finding", args=[F["still"].pk])).content.decode()
    assert f'href="/findings/{old.pk}/"' in html and platform.rounds["previous"].name in html
    assert "仍存在" in html
    html = c.get(reverse("web:finding", args=[old.pk])).content.decode()
    assert f'href="/findings/{F["still"].pk}/"' in html


def test_finding_page_of_a_register_row_has_no_frame(platform, client_for):
    from govinspect.rounds.models import Finding

    f = Finding.objects.create(round=platform.rounds["current"], rule="register.late", subject_kind="register_row",
                               subject={"kind": "register_row"}, file="公文台账.xlsx", sheet="Sheet1", row=12,
                               detail="公文未按期公开", responsible_unit=platform.units["a"], fingerprint="r1")
    c = client_for("unit_a")
    html = c.get(reverse("web:finding", args=[f.pk])).content.decode()
    assert "<iframe" not in html and "公文台账.xlsx（Sheet1）第12行" in html
    resp = c.get(reverse("web:finding_page", args=[f.pk]))
    assert resp.status_code == 200 and "没有网页存档" in resp.content.decode()
    assert "公文台账.xlsx（Sheet1）第12行" in resp.content.decode()


# ------------------------------------------------------------------------------------------------ the captured page
def _csp(resp) -> dict[str, str]:
    out = {}
    for part in resp["Content-Security-Policy"].split(";"):
        words = part.strip().split(None, 1)
        if words:
            out[words[0]] = words[1] if len(words) > 1 else ""
    return out


def test_captured_page_is_sandboxed_with_strict_csp(platform, client_for):
    F = platform.findings
    resp = client_for("unit_a").get(reverse("web:finding_page", args=[F["privacy"].pk]))
    assert resp.status_code == 200
    assert resp["Content-Type"] == "text/html; charset=utf-8"
    csp = _csp(resp)
    assert "sandbox" in csp and csp["sandbox"] == ""  # no allow-scripts, no allow-same-origin
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'self'"
    assert csp["form-action"] == "'none'" and csp["base-uri"] == "'none'"
    assert "script-src" not in csp and "'self'" not in csp["default-src"]  # scripts fall back to 'none'
    assert csp["img-src"] == "data:"  # the capture's <img src=http://evil.example/...> cannot load
    assert resp["X-Frame-Options"] == "SAMEORIGIN"
    assert resp["Referrer-Policy"] == "no-referrer"
    assert resp["X-Content-Type-Options"] == "nosniff"
    body = resp.content
    # the capture as bytes: its <script> is there, inert (the CSP forbids scripts in this document)
    assert b"<script>document.title='PWNED'" in body
    assert "110101199003074518".encode() in body


def test_captured_page_removes_meta_refresh_and_detects_charset(platform, client_for):
    from govinspect.rounds.models import Finding

    page = ("<html><head><META HTTP-EQUIV='Refresh' CONTENT='0; url=http://evil.example/'>"
            '<meta content="1;url=http://evil.example/2" http-equiv="refresh">'
            "<meta charset=gbk><title>通知</title></head><body><p>联系电话 13800000000</p></body></html>").encode("gbk")
    key = "rounds/test/site-a/refresh.warc.gz"
    offset = _warc(key, "http://127.0.0.1:9/a/r.html", page, content_type="text/html")
    src = platform.findings["privacy"]
    f = Finding.objects.create(round=src.round, round_site=src.round_site, job=src.job, rule="privacy.phone",
                               subject_kind="page", subject={"kind": "page"}, url="http://127.0.0.1:9/a/r.html",
                               detail="公开了手机号码", responsible_unit=platform.units["a"], fingerprint="p1",
                               evidence={"warc_file": key, "warc_offset": offset, "http_status": 200})
    resp = client_for("unit_a").get(reverse("web:finding_page", args=[f.pk]))
    assert resp.status_code == 200
    body = resp.content
    assert b"evil.example" not in body and b"refresh" not in body.lower()
    assert "<title>通知</title>".encode("gbk") in body  # the rest is byte for byte
    assert resp["Content-Type"] == "text/html; charset=gbk"  # no charset in the captured header: the meta's


def test_charset_detection():
    from govinspect.web.views.findings import detect_charset, neutralise_refresh

    gbk = "<html><body>关于公布名单的公示，请各单位认真学习贯彻落实。</body></html>".encode("gbk")
    assert detect_charset(gbk, "text/html; charset=GBK") == "gbk"
    assert detect_charset(gbk, "text/html") in ("gbk", "gb2312", "gb18030")
    assert detect_charset(b"<meta charset='gb2312'><p>x</p>", None) == "gb2312"
    assert detect_charset(b"\xef\xbb\xbf<p>x</p>", "text/html; charset=gbk") == "utf-8"
    # a tag the pattern cannot delimit (a stray quote) keeps no http-equiv either
    out = neutralise_refresh(b'<meta a"b http-equiv=refresh content=0;url=http://evil.example/>')
    assert b"http-equiv" not in out.lower()


def test_missing_warc_file_is_a_chinese_404(platform, client_for, settings):
    from govinspect.storage import storage

    storage().path(platform.warc_key).unlink()
    resp = client_for("unit_a").get(reverse("web:finding_page", args=[platform.findings["privacy"].pk]))
    assert resp.status_code == 404
    text = resp.content.decode()
    assert "网页存档已不存在" in text and "Traceback" not in text
    assert "sandbox" in resp["Content-Security-Policy"]


# ------------------------------------------------------------------------------------------------ ignore
def test_office_ignores_and_revokes_audited(platform, client_for):
    from govinspect.rounds.models import Finding, Ignore

    F = platform.findings
    c = client_for("office")
    url = reverse("web:finding_ignore", args=[F["new_a"].pk])
    resp = c.post(url, {"scope": "hit", "reason": ""})
    assert resp.status_code == 302 and not Ignore.objects.exists()  # a reason is required
    resp = c.post(url, {"scope": "hit", "reason": "专有名词，不是错别字"})
    assert resp.status_code == 302
    ig = Ignore.objects.get()
    assert (ig.created_by, ig.reason, ig.scope, ig.source_finding_id) == ("office", "专有名词，不是错别字", "hit", F["new_a"].pk)
    assert Finding.objects.get(pk=F["new_a"].pk).ignored_by_id == ig.pk
    html = c.get(reverse("web:finding", args=[F["new_a"].pk])).content.decode()
    assert "专有名词，不是错别字" in html and "<strong>office</strong>" in html and "撤销“不是问题”" in html
    # the unit sees the record, not the buttons
    html = client_for("unit_a").get(reverse("web:finding", args=[F["new_a"].pk])).content.decode()
    assert "专有名词，不是错别字" in html and "撤销“不是问题”" not in html and 'name="reason"' not in html
    c = client_for("office")
    resp = c.post(reverse("web:finding_unignore", args=[F["new_a"].pk]), {"ignore": ig.pk})
    assert resp.status_code == 302
    ig.refresh_from_db()
    assert ig.revoked_by == "office" and ig.revoked_at is not None
    assert Finding.objects.get(pk=F["new_a"].pk).ignored_by_id is None


@pytest.mark.parametrize("who", ["unit_a", "readonly", "supervisor", "unit_b"])
def test_others_cannot_ignore(platform, client_for, who):
    from govinspect.rounds.models import Ignore

    F = platform.findings
    c = client_for(who)
    assert c.post(reverse("web:finding_ignore", args=[F["new_a"].pk]), {"scope": "hit", "reason": "x"}).status_code == 403
    assert c.post(reverse("web:finding_unignore", args=[F["new_a"].pk]), {}).status_code == 403
    assert not Ignore.objects.exists()
    if who == "unit_a":
        html = c.get(reverse("web:finding", args=[F["new_a"].pk])).content.decode()
        assert "标记为“不是问题”" not in html


def test_ignore_is_post_only(platform, client_for):
    resp = client_for("office").get(reverse("web:finding_ignore", args=[platform.findings["new_a"].pk]))
    assert resp.status_code == 405


# ------------------------------------------------------------------------------------------------ queries
def _more_findings(platform, n: int):
    from govinspect.rounds.models import Finding

    F = platform.findings
    rows = []
    for i in range(n):
        src = F["b1"] if i % 2 else F["still"]
        rows.append(Finding(round=src.round, round_site=src.round_site, job=src.job, rule=src.rule, subject_kind="page",
                            url=f"http://127.0.0.1:9/x/{i}.html", detail=f"问题 {i}", fingerprint=f"fp{i}",
                            severity="medium", responsible_unit=src.responsible_unit))
    Finding.objects.bulk_create(rows)


# Every signed-in page costs 7 (a supervisor's 9: its units are worked out from the registry): session, user, profile,
# the profile's unit (header), and the session saved on each request (savepoint, update, release). The list adds 7:
# rounds, count, the page's ids, its rows, previous-round fingerprints, units, sites — whatever the number of findings.
@pytest.mark.parametrize("who", ["office", "unit_a", "supervisor"])
def test_list_query_count_is_bounded(platform, client_for, django_assert_max_num_queries, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(who)
    c.get(reverse("web:findings"))  # warm the rule-set cache
    _more_findings(platform, 30)
    with CaptureQueriesContext(connection) as small:
        assert c.get(reverse("web:findings"), {"state": "new", "page": 1}).status_code == 200
    _more_findings(platform, 600)
    with django_assert_max_num_queries(16):
        resp = c.get(reverse("web:findings"), {"state": "new", "page": 2})
        assert resp.status_code == 200
    with CaptureQueriesContext(connection) as big:
        c.get(reverse("web:findings"), {"state": "new", "page": 3})
    assert len(big) == len(small) <= 16


def test_finding_page_query_count_is_bounded(platform, client_for, django_assert_max_num_queries):
    c = client_for("office")
    c.get(reverse("web:finding", args=[platform.findings["still"].pk]))
    with django_assert_max_num_queries(15):
        assert c.get(reverse("web:finding", args=[platform.findings["still"].pk])).status_code == 200


def test_facts_are_a_definition_list_in_chinese_and_escaped(platform, client_for):
    from govinspect.rounds.models import Finding

    f = Finding.objects.get(pk=platform.findings["privacy"].pk)
    f.facts = {"page_title": "<img src=x onerror=alert(1)>公示", "occurrences": 2, "also_on": ["a.html", "b.html"],
               "custom_x": {"k": True}}
    f.save(update_fields=["facts"])
    html = client_for("unit_a").get(reverse("web:finding", args=[f.pk])).content.decode()
    assert '<dt title="page_title">页面标题</dt><dd class="wrap">&lt;img src=x onerror=alert(1)&gt;公示</dd>' in html
    assert '<dt title="also_on">同时出现于</dt><dd class="wrap">a.html、b.html</dd>' in html
    assert '<dt title="custom_x">custom_x</dt><dd class="wrap">k：是</dd>' in html
    assert "<img src=x" not in html


def test_captured_attachment_is_offered_for_download_not_rendered(platform, client_for):
    from govinspect.rounds.models import Finding

    key = "rounds/test/site-a/pdf.warc.gz"
    pdf = b"%PDF-1.4\n<html><script>alert(1)</script>\n%%EOF"
    offset = _warc(key, "http://127.0.0.1:9/a/files/list.pdf", pdf, content_type="application/pdf")
    src = platform.findings["privacy"]
    f = Finding.objects.create(round=src.round, round_site=src.round_site, job=src.job, rule="privacy.id_number",
                               subject_kind="page", subject={"kind": "page"}, url="http://127.0.0.1:9/a/files/list.pdf",
                               detail="附件公开了身份证号码", responsible_unit=platform.units["a"], fingerprint="pdf1",
                               evidence={"warc_file": key, "warc_offset": offset})
    c = client_for("unit_a")
    resp = c.get(reverse("web:finding_page", args=[f.pk]))
    assert resp.status_code == 200 and "application/pdf" in resp.content.decode() and b"%PDF" not in resp.content
    resp = c.get(reverse("web:finding_page", args=[f.pk]), {"download": "1"})
    assert resp.content == pdf and resp["Content-Type"] == "application/octet-stream"
    assert resp["Content-Disposition"] == 'attachment; filename="list.pdf"'
    assert "sandbox" in resp["Content-Security-Policy"] and resp["X-Content-Type-Options"] == "nosniff"
    # another unit cannot download it either
    assert client_for("unit_b").get(reverse("web:finding_page", args=[f.pk]), {"download": "1"}).status_code == 404


def test_facts_in_words_not_codes(platform, client_for):
    """A column finding's facts: the category and the update window in Chinese, empty facts left out."""
    from govinspect.rounds.models import Finding

    f = platform.findings["town"]
    Finding.objects.filter(pk=f.pk).update(facts={"category": "plan", "window": "1y", "newest_date": None, "item_count": 0})
    body = client_for("office").get(f"/findings/{f.pk}/").content.decode()
    assert "规划计划类" in body and "1年" in body
    assert ">plan<" not in body and ">1y<" not in body
    assert "最新信息日期" not in body and "信息条数" in body
