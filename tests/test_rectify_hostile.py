"""Hostile probes of the rectification loop's service layer (issue 18): state-machine holes, races between a unit's
acts, the item re-checks and the rounds, re-checks that fail, uploads that try to smuggle something in, and the audit
records' append-only promise. A minimal county built with the ORM; races are made by running the competing act at the
exact point between the read and the write (the real services, not mocks of them)."""

import datetime as dt
import io
import os
import socket
import subprocess
import zipfile

import pytest
from django.core.exceptions import PermissionDenied

from govinspect.rectify import services
from govinspect.rectify.models import Attachment, Issuance, Item, ItemEvent, Reminder
from govinspect.rectify.services import (TransitionError, accept_dispute, apply_recheck, claim, dispute, issue_round,
                                         needs_signoff, reject_dispute, request_recheck, retry_unverified,
                                         run_item_recheck, sign_off, sync_with_round, transition)
from govinspect.rectify.uploads import MAX_FILES, UploadError, check, max_bytes, sniff
from govinspect.registry.models import Account, Unit, Website
from govinspect.rounds.models import Finding, RecheckResult, Round, RoundAccount, RoundJob, RoundSite
from govinspect.storage import storage

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _crawl_log(rnd, pages) -> str:
    import json

    key = f"rounds/{rnd.pk}/a-crawl-log.jsonl"
    p = storage().path(key)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps({"url": u, "final_url": u, "status": 200, "error": None}) + "\n" for u in pages))
    return key


class County:
    def __init__(self):
        self.a = Unit.objects.create(name="测试县卫生健康局", kind="部门")
        self.site = Website.objects.create(name="卫健局网站", home_url="http://127.0.0.1:9/a/", owner=self.a)
        self.account = Account.objects.create(platform="微信", name="健康测试县", owner=self.a, filed=True)

    def round(self, name, as_of, **kw):
        rnd = Round.objects.create(name=name, as_of=as_of, status="done", **kw)
        job = RoundJob.objects.create(round=rnd, kind="site", target=self.site.pk, state="done")
        rnd.rs = RoundSite.objects.create(round=rnd, job=job, website=self.site, warc_path=f"rounds/{rnd.pk}/a.warc.gz",
                                          status="checked", log_path=_crawl_log(rnd, [self.site.home_url]))
        ajob = RoundJob.objects.create(round=rnd, kind="accounts", state="done")
        rnd.ra = RoundAccount.objects.create(round=rnd, account=self.account, status="checked")
        rnd.ajob = ajob
        return rnd

    def find(self, rnd, fp, rule="link.dead"):
        return Finding.objects.create(round=rnd, job=rnd.rs.job, round_site=rnd.rs, rule=rule, fingerprint=fp,
                                      url=f"http://127.0.0.1:9/a/{fp}.html", detail=f"问题{fp}", responsible_unit=self.a,
                                      facts={"page": self.site.home_url},  # a link on the home page
                                      evidence={"captured_at": "2026-09-30T10:00:00+08:00",
                                                "warc_file": f"rounds/{rnd.pk}/a.warc.gz", "warc_offset": 1})

    def find_account(self, rnd, fp, rule="newmedia.not_updated"):
        return Finding.objects.create(round=rnd, job=rnd.ajob, round_account=rnd.ra, rule=rule, fingerprint=fp,
                                      detail=f"账号问题{fp}", responsible_unit=self.a)

    def issued(self, *fps, as_of=dt.date(2026, 9, 30)):
        r1 = self.round("第三季度检查", as_of)
        for fp in fps:
            self.find(r1, fp)
        issue_round(r1, "office", as_of)
        return r1, {i.fingerprint: i for i in Item.objects.filter(round_issued=r1)}


@pytest.fixture
def county():
    return County()


def _answer(rr: Round, item: Item, state: str, status: str = "done"):
    """The item re-check round ended with this answer for the item's finding (what run_recheck stores)."""
    RecheckResult.objects.create(round=rr, finding_id=item.finding_id, state=state, reason=f"复查结果{state}")
    Round.objects.filter(pk=rr.pk).update(status=status)
    return Round.objects.get(pk=rr.pk)


# ------------------------------------------------------------------------------------------- the state machine
def test_acts_refused_in_the_wrong_state(county):
    _, it = county.issued("c1", "c2", "c3")
    claim(it["c1"], "unit", "已改")
    with pytest.raises(TransitionError, match="不能反馈已整改"):
        claim(it["c1"], "unit", "再改一次")
    stale = Item.objects.get(pk=it["c1"].pk)
    stale.state = "open"  # a stale object in the caller's hand cannot claim twice either
    with pytest.raises(TransitionError):
        claim(stale, "unit", "又改了")
    assert it["c1"].events.filter(action="claim").count() == 1
    dispute(it["c2"], "unit", "不是问题")
    with pytest.raises(TransitionError):
        claim(it["c2"], "unit", "已改")
    with pytest.raises(TransitionError, match="没有待处理的申诉"):
        accept_dispute(it["c3"], "office", "同意")
    with pytest.raises(TransitionError, match="没有待处理的申诉"):
        reject_dispute(it["c3"], "office", "驳回")
    from govinspect.rounds.models import Ignore

    assert not Ignore.objects.exists()  # a refused accept made no ignore
    with pytest.raises(TransitionError, match="复查确认已整改后"):
        sign_off(it["c3"], "office")
    with pytest.raises(TransitionError):
        dispute(it["c2"], "unit", "再申诉")


def test_two_officers_answer_the_same_dispute(county):
    """Two office users open the same dispute; the second answer (from a page read before the first) is refused, not
    recorded as a second 驳回 of a dispute already answered."""
    _, it = county.issued("two1", "two2")
    for fp in ("two1", "two2"):
        dispute(it[fp], "unit", "不是问题")
    a, b = Item.objects.get(pk=it["two1"].pk), Item.objects.get(pk=it["two1"].pk)
    late = a.deadline + dt.timedelta(days=1)
    reject_dispute(a, "office1", "确属问题", today=late)
    with pytest.raises(TransitionError):
        reject_dispute(b, "office2", "确属问题", today=late)
    assert Item.objects.get(pk=a.pk).events.filter(action="reject").count() == 1
    c, d = Item.objects.get(pk=it["two2"].pk), Item.objects.get(pk=it["two2"].pk)
    reject_dispute(c, "office1", "确属问题", today=late)
    with pytest.raises(TransitionError):
        accept_dispute(d, "office2", "同意")
    from govinspect.rounds.models import Ignore

    assert Item.objects.get(pk=c.pk).state == "overdue" and not Ignore.objects.exists()


