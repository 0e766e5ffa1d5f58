"""Reminders to the responsible units about their open rectification items (整改提醒), by e-mail and by webhook.

Three kinds, each at most once per item, channel and deadline:
- before (到期前提醒): from the working day `remind_before` working days before the deadline (rectify.toml or the
  scheme's [rectify], the round's working-day calendar) until the day before it;
- due (到期当日提醒): on the deadline day;
- overdue (逾期通知): after the deadline, once the item is 逾期.
Only items still waiting for the unit are reminded (待整改, 仍存在, 未能复查, 逾期), not those fixed, accepted, disputed or
claimed. A unit gets one message per kind and channel listing all its items, not one per item.

Channels:
- e-mail through Django's mail API; the SMTP server comes from the environment (govinspect/settings.py:
  GOVINSPECT_SMTP_HOST/_PORT/_USER/_PASSWORD/_TLS/_SSL, GOVINSPECT_MAIL_FROM). Without GOVINSPECT_SMTP_HOST e-mail is
  not sent and that is recorded (未配置邮件服务器). The recipient is the unit's contact e-mail.
- webhook: a JSON POST to GOVINSPECT_REMINDER_WEBHOOK (http or https only; the office's own messaging system, which may
  be on its LAN), signed with GOVINSPECT_REMINDER_WEBHOOK_SECRET when set (header X-Govinspect-Signature:
  sha256=<hex HMAC-SHA256 of the body>).
The link to the unit's queue is GOVINSPECT_BASE_URL + /rectify/.

Every attempt is a Reminder row per item (append-only). A failed attempt is tried again at the next call; a failure that
cannot change by itself (no mail server configured, the unit has no valid e-mail) is recorded once, not at every call.
Nothing raises out of send_due: housekeeping goes on whatever the mail server does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import STATE_LABELS, Item, Reminder

log = logging.getLogger(__name__)

REMIND_STATES = ("open", "present", "unverified", "overdue")
KINDS = ("before", "due", "overdue")
WEBHOOK_TIMEOUT = 10  # seconds
QUEUE_PATH = "/rectify/"

NOT_CONFIGURED = "未配置邮件服务器"
NO_EMAIL = "单位未填写联系邮箱"
BAD_EMAIL = "单位联系邮箱格式无效，未发送"
# failures that only a person can change (configuration, the registry): recorded once per item, kind and deadline
STANDING = (NOT_CONFIGURED, NO_EMAIL, BAD_EMAIL)


def _clean(text: str, limit: int | None = None) -> str:
    """One line of text for a subject or a message: control and format characters (CR, LF, NUL, bidi marks...) become
    spaces, so a unit name or a crawled URL cannot add a header or a line."""
    out = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text or ""))
    out = " ".join(out.split())
    return out[:limit] if limit else out


def _shown(value: str, limit: int = 300) -> str:
    """A refused value as recorded: control characters visible as escapes (\\n), never raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value or ""))[:limit]


def recipient(unit) -> tuple[str, str]:
    """(address, error): the unit's contact e-mail when it is one plain valid address, else the reason it is refused.
    Anything that could add a header or a second recipient (line breaks, commas, semicolons, angle brackets) is
    refused, not repaired."""
    raw = unit.contact_email or ""
    addr = raw.strip()
    if not addr:
        return "", NO_EMAIL
    if any(not c.isprintable() or c.isspace() or c in ",;<>\"'()[]\\" for c in addr):
        return "", BAD_EMAIL
    try:
        validate_email(addr)
    except ValidationError:
        return "", BAD_EMAIL
    return addr, ""


def base_url() -> str:
    return (os.environ.get("GOVINSPECT_BASE_URL") or "").strip().rstrip("/")


def queue_url() -> str:
    b = base_url()
    return f"{b}{QUEUE_PATH}" if b else ""


def webhook_target() -> tuple[str, str]:
    """(url, error) of the configured webhook; ("", "") when none is set."""
    url = (os.environ.get("GOVINSPECT_REMINDER_WEBHOOK") or "").strip()
    if not url:
        return "", ""
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname or any(not c.isprintable() or c.isspace() for c in url):
        return url, "推送地址必须是 http:// 或 https:// 网址"
    return url, ""


def _shown_url(url: str) -> str:
    """The webhook as recorded in Reminder.to: scheme, host and path, without credentials or a query (a token)."""
    p = urllib.parse.urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return _shown(urllib.parse.urlunsplit((p.scheme, host, p.path, "", "")))


# ------------------------------------------------------------------------------------------- what is due today
class _Rounds:
    """Per round: its working-day calendar and remind_before, loaded once per call."""

    def __init__(self):
        self.cache: dict[int, tuple] = {}

    def get(self, rnd):
        if rnd.pk not in self.cache:
            from ..rounds.scoring import round_rules
            from .services import settings_for

            self.cache[rnd.pk] = (round_rules(rnd).calendar, int(settings_for(rnd).get("remind_before", 3) or 0))
        return self.cache[rnd.pk]


