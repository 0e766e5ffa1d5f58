"""Round statistics for the office dashboard, the unit portal and the unit and site pages, scoped to a user.

Everything is counted by the database (values/annotate/Count, Exists subqueries on the fingerprint), never by a loop over
findings in Python: the pages stay fast at a province-size round (2,000 sites, 200,000 findings) and each page runs a
bounded number of queries, whatever the size of the round. Python only loops over grouped rows (rules, units, reasons).
The dashboard's finding counts need two grouped scans of this round's and the previous round's findings, each finding
looked up in the other round by fingerprint (about a second on SQLite at province size): they are made once, when the
round ends (summarize_round, called by rounds/services.py; else at the first view of a done round), and kept in the
database (rounds.models.RoundSummary) for every process, independent of ignores and of the user's scope. Each view
reads them (checked against a stamp of both rounds' findings: a re-run is seen at once) and applies the ignores, the
findings without a responsible unit, what this round looked at again and the user's scope by a few small queries:
the dashboard of a province stays well under 300 ms from its first view after the round ended, and after an ignore.

    round_stats(rnd, user)            the dashboard: pass rates, vetoes, worst units, problems by group, could-not-check,
                                      change against the previous round per unit, overdue rectifications
    unit_stats(rnd, user, unit_ids)   a unit's (or a few units') problems by site and rule, new/still/fixed, deadlines
    previous_round(rnd)               the round this one is compared with (by fingerprint)

Change against the previous round, by fingerprint (the same rule, subject, place and matched text): a current problem
is "still" (上轮已发现，本轮仍存在) when the previous round had a finding with its fingerprint, else "new"; a previous
problem is "fixed" when this round has no finding with its fingerprint and looked at its target again (the site or the
account was checked, or the register/letters job ran), else it could not be re-checked ("unknown"). Ignored findings
(不是问题) count nowhere. A finding belongs to its responsible unit, else to the owner of its site or account (as in
web/access.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from ..rounds.models import FULL_ROUNDS, Finding, Round, RoundAccount, RoundJob, RoundSite
from . import access

OVERDUE_LABEL = "逾期未整改（上轮问题本轮仍存在）"
NO_DEADLINE = "待通报"
OTHER_GROUP = "其他问题"
TOP_UNITS = 10


# ------------------------------------------------------------------------------------------- rounds
# a round's large JSON fields (the rules snapshot) are read only when its rule names are not cached yet
HEAVY = ("rules_snapshot", "run_options", "registers", "owner")


def rounds():
    """The rounds the pages offer: full rounds and re-check rounds, not the item re-checks that answer units' claims
    (those are shown on each item's page)."""
    return Round.objects.defer(*HEAVY).filter(item_recheck=False).order_by("-as_of", "-id")


def done_rounds():
    return rounds().filter(status="done")


def default_round() -> Round | None:
    """The latest done full round (before a re-check round of the same date; daily passes only when nothing else)."""
    rounds = done_rounds()
    return rounds.filter(FULL_ROUNDS).first() or rounds.first()


def previous_round(rnd: Round) -> Round | None:
    """The round rnd re-checks, else the latest done full round with an earlier as-of date (re-check rounds look only
    at the previous problems' pages, so a full round is never compared with one)."""
    if rnd.recheck_of_id:
        return rounds().filter(pk=rnd.recheck_of_id).first()
    return done_rounds().filter(FULL_ROUNDS, as_of__lt=rnd.as_of).first()


def deadline(rnd: Round | None) -> dt.date | None:
    """The rectification deadline the round's bulletin states (reports.data.bulletin_deadline, in working days: from
    the issue date once issued, from the as-of date before); None until the round is done (no bulletin yet)."""
    if rnd is None or rnd.status != "done":
        return None
    from ..reports.data import bulletin_deadline

    return bulletin_deadline(rnd, carried=False)[0]  # a round issued by rectify.issue has its Issuance or own items


def cn_deadline(rnd: Round | None) -> str:
    from ..reports.data import cn_date

    d = deadline(rnd)
    return cn_date(d) if d else NO_DEADLINE


@lru_cache(maxsize=1)
def _bulletin() -> dict:
    from ..rules import load_rules

    return load_rules("bulletin")


# ------------------------------------------------------------------------------------------- rule names
@dataclass
class RuleInfo:
    names: dict[str, str]
    groups: dict[str, str]        # rule id -> group code
    group_names: dict[str, str]   # group code -> Chinese title (bulletin.toml [problems] sections)
    group_order: list[str]
    rates: dict = field(default_factory=dict)  # the scheme's [rates]: decimals, rounding

    def rate(self, num: int, den: int) -> str | None:
        """A pass rate the scheme's way, as the bulletin prints it ("66.67"); None without anything checked."""
        from ..engine.scheme import percent

        return percent(num, den, int(self.rates.get("decimals", 2)), self.rates.get("rounding", "half_up"))

    def name(self, rule: str) -> str:
        return self.names.get(rule) or rule

    def group(self, rule: str) -> str:
        return self.groups.get(rule, "")

    def group_name(self, group: str) -> str:
        return self.group_names.get(group, OTHER_GROUP)


_RULE_CACHE: dict[tuple, RuleInfo] = {}


def rule_info(rnd: Round) -> RuleInfo:
    """Rule names and groups of the round's rules (its snapshot, else its scheme's shipped rules); cached per round
    and rules hash."""
    key = (rnd.pk, rnd.rules_hash, rnd.scheme)
    info = _RULE_CACHE.get(key)
    if info is None:
        from ..rounds.scoring import round_rules

        ruleset = round_rules(rnd)  # loads a deferred snapshot only now
        catalog = ruleset["catalog"]["rules"]
        sections = (_bulletin().get("problems") or {}).get("sections") or []
        group_names, order = {}, []
        for s in sections:
            for g in s.get("groups", []):
                group_names.setdefault(g, s["title"])
                order.append(g)
        info = RuleInfo(names={k: v.get("name", k) for k, v in catalog.items()},
                        groups={k: v.get("group", "") for k, v in catalog.items()}, group_names=group_names,
                        group_order=order, rates=dict(ruleset.scheme_data.get("rates") or {}))
        if len(_RULE_CACHE) > 32:
            _RULE_CACHE.clear()
        _RULE_CACHE[key] = info
    return info


# ------------------------------------------------------------------------------------------- query pieces
# the unit a finding belongs to: its responsible unit, else its site's or account's owner (web/access.py)
UNIT_OF = Coalesce("responsible_unit", "round_site__website__owner", "round_account__account__owner")


def unit_q(ids) -> Q:
    """Findings that belong to one of the units `ids`."""
    return (Q(responsible_unit__in=ids) | Q(responsible_unit__isnull=True, round_site__website__owner__in=ids)
            | Q(responsible_unit__isnull=True, round_account__account__owner__in=ids))


def current_findings(rnd: Round, user, prev: Round | None = None):
    """The round's findings the user may see, not ignored, with the alias `seen` (prev had a finding with the same
    fingerprint) when there is a previous round: filter with still_q(prev)."""
    qs = access.findings(user, Finding.objects.filter(round=rnd, ignored_by__isnull=True))
    if prev is None:
        return qs
    return qs.alias(seen=Exists(Finding.objects.filter(round=prev, fingerprint=OuterRef("fingerprint"))))


def still_q(prev) -> Q:
    """The condition "still present" on current_findings(rnd, user, prev)."""
    return Q(seen=True) & ~Q(fingerprint="") if prev is not None else Q(pk__in=[])


SEVERITY_RANK = Case(When(severity="high", then=Value(0)), When(severity="medium", then=Value(1)),
                     When(severity="low", then=Value(2)), default=Value(3))


def _counts(prev) -> dict:
    return {"n": Count("id"), "veto": Count("id", filter=Q(veto=True)), "still": Count("id", filter=still_q(prev)),
            "high": Count("id", filter=Q(severity="high"))}


def fixed_findings(rnd: Round, prev: Round, user):
    """prev's findings the user may see (not ignored) whose fingerprint rnd did not find; count them with looked_q."""
    qs = access.findings(user, Finding.objects.filter(round=prev, ignored_by__isnull=True).exclude(fingerprint=""))
    return qs.alias(now=Exists(Finding.objects.filter(round=rnd, fingerprint=OuterRef("fingerprint")))).filter(now=False)


def looked_q(rnd: Round, prev: Round) -> Q:
    """prev's findings whose target rnd checked again: the site or the account was checked, or (registers, letters) a
    job of the same kind ran. Lists computed once by the database (no join per finding)."""
    checked_sites, checked_accounts, done_kinds = rnd.looked_at()
    sites = RoundSite.objects.filter(round=prev, website__in=checked_sites).values("pk")
    accounts = RoundAccount.objects.filter(round=prev, account__in=checked_accounts).values("pk")
    jobs = RoundJob.objects.filter(round=prev, kind__in=done_kinds).values("pk")
    return (Q(round_site__in=sites) | Q(round_site__isnull=True, round_account__in=accounts)
            | Q(round_site__isnull=True, round_account__isnull=True, job__in=jobs))


def findings_url(**params) -> str:
    """The findings browser with filters (round, unit, site = website id, column, group, rule, state new|still|open)."""
    q = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse("web:findings") + ("?" + urlencode(q) if q else "")


def _reasons(rows) -> list[dict]:
    """(reason, n) rows grouped by the reason in short Chinese (reports/data.py explain)."""
    from ..reports.data import cn_reason

    out: dict[str, int] = defaultdict(int)
    for reason, n in rows:
        out[cn_reason(reason) or "未说明原因"] += n
    return [{"reason": k, "n": v} for k, v in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))]