def test_a_reopened_item_needs_a_new_sign_off(county, monkeypatch):
    """A sign-off confirms one fix. The problem found again reopens the item; fixed again later, it must wait for a new
    sign-off (the old one said nothing about this fix), and the reopened item cannot be signed off."""
    monkeypatch.setattr(services, "settings_for", lambda rnd: {"signoff": True, "retry_hours": 24, "days": 15})
    r1, it = county.issued("s1")
    item = it["s1"]
    transition(item, "fixed", "system", "recheck")
    assert needs_signoff(item)
    sign_off(item, "office")
    assert not needs_signoff(item)
    r2 = county.round("第四季度检查", dt.date(2026, 12, 30))
    county.find(r2, "s1")
    sync_with_round(r2)
    item.refresh_from_db()
    assert item.state == "open"
    assert item.signed_off_at is None and item.signed_off_by == ""
    with pytest.raises(TransitionError):
        sign_off(item, "office")
    r3 = county.round("第一季度检查", dt.date(2027, 3, 30))
    sync_with_round(r3)
    item.refresh_from_db()
    assert item.state == "fixed" and needs_signoff(item)
    sign_off(item, "office")
    assert item.events.filter(action="signoff").count() == 2


def test_a_dispute_made_while_the_recheck_runs_is_not_overwritten(county, monkeypatch):
    """The unit disputes its claimed item while the re-check is finishing: the re-check's answer (read before the
    dispute) must not turn the dispute into 已整改."""
    _, it = county.issued("d1", "d2")
    item, other = it["d1"], it["d2"]
    claim(item, "unit", "已改")
    rr = _answer(item.recheck_round, item, "fixed")
    real = services.finding_evidence
    done = []

    def meanwhile(f, **extra):  # apply_recheck has read the item as 已反馈; the unit disputes now
        if not done:
            done.append(dispute(Item.objects.get(pk=item.pk), "unit", "其实不是问题"))
        return real(f, **extra)

    monkeypatch.setattr(services, "finding_evidence", meanwhile)
    apply_recheck(rr)
    item.refresh_from_db()
    assert done and item.state == "disputed", [e.action for e in item.events.all()]
    assert item.closed_at is None and not item.events.filter(action="recheck").exists()
    assert item.recheck_round is None
    monkeypatch.undo()
    # the plain order: disputed while claimed, the re-check answers later → ignored, the dispute stands
    claim(other, "unit", "已改")
    rr2 = Item.objects.get(pk=other.pk).recheck_round
    dispute(Item.objects.get(pk=other.pk), "unit", "不是问题")
    assert apply_recheck(_answer(rr2, other, "fixed"))["fixed"] == 0
    assert Item.objects.get(pk=other.pk).state == "disputed"


def test_marking_overdue_does_not_overwrite_a_dispute_made_meanwhile(county):
    """mark_overdue read the open items; while it marks the first, the unit disputes the second (another request):
    the dispute stands, it is not turned into 逾期, and the rest are still marked."""
    from django.db.models.signals import post_save

    from govinspect.rectify.services import mark_overdue

    _, it = county.issued("mo1", "mo2", "mo3")
    done = []

    def meanwhile(sender, instance, created, **kw):
        if instance.action == "overdue" and not done:
            done.append(dispute(Item.objects.get(pk=it["mo2"].pk), "unit", "不是问题"))

    post_save.connect(meanwhile, sender=ItemEvent, weak=False)
    try:
        n = mark_overdue(it["mo1"].deadline + dt.timedelta(days=1))
    finally:
        post_save.disconnect(meanwhile, sender=ItemEvent)
    states = dict(Item.objects.values_list("fingerprint", "state"))
    assert done and states == {"mo1": "overdue", "mo2": "disputed", "mo3": "overdue"} and n == 2, states


def test_text_on_many_pages_met_first_elsewhere_does_not_close_the_item(county):
    """The same sensitive sentence is on several pages; round 1 met it first on page P (the item), round 2 first on
    page Q (another fingerprint) and lists P among the other pages carrying it — or counts more pages than it lists.
    P still carries it: the item is not 已整改."""
    r1 = county.round("第二季度检查", dt.date(2026, 6, 30))
    p_url, q_url = "http://127.0.0.1:9/a/p.html", "http://127.0.0.1:9/a/q.html"
    for fp in ("same1", "same2"):
        Finding.objects.create(round=r1, job=r1.rs.job, round_site=r1.rs, rule="content.sensitive", fingerprint=fp,
                               url=p_url if fp == "same1" else p_url.replace("p.html", "p2.html"), detail="敏感表述",
                               match=f"某敏感表述{fp}", responsible_unit=county.a)
    issue_round(r1, "office", dt.date(2026, 6, 30))
    r2 = county.round("第三季度检查", dt.date(2026, 9, 30))
    r2.rs.log_path = _crawl_log(r2, [county.site.home_url, p_url, p_url.replace("p.html", "p2.html"), q_url])
    r2.rs.save()
    Finding.objects.create(round=r2, job=r2.rs.job, round_site=r2.rs, rule="content.sensitive", fingerprint="q1", url=q_url,
                           detail="敏感表述", match="某敏感表述same1", responsible_unit=county.a,
                           facts={"others": [p_url], "also_on": 1})
    Finding.objects.create(round=r2, job=r2.rs.job, round_site=r2.rs, rule="content.sensitive", fingerprint="q2", url=q_url,
                           detail="敏感表述", match="某敏感表述same2", responsible_unit=county.a,
                           facts={"others": [], "also_on": 5})
    sync_with_round(r2)
    assert sorted(Item.objects.filter(round_issued=r1).values_list("state", flat=True)) == ["open", "open"]


