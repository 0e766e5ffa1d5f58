"""The sandbox itself: deterministic, realistic template families, faults on request, ground truth."""

import asyncio
import json

import aiohttp
import pytest
from django.test import Client

from govinspect.sandbox import generate_county
from govinspect.sandbox.serve import SandboxServer
from govinspect.sandbox.truth import ground_truth
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()


async def _get(url, headers=None):
    async with aiohttp.ClientSession() as s:
        async with s.get(url, allow_redirects=False, headers=headers or {}) as r:
            return r.status, r.headers.copy(), await r.read()


def get(url, headers=None):
    return asyncio.run(_get(url, headers))


def test_same_seed_same_county_and_truth():
    a, b = generate_county(seed=7, n_sites=4), generate_county(seed=7, n_sites=4)
    urls = {s.key: f"http://h/{s.key}/" for s in a.sites}
    assert json.dumps(ground_truth(a, urls), default=str) == json.dumps(ground_truth(b, urls), default=str)
    c = generate_county(seed=8, n_sites=4)
    assert json.dumps(ground_truth(c, urls), default=str) != json.dumps(ground_truth(a, urls), default=str)


def test_parameters_scale_the_county():
    c = generate_county(n_sites=25, pages_per_site=40, as_of="2025-06-30")
    assert len(c.sites) == 25 and len({s.name for s in c.sites}) == 25
    assert all(15 <= len(s.columns) <= 40 for s in c.sites)
    assert {s.family for s in c.sites} >= {"trs", "hanweb", "legacy"}
    assert max(a.date for s in c.sites for col in s.columns for a in col.articles).isoformat() <= "2025-06-30"


def test_truth_covers_the_problem_kinds(truth):
    rules = {p["rule"] for p in truth["problems"]}
    assert {"column.stale", "column.empty", "site.homepage_stale", "site.veto_columns", "link.dead", "link.illegal",
            "link.hidden", "privacy.id_number", "privacy.mobile", "privacy.bank_card", "content.expression",
            "content.misspelling", "content.sensitive", "content.institution_name", "content.leader",
            "site.footer_missing", "disclosure.guide_no_year", "disclosure.annual_report_missing",
            "policy.interpretation_missing", "interaction.unanswered"} <= rules
    stale_cats = {c["category"] for c in truth["columns"] if c["expected"] == "stale"}
    assert {"dynamic", "notice", "policy", "personnel", "plan"} <= stale_cats
    assert {d["rule"] for d in truth["decoys"]} >= {"privacy.id_number", "privacy.mobile", "privacy.bank_card", "content.expression", "content.misspelling"}


def test_template_families_look_like_the_real_ones(sandbox, county):
    st, h, body = get(sandbox.url("portal", "/tzgg/index.html"))
    assert st == 200 and b"createPageHTML(" in body and b't20' in body and b'name="ColumnName"' in body
    wjw = county.site("wjw")
    st, h, body = get(sandbox.url("wjw", wjw.column("gzdt").path))
    assert b'<script type="text/xml"><datastore>' in body and b"<record><![CDATA[" in body
    st, h, body = get(sandbox.url("rsj", "/"))
    assert st == 302 and h["Location"] == "/index.asp"
    st, h, body = get(sandbox.url("rsj", "/index.asp"))
    assert h["Content-Type"] == "text/html" and b"charset=gb2312" in body
    assert "今天是：2026年11月23日".encode("gbk") in body
    st, h, body = get(sandbox.url("nyj", "/index.asp"))
    assert b"charset" not in body.lower()


