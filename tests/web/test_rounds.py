"""Rounds on the web: list, detail and progress scoped by role, create/launch/cancel/resume (office only, CSRF),
downloads scoped to a unit's own 整改清单; and a real round on the sandbox run by the runner process."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.urls import reverse


# ------------------------------------------------------------------------------------------------ pages and scoping
def test_list_and_detail_for_office_readonly_supervisor(platform, client_for, django_assert_max_num_queries):
    cur = platform.rounds["current"]
    c = client_for("office")
    with django_assert_max_num_queries(12):
        r = c.get(reverse("web:rounds"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "2026年第三季度检查" in html and "已完成" in html and "新建检查轮次" in html
    assert f"/findings/?round={cur.pk}" in html
    r = c.get(reverse("web:round", args=[cur.pk]))
    html = r.content.decode()
    assert r.status_code == 200 and "测试县教育局网站" in html and "城关镇人民政府网" in html
    assert "首页无法访问（连接超时）" in html  # a could-not-check reason is shown per site
    assert f"/rounds/{cur.pk}/download/bulletin/" in html and "<script src=" in html and "<script>" not in html

    c = client_for("readonly")
    html = c.get(reverse("web:round", args=[cur.pk])).content.decode()
    assert "测试县教育局网站" in html and "新建检查轮次" not in html and "取消本轮" not in html

    c = client_for("supervisor")  # 城关镇: its own site only
    r = c.get(reverse("web:round", args=[cur.pk]))
    html = r.content.decode()
    assert r.status_code == 200 and "城关镇人民政府网" in html
    assert "测试县教育局网站" not in html and "测试县卫生健康局网站" not in html and "新媒体账号" not in html
    assert f"/rounds/{cur.pk}/download/rectification/" in html and "/download/bulletin/" not in html
    from govinspect.rounds.models import RoundEvent

    RoundEvent.objects.create(round=cur, kind="finish", detail="1项检查任务出错：测试县教育局网站：超时")
    cur.error = "测试县教育局网站：超时"
    cur.save(update_fields=["error"])
    html = c.get(reverse("web:round", args=[cur.pk])).content.decode()
    assert "测试县教育局网站" not in html and "轮次记录" not in html  # events name other units' sites
    assert "测试县教育局网站" in client_for("readonly").get(reverse("web:round", args=[cur.pk])).content.decode()
    c = client_for("supervisor")
    data = c.get(reverse("web:round_progress", args=[cur.pk])).json()
    assert [j["label"] for j in data["jobs"]] == ["城关镇人民政府网"]
    assert data["jobs"][0]["state"] == "done" and data["jobs"][0]["pages"] == 120
    r = c.get(reverse("web:rounds"))
    assert r.status_code == 200 and "新建检查轮次" not in r.content.decode()


def test_unit_sees_no_round_pages_and_changes_nothing(platform, client_for):
    cur = platform.rounds["current"]
    c = client_for("unit_a")
    for url in (reverse("web:rounds"), reverse("web:round", args=[cur.pk]), reverse("web:round_progress", args=[cur.pk]),
                reverse("web:round_create")):
        assert c.get(url).status_code == 403, url
    for name in ("round_launch", "round_cancel", "round_resume"):
        assert c.post(reverse(f"web:{name}", args=[cur.pk])).status_code == 403
    c = client_for("readonly")
    pending = type(cur).objects.create(name="待开始", as_of=cur.as_of)
    assert c.post(reverse("web:round_launch", args=[pending.pk])).status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending" and not pending.jobs.exists()
    assert client_for("office").get(reverse("web:round_create")).status_code == 200


def test_posts_need_csrf(platform):
    from django.test import Client

    from govinspect.rounds.models import Round

    c = Client(enforce_csrf_checks=True)
    c.force_login(platform.users["office"])
    rnd = Round.objects.create(name="待开始", as_of=platform.rounds["current"].as_of)
    assert c.post(reverse("web:round_cancel", args=[rnd.pk])).status_code == 403
    rnd.refresh_from_db()
    assert rnd.status == "pending"
    assert c.get(reverse("web:round_launch", args=[rnd.pk])).status_code == 405  # POST only


def test_create_validates_and_scopes(platform, client_for):
    from govinspect.rounds.models import Round, RoundJob

    c = client_for("office")
    form = {"name": "第四季度检查", "as_of": "2026-12-31", "scope": str(platform.units["a"].pk), "region": "卫健系统",
            "office": "测试县人民政府办公室", "scheme": "national-2019", "recipients": "各乡镇人民政府",
            "doc_number": "测政办〔2026〕9号", "allow_networks": "127.0.0.1/8, 10.0.0.0/8", "max_pages": "50"}
    r = c.post(reverse("web:round_create"), {**form, "allow_networks": "127.0.0.1/8, 内网"})
    assert r.status_code == 200 and "不是有效的网段" in r.content.decode()
    r = c.post(reverse("web:round_create"), {**form, "scheme": "../../settings"})
    assert r.status_code == 200 and not Round.objects.filter(name="第四季度检查").exists()
    html = c.get(reverse("web:round_create")).content.decode()
    from django.utils import timezone

    assert f'value="{timezone.localdate().isoformat()}"' in html  # the date input shows its initial value
    assert "national-2019" in html and "county-example" in html and "测试县疾病预防控制中心" in html
    r = c.post(reverse("web:round_create"), form)
    rnd = Round.objects.get(name="第四季度检查")
    assert r.status_code == 302 and r["Location"] == reverse("web:round", args=[rnd.pk])
    assert rnd.allow_networks == "127.0.0.0/8,10.0.0.0/8" and rnd.scope_unit == platform.units["a"]
    assert rnd.status == "pending" and rnd.doc_number == "测政办〔2026〕9号" and rnd.recipients == "各乡镇人民政府"
    html = c.get(reverse("web:round", args=[rnd.pk])).content.decode()
    assert "网站1个、政务新媒体账号1个：测试县卫生健康局网站" in html and 'id="round-launch"' in html  # the scope to confirm
    r = c.post(reverse("web:round_launch", args=[rnd.pk]))
    rnd.refresh_from_db()
    assert r.status_code == 302 and rnd.status == "queued" and rnd.events.filter(kind="queue").exists()
    jobs = {(j.kind, j.target): j for j in RoundJob.objects.filter(round=rnd)}
    # 卫健局 and its child centre: its site, and its account only (the accounts job is limited to the subtree)
    assert set(jobs) == {("site", platform.sites["a"].pk), ("accounts", 0)}
    assert sorted(jobs[("accounts", 0)].params["owners"]) == sorted([platform.units["a"].pk, platform.units["a_child"].pk])
    assert rnd.run_options["crawl"]["max_pages"] == 50 and rnd.rules_hash
    assert c.post(reverse("web:round_launch", args=[rnd.pk])).status_code == 302  # twice: refused, nothing added
    assert RoundJob.objects.filter(round=rnd).count() == 2
    # cancel while queued: cancelled at once; resume: queued again
    c.post(reverse("web:round_cancel", args=[rnd.pk]))
    rnd.refresh_from_db()
    assert rnd.status == "cancelled" and rnd.cancel_requested and rnd.events.filter(kind="cancel").exists()
    c.post(reverse("web:round_resume", args=[rnd.pk]))
    rnd.refresh_from_db()
    assert rnd.status == "queued" and rnd.cancel_requested is None
    assert c.post(reverse("web:round_resume", args=[platform.rounds["current"].pk])).status_code == 302
    assert Round.objects.get(pk=platform.rounds["current"].pk).status == "done"  # a done round is not resumed


# ------------------------------------------------------------------------------------------------ downloads
def _filename(resp) -> str:
    cd = resp["Content-Disposition"]
    assert cd.startswith("attachment")
    return unquote(cd.split("filename*=utf-8''", 1)[1]) if "filename*=" in cd else cd.split('filename="', 1)[1][:-1]


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None) + \
        " " + (wb.properties.title or "")


def test_downloads_scoped_by_role(platform, client_for):
    cur = platform.rounds["current"]
    U = platform.units
    url = lambda kind, **q: reverse("web:round_download", args=[cur.pk, kind]) + (f"?unit={q['unit']}" if q else "")  # noqa: E731

    c = client_for("office")
    r = c.get(url("bulletin"))
    assert r.status_code == 200 and _filename(r) == f"第{cur.pk}轮通报.docx"
    assert "filename*=utf-8''" in r["Content-Disposition"]
    assert b"".join(r.streaming_content)[:2] == b"PK"
    r = c.get(url("json"))
    data = json.loads(b"".join(r.streaming_content))
    assert data["round"]["name"] == "2026年第三季度检查"
    assert platform.findings["b1"].pk in {f["id"] for f in data["findings"]}
    r = c.get(url("rectification"))
    z = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    assert len(z.namelist()) == 4 and _filename(r).endswith("整改清单.zip")  # a, a_child, b, town
    assert c.get(url("attachment")).status_code == 200
    assert c.get(url("bogus")).status_code == 404

    c = client_for("unit_a")
    for kind in ("bulletin", "attachment", "json"):
        assert c.get(url(kind)).status_code == 404
    r = c.get(url("rectification"))
    assert r.status_code == 200 and _filename(r).endswith(".xlsx") and "卫生健康局" in _filename(r)
    text = _xlsx_text(b"".join(r.streaming_content))
    assert "测试县卫生健康局" in text and "教育局" not in text and "城关镇" not in text.replace("住址城关镇", "")
    assert c.get(url("rectification", unit=U["b"].pk)).status_code == 404  # another unit's workbook: never
    assert c.get(url("rectification", unit=U["a_child"].pk)).status_code == 404  # a unit is its unit alone
    assert c.get(url("rectification", unit="x")).status_code == 404
    assert client_for("unit_b").get(url("rectification", unit=U["a"].pk)).status_code == 404

    c = client_for("supervisor")  # 城关镇 supervises its 社区中心: only the town has problems
    r = c.get(url("rectification"))
    z = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    assert [n for n in z.namelist()] == ["测试县城关镇人民政府.xlsx"]
    assert c.get(url("rectification", unit=U["a"].pk)).status_code == 404
    assert c.get(url("bulletin")).status_code == 404

    # the reports are regenerated when the round changed (an ignore hides a finding)
    from govinspect.rounds.models import Finding, Ignore

    ig = Ignore.objects.create(rule="content.expression", scope="page", website=platform.sites["b"], url="http://127.0.0.1:9/b/1.html",
                               reason="测试", created_by="office")
    Finding.objects.filter(pk=platform.findings["b1"].pk).update(ignored_by=ig)
    r = client_for("office").get(url("json"))
    data = json.loads(b"".join(r.streaming_content))
    assert platform.findings["b1"].pk not in {f["id"] for f in data["findings"]}
    assert platform.findings["b2"].pk in {f["id"] for f in data["findings"]}


def test_download_of_unfinished_round_is_409(platform, client_for):
    from govinspect.rounds.models import Round

    rnd = Round.objects.create(name="进行中", as_of=platform.rounds["current"].as_of, status="running")
    r = client_for("office").get(reverse("web:round_download", args=[rnd.pk, "bulletin"]))
    assert r.status_code == 409 and "检查尚未完成" in r.content.decode()
    assert client_for("unit_a").get(reverse("web:round_download", args=[rnd.pk, "rectification"])).status_code == 409


# ------------------------------------------------------------------------------------------------ the crawl's progress hook
def test_crawl_reports_progress_while_it_runs(sandbox, tmp_path):
    import asyncio

    from govinspect.engine.fetch.crawler import _Crawler, crawl_site_async

    seen = []
    old = _Crawler.PROGRESS_SECONDS
    _Crawler.PROGRESS_SECONDS = 0.05
    try:
        res = asyncio.run(crawl_site_async(sandbox.urls["jyj"], sandbox.crawl_config(check_links=False, max_pages=60),
                                           tmp_path / "crawl", on_progress=lambda p: seen.append(dict(p))))
    finally:
        _Crawler.PROGRESS_SECONDS = old
    pages = [p["pages"] for p in seen]
    assert len(seen) >= 3 and pages == sorted(pages)  # several reports, growing, during the crawl
    assert 0 < pages[0] < res.pages_fetched
    assert seen[-1]["pages"] == res.pages_fetched and seen[-1]["queued"] == 0  # the last one at the end


# ------------------------------------------------------------------------------------------------ a real round
def _runner(env_extra=None) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(settings.DATA_DIR),
           "GOVINSPECT_DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}", **(env_extra or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen([sys.executable, "-m", "govinspect.rounds.runner"], env=env,
                            cwd=Path(__file__).resolve().parents[2])


def _wait(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_round_launched_on_the_web_runs_on_the_runner_cancel_and_resume(sandbox, county, tmp_path, client):
    from django.contrib.auth.models import User

    from govinspect.registry.models import Unit, Website
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round, RoundJob
    from govinspect.sandbox.registry import write_registry
    from govinspect.web.models import Profile

    import_registry(write_registry(county, sandbox.urls, tmp_path / "名录.xlsx"))
    edu = Unit.objects.get(name="清河县教育局")
    other = Unit.objects.get(name="清河县城关镇人民政府")
    users = {}
    for name, role, unit in (("office", "office", None), ("edu", "unit", edu), ("town", "unit", other)):
        users[name] = User.objects.create_user(name, password="x-Passw0rd-42")
        Profile.objects.create(user=users[name], role=role, unit=unit, must_change_password=False)
    client.force_login(users["office"])

    r = client.post(reverse("web:round_create"), {
        "name": "教育局专项检查", "as_of": county.as_of.isoformat(), "scope": str(edu.pk), "region": "教育系统",
        "office": "清河县人民政府办公室", "scheme": "national-2019", "recipients": "县教育局", "doc_number": "清政办〔2026〕3号",
        "allow_networks": "127.0.0.0/8"})
    assert r.status_code == 302
    rnd = Round.objects.get(name="教育局专项检查")
    client.post(reverse("web:round_launch", args=[rnd.pk]))
    rnd.refresh_from_db()
    assert rnd.status == "queued"
    site = Website.objects.get(owner=edu)
    job = RoundJob.objects.get(round=rnd, kind="site")
    assert job.target == site.pk and RoundJob.objects.filter(round=rnd).count() == 2  # its site and its account
    # the sandbox's outside world is answered by the sandbox (no DNS beyond loopback in tests); slow enough to cancel
    crawl = {**rnd.run_options["crawl"], **sandbox.crawl_settings(delay=0.15, concurrency_per_host=2)}
    Round.objects.filter(pk=rnd.pk).update(run_options={**rnd.run_options, "crawl": crawl})

    runner = _runner()
    try:
        progress = reverse("web:round_progress", args=[rnd.pk])

        def crawling():
            data = client.get(progress).json()
            j = next(j for j in data["jobs"] if j["id"] == job.pk)
            return data if j["state"] == "running" and (j["pages"] or 0) >= 3 else None

        data = _wait(crawling, 90, "the site job to report pages while it crawls")
        assert data["status"] == "running" and data["active"]
        html = client.get(reverse("web:round", args=[rnd.pk])).content.decode()
        assert 'data-progress-url="' + progress in html and "正在检查" not in html

        client.post(reverse("web:round_cancel", args=[rnd.pk]))
        t0 = time.time()
        _wait(lambda: Round.objects.get(pk=rnd.pk).status == "cancelled", 60, "the round to be cancelled")
        assert time.time() - t0 < 30  # promptly
        rnd.refresh_from_db()
        job.refresh_from_db()
        assert job.state == "queued" and job.attempts == 1  # stopped mid-crawl, queued again for a resume
        kinds = list(rnd.events.values_list("kind", flat=True))
        assert kinds[:2] == ["queue", "start"] and "interrupt" in kinds and kinds[-1] == "cancel"
        assert client.get(reverse("web:round_download", args=[rnd.pk, "bulletin"])).status_code == 409

        # resume: faster now (the round's crawl settings are read by each job), and the crawl goes on from its state
        crawl["delay"] = 0.01
        Round.objects.filter(pk=rnd.pk).update(run_options={**rnd.run_options, "crawl": crawl})
        client.post(reverse("web:round_resume", args=[rnd.pk]))
        _wait(lambda: Round.objects.get(pk=rnd.pk).status in ("done", "failed"), 240, "the resumed round to end")
        rnd.refresh_from_db()
        assert rnd.status == "done", rnd.error
        job.refresh_from_db()
        assert job.state == "done" and job.attempts == 2
        rs = rnd.sites.get()
        assert rs.status == "checked" and rs.crawl_stats.get("resumed", 0) > 0 and rs.pages_fetched > 10
        data = client.get(progress).json()
        assert not data["active"] and data["summary"] == {**data["summary"], "finished": 2, "total": 2}
        assert next(j for j in data["jobs"] if j["id"] == job.pk)["pages"] == rs.pages_fetched
        assert [e for e in rnd.events.values_list("kind", flat=True)][-2:] == ["resume", "finish"]
        html = client.get(reverse("web:rounds")).content.decode()
        assert "教育局专项检查" in html and "已完成" in html

        r = client.get(reverse("web:round_download", args=[rnd.pk, "bulletin"]))
        assert r.status_code == 200 and _filename(r) == f"第{rnd.pk}轮通报.docx"
        c2 = type(client)()
        c2.force_login(users["edu"])
        r = c2.get(reverse("web:round_download", args=[rnd.pk, "rectification"]))
        if rnd.findings.filter(responsible_unit=edu, ignored_by__isnull=True).exists():
            assert r.status_code == 200 and "清河县教育局" in _xlsx_text(b"".join(r.streaming_content))
        c3 = type(client)()
        c3.force_login(users["town"])
        assert c3.get(reverse("web:round_download", args=[rnd.pk, "rectification"]) + f"?unit={edu.pk}").status_code == 404
        assert c3.post(reverse("web:round_launch", args=[rnd.pk])).status_code == 403
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0


@pytest.mark.django_db(transaction=True)
def test_runner_start_interrupts_rounds_of_dead_processes_and_runs_queued_ones_oldest_first(tmp_path):
    import datetime as dt
    import socket

    from govinspect.rounds.models import Round

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Round.objects.create(name="无人运行", as_of=dt.date(2026, 9, 30), status="running",
                                 owner={"host": socket.gethostname(), "pid": dead.pid, "started": "1"})
    # two queued rounds with nothing to do (no jobs): the runner runs them, oldest first, and ends them done
    first = Round.objects.create(name="先排队", as_of=dt.date(2026, 9, 30), status="queued")
    second = Round.objects.create(name="后排队", as_of=dt.date(2026, 9, 30), status="queued")
    cancelled = Round.objects.create(name="已请求取消", as_of=dt.date(2026, 9, 30), status="queued",
                                     cancel_requested=dt.datetime(2026, 9, 30, tzinfo=dt.timezone.utc))
    from django.conf import settings

    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(settings.DATA_DIR),
           "GOVINSPECT_DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
    out = subprocess.run([sys.executable, "-m", "govinspect.rounds.runner", "--until-idle"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    stale.refresh_from_db()
    assert stale.status == "interrupted" and stale.events.filter(kind="interrupt").exists()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "done"
    assert first.started_at < second.started_at
    assert Round.objects.get(pk=cancelled.pk).status == "queued"  # never taken: the cancel view ends it
    assert out.stdout.index("先排队") < out.stdout.index("后排队")


_CLI_LIKE = r"""
import os, signal, sys, time, django
os.environ["DJANGO_SETTINGS_MODULE"] = "govinspect.settings"
django.setup()
from govinspect.rounds.models import Round
from govinspect.rounds.services import _begin, recorded
def term(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, term)
rnd = Round.objects.get(pk=int(sys.argv[1]))
try:
    with recorded(rnd, "检查被操作员中断"):
        _begin(rnd, "start")
        print("running", flush=True)
        time.sleep(120)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.django_db(transaction=True)