def test_a_round_judging_the_item_while_its_recheck_runs(county, monkeypatch):
    """A full round finds the claimed item's problem again while its re-check is pending: 仍存在; the re-check's later
    answer does not overwrite the round. And the other way: a re-check answering an item between the round's read and
    its write does not make the round's whole follow-up fail."""
    r1, it = county.issued("p1", "p2", "p3")
    Item.objects.update(deadline=dt.date(2099, 12, 31))  # within the deadline (found again after it: stays 逾期)
    it = {k: Item.objects.get(pk=v.pk) for k, v in it.items()}
    claim(it["p1"], "unit", "已改")
    rr = Item.objects.get(pk=it["p1"].pk).recheck_round
    r2 = county.round("第四季度检查", dt.date(2026, 12, 30))
    county.find(r2, "p1")
    county.find(r2, "p3")
    counts = sync_with_round(r2)
    assert counts["present"] == 2 and counts["fixed"] == 1
    apply_recheck(_answer(rr, it["p1"], "fixed"))
    p1 = Item.objects.get(pk=it["p1"].pk)
    assert p1.state == "present" and p1.recheck_round is None and p1.last_round == r2

    # p3 (still present) is claimed; its re-check answers 已整改 right between the next round's read and its write
    claim(Item.objects.get(pk=it["p3"].pk), "unit", "已改")
    rr3 = Item.objects.get(pk=it["p3"].pk).recheck_round
    r3 = county.round("第一季度检查", dt.date(2027, 3, 30))
    county.find(r3, "p3")
    real = services._checked

    def meanwhile(rnd):
        apply_recheck(_answer(rr3, Item.objects.get(pk=it["p3"].pk), "fixed"))
        return real(rnd)

    monkeypatch.setattr(services, "_checked", meanwhile)
    counts = sync_with_round(r3)  # must not raise (a TransitionError rolled the whole follow-up back)
    states = dict(Item.objects.values_list("fingerprint", "state"))
    assert states["p1"] == "fixed"  # the rest of the round's follow-up was made
    assert states["p3"] in ("open", "present"), states  # found again by the later round: reopened, not left fixed
    assert Item.objects.get(pk=it["p3"].pk).last_round == r3


def test_an_accepted_dispute_is_not_issued_again(county):
    """申诉成立 is final for that problem: the next round finds the same thing (a page finding: ignored by the audited
    ignore; an account finding, which an ignore cannot cover) and must neither reopen the item nor issue a new one."""
    r1 = county.round("第二季度检查", dt.date(2026, 6, 30))
    county.find(r1, "x1")
    county.find_account(r1, "x2")
    issue_round(r1, "office", dt.date(2026, 6, 30))
    for it in Item.objects.all():
        dispute(it, "unit", "不是问题")
        accept_dispute(it, "office", "核实属实")
    r2 = county.round("第三季度检查", dt.date(2026, 9, 30))
    county.find(r2, "x1")
    county.find_account(r2, "x2")
    from govinspect.rounds.ignores import apply_ignores

    apply_ignores(r2.rs)  # as the round's site job does
    sync_with_round(r2)
    assert issue_round(r2, "office", dt.date(2026, 9, 30)) == 0
    assert sorted(Item.objects.values_list("fingerprint", "state")) == [("x1", "accepted"), ("x2", "accepted")]


def test_an_item_whose_finding_is_gone(county):
    """Findings can go (a later round deleted: SET_NULL): such an item cannot be claimed (nothing to re-check), and one
    claimed before is answered 未能复查, never fixed, and not re-queued forever."""
    r1, it = county.issued("g1", "g2")
    claim(it["g2"], "unit", "已改")
    Finding.objects.filter(fingerprint__in=("g1", "g2")).delete()
    g1 = Item.objects.get(pk=it["g1"].pk)
    assert g1.finding_id is None
    with pytest.raises(TransitionError, match="没有可复查的问题记录"):
        claim(g1, "unit", "已改")
    g2 = Item.objects.get(pk=it["g2"].pk)
    assert apply_recheck(_answer_none(g2.recheck_round)) == {"fixed": 0, "present": 0, "unverified": 1, "overdue": 0}
    g2.refresh_from_db()
    assert g2.state == "unverified" and g2.closed_at is None
    assert retry_unverified(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)) == []
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):  # the unit cannot go while it has items (their trail would go with it)
        county.a.delete()


def _answer_none(rr):
    Round.objects.filter(pk=rr.pk).update(status="done")
    return Round.objects.get(pk=rr.pk)


# ------------------------------------------------------------------------------------------- re-check queueing
def test_claims_coalesce_into_the_queued_recheck_and_lose_no_finding(county):
    r1, it = county.issued("q1", "q2", "q3", "q4")
    Round.objects.filter(pk=r1.pk).update(run_options={"crawl": {"resolve_map": {"a.gov.cn": ["127.0.0.1", 8080]},
                                                                 "timeout": 5.0, "user_agent": "x"}})
    for fp in ("q1", "q2"):
        claim(Item.objects.get(pk=it[fp].pk), "unit", "已改")
    queued = Round.objects.get(item_recheck=True)
    assert sorted(queued.run_options["findings"]) == sorted([it["q1"].finding_id, it["q2"].finding_id])
    # the runner takes the round now; a claim after that gets a new round, the running one is not changed
    Round.objects.filter(pk=queued.pk).update(status="running")
    claim(Item.objects.get(pk=it["q3"].pk), "unit", "已改")
    assert Round.objects.get(pk=queued.pk).run_options["findings"] == queued.run_options["findings"]
    second = Round.objects.get(item_recheck=True, status="queued")
    assert second.run_options["findings"] == [it["q3"].finding_id]
    assert Item.objects.get(pk=it["q3"].pk).recheck_round == second


