"""Rectification reminders (issue 18 item 4): before / on / after the deadline in working days, one message per unit and
kind listing its items, by e-mail to a real local SMTP server (aiosmtpd) and by webhook to a real local HTTP receiver,
both started and stopped here. Every attempt is a Reminder row; nothing is sent twice; failures are recorded and retried."""

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from govinspect.rectify.models import Item, Reminder
from govinspect.rectify.reminders import before_from, send_due
from govinspect.rectify.services import housekeeping
from govinspect.registry.models import Unit, Website
from govinspect.reports.tables import rule_names
from govinspect.rounds.models import Finding, Round, RoundJob, RoundSite
from govinspect.rounds.scoring import round_rules

pytestmark = pytest.mark.django_db

BASE = "https://zwgk.example.gov.cn"
DEADLINE = dt.date(2026, 10, 9)  # a Friday after the National Day week (1–7 Oct 2026 off; Sat 10 Oct is worked)


# ------------------------------------------------------------------------------------------- real local servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message as (envelope sender, envelope recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        msg.raw = envelope.original_content or envelope.content
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


class Smtp:
    def __init__(self, port):
        self.port, self.inbox, self.controller = port, Inbox(), None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.inbox.messages


@pytest.fixture
def smtp(settings):
    """A local SMTP server (not started yet: call .start()) and the settings that point the mail API at it."""
    server = Smtp(free_port())
    settings.GOVINSPECT_SMTP_HOST = "127.0.0.1"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django sets locmem
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "zwgk@example.gov.cn"
    yield server
    server.stop()


@pytest.fixture
def mail(smtp):
    smtp.start()
    return smtp


class Hook:
    """A local webhook receiver: keeps (path, headers, body bytes) of every POST; answers `status`."""

    def __init__(self):
        self.posts, self.status = [], 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts.append((self.path, dict(self.headers), body))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def hook(monkeypatch):
    h = Hook()
    monkeypatch.setenv("GOVINSPECT_REMINDER_WEBHOOK", h.url + "?token=s3cret")
    monkeypatch.setenv("GOVINSPECT_REMINDER_WEBHOOK_SECRET", "hush")
    yield h
    h.stop()


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("GOVINSPECT_BASE_URL", BASE + "/")
    monkeypatch.delenv("GOVINSPECT_REMINDER_WEBHOOK", raising=False)
    monkeypatch.delenv("GOVINSPECT_REMINDER_WEBHOOK_SECRET", raising=False)


# ------------------------------------------------------------------------------------------- a small county with items
class County:
    def __init__(self):
        self.a = Unit.objects.create(name="测试县卫生健康局", kind="部门", contact_email="wjj@example.gov.cn")
        self.b = Unit.objects.create(name="测试县教育局", kind="部门", contact_email="jyj@example.gov.cn")
        self.rnd = Round.objects.create(name="第三季度检查", as_of=dt.date(2026, 9, 15), status="done")
        self.rs = {}
        for u in (self.a, self.b):
            site = Website.objects.create(name=f"{u.name}网站", home_url=f"http://127.0.0.1:9/{u.pk}/", owner=u)
            job = RoundJob.objects.create(round=self.rnd, kind="site", target=site.pk, state="done")
            self.rs[u.pk] = RoundSite.objects.create(round=self.rnd, job=job, website=site, status="checked")

    def item(self, unit, fp, rule="link.dead", deadline=DEADLINE, state="open"):
        rs = self.rs[unit.pk]
        f = Finding.objects.create(round=self.rnd, job=rs.job, round_site=rs, rule=rule, fingerprint=fp,
                                   url=f"http://127.0.0.1:9/{unit.pk}/{fp}.html", detail=f"问题{fp}", responsible_unit=unit)
        return Item.objects.create(fingerprint=fp, rule=rule, unit=unit, round_issued=self.rnd, finding=f,
                                   last_round=self.rnd, state=state, deadline=deadline)


@pytest.fixture
def county():
    return County()


def reminders(**kw):
    return list(Reminder.objects.filter(**kw).order_by("id"))


def subject(msg) -> str:
    return str(msg["Subject"]).strip()  # Django folds an encoded subject onto the next line: the parser keeps a space


def body_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


