"""Ignores: an operator's audited "not a problem" for a finding, applied to this and later rounds.

Scope "hit" names the problem itself by its fingerprint (engine/finding.py: rule, subject, place, matched text), so
it keeps applying when the page is restyled and never hides another dead link or column; "page" covers the rule on
one URL; "site" (the same matched text anywhere on the website) exists only for rules with matched text (content,
privacy, typo). A site-wide judgement (footer, meta tags …) is ignored only as described (its detail).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Finding, Ignore, RoundSite


class IgnoreError(ValueError):
    pass


def _identity(rule: str) -> str:
    """What the URL of a finding without matched text stands for, in the operator's words."""
    if rule.startswith("link."):
        return "这一个链接"
    if rule.startswith("column."):
        return "这一个栏目"
    return "这一个页面"


def describe_scope(ig: Ignore) -> str:
    """What an ignore covers, in the operator's words (the scope labels fit rules with matched text only)."""
    if ig.text and ig.scope == "site":
        return f"整个网站的「{ig.text}」"
    if ig.text and ig.scope == "hit":
        return f"仅此处（此页面的「{ig.text}」）"
    if ig.rule.startswith("link."):
        return f"仅此链接（{ig.url}）"
    if ig.rule.startswith("column."):
        return f"仅此栏目（{ig.url}）"
    if ig.source_finding_id and _text(ig.source_finding):  # page scope of a rule with matched text
        return f"此页面该规则的全部问题（{ig.url}）"
    return f"仅此页面的这一问题（{ig.url}）"


def _text(f: Finding) -> str:
    return f.match


def _site_level(f: Finding) -> bool:
    """Findings about a whole site (footer items missing, meta tags, required columns …): one finding, often on the
    home page, sums up a state of the site — its URL does not name the problem."""
    return f.subject_kind == "site"


def _detail(f: Finding) -> str:
    """What an ignore of a site-level finding must match besides its URL: the problem as described."""
    return f.detail if _site_level(f) and not _text(f) else ""


DERIVED = {"site.veto_columns": "栏目不更新单项否决由各栏目问题汇总得出，不能直接忽略；请忽略确实不是问题的栏目（column.stale/column.empty）"}


def new_ignore(finding: Finding, scope: str, reason: str, by: str) -> Ignore:
    """The (unsaved) ignore an operator asks for, checked: scope, reason, operator."""
    if finding.round_site_id is None:
        raise IgnoreError("新媒体账号的问题暂不支持忽略（请在名录中更正账号信息）")
    if scope not in dict(Ignore._meta.get_field("scope").choices):
        raise IgnoreError(f"范围应为 hit、page 或 site：{scope!r}")
    if finding.rule in DERIVED:
        raise IgnoreError(DERIVED[finding.rule])
    text = _text(finding)
    if scope == "site" and not text:
        raise IgnoreError(f"问题 {finding.pk}（{finding.rule}）没有命中内容，不能按整个网站忽略（那会隐藏该网站这一规则的全部问题）；"
                          f"请用 --scope hit，只忽略{_identity(finding.rule)}：{finding.url}")
    if not reason.strip():
        raise IgnoreError("必须填写忽略理由")
    if not by.strip():
        raise IgnoreError("必须填写操作人")
    return Ignore(rule=finding.rule, scope=scope, website=finding.round_site.website,
                  url=finding.url if scope in ("hit", "page") else "",
                  text=text if scope in ("hit", "site") else "", detail=_detail(finding),
                  fingerprint=finding.fingerprint if scope == "hit" else "",
                  reason=reason.strip(), source_finding=finding, created_by=by.strip())


@dataclass
class Preview:
    """What an ignore would hide: findings of the finding's round, and open findings of earlier rounds on that
    website (not ignored, not re-checked as fixed), which later rounds will no longer report either."""

    this_round: list = field(default_factory=list)
    earlier: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.this_round) + len(self.earlier)

    def examples(self, n: int = 5) -> list:
        return (self.this_round + self.earlier)[:n]


def preview(ig: Ignore, finding: Finding) -> Preview:
    rnd = finding.round
    candidates = (Finding.objects.filter(round_site__website=ig.website, rule=ig.rule, ignored_by__isnull=True)
                  .filter(Q(round=rnd) | Q(round__as_of__lt=rnd.as_of) | Q(round__as_of=rnd.as_of, round_id__lt=rnd.pk))
                  .exclude(rechecks__state="fixed").select_related("round").order_by("-round__as_of", "-round_id", "id"))
    out = Preview()
    for f in candidates:
        if ig.covers(f):
            (out.this_round if f.round_id == rnd.pk else out.earlier).append(f)
    return out


def apply_ignores(rs: RoundSite, rules=None) -> int:
    """Mark the site's findings that an operator ignored (in this or an earlier round), then score the site (an ignored
    veto finding no longer fails it)."""
    from .scoring import score_site

    active = list(Ignore.objects.filter(website=rs.website, revoked_at__isnull=True).select_related("source_finding"))
    n = 0
    for f in rs.findings.all():
        match = next((i for i in active if i.covers(f)), None)
        if (f.ignored_by_id or None) != (match.pk if match else None):
            f.ignored_by = match
            f.save(update_fields=["ignored_by"])
        n += match is not None
    score_site(rs, rules)
    return n


@transaction.atomic
def ignore_finding(finding: Finding, scope: str, reason: str, by: str) -> Ignore:
    """Record an operator's "not a problem" for a finding (audited) and apply it to the round."""
    ig = new_ignore(finding, scope, reason, by)
    ig.save()
    apply_ignores(finding.round_site)
    return ig


@transaction.atomic
def revoke_ignore(ig: Ignore, by: str) -> None:
    if ig.revoked_at is None:
        ig.revoked_at, ig.revoked_by = timezone.now(), by
        ig.save(update_fields=["revoked_at", "revoked_by"])
        for rs_id in set(ig.findings.values_list("round_site", flat=True)):
            apply_ignores(RoundSite.objects.get(pk=rs_id))