# ------------------------------------------------------------------------------------------- the dashboard
@dataclass
class RoundStats:
    round: Round
    previous: Round | None
    sites: dict = field(default_factory=dict)         # total checked passed failed unknown rate
    accounts: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)      # n veto still new high fixed unknown
    veto_rules: list = field(default_factory=list)    # [{rule, name, n}]
    rules: list = field(default_factory=list)         # [{rule, name, group, n, still, veto}]
    groups: list = field(default_factory=list)        # [{group, name, n, still, rules}]
    units: list = field(default_factory=list)         # every unit with something: [{id, name, n, veto, still, new, fixed,
                                                      #   unknown, sites, sites_failed, sites_unknown}]
    worst: list = field(default_factory=list)         # top units
    overdue: list = field(default_factory=list)       # units with still > 0
    could_not_check: dict = field(default_factory=dict)  # {"sites": [...], "accounts": [...], "n": int}
    deadline: str = NO_DEADLINE
    previous_deadline: str = ""

    def chart_data(self) -> dict:
        """What dashboard.js draws (names are plain text; ECharts renders them as text)."""
        return {
            "groups": [{"name": g["name"], "value": g["n"]} for g in self.groups],
            "rates": {"labels": ["网站", "新媒体账号"],
                      "passed": [self.sites.get("passed", 0), self.accounts.get("passed", 0)],
                      "failed": [self.sites.get("failed", 0), self.accounts.get("failed", 0)],
                      "unknown": [self.sites.get("unknown", 0), self.accounts.get("unknown", 0)]},
            "worst": {"labels": [u["name"] for u in self.worst], "findings": [u["n"] for u in self.worst],
                      "veto": [u["veto"] for u in self.worst], "failed": [u["sites_failed"] for u in self.worst]},
            "change": {"previous": self.previous is not None, "new": self.findings.get("new", 0),
                       "still": self.findings.get("still", 0), "fixed": self.findings.get("fixed", 0)},
        }


