"""Scoring in one place: a target's verdict and score from its stored findings, after ignores are applied.

Called when a job's results are stored and whenever an ignore is added or revoked. The scheme (the round's RuleSet)
decides veto items, deductions and the pass line; a target that could not be checked has no score and its verdict is
"unknown" — unless a stored finding (a single-veto item from monitoring, say) fails it anyway.
"""

from __future__ import annotations

from ..rules.ruleset import RuleSet
from .models import Round, RoundAccount, RoundSite


def round_rules(rnd: Round) -> RuleSet:
    """The RuleSet the round runs with: its snapshot (taken when it started), else the shipped rules of its scheme."""
    if rnd.rules_snapshot:
        return RuleSet.from_snapshot(rnd.rules_snapshot)
    return RuleSet.load(rnd.scheme)


def score_site(rs: RoundSite, rules: RuleSet | None = None) -> RoundSite:
    rules = rules or round_rules(rs.round)
    found = list(rs.findings.filter(ignored_by__isnull=True).values_list("rule", flat=True))
    rs.verdict, rs.score, rs.deductions = rules.scheme.judge(rs.status, found, "website")
    rs.save(update_fields=["verdict", "score", "deductions"])
    return rs


def score_account(ra: RoundAccount, rules: RuleSet | None = None) -> RoundAccount:
    rules = rules or round_rules(ra.round)
    found = list(ra.findings.filter(ignored_by__isnull=True).values_list("rule", flat=True))
    ra.verdict, ra.score, _ = rules.scheme.judge(ra.status, found, "newmedia")
    ra.save(update_fields=["verdict", "score"])
    return ra