def test_cancel_on_the_web_stops_a_round_run_by_the_command_line(tmp_path, client):
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth.models import User

    from govinspect.rounds.models import Round
    from govinspect.web.models import Profile

    office = User.objects.create_user("office", password="x-Passw0rd-42")
    Profile.objects.create(user=office, role="office", must_change_password=False)
    client.force_login(office)
    rnd = Round.objects.create(name="命令行运行", as_of=dt.date(2026, 9, 30))
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(settings.DATA_DIR),
           "GOVINSPECT_DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
    cli = subprocess.Popen([sys.executable, "-c", _CLI_LIKE, str(rnd.pk)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert cli.stdout.readline().strip() == "running"
        (settings.DATA_DIR / "runner.json").unlink(missing_ok=True)
        html = client.get(reverse("web:round", args=[rnd.pk])).content.decode()
        assert "取消本轮" in html
        client.post(reverse("web:round_cancel", args=[rnd.pk]))
        assert Round.objects.get(pk=rnd.pk).status == "running"  # the runner stops it
        out = subprocess.run([sys.executable, "-m", "govinspect.rounds.runner", "--until-idle"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert cli.wait(30) == 130
        rnd.refresh_from_db()
        assert rnd.status == "cancelled"
        assert list(rnd.events.values_list("kind", flat=True)) == ["start", "cancel", "interrupt", "cancel"]
    finally:
        if cli.poll() is None:
            cli.kill()


def test_queued_round_says_when_no_runner_is_running(platform, client_for):
    from django.conf import settings

    from govinspect.rounds.models import Round
    from govinspect.rounds.runner import beat

    rnd = Round.objects.create(name="排队中", as_of=platform.rounds["current"].as_of, status="queued")
    (settings.DATA_DIR / "runner.json").unlink(missing_ok=True)
    c = client_for("office")
    assert "检查任务运行器没有在运行" in c.get(reverse("web:round", args=[rnd.pk])).content.decode()
    assert c.get(reverse("web:round_progress", args=[rnd.pk])).json()["runner_missing"] is True
    beat()
    assert "检查任务运行器没有在运行" not in c.get(reverse("web:round", args=[rnd.pk])).content.decode()


def test_item_rechecks_stay_out_of_the_round_lists(platform, client_for):
    """A unit's claim queues an item re-check round: it answers on the item's page, and the rounds list and the
    dashboard's round picker keep showing the office's own rounds only."""
    from govinspect.rectify.services import claim
    from govinspect.rounds.models import Round
    from govinspect.web.stats import rounds

    claim(platform.items["privacy"], "unit_a", "已删除")
    rr = Round.objects.get(item_recheck=True)
    html = client_for("office").get(reverse("web:rounds")).content.decode()
    assert platform.rounds["current"].name in html and rr.name not in html
    assert rr.pk not in set(rounds().values_list("pk", flat=True))


def test_in_cluster_mode_a_queued_round_waits_for_the_workers(platform, client_for, monkeypatch):
    """In cluster mode beat hands queued rounds to the workers: no local runner is expected (no warning), and the
    messages name the workers."""
    from django.conf import settings

    from govinspect.rounds.models import Round

    rnd = Round.objects.create(name="排队中", as_of=platform.rounds["current"].as_of, status="queued")
    (settings.DATA_DIR / "runner.json").unlink(missing_ok=True)
    monkeypatch.setenv("GOVINSPECT_BROKER_URL", "redis://127.0.0.1:9/0")
    c = client_for("office")
    assert "检查任务运行器没有在运行" not in c.get(reverse("web:round", args=[rnd.pk])).content.decode()
    assert c.get(reverse("web:round_progress", args=[rnd.pk])).json()["runner_missing"] is False