# ------------------------------------------------------------------------------------------- tests
def test_before_due_overdue_by_working_days(county, mail):
    cal = round_rules(county.rnd).calendar
    assert not any(cal.is_workday(dt.date(2026, 10, d)) for d in range(1, 8))  # the holiday week in between
    # 3 working days before Fri 9 Oct: Thu 8 Oct, Wed 30 Sep, Tue 29 Sep (the holiday week does not count)
    assert before_from(cal, DEADLINE, 3) == dt.date(2026, 9, 29)
    assert before_from(cal, dt.date(2026, 11, 17), 3) == dt.date(2026, 11, 12)  # Tue → Thu before, the weekend skipped
    assert before_from(cal, DEADLINE, 0) is None
    i1, i2 = county.item(county.a, "fp1"), county.item(county.a, "fp2", rule="column.stale")

    assert send_due(dt.date(2026, 9, 28)) == 0 and mail.messages == []  # 4 working days before: not yet
    assert send_due(dt.date(2026, 9, 29)) == 1
    (frm, rcpt, msg), = mail.messages
    assert subject(msg) == "【整改提醒】测试县卫生健康局有2项整改事项将于2026-10-09到期"
    assert "将于2026-10-09" in subject(msg) and rcpt == ["wjj@example.gov.cn"]
    assert [(r.item_id, r.kind, r.channel, r.ok, r.deadline) for r in reminders()] == [
        (i1.pk, "before", "email", True, DEADLINE), (i2.pk, "before", "email", True, DEADLINE)]
    for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 3), dt.date(2026, 10, 8)):
        assert send_due(day) == 0  # sent once: not again on the following days
    assert len(mail.messages) == 1

    assert send_due(DEADLINE) == 1  # the deadline day
    assert subject(mail.messages[1][2]) == "【整改提醒】测试县卫生健康局有2项整改事项今日（2026-10-09）到期"
    assert send_due(DEADLINE) == 0

    # the day after (Saturday 10 Oct, a working day): not overdue yet until mark_overdue made it so; housekeeping does
    assert send_due(dt.date(2026, 10, 10)) == 0
    out = housekeeping(dt.date(2026, 10, 10))
    assert out["overdue"] == 2 and out["reminders"] == 1
    subj = subject(mail.messages[2][2])
    assert subj == "【逾期通知】测试县卫生健康局有2项整改事项已逾期"
    assert "已记为逾期" in body_of(mail.messages[2][2])
    assert send_due(dt.date(2026, 10, 12)) == 0 and len(mail.messages) == 3
    assert sorted((r.kind, r.item_id) for r in reminders(ok=True)) == sorted(
        (k, i) for k in ("before", "due", "overdue") for i in (i1.pk, i2.pk))

    # a new deadline (the item re-issued) is a new cycle
    Item.objects.filter(pk=i1.pk).update(state="open", deadline=dt.date(2026, 11, 17))
    assert send_due(dt.date(2026, 11, 11)) == 0
    assert send_due(dt.date(2026, 11, 12)) == 1 and "事项%d" % i1.pk in body_of(mail.messages[3][2])


def test_one_mail_per_unit_listing_its_items(county, mail):
    a1, a2 = county.item(county.a, "fa1"), county.item(county.a, "fa2", rule="column.stale")
    a3 = county.item(county.a, "fa3", state="present")
    b1 = county.item(county.b, "fb1")
    quiet = [county.item(county.a, f"q{s}", state=s) for s in ("claimed", "fixed", "disputed", "accepted")]
    later = county.item(county.a, "later", deadline=dt.date(2026, 11, 17))  # not due for anything yet

    assert send_due(DEADLINE) == 2
    by_to = {tuple(rcpt): msg for _, rcpt, msg in mail.messages}
    assert set(by_to) == {("wjj@example.gov.cn",), ("jyj@example.gov.cn",)}
    ma, mb = by_to[("wjj@example.gov.cn",)], by_to[("jyj@example.gov.cn",)]
    assert ma["To"] == "wjj@example.gov.cn" and ma["From"] == "zwgk@example.gov.cn"
    assert ma["Auto-Submitted"] == "auto-generated"
    names = rule_names()
    text = body_of(ma)
    assert text.startswith("测试县卫生健康局：")
    for it in (a1, a2, a3):
        assert f"事项{it.pk}：{names[it.rule]}（{it.rule}）" in text
        assert f"网址：{it.finding.url}" in text
    assert "状态：仍存在；整改期限：2026-10-09" in text
    assert f"查看详情、反馈整改或申诉：{BASE}/rectify/" in text
    for it in quiet + [later, b1]:
        assert f"事项{it.pk}：" not in text
    assert f"事项{b1.pk}：" in body_of(mb) and f"事项{a1.pk}：" not in body_of(mb)
    sent = reminders(ok=True)
    assert sorted(r.item_id for r in sent) == sorted(i.pk for i in (a1, a2, a3, b1))
    assert {r.item_id: r.to for r in sent}[b1.pk] == "jyj@example.gov.cn"
    assert not Reminder.objects.filter(item__in=quiet + [later]).exists()