def before_from(calendar, deadline: dt.date, n: int) -> dt.date | None:
    """The working day n working days before the deadline (None when n is 0)."""
    if n <= 0:
        return None
    d, left = deadline, n
    while left > 0:
        d -= dt.timedelta(days=1)
        if calendar.is_workday(d):
            left -= 1
    return d


def kind_due(item: Item, today: dt.date, rounds: _Rounds) -> str | None:
    """The kind of reminder the item is due for today, if any."""
    if item.state not in REMIND_STATES or item.closed_at is not None:
        return None
    if today == item.deadline:
        return "due"
    if today > item.deadline:
        return "overdue" if item.state == "overdue" else None
    calendar, n = rounds.get(item.round_issued)
    start = before_from(calendar, item.deadline, n)
    return "before" if start is not None and start <= today else None


# ------------------------------------------------------------------------------------------- the messages
@dataclass
class Group:
    """One message: a unit's items of one kind."""

    unit: object
    kind: str
    items: list = field(default_factory=list)

    @property
    def deadline(self) -> dt.date:
        return min(i.deadline for i in self.items)


def _item_url(item: Item) -> str:
    return _clean(item.finding.url) if item.finding is not None else ""


def subject(g: Group, today: dt.date) -> str:
    name, n = _clean(g.unit.name, 100), len(g.items)
    if g.kind == "before":
        return f"【整改提醒】{name}有{n}项整改事项将于{g.deadline.isoformat()}到期"
    if g.kind == "due":
        return f"【整改提醒】{name}有{n}项整改事项今日（{today.isoformat()}）到期"
    return f"【逾期通知】{name}有{n}项整改事项已逾期"


def text(g: Group, today: dt.date, names: dict[str, str]) -> str:
    """The Chinese message (the e-mail's body, the webhook's text)."""
    n = len(g.items)
    lead = {
        "before": f"贵单位有以下{n}项网站检查发现问题的整改期限即将届满（最早{g.deadline.isoformat()}），"
                  "请抓紧整改，整改后在平台上反馈：",
        "due": f"贵单位有以下{n}项整改事项今日（{today.isoformat()}）到期，请今日内完成整改并在平台上反馈：",
        "overdue": f"贵单位有以下{n}项整改事项已超过整改期限，未核实整改，已记为逾期，请尽快整改并在平台上反馈：",
    }[g.kind]
    lines = [f"{_clean(g.unit.name, 100)}：", "", lead, ""]
    for k, i in enumerate(g.items, 1):
        lines.append(f"{k}. 事项{i.pk}：{_clean(names.get(i.rule) or i.rule)}（{i.rule}）")
        url = _item_url(i)
        if url:
            lines.append(f"   网址：{url}")
        lines.append(f"   状态：{STATE_LABELS.get(i.state, i.state)}；整改期限：{i.deadline.isoformat()}")
    lines.append("")
    q = queue_url()
    lines.append(f"查看详情、反馈整改或申诉：{q}" if q else "查看详情、反馈整改或申诉：请登录政务公开智能检查平台“整改”页面。")
    lines += ["", "本消息由政务公开智能检查平台自动发送，请勿直接回复。"]
    return "\n".join(lines)


def payload(g: Group, today: dt.date, names: dict[str, str]) -> dict:
    base = base_url()
    return {
        "unit": g.unit.name,
        "unit_id": g.unit.pk,
        "kind": g.kind,
        "deadline": g.deadline.isoformat(),
        "queue": f"{base}{QUEUE_PATH}" if base else "",
        "items": [{"id": i.pk, "rule": i.rule, "rule_name": names.get(i.rule) or i.rule, "url": _item_url(i),
                   "state": i.state, "deadline": i.deadline.isoformat()} for i in g.items],
        "text": text(g, today, names),
    }


# ------------------------------------------------------------------------------------------- sending
def _record(g: Group, channel: str, to: str, ok: bool, error: str = "") -> None:
    for i in g.items:
        try:
            Reminder.objects.create(item=i, kind=g.kind, channel=channel, deadline=i.deadline, to=to[:300], ok=ok,
                                    error=error)
        except Exception:  # noqa: BLE001 - a record that cannot be written must not stop the others
            log.exception("整改提醒：记录事项%s的提醒失败", i.pk)


def _error(exc: BaseException) -> str:
    return _shown(f"{type(exc).__name__}: {exc}", 1000)


def mail_configured() -> bool:
    return bool(getattr(settings, "GOVINSPECT_SMTP_HOST", ""))


class MailServerDown(Exception):
    pass