def test_the_runner_taking_the_round_between_read_and_update(county, monkeypatch):
    """request_recheck read the queued round; the runner claims it before the update: the finding goes to a new round,
    not into a round that already read its list."""
    r1, it = county.issued("r1", "r2")
    claim(Item.objects.get(pk=it["r1"].pk), "unit", "已改")
    first = Round.objects.get(item_recheck=True)
    calls = []

    def racing_dict(*a, **k):  # `dict(cand.run_options)` in request_recheck: the runner claims the round right then
        if not calls and a and isinstance(a[0], dict) and "findings" in a[0]:
            calls.append(Round.objects.filter(pk=first.pk, status="queued").update(status="running"))
        return dict(*a, **k)

    monkeypatch.setattr(services, "dict", racing_dict, raising=False)
    claim(Item.objects.get(pk=it["r2"].pk), "unit", "已改")
    monkeypatch.undo()
    assert calls == [1]
    assert Round.objects.get(pk=first.pk).run_options["findings"] == [it["r1"].finding_id]
    other = Item.objects.get(pk=it["r2"].pk).recheck_round
    assert other != first and other.run_options["findings"] == [it["r2"].finding_id]


# ------------------------------------------------------------------------------------------- re-checks that fail
def test_a_recheck_that_fails_leaves_items_unverified_and_retried(county, monkeypatch):
    from govinspect.rounds import recheck

    _, it = county.issued("f1", "f2")
    claim(it["f1"], "unit", "已改")
    claim(Item.objects.get(pk=it["f2"].pk), "unit", "已改")
    rr = Round.objects.get(item_recheck=True)

    def broken(*a, **k):
        raise RuntimeError("judge crashed")

    monkeypatch.setattr(recheck, "_judge", broken)
    with pytest.raises(RuntimeError):
        run_item_recheck(rr)
    rr.refresh_from_db()
    assert rr.status == "failed"
    for fp in ("f1", "f2"):
        item = Item.objects.get(pk=it[fp].pk)
        assert item.state == "unverified" and item.recheck_round is None and item.closed_at is None
        assert "复查任务失败" in item.events.last().note
    # retried after retry_hours, once: an item already queued is not queued again
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
    assert retry_unverified() == []
    again = retry_unverified(now=later)
    assert len(again) == 1 and sorted(again[0].run_options["findings"]) == sorted(it[k].finding_id for k in ("f1", "f2"))
    assert retry_unverified(now=later) == []
    assert Round.objects.filter(item_recheck=True, status="queued").count() == 1


def test_a_recheck_that_fails_before_it_starts_checking(county, monkeypatch):
    """An error while the re-check is set up (before the round is under services.recorded) must not leave the round
    "running" with its items waiting for an answer that never comes."""
    from govinspect.rounds import recheck

    _, it = county.issued("b1")
    claim(it["b1"], "unit", "已改")
    rr = Round.objects.get(item_recheck=True)

    def broken(*a, **k):
        raise RuntimeError("rules unreadable")

    monkeypatch.setattr(recheck, "content_checker", broken)
    with pytest.raises(RuntimeError):
        run_item_recheck(rr)
    rr.refresh_from_db()
    item = Item.objects.get(pk=it["b1"].pk)
    assert rr.status == "failed" and "rules unreadable" in rr.error
    assert item.state == "unverified" and item.recheck_round is None


def test_a_cancelled_recheck_and_a_killed_runner_child(county):
    """Cancelled before the runner took it (the web marks it cancelled at once), or its runner child killed: the items
    end 未能复查 (never fixed) and are retried."""
    from govinspect.rounds.runner import Runner

    _, it = county.issued("k1", "k2")
    claim(it["k1"], "unit", "已改")
    rr1 = Round.objects.get(item_recheck=True)
    now = dt.datetime.now(dt.timezone.utc)
    Round.objects.filter(pk=rr1.pk).update(status="cancelled", cancel_requested=now, finished_at=now)
    retry_unverified()  # the housekeeping answers the items of a round that ended without answering them
    k1 = Item.objects.get(pk=it["k1"].pk)
    assert k1.state == "unverified" and k1.recheck_round is None and "取消" in k1.events.last().note

    claim(Item.objects.get(pk=it["k2"].pk), "unit", "已改")
    rr2 = Item.objects.get(pk=it["k2"].pk).recheck_round
    dead = subprocess.Popen(["true"])
    dead.wait()
    from govinspect.rounds.services import _proc_start

    Round.objects.filter(pk=rr2.pk).update(status="running", owner={"host": socket.gethostname(), "pid": dead.pid,
                                                                     "started": _proc_start(os.getpid())})
    runner = Runner()
    runner.round_id = rr2.pk
    runner.finish()
    k2 = Item.objects.get(pk=it["k2"].pk)
    assert Round.objects.get(pk=rr2.pk).status == "interrupted"
    assert k2.state == "unverified" and k2.recheck_round is None and "中断" in k2.events.last().note
    later = retry_unverified(now=now + dt.timedelta(hours=25))
    assert len(later) == 1 and set(later[0].run_options["findings"]) == {it["k1"].finding_id, it["k2"].finding_id}


def test_an_overdue_claim_rechecked_again(county):
    """An overdue item the unit had claimed is re-checked by the retries; still not verifiable, it stays 逾期 — and the
    other items of the same re-check get their answers too (the count of an overdue answer broke the loop)."""
    from govinspect.rectify.services import mark_overdue

    _, it = county.issued("o1", "o2")
    for fp in ("o1", "o2"):
        claim(Item.objects.get(pk=it[fp].pk), "unit", "已改")
    rr = Round.objects.get(item_recheck=True)
    apply_recheck(_answer_none(rr))
    assert mark_overdue(it["o1"].deadline + dt.timedelta(days=1)) == 2
    again = retry_unverified(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25))
    assert len(again) == 1
    got = apply_recheck(_answer(again[0], Item.objects.get(pk=it["o1"].pk), "unknown"))
    assert got["overdue"] == 2
    for fp in ("o1", "o2"):
        item = Item.objects.get(pk=it[fp].pk)
        assert item.state == "overdue" and item.recheck_round is None
        assert item.events.last().action == "recheck"


