"""Ground truth: every planted problem with its URL, expected column states, and the decoys.

Expectations are computed from the plan, independently of the checks: a column planted stale is
expected "stale" unless a fault hides it (robots.txt, site down), in which case it is expected
"unknown" and a stale finding there would be a false accusation.
"""

from __future__ import annotations

import datetime as dt

from .county import SHOULD_UPDATE, WINDOWS, County, Site, window_cutoff

HOME_WINDOW = "14d"
VETO_PROBLEMS = {"interaction.unanswered"}  # WV-5: one such letter fails the site
VETO = {"dynamic_plus_notice": 5, "should_update": 10, "empty": 5}


def _hidden(site: Site, path: str) -> str | None:
    if float(site.faults.get("down", 0) or 0) >= 1.0 or site.faults.get("status5xx") == "all":
        return "site_down"
    for prefix in site.faults.get("robots_disallow", []):
        if path.startswith(prefix):
            return "robots"
    return None


def _expected_column_state(site: Site, col, as_of: dt.date) -> str:
    if col.category == "unknown":  # a name that says nothing of the column: not judged (类别未识别)
        return "unknown"
    if col.kind == "static":
        return "ok"
    if not col.articles:
        return "empty"
    w = WINDOWS.get(col.category)
    if w and col.newest < window_cutoff(as_of, w):
        return "stale"
    return "ok"


def ground_truth(county: County, urls: dict[str, str]) -> dict:
    as_of = county.as_of
    out = {"seed": county.seed, "as_of": as_of.isoformat(), "pages_per_site": county.pages_per_site,
           "sites": [], "columns": [], "problems": [], "decoys": []}
    for site in county.sites:
        base = urls[site.key].rstrip("/")
        site_hidden = _hidden(site, "/")
        cols = []
        for col in site.columns:
            state = _expected_column_state(site, col, as_of)
            hidden = _hidden(site, col.path)
            cols.append(state)
            out["columns"].append({
                "site": site.key, "name": col.name, "url": base + col.path, "category": col.category,
                "planted": col.planted, "newest_date": col.newest.isoformat() if col.newest else None,
                "item_count": len(col.articles), "expected": "unknown" if hidden else state, "hidden_by": hidden,
            })
            if state in ("stale", "empty"):
                out["problems"].append({"rule": f"column.{state}", "site": site.key, "url": base + col.path, "column": col.name,
                                        "detail": f"“{col.name}”栏目{'未按期更新' if state == 'stale' else '为空白栏目'}",
                                        "hidden_by": hidden})
        # home page (WV-3): newest item anywhere on the site
        newest = max((a.date for c in site.columns for a in c.articles), default=None)
        home_state = "stale" if newest is None or newest < window_cutoff(as_of, HOME_WINDOW) else "ok"
        if home_state == "stale":
            out["problems"].append({"rule": "site.homepage_stale", "site": site.key, "url": base + "/", "column": None,
                                    "detail": f"首页最新信息发布于{newest}", "hidden_by": site_hidden})
        # WV-4 veto counts from the planted states
        stale_by_cat = {}
        for c, s in zip(site.columns, cols):
            if s == "stale":
                stale_by_cat[c.category] = stale_by_cat.get(c.category, 0) + 1
        a = stale_by_cat.get("dynamic", 0) + stale_by_cat.get("notice", 0) + stale_by_cat.get("policy", 0)
        b = sum(stale_by_cat.get(k, 0) for k in SHOULD_UPDATE)
        e = sum(1 for s in cols if s == "empty")
        veto = a >= VETO["dynamic_plus_notice"] or b >= VETO["should_update"] or e >= VETO["empty"]
        if veto:
            out["problems"].append({"rule": "site.veto_columns", "site": site.key, "url": base + "/", "column": None,
                                    "detail": f"动态+通知/政策未更新{a}个，应更新未更新{b}个，空白{e}个", "hidden_by": site_hidden})
        for p in site.problems:  # "url": the problem's own URL (a link target); "page": where it shows
            out["problems"].append({**{k: v for k, v in p.items() if k not in ("path", "parent")}, "site": site.key,
                                    "url": p.get("url") or base + p["path"], "page": base + p.get("parent", p["path"]),
                                    "hidden_by": site_hidden or _hidden(site, p["path"])})
        for d in site.decoys:
            out["decoys"].append({**{k: v for k, v in d.items() if k != "path"}, "site": site.key,
                                  "url": d.get("url") or base + d["path"], "page": base + d["path"]})
        out["sites"].append({
            "key": site.key, "name": site.name, "unit": site.unit, "unit_kind": site.unit_kind, "kind": site.kind,
            "family": site.family, "profile": site.profile, "home_url": base + "/", "site_code": site.site_code,
            "faults": site.faults, "expected": "could_not_check" if site_hidden else "checked",
            "expected_verdict": None if site_hidden else (
                "fail" if (veto or home_state == "stale" or any(p["rule"] in VETO_PROBLEMS for p in site.problems)) else "pass"),
        })
    return out
