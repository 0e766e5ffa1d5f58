"""A round's result as typed values, read from the database in one place: what the reports (round.json, the
bulletin, its attachments, charts, rectification lists) are made from.

    res = round_result(rnd)
    res.rules                  -> the round's RuleSet (veto, names, rates)
    res.sites[0].findings[0]   -> StoredFinding: the engine Finding (the contract) with its row id, unit, veto …

Reports never query the rounds, registry or letters apps themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..engine.finding import Finding as EngineFinding
from ..rules.ruleset import RuleSet


@dataclass(frozen=True)
class UnitRef:
    """A registry unit as the reports place it: 区域 (its region unit), 主管单位 and registry order."""

    id: int
    name: str
    short: str
    kind: str
    supervisor: str
    region_id: int | None = None  # the unit naming its 区域 (None: the top government's own units)
    region_name: str = ""  # that unit's name
    region_label: str = ""  # how the 区域 is written (its region, else its name without 人民政府)

    @classmethod
    def of(cls, unit) -> "UnitRef | None":
        if unit is None:
            return None
        owner = unit.region_unit()
        return cls(id=unit.pk, name=unit.name, short=unit.short_name or unit.name, kind=unit.kind,
                   supervisor=unit.supervisor_label(), region_id=owner.pk if owner else None,
                   region_name=owner.name if owner else "",
                   region_label=(owner.region or owner.name.removesuffix("人民政府")) if owner else "")


@dataclass
class StoredFinding:
    id: int
    finding: EngineFinding  # the contract: rule, detail, subject, location, facts, evidence, match, fingerprint
    severity: str
    veto: bool
    unit: UnitRef | None  # the responsible unit
    ignored: bool = False
    site_id: int | None = None
    account_id: int | None = None

    @property
    def rule(self) -> str:
        return self.finding.rule


@dataclass
class ColumnResult:
    name: str
    url: str
    category: str
    window: str
    level: int
    status: str
    newest_date: dt.date | None
    newest_title: str
    item_count: int
    reason: str


@dataclass
class SiteResult:
    id: int
    name: str
    url: str
    site_code: str
    is_portal: bool
    owner: UnitRef
    status: str
    reason: str
    verdict: str
    score: int | None
    deductions: list
    pages_fetched: int
    home_newest: dt.date | None
    home_status: str
    publication_count: int
    columns_discovered: bool
    veto: dict
    availability: dict
    crawl_stats: dict
    check_stats: dict
    warc: str  # storage key (or path) of the crawl's WARC file
    log: str
    columns: list[ColumnResult] = field(default_factory=list)
    findings: list[StoredFinding] = field(default_factory=list)  # ignored ones included (StoredFinding.ignored)

    @property
    def coverage(self) -> dict:
        """How much of the site the crawl covered (engine.inspect.coverage of its crawl statistics)."""
        from ..engine.inspect import coverage

        return coverage(self.crawl_stats)


@dataclass
class AccountResult:
    id: int
    platform: str
    name: str
    owner: UnitRef
    status: str
    verdict: str
    reason: str
    last_post: dt.datetime | None
    posts_in_window: int
    original_share: float | None
    score: int | None
    findings: list[StoredFinding] = field(default_factory=list)


@dataclass
class RecheckItem:
    finding: StoredFinding
    where: str  # the website's or account's name ("" for registers and letters)
    unit: UnitRef | None  # the unit answerable for it
    state: str  # fixed | present | unknown
    reason: str


@dataclass
class RecheckSummary:
    round_id: int
    previous: str
    previous_id: int
    as_of: dt.date
    office: str
    items: list[RecheckItem]


@dataclass
class HistoryPoint:
    round_id: int
    name: str
    as_of: dt.date
    passed: int
    checked: int


@dataclass
class RoundResult:
    id: int
    name: str
    region: str
    office: str
    as_of: dt.date
    period_start: dt.date | None
    status: str
    recheck_of: int | None
    recipients: str
    doc_number: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rules: RuleSet
    rules_hash: str
    sites: list[SiteResult]
    accounts: list[AccountResult]
    office_findings: list[StoredFinding]  # registers, reply letters, letters: findings on units, not on a site or account
    registers: dict
    letters: dict  # channel (mailbox, hotline) -> {"period_start": date, "stats": engine.letters.statistics(...)}
    recheck: RecheckSummary | None
    history: list[HistoryPoint]

    @property
    def scheme(self):
        return self.rules.scheme

    def findings(self, ignored: bool = False) -> list[StoredFinding]:
        """Every finding of the round (sites, accounts, units), without ignored ones unless asked."""
        out = [f for s in self.sites for f in s.findings] + [f for a in self.accounts for f in a.findings] + self.office_findings
        return out if ignored else [f for f in out if not f.ignored]


def stored(row, units: dict, rules: RuleSet) -> StoredFinding:
    """A Finding row as a StoredFinding (units: a cache of UnitRef by unit id); severity and veto from the round's
    RuleSet (the catalogue and the scheme's veto lists)."""
    unit = None
    if row.responsible_unit_id:
        unit = units.get(row.responsible_unit_id)
        if unit is None:
            unit = units[row.responsible_unit_id] = UnitRef.of(row.responsible_unit)
    site_id = row.round_site.website_id if row.round_site_id else None
    account_id = row.round_account.account_id if row.round_account_id else None
    entry = rules.rule(row.rule)
    return StoredFinding(id=row.pk, finding=row.to_engine(), severity=row.severity or entry.get("severity", ""),
                         veto=entry["veto"], unit=unit, ignored=row.ignored_by_id is not None, site_id=site_id,
                         account_id=account_id)


def round_result(rnd) -> RoundResult:
    from .scoring import round_rules

    rules = round_rules(rnd)
    units: dict[int, UnitRef] = {}

    def ref(u):
        if u.pk not in units:
            units[u.pk] = UnitRef.of(u)
        return units[u.pk]

    rel = ("responsible_unit", "round_site", "round_account")
    sites = []
    for rs in rnd.sites.select_related("website", "website__owner").order_by("-website__is_portal", "website__id"):
        w = rs.website
        sites.append(SiteResult(
            id=w.pk, name=w.name, url=w.home_url, site_code=w.site_code, is_portal=w.is_portal, owner=ref(w.owner),
            status=rs.status, reason=rs.reason, verdict=rs.verdict, score=rs.score, deductions=rs.deductions or [],
            pages_fetched=rs.pages_fetched, home_newest=rs.home_newest, home_status=rs.home_status,
            publication_count=rs.publication_count, columns_discovered=rs.columns_discovered, veto=rs.veto or {},
            availability=rs.availability or {}, crawl_stats=rs.crawl_stats or {}, check_stats=rs.check_stats or {},
            warc=rs.warc_path, log=rs.log_path,
            columns=[ColumnResult(c.name, c.url, c.category, c.window, c.level, c.status, c.newest_date, c.newest_title,
                                  c.item_count, c.reason) for c in rs.columns.order_by("id")],
            findings=[stored(f, units, rules) for f in rs.findings.select_related(*rel).order_by("id")]))
    accounts = []
    for ra in rnd.accounts.select_related("account", "account__owner").order_by("account__owner__name", "account__name"):
        a = ra.account
        accounts.append(AccountResult(
            id=a.pk, platform=a.platform, name=a.name, owner=ref(a.owner), status=ra.status, verdict=ra.verdict,
            reason=ra.reason, last_post=ra.last_post, posts_in_window=ra.posts_in_window, original_share=ra.original_share,
            score=ra.score, findings=[stored(f, units, rules) for f in ra.findings.select_related(*rel).order_by("id")]))
    office = [stored(f, units, rules) for f in rnd.findings.filter(round_site__isnull=True, round_account__isnull=True)
              .select_related(*rel).order_by("id")]
    return RoundResult(
        id=rnd.pk, name=rnd.name, region=rnd.region, office=rnd.office, as_of=rnd.as_of, period_start=rnd.period_start,
        status=rnd.status, recheck_of=rnd.recheck_of_id, recipients=(rnd.recipients or "").strip(),
        doc_number=(rnd.doc_number or "").strip(), started_at=rnd.started_at, finished_at=rnd.finished_at, rules=rules,
        rules_hash=rnd.rules_hash or rules.hash, sites=sites, accounts=accounts, office_findings=office,
        registers=rnd.registers or {}, letters=_letters(rnd, rules), recheck=_recheck(rnd, units, rules), history=_history(rnd))


def _history(rnd, last: int = 6) -> list[HistoryPoint]:
    """Website pass counts of this region's regular rounds up to this one (the bulletin's trend chart)."""
    from .models import FULL_ROUNDS, Round

    rounds = list(Round.objects.filter(FULL_ROUNDS, region=rnd.region, as_of__lte=rnd.as_of)
                  .exclude(status__in=("failed", "pending")).order_by("-as_of", "-id")[:last])[::-1]
    out = []
    for r in rounds:
        checked = r.sites.filter(status="checked")
        n = checked.count()
        if n:
            out.append(HistoryPoint(r.pk, r.name, r.as_of, checked.filter(verdict="pass").count(), n))
    return out


def _recheck(rnd, units: dict, rules: RuleSet) -> RecheckSummary | None:
    """The re-check this round reports: its own (a re-check round), else the latest re-check done since the round it
    re-checked (a regular round's bulletin reports it like seed 002 一(四))."""
    from .models import Round

    rc = rnd if rnd.recheck_of_id else (
        Round.objects.filter(recheck_of__isnull=False, status="done", as_of__lte=rnd.as_of, recheck_of__as_of__lt=rnd.as_of,
                             item_recheck=False)  # a unit's claim re-checked is not the round's re-check
        .exclude(recheck_of=rnd).order_by("-as_of", "-id").first())
    if rc is None:
        return None
    items = []
    for r in rc.recheck_results.select_related("finding__round_site__website__owner", "finding__round_account__account__owner",
                                               "finding__responsible_unit").order_by("finding_id"):
        f = r.finding
        unit = (f.round_site.website.owner if f.round_site_id else f.round_account.account.owner if f.round_account_id
                else f.responsible_unit)
        where = f.round_site.website.name if f.round_site_id else f.round_account.account.name if f.round_account_id else ""
        items.append(RecheckItem(stored(f, units, rules), where, UnitRef.of(unit), r.state, r.reason))
    return RecheckSummary(rc.pk, rc.recheck_of.name, rc.recheck_of_id, rc.as_of, rc.office, items)


def _letters(rnd, rules: RuleSet) -> dict:
    """Letter and 12345 statistics of the round's period (period_start, else the as-of quarter), when imported; the
    round's RuleSet (letters deadlines merged with the scheme's, its rounding)."""
    from ..engine import letters as L
    from ..letters.services import letters

    start = rnd.period_start or dt.date(rnd.as_of.year, 3 * ((rnd.as_of.month - 1) // 3) + 1, 1)
    out = {}
    for channel in ("mailbox", "hotline"):
        rows = letters(channel, start, rnd.as_of)
        if rows:
            out[channel] = {"period_start": start, "stats": L.statistics(rows, rnd.as_of, rules)}
    return out
