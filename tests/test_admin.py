"""The admin (issue 14): findings and their evidence, round results and ignores are read-only records; what the
admin allows is written to its log, which is read-only too. Django's test client, logged in as a superuser."""

import datetime as dt
import os

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User

from govinspect.engine.finding import Evidence, Finding as EngineFinding
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Unit, Website
from govinspect.rounds.ignores import ignore_finding
from govinspect.rounds.models import (ColumnCheck, Finding, Ignore, RecheckResult, Round, RoundAccount, RoundEvent,
                                      RoundSite)
from govinspect.rounds.jobs import store_report

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)
CAPTURED = "2026-11-23T09:30:00+08:00"


def _typo(url):
    f = EngineFinding.at_url("content.typo", url, "疑似错别字“管里”", facts={"text": "管里"})
    f.evidence = Evidence(captured_at=CAPTURED)
    return f


@pytest.fixture
def data():
    unit = Unit.objects.create(name="清河县人民政府", kind="区县")
    site = Website.objects.create(name="清河县人民政府", home_url="http://www.qinghe.gov.cn/", owner=unit)
    rnd = Round.objects.create(name="第四季度检查", as_of=AS_OF, status="done")
    report = SiteReport(site_url=site.home_url, as_of=AS_OF, status="checked", verdict="fail", findings=[
        _typo(site.home_url + "a.html")])
    rs = store_report(rnd, site, report)
    return {"unit": unit, "site": site, "round": rnd, "rs": rs, "finding": Finding.objects.get(round=rnd)}


@pytest.fixture
def client(client):
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    return client


def _url(obj, view):
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/{view}/"


def test_a_finding_cannot_be_changed_or_deleted(client, data):
    f = data["finding"]
    before = (f.rule, f.url, f.detail, f.evidence, f.responsible_unit_id)
    assert client.get(_url(f, "change")).status_code == 200  # shown
    forged = {"rule": "content.typo", "url": f.url, "detail": "已改", "evidence": '{"captured_at": "1999-01-01"}',
              "round": data["round"].pk, "round_site": data["rs"].pk}
    assert client.post(_url(f, "change"), forged).status_code == 403
    assert client.post(_url(f, "delete"), {"post": "yes"}).status_code == 403
    assert client.post("/admin/rounds/finding/", {"action": "delete_selected", "_selected_action": [f.pk], "post": "yes"}).status_code in (200, 302)
    assert client.post("/admin/rounds/finding/add/", forged).status_code == 403
    f.refresh_from_db()
    assert (f.rule, f.url, f.detail, f.evidence, f.responsible_unit_id) == before
    assert f.evidence["captured_at"] == CAPTURED and Finding.objects.count() == 1


def test_round_results_are_read_only(client, data):
    rnd, rs = data["round"], data["rs"]
    RoundEvent.objects.create(round=rnd, kind="start")
    objs = [rs, RoundEvent.objects.get(round=rnd), ColumnCheck.objects.create(round_site=rs, name="通知公告", category="notice", status="ok"),
            RecheckResult.objects.create(round=rnd, finding=data["finding"], state="present")]
    from govinspect.registry.models import Account

    acc = Account.objects.create(name="清河发布", platform="wechat", owner=data["unit"])
    objs.append(RoundAccount.objects.create(round=rnd, account=acc, status="checked", verdict="pass"))
    for obj in objs:
        assert client.get(_url(obj, "change")).status_code == 200, obj
        assert client.post(_url(obj, "change"), {"status": "ok", "state": "fixed", "detail": "x"}).status_code == 403, obj
        assert client.post(_url(obj, "delete"), {"post": "yes"}).status_code == 403, obj
        assert type(obj).objects.filter(pk=obj.pk).exists()
    assert RecheckResult.objects.get().state == "present"
    # a round cannot be deleted (its findings would go with it); only its bulletin fields change, and that is logged
    assert client.post(_url(rnd, "delete"), {"post": "yes"}).status_code == 403
    r = client.post(_url(rnd, "change"), {"name": "第四季度检查（修订）", "region": "全县", "office": "县政府办", "recipients": "各乡镇人民政府",
                                          "doc_number": "清政办〔2026〕12号", "as_of": "1999-01-01", "status": "running",
                                          "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0, "jobs-TOTAL_FORMS": 0, "jobs-INITIAL_FORMS": 0, "sites-TOTAL_FORMS": 0,
                                          "sites-INITIAL_FORMS": 0})
    assert r.status_code == 302, r.content.decode()[:3000]
    rnd.refresh_from_db()
    assert (rnd.doc_number, rnd.as_of, rnd.status) == ("清政办〔2026〕12号", AS_OF, "done")
    log = LogEntry.objects.get(object_id=str(rnd.pk), content_type__model="round")
    assert log.action_flag == CHANGE and "文号" in log.get_change_message() and log.user.username == "admin"


def test_ignores_revoked_not_edited_and_the_log_is_read_only(client, data):
    ig = ignore_finding(data["finding"], "hit", "机构名称", "张三")
    assert client.post(_url(ig, "change"), {"reason": "改过的理由", "created_by": "李四"}).status_code == 403
    assert client.post(_url(ig, "delete"), {"post": "yes"}).status_code == 403
    assert client.get("/admin/rounds/ignore/add/").status_code == 403
    r = client.post("/admin/rounds/ignore/", {"action": "revoke", "_selected_action": [ig.pk]})
    assert r.status_code == 302
    ig.refresh_from_db()
    assert (ig.reason, ig.created_by, ig.revoked_by) == ("机构名称", "张三", "admin") and ig.revoked_at
    log = LogEntry.objects.get(object_id=str(ig.pk), content_type__model="ignore")
    assert log.user.username == "admin" and "撤销时间" in log.get_change_message()
    # the log: shown, never changed or deleted
    assert client.get(_url(log, "change")).status_code == 200
    assert client.post(_url(log, "change"), {"change_message": "[]"}).status_code == 403
    assert client.post(_url(log, "delete"), {"post": "yes"}).status_code == 403
    assert LogEntry.objects.get(pk=log.pk).change_message == log.change_message
    # nor deleted with its user (the log's user key cascades): the user is kept, to be deactivated
    r = client.post(_url(log.user, "delete"), {"post": "yes"})
    assert r.status_code == 403  # the cascade would reach the log, which cannot be deleted here
    assert LogEntry.objects.filter(pk=log.pk).exists()


def test_a_unit_named_by_findings_is_not_deleted(client, data):
    unit = data["unit"]
    Finding.objects.filter(pk=data["finding"].pk).update(responsible_unit=unit)
    r = client.post(_url(unit, "delete"), {"post": "yes"})
    assert r.status_code == 200 and "以其为责任单位" in r.content.decode()
    assert Unit.objects.filter(pk=unit.pk).exists()
    assert Finding.objects.get(pk=data["finding"].pk).responsible_unit_id == unit.pk


def test_ignore_by_defaults_without_user_variables(data, monkeypatch, capsys):
    """root in a container: no $USER, no $LOGNAME. The operator comes from the uid's account (or is "root")."""
    import pwd

    from govinspect.cli import main

    for var in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(var, raising=False)
    f = data["finding"]
    assert main(["ignore", str(f.pk), "--scope", "hit", "--reason", "机构名称", "--yes"]) == 0, capsys.readouterr().err
    ig = Ignore.objects.get()
    assert ig.created_by == pwd.getpwuid(os.getuid()).pw_name
    assert main(["ignore", "--revoke", str(ig.pk)]) == 0
    ig.refresh_from_db()
    assert ig.revoked_by == ig.created_by and ig.revoked_at
