"""The rectification loop's foundation (issue 18): items issued from a round with a deadline in working days, followed
by fingerprint through later rounds, overdue, and an append-only audit trail. A minimal county built with the ORM."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from govinspect.rectify.models import Item, ItemEvent
from govinspect.rectify.services import (ALLOWED, TransitionError, deadline_for, issue_round, mark_overdue,
                                         rectify_days, sync_with_round, transition)
from govinspect.registry.models import Unit, Website
from govinspect.rounds.models import Finding, Ignore, Round, RoundJob, RoundSite
from govinspect.rules import load_rules

from rectify_util import crawl_log  # noqa: E402

pytestmark = pytest.mark.django_db


class County:
    def __init__(self):
        self.a = Unit.objects.create(name="测试县卫生健康局", kind="部门")
        self.b = Unit.objects.create(name="测试县教育局", kind="部门")
        self.site_a = Website.objects.create(name="卫健局网站", home_url="http://127.0.0.1:9/a/", owner=self.a)
        self.site_b = Website.objects.create(name="教育局网站", home_url="http://127.0.0.1:9/b/", owner=self.b)

    def round(self, name, as_of, checked=("a", "b")):
        rnd = Round.objects.create(name=name, as_of=as_of, status="done")
        rnd.rs = {}
        for k, site in (("a", self.site_a), ("b", self.site_b)):
            job = RoundJob.objects.create(round=rnd, kind="site", target=site.pk, state="done" if k in checked
                                          else "could_not_check")
            rnd.rs[k] = RoundSite.objects.create(round=rnd, job=job, website=site, warc_path=f"rounds/{rnd.pk}/{k}.warc.gz",
                                                 status="checked" if k in checked else "could_not_check",
                                                 log_path=crawl_log(rnd, k, [site.home_url] if k in checked else []))
        return rnd

    def find(self, rnd, k, fp, rule="link.dead", unit=None):
        rs = rnd.rs[k]
        return Finding.objects.create(round=rnd, job=rs.job, round_site=rs, rule=rule, fingerprint=fp,
                                      url=f"http://127.0.0.1:9/{k}/{fp}.html", detail=f"问题{fp}",
                                      facts={"page": f"http://127.0.0.1:9/{k}/"},  # the link is on the home page
                                      responsible_unit=unit if unit is not None else (self.a if k == "a" else self.b),
                                      evidence={"captured_at": "2026-09-30T10:00:00+08:00",
                                                "warc_file": f"rounds/{rnd.pk}/{k}.warc.gz", "warc_offset": 123})


@pytest.fixture
def county():
    return County()


def test_issue_creates_items_with_a_deadline_in_working_days(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    f1 = county.find(r1, "a", "fp1")
    county.find(r1, "a", "fp1")  # the same problem twice in one round: one item
    county.find(r1, "b", "fp2")
    ig = Ignore.objects.create(rule="link.dead", scope="page", website=county.site_a, url="x", reason="不是问题", created_by="o")
    Finding.objects.filter(pk=county.find(r1, "a", "fp3").pk).update(ignored_by=ig)  # ignored: not issued
    county.find(r1, "a", "")  # no fingerprint: not issued
    Finding.objects.filter(pk=county.find(r1, "b", "fp4").pk).update(responsible_unit=None)  # nobody responsible

    n = issue_round(r1, "office", issued_on=dt.date(2026, 9, 30))
    assert n == 2 and Item.objects.count() == 2
    item = Item.objects.get(fingerprint="fp1")
    assert (item.unit, item.round_issued, item.finding, item.state, item.rule) == (county.a, r1, f1, "open", "link.dead")
    assert item.get_state_display() == "待整改" and item.closed_at is None
    # the bulletin's number, counted in working days over the National Day holiday (1–7 Oct 2026; 10 Oct is worked)
    days = load_rules("rectify")["days"]  # the one setting (bulletin.toml no longer has its own calendar days)
    assert rectify_days(r1) == days
    assert item.deadline == deadline_for(r1, dt.date(2026, 9, 30))
    cal_days = (item.deadline - dt.date(2026, 9, 30)).days
    assert cal_days > days + 7  # the holiday week and the weekends are not counted
    from govinspect.rounds.scoring import round_rules

    cal = round_rules(r1).calendar
    assert cal.workdays_between(dt.date(2026, 9, 30), item.deadline) == days and cal.is_workday(item.deadline)
    # an explicit short case: 3 working days after 30 Sep 2026 is Saturday 10 Oct (a working day), not 5 Oct
    assert cal.add_workdays(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    ev = ItemEvent.objects.get(item=item)
    assert (ev.action, ev.actor, ev.from_state, ev.to_state) == ("issue", "office", "", "open")
    assert ev.evidence == {"finding": f1.pk, "round": r1.pk, "warc_file": f"rounds/{r1.pk}/a.warc.gz", "warc_offset": 123,
                           "captured_at": "2026-09-30T10:00:00+08:00"}


def test_issue_is_idempotent_and_refuses_an_unfinished_round(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    assert issue_round(r1, "office", dt.date(2026, 9, 30)) == 1
    assert issue_round(r1, "office", dt.date(2026, 10, 9)) == 0
    assert Item.objects.count() == 1 and ItemEvent.objects.count() == 1
    running = Round.objects.create(name="进行中", as_of=dt.date(2026, 12, 31), status="running")
    with pytest.raises(TransitionError, match="尚未完成"):
        issue_round(running, "office")


def test_one_open_item_per_problem_and_unit(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(fingerprint="fp1", rule="link.dead", unit=county.a, round_issued=r1, deadline=dt.date(2026, 12, 1))
    # the next round's issue of the same open problem updates the item, no second one
    r2 = county.round("第四季度检查", dt.date(2026, 11, 30))
    f2 = county.find(r2, "a", "fp1")
    assert issue_round(r2, "office", dt.date(2026, 11, 30)) == 0
    item = Item.objects.get()
    assert item.finding == f2 and item.round_issued == r1 and item.events.count() == 2


def test_sync_present_fixed_unchanged_and_reopened(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "again")
    old_gone = county.find(r1, "a", "gone")
    county.find(r1, "b", "unseen")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    Item.objects.update(deadline=dt.date(2099, 12, 31))  # within their deadline (past it: test_found_again_after_the_deadline…)
    # r2 checked site a again (not b): "again" is found, "gone" is not, b's site could not be checked
    r2 = county.round("第四季度检查", dt.date(2026, 12, 31), checked=("a",))
    f_again = county.find(r2, "a", "again")
    counts = sync_with_round(r2)
    assert counts == {"present": 1, "fixed": 1, "reopened": 0, "unchanged": 0, "not_checked": 1}
    again, gone, unseen = (Item.objects.get(fingerprint=k) for k in ("again", "gone", "unseen"))
    assert again.state == "present" and again.get_state_display() == "仍存在" and again.finding == f_again
    ev = again.events.last()
    assert (ev.action, ev.from_state, ev.to_state, ev.actor) == ("recheck", "open", "present", "system")
    assert ev.evidence["finding"] == f_again.pk and ev.evidence["round"] == r2.pk
    assert gone.state == "fixed" and gone.closed_at is not None and gone.get_state_display() == "已整改"
    gev = gone.events.last()
    assert gev.evidence["finding"] == old_gone.pk and gev.evidence["checked_round"] == r2.pk
    assert gev.evidence["after_warc"] == f"rounds/{r2.pk}/a.warc.gz"
    assert unseen.state == "open" and unseen.closed_at is None and unseen.events.count() == 1  # never counted as fixed
    # idempotent: nothing changes, no event; the item not looked at is still not looked at
    assert sync_with_round(r2) == {"present": 0, "fixed": 0, "reopened": 0, "unchanged": 0, "not_checked": 1}
    assert ItemEvent.objects.count() == 5
    # r3 finds the fixed problem again: the same item, reopened
    r3 = county.round("2027年第一季度检查", dt.date(2027, 3, 31))
    f3 = county.find(r3, "a", "gone")
    county.find(r3, "a", "again")
    counts = sync_with_round(r3)
    assert counts["reopened"] == 1 and counts["present"] == 1 and counts["fixed"] == 1  # b's site checked now
    gone.refresh_from_db()
    assert gone.state == "open" and gone.closed_at is None and gone.finding == f3
    rev = gone.events.last()
    assert (rev.action, rev.from_state, rev.to_state) == ("reopen", "fixed", "open")
    assert Item.objects.get(fingerprint="unseen").state == "fixed"
    assert Item.objects.count() == 3
    # an older round synced late changes nothing any more
    assert sync_with_round(r2)["present"] == 0 and Item.objects.get(fingerprint="gone").state == "open"


def test_ignored_in_the_later_round_is_not_counted_as_fixed(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    r2 = county.round("第四季度检查", dt.date(2026, 12, 31))
    ig = Ignore.objects.create(rule="link.dead", scope="page", website=county.site_a, url="x", reason="r", created_by="o")
    Finding.objects.filter(pk=county.find(r2, "a", "fp1").pk).update(ignored_by=ig)
    assert sync_with_round(r2)["unchanged"] == 1 and Item.objects.get().state == "open"


def test_overdue(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    for fp in ("o1", "o2", "o3", "o4"):
        county.find(r1, "a", fp)
    issue_round(r1, "office", dt.date(2026, 9, 30))
    items = {i.fingerprint: i for i in Item.objects.all()}
    deadline = items["o1"].deadline
    transition(items["o2"], "claimed", "unit_a", "claim", note="已改")
    transition(items["o3"], "fixed", "system", "recheck")
    transition(items["o4"], "disputed", "unit_a", "dispute", note="不是问题")
    assert mark_overdue(deadline) == 0  # the deadline day itself is still in time
    assert mark_overdue(deadline + dt.timedelta(days=1)) == 2
    states = dict(Item.objects.values_list("fingerprint", "state"))
    assert states == {"o1": "overdue", "o2": "overdue", "o3": "fixed", "o4": "disputed"}
    ev = Item.objects.get(fingerprint="o2").events.last()
    assert (ev.action, ev.from_state, ev.to_state) == ("overdue", "claimed", "overdue")
    assert Item.objects.get(fingerprint="o1").get_state_display() == "逾期"
    assert mark_overdue(deadline + dt.timedelta(days=5)) == 0  # idempotent
    assert ItemEvent.objects.filter(action="overdue").count() == 2


def test_found_again_after_the_deadline_stays_overdue(county):
    """The next round finding an overdue problem again records the new evidence but keeps it 逾期 (a bulletin written
    right after that round must still count and deduct it); one found again within its deadline is 仍存在."""
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "late")
    county.find(r1, "a", "intime")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    Item.objects.filter(fingerprint="intime").update(deadline=dt.date(2099, 12, 31))  # still in time
    items = {i.fingerprint: i for i in Item.objects.all()}
    mark_overdue(items["late"].deadline + dt.timedelta(days=1))
    r2 = county.round("第四季度检查", dt.date(2026, 12, 10))
    county.find(r2, "a", "late")
    county.find(r2, "a", "intime")
    sync_with_round(r2)
    states = dict(Item.objects.values_list("fingerprint", "state"))
    assert states == {"late": "overdue", "intime": "present"}
    ev = Item.objects.get(fingerprint="late").events.last()
    assert (ev.action, ev.from_state, ev.to_state) == ("recheck", "overdue", "overdue") and ev.evidence["round"] == r2.pk


def test_events_are_append_only(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    ev = ItemEvent.objects.get()
    ev.note = "改过"
    with pytest.raises(PermissionDenied, match="只能追加"):
        ev.save()
    copy = ItemEvent.objects.get()
    copy._state.adding = True  # a forged "new" row with the same key
    with pytest.raises(PermissionDenied):
        copy.save()
    with pytest.raises(PermissionDenied):
        ev.delete()
    with pytest.raises(PermissionDenied):
        ItemEvent.objects.filter(pk=ev.pk).update(note="改过")
    with pytest.raises(PermissionDenied):
        ItemEvent.objects.all().delete()
    with pytest.raises(PermissionDenied):
        ItemEvent.objects.bulk_update([ev], ["note"])
    with pytest.raises(PermissionDenied):
        Item.objects.get().events.all().delete()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):  # an item with a trail cannot be deleted (its events would go with it)
        Item.objects.get().delete()
    stored = ItemEvent.objects.get()
    assert stored.note.startswith("随第三季度检查通报下发") and "改过" not in stored.note


def test_events_are_read_only_in_the_admin(county, client):
    from django.contrib.auth.models import User

    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    ev, item = ItemEvent.objects.get(), Item.objects.get()
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    for obj in (ev, item):
        base = f"/admin/rectify/{obj._meta.model_name}/"
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200
        assert client.post(f"{base}{obj.pk}/change/", {"note": "x", "state": "fixed"}).status_code == 403
        assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(f"{base}add/").status_code == 403
    assert ItemEvent.objects.get().note == ev.note and Item.objects.get().state == "open"


def test_transition_table(county):
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r1, "a", "fp1")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    item = Item.objects.get()
    transition(item, "claimed", "unit_a", "claim", note="已更新栏目")
    transition(item, "fixed", "system", "recheck", evidence={"finding": 1})
    assert item.state == "fixed" and item.closed_at is not None
    assert ("fixed", "claimed") not in ALLOWED
    with pytest.raises(TransitionError, match="不能从“已整改”变为“已反馈”"):
        transition(item, "claimed", "unit_a", "claim")
    with pytest.raises(ValueError):
        transition(item, "overdue", "system", "overdue")
    with pytest.raises(TransitionError, match="未知"):
        transition(item, "nonsense", "system", "recheck")
    item.refresh_from_db()
    assert item.state == "fixed" and item.events.count() == 3
    assert [e.action for e in item.events.all()] == ["issue", "claim", "recheck"]
    # a stale object in the caller's hand cannot bypass the table: the state is read again under the lock
    stale = Item.objects.get()
    stale.state = "open"
    with pytest.raises(TransitionError):
        transition(stale, "claimed", "unit_a", "claim")
    assert Item.objects.get().state == "fixed"