def _target_counts(qs, owner: str) -> tuple[dict, dict]:
    """Round sites or accounts by owner: ({unit: counts}, totals)."""
    rows = qs.values(unit=F(owner)).annotate(
        total=Count("id"), checked=Count("id", filter=Q(status="checked")),
        passed=Count("id", filter=Q(status="checked", verdict="pass")),
        failed=Count("id", filter=Q(verdict="fail")), unknown=Count("id", filter=Q(status="could_not_check")))
    by_unit, total = {}, defaultdict(int)
    for r in rows:
        by_unit[r["unit"]] = r
        for k in ("total", "checked", "passed", "failed", "unknown"):
            total[k] += r[k]
    total = dict(total)
    for k in ("total", "checked", "passed", "failed", "unknown"):
        total.setdefault(k, 0)
    return by_unit, total


CACHE_SECONDS = 600
SUMMARY_VERSION = 1  # bump when the layout of RoundSummary.data changes: older summaries are then made again
IGNORED_IDS_MAX = 2000  # ignored findings of a round read by their ids up to this many (SQL parameters), else by round


def _raw(qs) -> list[tuple]:
    """The rows of a grouped values_list query (plain ints and strings), read without Django's per-row converters: a
    province round groups into tens of thousands of (unit, rule) rows."""
    from django.db import connections

    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


