"""Round data: everything the reports print, as one plain dict (also written as round.json).

The bulletin and the attachment workbook are pure functions of this dict, so `govinspect report`
regenerates the documents from stored results without crawling again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..rounds.models import Round


def quarter_label(d: dt.date) -> str:
    return f"{d.year}年第{'一二三四'[(d.month - 1) // 3]}季度"


def org(unit, direct: str, fallback: str = "", office: str = "") -> dict:
    """Where a unit stands in the bulletin's attachment tables: 区域, 主管单位 and registry order. The issuing office's
    own units count as 县直/市直 even when registered as a 区县 unit."""
    if unit is None:
        return {"unit": fallback, "short": fallback, "kind": "", "region": direct, "region_order": 0, "unit_order": 0, "supervisor": fallback}
    owner = unit.region_unit()
    if owner is not None and owner.name == office:
        owner = None
    return {"unit": unit.name, "short": unit.short_name or unit.name, "kind": unit.kind, "region": direct if owner is None else owner.region or owner.name.removesuffix("人民政府"), "region_order": owner.pk if owner else 0,
            "unit_order": unit.pk, "supervisor": unit.supervisor_label()}


def round_data(rnd: Round) -> dict:
    from ..engine.scheme import load_scheme
    from ..rules import load_rules

    scheme = load_scheme(rnd.scheme)
    direct = load_rules("bulletin").get("attachments", {}).get("direct_units", "")
    sites = []
    all_findings = []
    for rs in rnd.sites.select_related("website", "website__owner").order_by("-website__is_portal", "website__id"):
        w = rs.website
        findings = [{
            "id": f.pk, "rule": f.rule, "url": f.url, "column": f.column_name or None, "detail": f.detail, "evidence": f.evidence,
            "responsible_unit": f.responsible_unit.name if f.responsible_unit else w.owner.name,
            "site": w.name, "unit": w.owner.name,
        } for f in rs.findings.filter(ignored_by__isnull=True).select_related("responsible_unit").order_by("id")]
        all_findings += findings
        ignored = rs.findings.filter(ignored_by__isnull=False).count()
        sites.append({
            "id": w.pk, "name": w.name, "unit": w.owner.name, "unit_kind": w.owner.kind, "url": w.home_url,
            "org": org(w.owner, direct, office=rnd.office), "site_code": w.site_code, "is_portal": w.is_portal, "status": rs.status, "reason": rs.reason,
            "verdict": rs.verdict, "score": rs.score, "deductions": rs.deductions, "pages_fetched": rs.pages_fetched,
            "findings_ignored": ignored,
            "home_newest": rs.home_newest.isoformat() if rs.home_newest else None, "home_status": rs.home_status,
            "publication_count": rs.publication_count, "columns_discovered": rs.columns_discovered, "veto": rs.veto,
            "warc": rs.warc_path, "crawl_log": rs.log_path, "crawl": rs.crawl_stats,
            "columns": [{
                "name": c.name, "url": c.url, "category": c.category, "window": c.window, "level": c.level,
                "status": c.status, "newest_date": c.newest_date.isoformat() if c.newest_date else None,
                "newest_title": c.newest_title, "item_count": c.item_count, "reason": c.reason,
                "stale": None if c.status == "unknown" else c.status == "stale",
                "empty": None if c.status == "unknown" else c.status == "empty",
            } for c in rs.columns.order_by("id")],
            "findings": findings,
        })
    accounts = []
    for ra in rnd.accounts.select_related("account", "account__owner").order_by("account__owner__name", "account__name"):
        a = ra.account
        fs = [{"id": f.pk, "rule": f.rule, "url": f.url, "detail": f.detail, "evidence": f.evidence, "unit": a.owner.name,
               "responsible_unit": a.owner.name, "site": a.name}
              for f in ra.findings.order_by("id")]
        all_findings += fs
        accounts.append({"id": a.pk, "org": org(a.owner, direct, office=rnd.office), "platform": a.platform, "name": a.name, "unit": a.owner.name, "status": ra.status, "verdict": ra.verdict,
                         "reason": ra.reason, "last_post": ra.last_post.isoformat() if ra.last_post else None,
                         "posts_in_window": ra.posts_in_window, "original_share": ra.original_share, "score": ra.score,
                         "findings": fs})
    office_findings = [{"id": f.pk, "rule": f.rule, "url": f.url, "detail": f.detail, "evidence": f.evidence,
                        "responsible_unit": f.responsible_unit.name if f.responsible_unit else rnd.office, "unit": rnd.office,
                        "site": "", "org": org(f.responsible_unit, direct, rnd.office, rnd.office)}
                       for f in rnd.findings.filter(round_site__isnull=True, round_account__isnull=True).select_related("responsible_unit").order_by("id")]
    all_findings += office_findings
    checked = [s for s in sites if s["status"] == "checked"]
    passed = [s for s in checked if s["verdict"] == "pass"]
    cols = [c for s in checked for c in s["columns"]]
    summary = {
        "sites_total": len(sites), "sites_checked": len(checked), "sites_unknown": len(sites) - len(checked),
        "pass": len(passed), "fail": len(checked) - len(passed), "pass_rate": scheme.rate(len(passed), len(checked)),
        "findings": len(all_findings), "findings_by_rule": dict(Counter(f["rule"] for f in all_findings)),
        "columns_checked": len(cols), "columns_stale": sum(c["status"] == "stale" for c in cols),
        "columns_empty": sum(c["status"] == "empty" for c in cols), "columns_unknown": sum(c["status"] == "unknown" for c in cols),
        "accounts_total": len(accounts), "accounts_checked": sum(a["verdict"] != "unknown" for a in accounts),
        "accounts_pass": sum(a["verdict"] == "pass" for a in accounts), "accounts_fail": sum(a["verdict"] == "fail" for a in accounts),
        "accounts_pass_rate": scheme.rate(sum(a["verdict"] == "pass" for a in accounts), sum(a["verdict"] != "unknown" for a in accounts)),
    }
    return {
        "round": {"id": rnd.pk, "name": rnd.name, "recheck_of": rnd.recheck_of_id, "region": rnd.region, "office": rnd.office, "as_of": rnd.as_of.isoformat(),
                  "period_start": rnd.period_start.isoformat() if rnd.period_start else None, "status": rnd.status,
                  "quarter": quarter_label(rnd.as_of), "quarter_short": f"{'一二三四'[(rnd.as_of.month - 1) // 3]}季度", "scheme": {"key": scheme.key, "name": scheme.name, "version": scheme.version},
                  "started_at": rnd.started_at.isoformat() if rnd.started_at else None,
                  "finished_at": rnd.finished_at.isoformat() if rnd.finished_at else None},
        "summary": summary, "sites": sites, "findings": all_findings, "letters": letters_data(rnd),
        "accounts": accounts, "registers": rnd.registers or {}, "office_findings": office_findings,
        "recheck": recheck_data(rnd, scheme, direct), "history": history(rnd, scheme),
    }


def history(rnd: Round, scheme, last: int = 6) -> list[dict]:
    """Website pass rates of this region's regular rounds up to this one (the bulletin's trend chart)."""
    rounds = list(Round.objects.filter(region=rnd.region, recheck_of__isnull=True, as_of__lte=rnd.as_of)
                  .exclude(status__in=("failed", "pending")).order_by("-as_of", "-id")[:last])[::-1]
    out = []
    for r in rounds:
        checked = r.sites.filter(status="checked")
        n = checked.count()
        if n:
            out.append({"round": r.pk, "name": r.name, "as_of": r.as_of.isoformat(),
                        "pass_rate": scheme.rate(checked.filter(verdict="pass").count(), n)})
    return out


def recheck_data(rnd: Round, scheme, direct: str) -> dict:
    """The re-check this round reports: its own (a re-check round), else the latest re-check done since the
    round it re-checked (a regular round's bulletin reports it like seed 002 一(四))."""
    rc = rnd if rnd.recheck_of_id else (
        Round.objects.filter(recheck_of__isnull=False, status="done", as_of__lte=rnd.as_of, recheck_of__as_of__lt=rnd.as_of)
        .exclude(recheck_of=rnd).order_by("-as_of", "-id").first())
    if rc is None:
        return {}
    items = []
    for r in rc.recheck_results.select_related("finding__round_site__website__owner", "finding__round_account__account__owner",
                                               "finding__responsible_unit").order_by("finding_id"):
        f = r.finding
        unit = (f.round_site.website.owner if f.round_site_id else f.round_account.account.owner if f.round_account_id
                else f.responsible_unit)
        where = f.round_site.website.name if f.round_site_id else f.round_account.account.name if f.round_account_id else ""
        items.append({"finding": f.pk, "rule": f.rule, "url": f.url, "detail": f.detail, "where": where, "state": r.state,
                      "reason": r.reason, "org": org(unit, direct, rc.office, rc.office)})
    n = Counter(i["state"] for i in items)
    return {"round": rc.pk, "previous": rc.recheck_of.name, "previous_id": rc.recheck_of_id, "as_of": rc.as_of.isoformat(),
            "total": len(items), "fixed": n["fixed"], "present": n["present"], "unknown": n["unknown"],
            "fixed_rate": scheme.rate(n["fixed"], n["fixed"] + n["present"]), "items": items}


def letters_data(rnd: Round) -> dict:
    """Letter and 12345 statistics of the round's period (period_start, else the as-of quarter), when imported."""
    from ..engine import letters as L
    from ..letters.services import letters

    start = rnd.period_start or dt.date(rnd.as_of.year, 3 * ((rnd.as_of.month - 1) // 3) + 1, 1)
    out = {}
    from ..engine.scheme import load_scheme

    rules = load_scheme(rnd.scheme).letters_rules()  # the scheme's deadlines and rounding
    for channel, label in (("mailbox", "网民留言"), ("hotline", "12345热线工单")):
        rows = letters(channel, start, rnd.as_of)
        if rows:
            st = L.statistics(rows, rnd.as_of, rules)
            text = L.prose(st, label)
            if channel == "hotline" and st["topics"]:
                text += "诉求热点：" + "；".join(f"{t}{n}件，占比{st['topic_share'][t]}%" for t, n in st["topics"].items()) + "。"
            out[channel] = {"period_start": start.isoformat(), "text": text, **st}
    return out
