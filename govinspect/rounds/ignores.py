"""Ignores: an operator's audited "not a problem" for a finding, applied to this and later rounds."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Finding, Ignore, RoundSite


class IgnoreError(ValueError):
    pass


def apply_ignores(rs: RoundSite) -> int:
    """Mark the site's findings that an operator ignored (in this or an earlier round); a veto finding
    that is ignored no longer fails the site."""
    active = list(Ignore.objects.filter(website=rs.website, revoked_at__isnull=True))
    n = 0
    for f in rs.findings.all():
        match = next((i for i in active if i.matches(f.rule, f.url, f.evidence.get("text", ""))), None)
        if (f.ignored_by_id or None) != (match.pk if match else None):
            f.ignored_by = match
            f.save(update_fields=["ignored_by"])
        n += match is not None
    if rs.status == "checked":
        from ..engine.scheme import load_scheme

        scored = load_scheme(rs.round.scheme).score(list(rs.findings.filter(ignored_by__isnull=True).values_list("rule", flat=True)))
        if (scored.verdict, scored.score) != (rs.verdict, rs.score):
            rs.verdict, rs.score, rs.deductions = scored.verdict, scored.score, scored.deductions
            rs.save(update_fields=["verdict", "score", "deductions"])
    return n


@transaction.atomic
def ignore_finding(finding: Finding, scope: str, reason: str, by: str) -> Ignore:
    """Record an operator's "not a problem" for a finding (audited) and apply it to the round."""
    if finding.round_site_id is None:
        raise IgnoreError("新媒体账号的问题暂不支持忽略（请在名录中更正账号信息）")
    if scope not in dict(Ignore._meta.get_field("scope").choices):
        raise IgnoreError(f"范围应为 hit、page 或 site：{scope!r}")
    if not reason.strip():
        raise IgnoreError("必须填写忽略理由")
    if not by.strip():
        raise IgnoreError("必须填写操作人")
    ig = Ignore.objects.create(rule=finding.rule, scope=scope, website=finding.round_site.website,
                               url=finding.url if scope in ("hit", "page") else "",
                               text=finding.evidence.get("text", "") if scope in ("hit", "site") else "",
                               reason=reason.strip(), source_finding=finding, created_by=by.strip())
    apply_ignores(finding.round_site)
    return ig


@transaction.atomic
def revoke_ignore(ig: Ignore, by: str) -> None:
    if ig.revoked_at is None:
        ig.revoked_at, ig.revoked_by = timezone.now(), by
        ig.save(update_fields=["revoked_at", "revoked_by"])
        for rs_id in set(ig.findings.values_list("round_site", flat=True)):
            apply_ignores(RoundSite.objects.get(pk=rs_id))