# The dashboard's finding counts come in two parts:
#   the summary (rounds.models.RoundSummary), made once per round when the round ends: this round's findings that have
#     a responsible unit (nearly all), by unit and rule with their count of "still present", and the previous round's
#     findings with a responsible unit that this round did not find again, by unit and target. It holds ALL of them,
#     ignored or not, whoever looks: what it counts never changes once both rounds are done (a re-run changes the
#     rounds' finding count or last id, and so the stamp, and the summary is made again).
#   the live part, a few small queries at each view: the ignored findings (taken out), the findings without a
#     responsible unit (their site's or account's owner may change), which targets this round looked at again, and
#     the user's scope (a finding counts for the user when its unit is one the user may see: the rule of access.py).


def _summary_stamp(rnd: Round, prev: Round | None) -> str:
    """What a summary is made from: both rounds (their creation time tells apart rounds that reuse an id, as test
    databases do) and their findings (count and last id). One query of index-only subqueries (a count alone and a
    maximum alone are what SQLite answers fastest: ~5 ms and an index seek, where a grouped count-and-max takes ~40)."""
    from django.db import connections

    both = [r for r in (rnd, prev) if r is not None]
    meta = Finding._meta
    table, rcol, pk = meta.db_table, meta.get_field("round").column, meta.pk.column
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {table} WHERE {rcol} = %s), "
                                f"(SELECT MAX({pk}) FROM {table} WHERE {rcol} = %s)" for _ in both)
    with connections[Finding.objects.db].cursor() as c:
        c.execute(sql, [r.pk for r in both for _ in (0, 1)])
        agg = c.fetchone()
    parts = [f"v{SUMMARY_VERSION}"]
    for i, r in enumerate(both):
        parts.append(f"{r.pk}:{r.created_at:%Y%m%d%H%M%S%f}:{agg[2 * i]}:{agg[2 * i + 1]}")
    if prev is None:
        parts.append("-")
    return "|".join(parts)


def _seen_in(rnd: Round):
    return Exists(Finding.objects.filter(round=rnd, fingerprint=OuterRef("fingerprint")))


def _cur_rows(qs, prev: Round | None, unit) -> list[tuple]:
    """(unit, rule, n, veto, high, still) of the findings qs (of one round) grouped by unit and rule."""
    if prev is not None:
        qs = qs.alias(seen=_seen_in(prev))
    return _raw(qs.values_list(unit, "rule").annotate(
        n=Count("id"), veto=Count("id", filter=Q(veto=True)), high=Count("id", filter=Q(severity="high")),
        still=Count("id", filter=still_q(prev))).order_by())


def _gone_rows(qs, rnd: Round, unit) -> list[tuple]:
    """(unit, website, account, job kind, n) of the findings qs (of the previous round) whose fingerprint rnd did not
    find, grouped by unit and by what decides whether rnd looked again (looked_q): the site, else the account, else the
    kind of job."""
    qs = qs.exclude(fingerprint="").alias(now=_seen_in(rnd)).filter(now=False)
    return _raw(qs.values_list(unit, "round_site__website", "round_account__account", "job__kind")
                .annotate(n=Count("id")).order_by())