def test_attachments_are_real_files(sandbox, county, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    atts = {a.kind: a for s in county.sites for c in s.columns for art in c.articles for a in art.attachments}
    site_of = {a.path: s.key for s in county.sites for c in s.columns for art in c.articles for a in art.attachments}
    st, _, body = get(sandbox.url(site_of[atts["xlsx"].path], atts["xlsx"].path))
    (tmp_path / "a.xlsx").write_bytes(body)
    ws = load_workbook(tmp_path / "a.xlsx").active
    assert ws["C1"].value == "身份证号码" and len(ws["C2"].value) == 18
    st, _, body = get(sandbox.url(site_of[atts["docx"].path], atts["docx"].path))
    (tmp_path / "a.docx").write_bytes(body)
    assert "联系电话" in "\n".join(p.text for p in Document(tmp_path / "a.docx").paragraphs)
    st, h, body = get(sandbox.url(site_of[atts["pdf"].path], atts["pdf"].path))
    assert body.startswith(b"%PDF") and h["Content-Type"] == "application/pdf"


def test_faults_on_request():
    county = generate_county(n_sites=3, pages_per_site=10, no_default_faults=True,
                             faults={"portal": {"status5xx": ["/tzgg/"]}, "jyj": {"down": 1.0}, "wjw": {"robots_disallow": ["/col/"]}})
    with SandboxServer(county) as srv:
        assert get(srv.url("portal", "/tzgg/index.html"))[0] == 500
        assert get(srv.url("portal", "/"))[0] == 200
        assert get(srv.url("jyj", "/"))[0] == 503
        assert b"Disallow: /col/" in get(srv.url("wjw", "/robots.txt"))[2]
        st, h, _ = get(srv.url("portal", "/"))
        assert get(srv.url("portal", "/"), {"If-None-Match": h["ETag"]})[0] == 304
        truth = ground_truth(county, srv.urls)
    assert {s["key"]: s["expected"] for s in truth["sites"]}["jyj"] == "could_not_check"
    assert all(c["expected"] == "unknown" for c in truth["columns"] if c["site"] == "wjw" and c["url"].split("/", 3)[3].startswith("col/"))


@pytest.mark.django_db
def test_admin_requires_login_and_lists_registry(admin_client):
    assert Client().get("/admin/registry/website/").status_code == 302
    assert admin_client.get("/admin/registry/website/").status_code == 200
    assert admin_client.get("/admin/rounds/finding/").status_code == 200


def test_column_names_vary_like_real_portals():
    """Several names per category across sites (as on real portals), and names that must stay unrecognised."""
    from collections import defaultdict

    from govinspect.engine.checks.freshness import classify

    c = generate_county(n_sites=20, pages_per_site=30)
    names = defaultdict(set)
    for s in c.sites:
        assert len({x.name for x in s.columns}) == len(s.columns), s.key  # one name per column within a site
        for x in s.columns:
            names[x.category].add(x.name)
            assert classify(x.name, RS['freshness'])["id"] == x.category, (s.key, x.name)
    for cat in ("dynamic", "notice", "policy", "personnel", "plan", "fiscal", "interpretation", "interaction", "unknown"):
        assert len(names[cat]) >= 2, cat
    assert {"县政府办文件", "部门文件", "工作动态", "乡镇动态", "公示公告", "财政预决算"} <= set().union(*names.values())


def test_eval_measures_discovered_columns(tmp_path):
    """`sandbox eval` also checks the county with no registry and prints discovery, classification and the
    column rules; --out-discovered keeps the figures; --strict holds them to the issue's 0.95."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "disc.json"
    r = subprocess.run([str(Path(sys.executable).parent / "govinspect"), "sandbox", "eval", "--sites", "6", "--pages", "40",
                        "--strict", "--out-discovered", str(out)], capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "栏目发现（不提供名录，从网站导航发现）" in r.stdout and "栏目分类" in r.stdout
    d = json.loads(out.read_text(encoding="utf-8"))
    col = d["columns"]
    assert col["true_columns"] > 100 and col["discovery_recall"] >= 0.95 and col["classification_accuracy"] >= 0.95
    assert col["unrecognised_found"] >= 3  # the unrecognised names were found and left unjudged
    for rule in ("column.stale", "column.empty"):
        assert d["rules"][rule]["tp"] > 0 and d["rules"][rule]["precision"] >= 0.95 and d["rules"][rule]["recall"] >= 0.95
    assert d["below_target"] == {}


def test_navigation_like_real_portals(sandbox, county):
    """Disclosure columns only in a 政务公开 目录 page (two clicks), TRS home blocks linking their column only by
    “更多>>”: discovery has to work for the columns it finds (the eval measures it)."""
    portal = county.site("portal")
    st, _, home = get(sandbox.url("portal", "/"))
    home = home.decode("utf-8")
    nav = home[home.index('<ul class="nav">'):]
    nav = nav[:nav.index("</ul>")]
    tzgg = portal.column("tzgg")
    assert tzgg.slug in portal.directory and f'href="{tzgg.path}">' not in nav and "政务公开" in nav
    assert 'class="more" href="/zwyw/index.html">更多&gt;&gt;</a>' in home or 'class="more" href="/zwyw/index.html">更多>></a>' in home
    st, _, body = get(sandbox.url("portal", portal.directory_path))
    assert st == 200 and f'href="{tzgg.path}">{tzgg.name}</a>'.encode() in body
    st, _, body = get(sandbox.url("rsj", county.site("rsj").directory_path))
    assert st == 200 and "政府信息公开目录" in body.decode("gbk")
    # tab headers of the home page are the home page under ?link= addresses, not columns
    assert 'href="/index.html?link=zwgk"' in home
    st, _, tab = get(sandbox.url("portal", "/index.html?link=zwgk"))
    assert st == 200 and tab.decode("utf-8") == home