def test_webhook_body_signature_and_no_resend(county, hook, settings):
    settings.GOVINSPECT_SMTP_HOST = ""  # e-mail not configured here: recorded, the webhook still goes
    a1, a2 = county.item(county.a, "fa1"), county.item(county.a, "fa2", rule="column.stale")
    b1 = county.item(county.b, "fb1")

    assert send_due(DEADLINE) == 2
    assert len(hook.posts) == 2
    posts = {json.loads(body)["unit"]: (path, headers, body) for path, headers, body in hook.posts}
    path, headers, raw = posts["测试县卫生健康局"]
    assert path == "/notify?token=s3cret"
    sig = headers["X-Govinspect-Signature"]
    assert sig == "sha256=" + hmac.new(b"hush", raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig, "sha256=" + hmac.new(b"hush", raw, hashlib.sha256).hexdigest())
    assert sig != "sha256=" + hmac.new(b"other", raw, hashlib.sha256).hexdigest()
    assert headers["Content-Type"].startswith("application/json")
    body = json.loads(raw)
    assert body["kind"] == "due" and body["deadline"] == "2026-10-09" and body["queue"] == f"{BASE}/rectify/"
    names = rule_names()
    assert body["items"] == [
        {"id": i.pk, "rule": i.rule, "rule_name": names[i.rule], "url": i.finding.url, "state": "open",
         "deadline": "2026-10-09"} for i in (a1, a2)]
    assert body["text"].startswith("测试县卫生健康局：") and f"事项{a2.pk}：" in body["text"]
    assert [i["id"] for i in json.loads(posts["测试县教育局"][2])["items"]] == [b1.pk]

    hooks = reminders(channel="webhook")
    assert len(hooks) == 3 and all(r.ok and r.kind == "due" for r in hooks)
    assert {r.to for r in hooks} == {hook.url}  # the token in the query is not recorded
    mails = reminders(channel="email")
    assert len(mails) == 3 and all(not r.ok and r.error == "未配置邮件服务器" for r in mails)

    assert send_due(DEADLINE) == 0 and len(hook.posts) == 2  # no resend
    assert len(reminders(channel="email")) == 3  # "not configured" recorded once, not at every call


def test_webhook_failure_is_retried_and_bad_urls_refused(county, hook, monkeypatch, settings):
    settings.GOVINSPECT_SMTP_HOST = ""
    a1 = county.item(county.a, "fa1")
    hook.status = 500
    assert send_due(DEADLINE) == 0
    (r,) = reminders(channel="webhook")
    assert not r.ok and r.error == "推送返回 HTTP 500"
    hook.status = 204
    assert send_due(DEADLINE) == 1
    assert [x.ok for x in reminders(channel="webhook")] == [False, True]
    assert send_due(DEADLINE) == 0 and len(hook.posts) == 2

    for bad in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"):
        monkeypatch.setenv("GOVINSPECT_REMINDER_WEBHOOK", bad)
        b = county.item(county.b, f"b-{bad[:4]}")
        assert send_due(DEADLINE) == 0  # nothing raised
        (r,) = reminders(channel="webhook", item=b)
        assert not r.ok and "http" in r.error
    assert len(hook.posts) == 2
    assert Item.objects.get(pk=a1.pk).state == "open"