def make_summary(rnd: Round, prev: Round | None) -> dict:
    """The summary of rnd against prev (two grouped scans of the rounds' findings, about a second at province size)."""
    data = {"units": [list(r) for r in _cur_rows(Finding.objects.filter(round=rnd, responsible_unit__isnull=False),
                                                 prev, "responsible_unit")], "gone": []}
    if prev is not None:
        data["gone"] = [list(r) for r in _gone_rows(Finding.objects.filter(round=prev, responsible_unit__isnull=False),
                                                    rnd, "responsible_unit")]
    return data


def _save_summary(rnd: Round, stamp: str, data: dict) -> None:
    """Keep a done round's summary in the database, for every process; a database busy or a concurrent save only means
    it is made again later."""
    from django.db import DatabaseError, transaction

    from ..rounds.models import RoundSummary

    from django.utils import timezone

    try:
        with transaction.atomic():  # one upsert (INSERT … ON CONFLICT DO UPDATE)
            RoundSummary.objects.bulk_create([RoundSummary(round_id=rnd.pk, stamp=stamp, data=data,
                                                           made_at=timezone.now())],
                                             update_conflicts=True, unique_fields=["round"],
                                             update_fields=["stamp", "data", "made_at"])
    except DatabaseError:
        pass


def summary(rnd: Round, prev: Round | None) -> dict:
    """The summary of rnd against prev: from this process's cache, else the database, else made now (and kept in the
    database when rnd is done: a running round's findings change with every job)."""
    from django.core.cache import cache

    from ..rounds.models import RoundSummary

    stamp = _summary_stamp(rnd, prev)
    key = "govinspect.web.stats.summary:" + hashlib.sha256(stamp.encode()).hexdigest()
    data = cache.get(key)
    if data is not None:
        return data
    row = RoundSummary.objects.filter(round_id=rnd.pk, stamp=stamp).values_list("data", flat=True).first()
    if row is not None:
        data = row
    else:
        data = make_summary(rnd, prev)
        if rnd.status == "done":
            _save_summary(rnd, stamp, data)
    cache.set(key, data, CACHE_SECONDS)
    return data


def summarize_round(rnd: Round) -> None:
    """Make the summaries that become known when rnd ends (called by rounds/services.py at a round's end): rnd's
    against its previous round, and that of the next full round if it is done and now compares with rnd."""
    rnd = rounds().get(pk=rnd.pk)
    todo = [rnd]
    if rnd.recheck_of_id is None:
        nxt = done_rounds().filter(as_of__gt=rnd.as_of, recheck_of__isnull=True).order_by("as_of", "id").first()
        if nxt is not None:
            todo.append(nxt)
    for r in todo:
        if r.status != "done":
            continue
        prev = previous_round(r)
        _save_summary(r, _summary_stamp(r, prev), make_summary(r, prev))


