"""Helpers of the rectification cycle in a real browser (tests/web/test_browser_rectify.py): a local SMTP server that
keeps what it receives (aiosmtpd, on 127.0.0.1), and the Python snippets run by browser_util.run_py on the platform's
data directory (each prints its answer as JSON on its last line)."""

from __future__ import annotations

import email
import email.policy

from aiosmtpd.controller import Controller

from browser_util import free_port


class Inbox:
    """aiosmtpd handler: every message as (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(raw, policy=email.policy.default)))
        return "250 OK"


class LocalSmtp:
    """A local SMTP server on a free port; a context manager (stopped on exit, whatever happened)."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        return self.inbox.messages

    def env(self) -> dict[str, str]:
        """The environment that points the platform's mail at this server."""
        return {"GOVINSPECT_SMTP_HOST": "127.0.0.1", "GOVINSPECT_SMTP_PORT": str(self.port),
                "GOVINSPECT_MAIL_FROM": "zwgk@qinghe.example.gov.cn"}


# ----------------------------------------------------------------------------------------- snippets for run_py
# the registry, the first round on the sandbox (crawl settings from the test process: the sandbox's DNS map), accounts
SETUP = """
import datetime as dt
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from govinspect.registry.models import Unit
from govinspect.registry.xlsx import import_registry
from govinspect.rounds.models import Round
from govinspect.rounds.services import run_round
from govinspect.web.accounts import add_account
import_registry(args["registry"])
as_of = dt.date.fromisoformat(args["as_of"])
r1 = Round.objects.create(name=args["name"], region="清河县", office="清河县人民政府办公室", as_of=as_of,
                          allow_networks="127.0.0.0/8", period_start=as_of - dt.timedelta(days=91))
run_round(r1, crawl=args["crawl"])
r1.refresh_from_db()
add_account("office", "office", full_name="检查员", password=args["password"], must_change=False)
add_account("unit", "unit", unit=args["unit"], full_name="办公室联系人", password=args["password"], must_change=False)
print(json.dumps({"round": r1.pk, "status": r1.status, "email": Unit.objects.get(name=args["unit"]).contact_email}))
"""

# the unit's items of a round, with their findings (site findings only: those a re-check fetches)
ITEMS = """
from govinspect.rectify.models import Item
rows = []
for i in (Item.objects.filter(round_issued_id=args["round"], unit__name=args["unit"], finding__round_site__isnull=False)
          .select_related("finding").order_by("id")):
    rows.append({"id": i.pk, "rule": i.rule, "state": i.state, "url": i.finding.url, "match": i.finding.match,
                 "deadline": i.deadline.isoformat(), "fingerprint": i.fingerprint})
print(json.dumps(rows))
"""

UNIT_STATES = """
from govinspect.rectify.models import Item
print(json.dumps({str(pk): st for pk, st in Item.objects.filter(unit__name=args["unit"]).values_list("id", "state")}))
"""

STATES = """
from govinspect.rectify.models import Item
print(json.dumps({str(i.pk): [i.state, i.last_round_id] for i in Item.objects.filter(pk__in=args["ids"])}))
"""

# a site's address changed (down: an address that refuses connections; back: its real address)
SITE_URL = """
from govinspect.registry.models import Website
w = Website.objects.get(owner__name=args["unit"])
old = w.home_url
Website.objects.filter(pk=w.pk).update(home_url=args["url"])
print(json.dumps(old))
"""

# the accepted dispute: the finding ignored, audited (who, why), and the item's trail
IGNORED = """
from govinspect.rectify.models import Item
i = Item.objects.select_related("finding__ignored_by").get(pk=args["item"])
ig = i.finding.ignored_by
print(json.dumps({"state": i.state, "closed": i.closed_at is not None,
                  "ignore": ig and {"by": ig.created_by, "reason": ig.reason},
                  "actions": list(i.events.order_by("at", "id").values_list("action", "actor"))}))
"""

REMINDERS = """
from govinspect.rectify.models import Reminder
print(json.dumps(list(Reminder.objects.filter(item__unit__name=args["unit"]).order_by("id")
                      .values_list("kind", "channel", "to", "ok", "error"))))
"""

# the next round on the same sandbox (items followed by fingerprint when it ends), then its documents
ROUND2 = """
import datetime as dt
from govinspect.rounds.models import Round
from govinspect.rounds.services import run_round
as_of = dt.date.fromisoformat(args["as_of"])
r2 = Round.objects.create(name=args["name"], region="清河县", office="清河县人民政府办公室", as_of=as_of,
                          allow_networks="127.0.0.0/8", period_start=as_of - dt.timedelta(days=91))
run_round(r2, crawl=args["crawl"])
r2.refresh_from_db()
print(json.dumps({"round": r2.pk, "status": r2.status}))
"""

REPORTS = """
from pathlib import Path
import docx
from govinspect.reports import write_reports
from govinspect.rounds.models import Round
out = write_reports(Round.objects.get(pk=args["round"]), args["out"])
d = docx.Document(str(Path(args["out"]) / "通报.docx"))
paras = [p.text for p in d.paragraphs]
tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
data = json.loads((Path(args["out"]) / "round.json").read_text(encoding="utf-8"))
print(json.dumps({"paragraphs": paras, "tables": tables, "rectification": data.get("rectification")}))
"""