class _Mailer:
    """One SMTP connection for the call, opened at the first message; when it cannot be opened every message of the
    call fails with that error at once (no waiting for the timeout again per unit)."""

    def __init__(self):
        self.conn = None
        self.broken = ""

    def send(self, to: str, subj: str, body: str) -> None:
        from django.core.mail import EmailMessage, get_connection

        if self.broken:
            raise MailServerDown(self.broken)
        if self.conn is None:
            try:
                self.conn = get_connection(fail_silently=False)
                self.conn.open()
            except Exception as e:
                self.broken = f"无法连接邮件服务器：{_error(e)}"
                self.conn = None
                raise MailServerDown(self.broken) from e
        msg = EmailMessage(subj, body, settings.DEFAULT_FROM_EMAIL, [to], connection=self.conn,
                           headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"})
        if not msg.send(fail_silently=False):
            raise OSError("邮件未能发出")

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer we do not follow: it counts as a failure


def post_webhook(url: str, body: dict) -> None:
    """POST the JSON body, signed when a secret is set; raises on anything but a 2xx answer."""
    data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "govinspect-reminders"}
    secret = os.environ.get("GOVINSPECT_REMINDER_WEBHOOK_SECRET") or ""
    if secret:
        headers["X-Govinspect-Signature"] = "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    # direct connection (the office's own system), no proxies from the environment, no redirects followed
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    with opener.open(req, timeout=WEBHOOK_TIMEOUT) as resp:
        status = resp.status
        resp.read(65536)
    if not 200 <= status < 300:
        raise OSError(f"推送返回 HTTP {status}")


def _sent_and_standing(items: list[Item]) -> tuple[set, dict]:
    """(keys sent ok, last standing failure by key) of the items' reminders; key = (item, kind, channel, deadline)."""
    sent, last = set(), {}
    for r in (Reminder.objects.filter(item__in=[i.pk for i in items]).order_by("at", "id")
              .values_list("item_id", "kind", "channel", "deadline", "ok", "error")):
        key = r[:4]
        if r[4]:
            sent.add(key)
        else:
            last[key] = r[5]
    return sent, last


def send_due(today: dt.date | None = None) -> int:
    """Send the reminders due today; returns the number of messages sent (e-mails and webhook posts). Never raises."""
    from django.utils import timezone

    today = today or timezone.localdate()
    try:
        return _send_due(today)
    except Exception:  # noqa: BLE001 - housekeeping must go on
        log.exception("整改提醒：发送失败")
        return 0


def _send_due(today: dt.date) -> int:
    from ..reports.tables import rule_names

    rounds = _Rounds()
    due: list[tuple[Item, str]] = []
    for item in (Item.objects.filter(state__in=REMIND_STATES, closed_at__isnull=True)
                 .select_related("unit", "round_issued", "finding").order_by("unit__name", "deadline", "id")):
        try:
            kind = kind_due(item, today, rounds)
        except Exception:  # noqa: BLE001 - e.g. a year without a working-day calendar: this item is skipped
            log.exception("整改提醒：无法确定事项%s的提醒", item.pk)
            continue
        if kind:
            due.append((item, kind))
    if not due:
        return 0
    sent, standing = _sent_and_standing([i for i, _ in due])
    names = rule_names()
    hook, hook_error = webhook_target()
    channels = ["email"] + (["webhook"] if hook else [])
    groups: dict[tuple, Group] = {}
    for item, kind in due:
        for ch in channels:
            if (item.pk, kind, ch, item.deadline) in sent:
                continue
            groups.setdefault((ch, item.unit_id, kind), Group(item.unit, kind)).items.append(item)

    n = 0
    mailer = _Mailer()
    try:
        for (ch, _, kind), g in groups.items():
            try:
                if ch == "email":
                    n += _email(g, today, names, mailer, standing)
                else:
                    n += _webhook(g, today, names, hook, hook_error, standing)
            except Exception as e:  # noqa: BLE001 - recorded; the next message is tried
                _record(g, ch, "", False, _error(e))
    finally:
        mailer.close()
    return n


def _standing(g: Group, channel: str, to: str, error: str, standing: dict) -> None:
    """Record a failure that cannot change by itself, for the items it is not recorded for yet."""
    fresh = [i for i in g.items if standing.get((i.pk, g.kind, channel, i.deadline)) != error]
    if fresh:
        _record(Group(g.unit, g.kind, fresh), channel, to, False, error)


def _email(g: Group, today: dt.date, names: dict, mailer: _Mailer, standing: dict) -> int:
    if not mail_configured():
        _standing(g, "email", "", NOT_CONFIGURED, standing)
        return 0
    to, err = recipient(g.unit)
    if err:
        _standing(g, "email", _shown(g.unit.contact_email), err, standing)
        return 0
    try:
        mailer.send(to, subject(g, today), text(g, today, names))
    except Exception as e:  # noqa: BLE001
        _record(g, "email", to, False, str(e) if isinstance(e, MailServerDown) else _error(e))
        return 0
    _record(g, "email", to, True)
    return 1


def _webhook(g: Group, today: dt.date, names: dict, url: str, error: str, standing: dict) -> int:
    if error:
        _standing(g, "webhook", _shown(url), error, standing)
        return 0
    shown = _shown_url(url)
    try:
        post_webhook(url, payload(g, today, names))
    except urllib.error.HTTPError as e:
        _record(g, "webhook", shown, False, f"推送返回 HTTP {e.code}")
        return 0
    except Exception as e:  # noqa: BLE001
        _record(g, "webhook", shown, False, _error(e))
        return 0
    _record(g, "webhook", shown, True)
    return 1