def finding_counts(rnd: Round, prev: Round | None, user) -> dict:
    """The heavy part of the dashboard: the summary of rnd against prev (made once), less the ignored findings, plus
    the findings without a responsible unit, with what this round looked at again and the user's scope applied at each
    view (about 10 small queries). The same numbers as counting current_findings and fixed_findings directly.

    {"rules": {rule: [n, veto, high, still]}, "units": {unit: [n, veto, high, still]}, "fixed": {unit: [fixed, unknown]}}
    """
    base = summary(rnd, prev)
    ids = access.unit_ids(user)
    visible = (lambda u: True) if ids is None else (lambda u, ids=set(ids): u in ids)
    rules, units = defaultdict(lambda: [0, 0, 0, 0]), defaultdict(lambda: [0, 0, 0, 0])

    def add_cur(rows, sign):
        for unit, rule, *nums in rows:
            if not visible(unit):
                continue
            r, u = rules[rule], units[unit]
            for i, v in enumerate(nums):
                r[i] += sign * v
                u[i] += sign * v

    # the ignored findings of both rounds, found by the ignored_by index alone (given the round too, SQLite walks the
    # round's 200,000 rows instead; and "ignored_by > 0", as "IS NOT NULL" with another column read scans the table):
    # their rows are then read by id (by round when there are very many)
    ignored = defaultdict(list)
    for pk, r in Finding.objects.filter(ignored_by__gt=0).values_list("pk", "round").order_by():
        ignored[r].append(pk)

    def ignored_in(r):
        ids = ignored[r.pk]
        qs = (Finding.objects.filter(pk__in=ids) if len(ids) <= IGNORED_IDS_MAX
              else Finding.objects.filter(round=r, ignored_by__gt=0))
        return qs.filter(responsible_unit__isnull=False)

    add_cur(base["units"], 1)
    if ignored[rnd.pk]:
        add_cur(_cur_rows(ignored_in(rnd), prev, "responsible_unit"), -1)
    add_cur(_cur_rows(Finding.objects.filter(round=rnd, responsible_unit__isnull=True, ignored_by__isnull=True), prev,
                      UNIT_OF), 1)
    fixed = defaultdict(lambda: [0, 0])
    if prev is not None:
        gone = [(row, 1) for row in base["gone"]]
        if ignored[prev.pk]:
            gone += [(row, -1) for row in _gone_rows(ignored_in(prev), rnd, "responsible_unit")]
        gone += [(row, 1) for row in _gone_rows(Finding.objects.filter(round=prev, responsible_unit__isnull=True,
                                                                       ignored_by__isnull=True), rnd, UNIT_OF)]
        gone = [(row, sign) for row, sign in gone if visible(row[0])]
        sites = accounts = kinds = ()
        checked_sites, checked_accounts, done_kinds = rnd.looked_at()  # lazy: only the lists needed are read
        if any(row[1] is not None for row, _ in gone):
            sites = set(checked_sites)
        if any(row[1] is None and row[2] is not None for row, _ in gone):
            accounts = set(checked_accounts)
        if any(row[1] is None and row[2] is None and row[3] is not None for row, _ in gone):
            kinds = set(done_kinds)
        for (unit, site, account, kind, n), sign in gone:
            looked = site in sites if site is not None else account in accounts if account is not None else kind in kinds
            fixed[unit][0 if looked else 1] += sign * n
    return {"rules": {k: v for k, v in rules.items() if v[0]}, "units": {k: v for k, v in units.items() if v[0]},
            "fixed": {k: v for k, v in fixed.items() if v[0] or v[1]}}