def test_an_item_whose_finding_was_ignored_since_its_claim_is_still_answered(county):
    """The office ignores the finding (findings page) while the unit's claim waits: the item re-check still answers for
    it (here: the site refuses connections → 未能复查 with that reason), not "no result" at every retry."""
    from govinspect.reports.data import cn_reason
    from govinspect.rounds.ignores import ignore_finding

    _, it = county.issued("i1")
    claim(it["i1"], "unit", "已改")
    ignore_finding(Finding.objects.get(pk=it["i1"].finding_id), "hit", "误报", "office")
    rr = Round.objects.get(item_recheck=True)
    run_item_recheck(rr)
    res = RecheckResult.objects.get(round=rr)
    assert res.finding_id == it["i1"].finding_id and res.state == "unknown" and res.reason
    item = Item.objects.get(pk=it["i1"].pk)
    ev = item.events.last()  # the unit reads the cause in Chinese; the engine's words stay in the evidence
    assert item.state == "unverified" and ev.note == cn_reason(res.reason) and ev.evidence["after"]["reason_detail"] == res.reason


def test_an_overdue_item_found_still_present_is_not_rechecked_until_claimed_again(county):
    """A claim answered 仍存在, then the deadline passes: the claim has its answer; re-checking it every retry_hours
    until the unit says it fixed it again only fills the trail."""
    from govinspect.rectify.services import mark_overdue

    _, it = county.issued("sp1")
    claim(it["sp1"], "unit", "已改")
    apply_recheck(_answer(Item.objects.get(pk=it["sp1"].pk).recheck_round, it["sp1"], "present"))
    assert mark_overdue(it["sp1"].deadline + dt.timedelta(days=1)) == 1
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    assert retry_unverified(now=later) == []
    claim(Item.objects.get(pk=it["sp1"].pk), "unit", "这次改好了")  # claimed again: re-checked at once
    assert Item.objects.get(pk=it["sp1"].pk).recheck_round.status == "queued"


def test_items_no_recheck_can_answer_are_not_retried_forever(county):
    """A register finding (台账) or a rule a single re-check cannot judge (recheck = "none") always comes back 未能复查:
    re-queueing it every retry_hours only fills the trail; it waits for the next round."""
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30))
    reg = Finding.objects.create(round=r1, job=RoundJob.objects.create(round=r1, kind="registers", state="done"),
                                 rule="document.published_late", fingerprint="reg1", detail="文件公开不及时",
                                 responsible_unit=county.a)
    county.find(r1, "down1", rule="site.unreachable")
    issue_round(r1, "office", dt.date(2026, 9, 30))
    for item in Item.objects.all():
        claim(item, "unit", "已改")
        apply_recheck(_answer(item.recheck_round, Item.objects.get(pk=item.pk), "unknown"))
    assert set(Item.objects.values_list("state", flat=True)) == {"unverified"}
    assert retry_unverified(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)) == []
    assert reg.pk


# ------------------------------------------------------------------------------------------- uploads
def _stored_files():
    root = storage().path("rectify")
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_names_are_made_harmless(county):
    _, it = county.issued("u1")
    item = it["u1"]
    names = {"../../etc/passwd.png": "passwd.png", "C:\\Users\\x\\截图.png": "截图.png", "a\x00b.png": "ab.png",
             "截图\u202egnp.exe": "截图gnp.png", "x" * 300 + ".png": "x" * 140 + ".png", "": "附件.png",
             ".": "附件.png", "evil.html": "evil.png", "a/b/\n\r.png": "附件.png"}
    got = [name for name, *_ in check([(n, PNG) for n in list(names)[:5]], item)]
    got += [name for name, *_ in check([(n, PNG) for n in list(names)[5:]], item)]
    assert got == list(names.values())
    assert all(len(n) <= 200 and "/" not in n and "\\" not in n for n in got)


def test_upload_contents_that_are_refused(county):
    _, it = county.issued("u2")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html_png = PNG[:16] + b"<html><script>alert(document.cookie)</script></html>" * 20
    for bad in (svg, b"<svg onload=alert(1)>", b"\xef\xbb\xbf<html><script>x</script>", html_png,
                b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>"):
        with pytest.raises(UploadError):
            sniff(bad)
    # a decompression bomb: a tiny PNG declaring 60000×60000 pixels
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + PNG[33:])
    with pytest.raises(UploadError):
        sniff(bomb)
    # a macro-carrying Office file dressed as .docx
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    with pytest.raises(UploadError, match="宏"):
        sniff(buf.getvalue())
    # a PDF that is also HTML is accepted as a PDF only: it is served as a download of type application/pdf, nosniff
    assert sniff(b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF")[1] == "application/pdf"
    # an .xlsx zip bomb: the declared sizes are far beyond the file's
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for n in range(3):
            z.writestr(f"xl/worksheets/sheet{n}.xml", b"<c>0</c>" * (4 * 1024 * 1024))
    with pytest.raises(UploadError, match="过大"):
        sniff(buf.getvalue())


def test_legacy_office_files_keep_their_kind(county):
    """An old .xls is an OLE file like an old .doc: it must not be stored and served as a Word document; an OLE file
    that is neither (an installer, a broken one) is refused."""
    from pathlib import Path

    _, it = county.issued("u6")
    data = Path(__file__).parent / "data"
    xls, doc = (data / "legacy.xls").read_bytes(), (data / "legacy.doc").read_bytes()
    got = check([("整改台账.xls", xls), ("整改报告.doc", doc)], it["u6"])
    assert [(n, m) for n, _, _, m in got] == [("整改台账.xls", "application/vnd.ms-excel"), ("整改报告.doc", "application/msword")]
    for bad in (xls[:512] + b"\x00" * 2048, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 4000):
        with pytest.raises(UploadError):
            sniff(bad)


def test_upload_limits(county):
    _, it = county.issued("u3")
    item = it["u3"]
    limit = max_bytes(item)
    exact = PNG + b"\x00" * (limit - len(PNG))  # trailing bytes after IEND: still a PNG, exactly at the limit
    assert len(check([("exact.png", exact)], item)[0][1]) == limit
    with pytest.raises(UploadError, match="超过"):
        check([("over.png", exact + b"\x00")], item)
    assert len(check([(f"{n}.png", PNG) for n in range(MAX_FILES)], item)) == MAX_FILES
    with pytest.raises(UploadError, match="最多"):
        check([(f"{n}.png", PNG) for n in range(MAX_FILES + 1)], item)
    with pytest.raises(UploadError, match="空"):
        check([("empty.png", b"")], item)


def test_a_refused_upload_stores_nothing_and_makes_no_claim(county):
    _, it = county.issued("u4", "u5")
    item = it["u4"]
    before = _stored_files()
    with pytest.raises(UploadError):
        claim(item, "unit", "已改", files=[("ok.png", PNG), ("bad.svg", b"<svg/>")])
    item.refresh_from_db()
    assert item.state == "open" and not item.events.filter(action="claim").exists()
    assert not Attachment.objects.exists() and _stored_files() == before
    assert not Round.objects.filter(item_recheck=True).exists()


def test_an_upload_failing_midway_leaves_nothing(county, monkeypatch):
    """The disk fills while the second file is written, or the claim fails after the files were written: no row, no file
    (the first file removed again), no claim, no queued re-check."""
    from pathlib import Path

    _, it = county.issued("m1")
    item = it["m1"]
    before = _stored_files()
    real = Path.write_bytes
    n = []

    def disk_full(self, data):
        n.append(self)
        if len(n) == 2:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError):
        claim(item, "unit", "已改", files=[("a.png", PNG), ("b.png", PNG)])
    monkeypatch.undo()
    item.refresh_from_db()
    assert item.state == "open" and not Attachment.objects.exists() and _stored_files() == before
    assert not item.events.filter(action="claim").exists()

    def no_recheck(*a, **k):
        raise TransitionError("复查排队失败")

    monkeypatch.setattr(services, "request_recheck", no_recheck)
    with pytest.raises(TransitionError):
        claim(item, "unit", "已改", files=[("a.png", PNG), ("b.png", PNG)])
    monkeypatch.undo()
    item.refresh_from_db()
    assert item.state == "open" and not Attachment.objects.exists() and _stored_files() == before
    with pytest.raises(UploadError):  # a dispute too
        dispute(item, "unit", "不是问题", files=[("a.png", PNG), ("b.txt", b"plain text")])
    assert item.state == "open"  # the caller's object too
    assert Item.objects.get(pk=item.pk).state == "open" and _stored_files() == before
    # and a good claim stores its files, each once, under rectify/<item>/
    claim(item, "unit", "已改", files=[("a.png", PNG)])
    att = Attachment.objects.get()
    assert att.key.startswith(f"rectify/{item.pk}/") and storage().path(att.key).read_bytes() == PNG
    assert len(_stored_files()) == len(before) + 1