def test_smtp_down_recorded_then_retried_when_up(county, smtp):
    a1, b1 = county.item(county.a, "fa1"), county.item(county.b, "fb1")
    t0 = time.monotonic()
    assert send_due(DEADLINE) == 0  # nothing listens on the port: no exception out of send_due
    assert time.monotonic() - t0 < 5  # connection refused once, not waited for per unit
    failed = reminders()
    assert len(failed) == 2 and not any(r.ok for r in failed)
    assert all("无法连接邮件服务器" in r.error for r in failed)
    assert housekeeping(DEADLINE)["reminders"] == 0  # housekeeping goes on
    assert len(reminders()) == 4  # the failed ones were tried again (and recorded again)

    smtp.start()
    assert send_due(DEADLINE) == 2
    assert sorted(r for _, r, _ in smtp.messages) == [["jyj@example.gov.cn"], ["wjj@example.gov.cn"]]
    assert sorted(r.item_id for r in reminders(ok=True)) == sorted([a1.pk, b1.pk])
    assert send_due(DEADLINE) == 0 and len(smtp.messages) == 2


def test_units_without_or_with_bad_email_recorded_not_crashed(county, mail):
    county.a.contact_email = ""
    county.a.save()
    c = Unit.objects.create(name="测试县民政局", kind="部门", contact_email="不是邮箱")
    county.rs[c.pk] = county.rs[county.b.pk]
    a1, b1, c1 = county.item(county.a, "fa1"), county.item(county.b, "fb1"), county.item(c, "fc1")

    assert send_due(DEADLINE) == 1  # B's mail goes; A and C are recorded
    assert [r for _, r, _ in mail.messages] == [["jyj@example.gov.cn"]]
    (ra,) = reminders(item=a1)
    assert not ra.ok and ra.error == "单位未填写联系邮箱"
    (rc,) = reminders(item=c1)
    assert not rc.ok and rc.error == "单位联系邮箱格式无效，未发送" and rc.to == "不是邮箱"
    assert send_due(DEADLINE) == 0 and Reminder.objects.count() == 3  # recorded once, not every 10 minutes

    county.a.contact_email = "wjj@example.gov.cn"  # the registry fixed: the next call sends
    county.a.save()
    assert send_due(DEADLINE) == 1
    assert reminders(item=a1)[-1].ok and mail.messages[-1][1] == ["wjj@example.gov.cn"]


def test_header_injection_in_unit_name_or_email_is_refused(county, mail, hook):
    bad = Unit.objects.create(name="注入单位", kind="部门", contact_email="a@b.cn\nBcc: x@y.cn")
    bad2 = Unit.objects.create(name="注入单位二", kind="部门", contact_email="a@b.cn, x@y.cn")
    named = Unit.objects.create(name="恶意\r\nBcc: x@y.cn\r\nX-Evil: 1", kind="部门", contact_email="ok@example.gov.cn")
    for u in (bad, bad2, named):
        county.rs[u.pk] = county.rs[county.a.pk]
    i_bad, i_bad2, i_named = county.item(bad, "x1"), county.item(bad2, "x2"), county.item(named, "x3")

    assert send_due(DEADLINE) == 1 + 3  # one mail (the neutralised name), three webhook posts
    everyone = [a for _, rcpt, _ in mail.messages for a in rcpt]
    assert everyone == ["ok@example.gov.cn"]  # nothing to x@y.cn, nothing to the refused addresses
    (_, _, msg), = mail.messages
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert "\n" not in subject(msg) and "\r" not in subject(msg)
    assert subject(msg) == "【整改提醒】恶意 Bcc: x@y.cn X-Evil: 1有1项整改事项今日（2026-10-09）到期"
    assert body_of(msg).startswith("恶意 Bcc: x@y.cn X-Evil: 1：\n")
    for it in (i_bad, i_bad2):
        (r,) = reminders(item=it, channel="email")
        assert not r.ok and r.error == "单位联系邮箱格式无效，未发送"
        assert "\n" not in r.to and "\r" not in r.to
    assert reminders(item=i_bad, channel="email")[0].to == "a@b.cn\\nBcc: x@y.cn"
    assert reminders(item=i_named, channel="email")[0].ok
    assert all(r.ok for r in reminders(channel="webhook"))  # the webhook carries names as JSON strings


def test_a_year_without_calendar_does_not_stop_the_others(county, mail):
    county.item(county.a, "far", deadline=dt.date(2099, 1, 5))  # no holiday data for 2099: skipped, not raised
    b1 = county.item(county.b, "fb1")
    assert send_due(DEADLINE) == 1
    assert [r.item_id for r in reminders()] == [b1.pk]
    assert send_due(dt.date(2099, 1, 2)) == 0