def round_stats(rnd: Round, user) -> RoundStats:
    """The dashboard's numbers for the round, as the user may see them (about 10 queries whatever the round's size)."""
    prev = previous_round(rnd)
    info = rule_info(rnd)
    st = RoundStats(round=rnd, previous=prev, deadline=cn_deadline(rnd),
                    previous_deadline=cn_deadline(prev) if prev else "")

    sites_q = access.round_sites(user, RoundSite.objects.filter(round=rnd))
    accounts_q = access.round_accounts(user, RoundAccount.objects.filter(round=rnd))
    site_units, st.sites = _target_counts(sites_q, "website__owner")
    _, st.accounts = _target_counts(accounts_q, "account__owner")
    for t in (st.sites, st.accounts):
        t["rate"] = info.rate(t["passed"], t["checked"])

    fc = finding_counts(rnd, prev, user)
    by_rule = [{"rule": k, "n": v[0], "veto": v[1], "high": v[2], "still": v[3]} for k, v in fc["rules"].items()]
    by_unit = {u: {"n": v[0], "veto": v[1], "high": v[2], "still": v[3]} for u, v in fc["units"].items()}
    fixed = {u: {"fixed": v[0], "unknown": v[1]} for u, v in fc["fixed"].items()}

    # problems by rule and by group
    groups: dict[str, dict] = {}
    tot = defaultdict(int)
    for r in sorted(by_rule, key=lambda r: (-r["n"], r["rule"])):
        g = info.group(r["rule"]) or "other"
        gname = info.group_name(g)
        row = {"rule": r["rule"], "name": info.name(r["rule"]), "group": g, "group_name": gname, "n": r["n"],
               "still": r["still"], "new": r["n"] - r["still"], "veto": r["veto"]}
        st.rules.append(row)
        grp = groups.setdefault(gname, {"group": g, "name": gname, "n": 0, "still": 0, "rules": []})
        grp["n"] += r["n"]
        grp["still"] += r["still"]
        grp["rules"].append(row)
        for k in ("n", "veto", "still", "high"):
            tot[k] += r[k]
        if r["veto"]:
            st.veto_rules.append({"rule": r["rule"], "name": info.name(r["rule"]), "n": r["veto"]})
    st.groups = sorted(groups.values(), key=lambda g: (-g["n"], g["name"]))
    st.findings = {"n": tot["n"], "veto": tot["veto"], "still": tot["still"], "new": tot["n"] - tot["still"],
                   "high": tot["high"], "fixed": sum(r["fixed"] for r in fixed.values()),
                   "unknown": sum(r["unknown"] for r in fixed.values())}

    # per unit: problems, change, sites
    ids = {u for u in (set(by_unit) | set(fixed) | set(site_units)) if u is not None}
    names = _unit_names(ids)
    for uid in ids:
        f, x, s = by_unit.get(uid, {}), fixed.get(uid, {}), site_units.get(uid, {})
        n, still = f.get("n", 0), f.get("still", 0)
        st.units.append({"id": uid, "name": names.get(uid, f"#{uid}"), "n": n, "veto": f.get("veto", 0),
                         "high": f.get("high", 0), "still": still, "new": n - still, "fixed": x.get("fixed", 0),
                         "unknown": x.get("unknown", 0), "sites": s.get("total", 0), "sites_failed": s.get("failed", 0),
                         "sites_unknown": s.get("unknown", 0)})
    st.units.sort(key=lambda u: (-u["n"], -u["sites_failed"], -u["veto"], u["name"]))
    st.worst = [u for u in st.units if u["n"] or u["sites_failed"]][:TOP_UNITS]
    st.overdue = sorted((u for u in st.units if u["still"]), key=lambda u: (-u["still"], u["name"]))

    # could not check, with reasons
    site_reasons = _reasons(sites_q.filter(status="could_not_check").values_list("reason").annotate(n=Count("id"))
                            .order_by())
    acc_reasons = _reasons(accounts_q.filter(status="could_not_check").values_list("reason").annotate(n=Count("id"))
                           .order_by())
    st.could_not_check = {"sites": site_reasons, "accounts": acc_reasons,
                          "n": st.sites["unknown"] + st.accounts["unknown"]}
    return st


def _unit_names(ids) -> dict[int, str]:
    from ..registry.models import Unit

    if not ids:
        return {}
    return dict(Unit.objects.filter(pk__in=ids).values_list("id", "name"))


# ------------------------------------------------------------------------------------------- a unit's view
@dataclass
class UnitStats:
    round: Round
    previous: Round | None
    counts: dict = field(default_factory=dict)     # n veto still new high fixed unknown
    by_site: list = field(default_factory=list)    # [{site_id, round_site_id, name, n, new, veto, rules: [...]}]
    new: list = field(default_factory=list)        # the newest problems (Finding rows, at most `limit`)
    findings: list = field(default_factory=list)   # the problems (Finding rows, at most `limit`), still ones marked
    sites: list = field(default_factory=list)      # the units' own round sites (RoundSite rows)
    accounts: list = field(default_factory=list)   # the units' own round accounts (RoundAccount rows)
    deadline: str = NO_DEADLINE
    previous_deadline: str = ""