# ------------------------------------------------------------------------------------------- append-only
def _records(county):
    _, it = county.issued("a1")
    item = it["a1"]
    ev = claim(item, "unit", "已改", files=[("a.png", PNG)])
    att = Attachment.objects.get()
    rem = Reminder.objects.create(item=item, kind="before", channel="email", deadline=item.deadline, to="a@example.org")
    iss = Issuance.objects.create(round=item.round_issued, issued_on=dt.date(2026, 9, 30), issued_by="office",
                                  rectify_days=15)
    return {ItemEvent: (ev, "note"), Attachment: (att, "name"), Reminder: (rem, "to"), Issuance: (iss, "issued_by")}


def test_audit_records_cannot_be_changed_through_any_orm_path(county):
    for model, (obj, field) in _records(county).items():
        kept = getattr(model.objects.get(pk=obj.pk), field)
        setattr(obj, field, "改过")
        with pytest.raises(PermissionDenied):
            obj.save()
        with pytest.raises(PermissionDenied):
            obj.save(update_fields=[field])
        with pytest.raises(PermissionDenied):
            obj.delete()
        for attempt in (lambda: model.objects.filter(pk=obj.pk).update(**{field: "改过"}),
                        lambda: model.objects.all().delete(),
                        lambda: model.objects.bulk_update([obj], [field]),
                        lambda: model.objects.update_or_create(pk=obj.pk, defaults={field: "改过"}),
                        lambda: model.objects.values("pk").update(**{field: "改过"}),
                        lambda: model._base_manager.filter(pk=obj.pk).update(**{field: "改过"}),
                        lambda: model.objects.bulk_create([obj], update_conflicts=True, unique_fields=["id"],
                                                          update_fields=[field])):
            with pytest.raises((PermissionDenied, Exception)) as e:
                attempt()
            assert e.type is PermissionDenied or "UNIQUE" in str(e.value), (model, e.value)
        assert getattr(model.objects.get(pk=obj.pk), field) == kept, model


def test_audit_records_are_read_only_in_the_admin(county, client):
    from django.contrib.auth.models import User

    records = _records(county)
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    for model, (obj, field) in records.items():
        base = f"/admin/rectify/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, model
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, model
        assert client.post(f"{base}{obj.pk}/change/", {field: "改过"}).status_code == 403
        assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(f"{base}add/").status_code == 403
        assert client.post(base, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}).status_code in (200, 302, 403)
        assert model.objects.filter(pk=obj.pk).exists(), model
        assert getattr(model.objects.get(pk=obj.pk), field) != "改过"


# ------------------------------------------------------------------------------------------- evidence on the sandbox
def urlsplit_host(u: str) -> bytes:
    from urllib.parse import urlsplit

    return urlsplit(u).hostname.encode()


def _rerun_queued():
    for rr in Round.objects.filter(item_recheck=True, status="queued").order_by("id"):
        run_item_recheck(rr)


def _capture_of(ev: dict) -> tuple[str, bytes]:
    """(the URL the WARC record is of, its body): the capture an evidence dict points at, read back."""
    from warcio.archiveiterator import ArchiveIterator

    with open(storage().resolve(ev["warc_file"]), "rb") as fh:
        fh.seek(ev["warc_offset"])
        rec = next(iter(ArchiveIterator(fh)))
        return rec.rec_headers.get_header("WARC-Target-URI"), rec.content_stream().read()


def _same_page(a: str, b: str) -> bool:
    """The same page, or the page a site's address redirects to (/ → /index.asp): the same host at least."""
    from urllib.parse import urlsplit

    from govinspect.engine.fetch.crawler import normalise_url

    return normalise_url(a) == normalise_url(b) or (urlsplit(b).path in ("", "/") and urlsplit(a).netloc == urlsplit(b).netloc)


def _last_recheck(item):
    return Item.objects.get(pk=item.pk).events.filter(action="recheck").last()