def unit_stats(rnd: Round, user, ids, limit: int = 200) -> UnitStats:
    """The problems of the units `ids` (within the user's scope) in the round: by site and rule, new since the previous
    round, fixed, the units' sites and accounts, deadlines. About 8 queries."""
    prev = previous_round(rnd)
    info = rule_info(rnd)
    us = UnitStats(round=rnd, previous=prev, deadline=cn_deadline(rnd), previous_deadline=cn_deadline(prev) if prev else "")
    ids = list(ids)
    cur = current_findings(rnd, user, prev).filter(unit_q(ids))
    counts = _counts(prev)

    sites: dict = {}
    tot = defaultdict(int)
    rows = cur.values("rule", "round_site", "round_site__website", "round_site__website__name", "round_account",
                      "round_account__account__name", "round_account__account__platform").annotate(**counts).order_by()
    for r in rows:
        if r["round_site"]:
            key, name = ("site", r["round_site"]), r["round_site__website__name"]
        elif r["round_account"]:
            key = ("account", r["round_account"])
            name = f"{r['round_account__account__name']}（{r['round_account__account__platform']}）"
        else:
            key, name = ("other", 0), "台账、答复书和信件"
        s = sites.setdefault(key, {"kind": key[0], "round_site_id": r["round_site"], "site_id": r["round_site__website"],
                                   "name": name, "n": 0, "new": 0, "still": 0, "veto": 0, "rules": []})
        s["rules"].append({"rule": r["rule"], "name": info.name(r["rule"]), "group": info.group(r["rule"]), "n": r["n"],
                           "new": r["n"] - r["still"], "still": r["still"], "veto": r["veto"]})
        for k in ("n", "still", "veto"):
            s[k] += r[k]
            tot[k] += r[k]
        s["new"] += r["n"] - r["still"]
        tot["high"] += r["high"]
    for s in sites.values():
        s["rules"].sort(key=lambda x: (-x["n"], x["rule"]))
    us.by_site = sorted(sites.values(), key=lambda s: (-s["n"], s["name"]))
    us.counts = {"n": tot["n"], "still": tot["still"], "new": tot["n"] - tot["still"], "veto": tot["veto"],
                 "high": tot["high"], "fixed": 0, "unknown": 0}
    if prev is not None:
        looked = looked_q(rnd, prev)
        x = fixed_findings(rnd, prev, user).filter(unit_q(ids)).aggregate(
            fixed=Count("id", filter=looked), unknown=Count("id", filter=~looked))
        us.counts.update(fixed=x["fixed"] or 0, unknown=x["unknown"] or 0)

    us.findings = finding_rows(cur, prev, info, limit)
    us.new = finding_rows(cur.exclude(still_q(prev)), prev, info, limit) if prev is not None else []
    us.sites = list(RoundSite.objects.filter(round=rnd, website__owner__in=ids).select_related("website")
                    .order_by("website__name"))
    us.accounts = list(RoundAccount.objects.filter(round=rnd, account__owner__in=ids).select_related("account")
                       .order_by("account__platform", "account__name"))
    return us


FINDING_COLUMNS = ("id", "rule", "detail", "url", "severity", "veto", "column_name", "round_site__website__name",
                   "round_account__account__name", "responsible_unit__name")


def finding_rows(qs, prev: Round | None, info: RuleInfo, limit: int) -> list[dict]:
    """At most `limit` findings of current_findings(...) as dicts, vetoes and severe ones first, each with is_still
    (None without a previous round), rule_name and target (the site or account)."""
    if prev is not None:
        qs = qs.annotate(is_still=Case(When(still_q(prev), then=Value(True)), default=Value(False),
                                       output_field=BooleanField()))
        cols = FINDING_COLUMNS + ("is_still",)
    else:
        cols = FINDING_COLUMNS
    out = list(qs.values(*cols).order_by("-veto", SEVERITY_RANK, "rule", "id")[:limit])
    for f in out:
        f.setdefault("is_still", None)
        f["rule_name"] = info.name(f["rule"])
        f["target"] = f["round_site__website__name"] or f["round_account__account__name"] or ""
    return out