@pytest.mark.django_db(transaction=True)
def test_item_rechecks_of_every_kind_of_finding_on_the_sandbox(tmp_path):
    """Claims of a link finding, a site-level finding (footer), a finding in an attachment, a new-media account's and a
    rule one re-check cannot judge: claimed without fixing, none is 已整改; after the sandbox really fixed them, the
    fixable ones are, and their "after" evidence is the re-fetched page of this re-check (read back from its WARC)."""
    from govinspect.engine.fetch.warc import read_payload
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.services import run_round
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.fixes import fix_problems
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=2026, n_sites=6, pages_per_site=40,
                             faults={"wjw": {"traps": False}, "zrzyj": {"oversize": False}})
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        crawl = srv.crawl_settings(link_recheck_interval=0.05)
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8",
                                  period_start=county.as_of - dt.timedelta(days=91))
        run_round(r1, crawl=crawl, processes=1)
        issue_round(r1, "office", county.as_of)
        items = list(Item.objects.filter(round_issued=r1).select_related("finding").order_by("id"))
        by = {}
        for i in items:
            f = i.finding
            kind = ("account" if f.round_account_id else "attachment" if f.round_site_id and f.url.lower().rsplit(".", 1)[-1]
                    in ("pdf", "doc", "docx", "xls", "xlsx", "wps") else "link" if f.rule.startswith("link.")
                    else "footer" if f.rule == "site.footer_missing" else None)
            if kind and kind not in by:
                by[kind] = i
            if f.rule == "newmedia.not_updated" and "feed" not in by and f.round_account.account.owner.name in (
                    county.site("jyj").unit, county.site("wjw").unit):  # a feed the sandbox will fix
                by["feed"] = i
        print({k: (v.rule, v.finding.url) for k, v in by.items()})
        assert {"account", "feed", "link", "footer", "attachment"} <= set(by), {k: v.rule for k, v in by.items()}
        # a rule one re-check cannot judge (recheck = "none"), on a page that is really there
        home = by["footer"].finding
        Finding.objects.create(round=r1, job=home.job, round_site=home.round_site, rule="content.backdated",
                               fingerprint="backdated-home", url=home.url, detail="发稿日期疑似伪造",
                               responsible_unit=home.responsible_unit)
        issue_round(r1, "office", county.as_of)
        none_item = Item.objects.get(fingerprint="backdated-home")
        for i in [*by.values(), none_item]:
            claim(i, "unit", "已整改")
        _rerun_queued()
        got = Item.objects.get(pk=none_item.pk)
        assert got.state == "unverified" and "不能自动判定" in _last_recheck(got).note, _last_recheck(got).note
        retry_unverified(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
        assert Item.objects.get(pk=none_item.pk).recheck_round is None  # not retried: it waits for the next round
        Round.objects.filter(item_recheck=True, status="queued").delete()  # (other retries, if any: not this test's)
        Item.objects.filter(state__in=("unverified", "claimed")).exclude(pk=none_item.pk).update(recheck_round=None)
        for k, i in by.items():
            ev = _last_recheck(i)
            got = Item.objects.get(pk=i.pk)
            print(k, got.state, ev.note, ev.evidence.get("after"))
            assert got.state in ("present", "unverified"), (k, got.state, ev.note)
            assert ev.note
            if got.state == "present" and k not in ("account", "feed"):
                after = ev.evidence["after"]
                assert after.get("warc_file") and after.get("url"), (k, after)
                assert after["warc_file"].startswith(f"rounds/{ev.evidence['recheck_round']}/"), after
                uri, body = _capture_of(after)  # the URL shown beside the capture is the page captured
                assert _same_page(uri, after["url"]), (k, uri, after)
                assert body

        gone = fix_problems(county, ["site.footer_missing", "link.dead", "link.illegal", "link.hidden",
                                     "newmedia.not_updated", "privacy.id_number", "privacy.mobile", "privacy.bank_card"])
        srv.refresh()
        print([(g["rule"], g["site"], g["path"]) for g in gone])
        for i in by.values():
            i = Item.objects.get(pk=i.pk)
            if i.state in ("present", "unverified"):
                claim(i, "unit", "这次真的改了")
        _rerun_queued()
        for k, i in by.items():
            ev = _last_recheck(i)
            got = Item.objects.get(pk=i.pk)
            print(k, got.state, ev.note, ev.evidence.get("after"))
            after = ev.evidence.get("after") or {}
            if k in ("footer", "link", "feed"):  # really fixed on the sandbox
                assert got.state == "fixed" and got.closed_at is not None, (k, got.state, ev.note)
            else:  # the account's filing and the attachment were left as they were
                assert got.state == "present", (k, got.state, ev.note)
            if k in ("feed", "account"):  # what the account's re-check saw, not an empty "after"
                assert after["account"] and after["status"] == "checked" and after["checked_at"], after
                if k == "feed":
                    assert after["url"].endswith("/rss.xml") and after["last_post"] >= str(county.as_of - dt.timedelta(days=14))
            if got.state == "fixed" and k not in ("account", "feed"):
                rr = ev.evidence["recheck_round"]
                assert after["warc_file"].startswith(f"rounds/{rr}/"), after
                uri, body = _capture_of(after)
                assert _same_page(uri, after["url"]), (k, uri, after)
                assert read_payload(storage().resolve(after["warc_file"]), after["warc_offset"]) == body
                if k == "link":  # the page it was on, fetched again, no longer carries the link
                    assert by[k].finding.url.encode() not in body and urlsplit_host(by[k].finding.url) not in body


def test_the_runner_takes_item_rechecks_before_queued_full_rounds(county):
    """A full round queued earlier (hours of crawling) must not hold back a unit's claim's re-check (a few pages)."""
    from govinspect.rounds.runner import Runner

    _, it = county.issued("pr1")
    full = Round.objects.create(name="第四季度检查", as_of=dt.date(2026, 12, 30), status="queued")
    claim(it["pr1"], "unit", "已改")
    rr = Round.objects.get(item_recheck=True)
    assert full.pk < rr.pk
    got = Runner().claim()
    assert got.pk == rr.pk and Round.objects.get(pk=rr.pk).status == "running"
    assert Round.objects.get(pk=full.pk).status == "queued"


def test_a_claims_recheck_is_not_the_next_bulletins_recheck(county):
    """The next regular round's bulletin reports "the re-check" of the previous round (rounds/result.py): a re-check of
    one unit's claim (an item re-check round) is not that re-check."""
    from govinspect.rounds.result import round_result

    _, it = county.issued("br1", "br2")
    claim(it["br1"], "unit", "已改")
    rr = Item.objects.get(pk=it["br1"].pk).recheck_round
    Round.objects.filter(pk=rr.pk).update(as_of=dt.date(2026, 10, 15))
    _answer(Round.objects.get(pk=rr.pk), it["br1"], "fixed")
    r2 = county.round("第四季度检查", dt.date(2026, 12, 30))
    assert round_result(r2).recheck is None


# ------------------------------------------------------------------------------------------- the real runner
def _runner(env_extra=None):
    import sys
    from pathlib import Path

    from django.conf import settings

    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(settings.DATA_DIR),
           "GOVINSPECT_DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}", **(env_extra or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen([sys.executable, "-m", "govinspect.rounds.runner", "--until-idle"], env=env,
                            cwd=Path(__file__).resolve().parents[1])


def _wait_child(rr, runner, seconds=60):
    """The pid of the runner's child once it has taken the round over (its own pid in Round.owner)."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        owner = Round.objects.get(pk=rr.pk).owner or {}
        if owner.get("pid") and owner["pid"] != runner.pid:
            time.sleep(1.0)  # well inside the re-check (its fetch hangs on the silent server)
            return owner["pid"]
        time.sleep(0.2)
    raise AssertionError(f"the runner's child did not start round {rr.pk}")


@pytest.mark.django_db(transaction=True)
def test_item_rechecks_killed_or_cancelled_in_the_real_runner(county):
    """A site that accepts connections and never answers keeps the re-check busy: its runner child is killed (SIGKILL),
    then another one is cancelled from the web (cancel_requested): the items end 未能复查 — saying which — never fixed."""
    import signal
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    port = silent.getsockname()[1]
    Website.objects.filter(pk=county.site.pk).update(home_url=f"http://127.0.0.1:{port}/a/")
    r1 = county.round("第三季度检查", dt.date(2026, 9, 30), allow_networks="127.0.0.0/8")
    for fp in ("kill1", "cancel1"):
        Finding.objects.create(round=r1, job=r1.rs.job, round_site=r1.rs, rule="privacy.mobile", fingerprint=fp,
                               url=f"http://127.0.0.1:{port}/a/{fp}.html", detail="手机号", responsible_unit=county.a)
    issue_round(r1, "office", dt.date(2026, 9, 30))
    it = {i.fingerprint: i for i in Item.objects.all()}
    try:
        claim(it["kill1"], "unit", "已删除")
        rr = Item.objects.get(pk=it["kill1"].pk).recheck_round
        runner = _runner()
        try:
            os.kill(_wait_child(rr, runner), signal.SIGKILL)
            assert runner.wait(60) == 0
        finally:
            if runner.poll() is None:
                runner.kill()
        item = Item.objects.get(pk=it["kill1"].pk)
        assert Round.objects.get(pk=rr.pk).status == "interrupted"
        assert item.state == "unverified" and item.recheck_round is None and "中断" in item.events.last().note

        claim(it["cancel1"], "unit", "已删除")
        rr = Item.objects.get(pk=it["cancel1"].pk).recheck_round
        runner = _runner()
        try:
            _wait_child(rr, runner)
            Round.objects.filter(pk=rr.pk).update(cancel_requested=dt.datetime.now(dt.timezone.utc))
            t0 = time.monotonic()
            assert runner.wait(90) == 0
            assert time.monotonic() - t0 < 30  # stopped by SIGTERM, not waited out
        finally:
            if runner.poll() is None:
                runner.kill()
        item = Item.objects.get(pk=it["cancel1"].pk)
        assert Round.objects.get(pk=rr.pk).status == "cancelled"
        assert item.state == "unverified" and item.recheck_round is None
        assert "取消" in item.events.last().note, item.events.last().note
        assert not Item.objects.filter(state="fixed").exists()
    finally:
        silent.close()


@pytest.mark.django_db(transaction=True)
def test_the_next_round_closes_an_item_only_where_it_fetched_the_page(tmp_path):
    """The next round crawls the site with a smaller page budget and never reaches the page with the leak: the site
    was checked, but that page was not — the item must not become 已整改 (no evidence the leak is gone). A round that
    fetches the page again and finds nothing there closes it."""
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.services import run_round
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.fixes import fix_problems
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=11, n_sites=2, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        r1 = Round.objects.create(name="第一轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r1, crawl=srv.crawl_settings(), processes=1)
        issue_round(r1, "office", county.as_of)
        leaks = list(Item.objects.filter(rule__startswith="privacy.", finding__round_site__isnull=False)
                     .select_related("finding__round_site"))
        assert leaks
        r2 = Round.objects.create(name="第二轮（只抓首页）", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r2, crawl=srv.crawl_settings(max_pages=1), processes=1)
        sites = {i.finding.round_site.website_id for i in leaks}
        assert r2.sites.filter(website__in=sites, status="checked").exists()
        # r2 ran sync_with_round when it ended (services._follow_items)
        got = {i.pk: Item.objects.get(pk=i.pk).state for i in leaks}
        assert "fixed" not in got.values(), [(i.finding.url, got[i.pk]) for i in leaks]

        leak = leaks[0]
        site_key = next(s.key for s in county.sites if s.unit == leak.unit.name)
        fix_problems(county, [leak.rule], sites=[site_key])
        srv.refresh()
        r3 = Round.objects.create(name="第三轮", as_of=county.as_of, allow_networks="127.0.0.0/8")
        run_round(r3, crawl=srv.crawl_settings(), processes=1)
    fixed = [i for i in leaks if Item.objects.get(pk=i.pk).state == "fixed"]
    assert leak in fixed
    ev = Item.objects.get(pk=leak.pk).events.filter(to_state="fixed").last()
    assert ev.evidence["checked_round"] == r3.pk
