"""Compare findings with the sandbox ground truth: precision and recall per rule.

A finding matches a planted problem with the same rule and place: its URL; for new-media account rules the
account ("account:PLATFORM/NAME"); for register rows and reply letters the file and row ("file:NAME#ROW"). Problems hidden by a fault
(robots.txt, site down) are expected NOT to be reported: they leave recall untouched, and a finding
there counts as a false positive (a false accusation).
"""

from __future__ import annotations

from collections import defaultdict

from ..engine.fetch.crawler import normalise_url


def place(f: dict) -> str:
    """Where a finding (Finding.to_dict(), round.json) is, as the ground truth names places."""
    loc, subj = f.get("location") or {}, f.get("subject") or {}
    if f["rule"].startswith("newmedia.") and subj.get("account"):
        return f"account:{subj['account']}"
    if loc.get("file"):
        return f"file:{loc['file']}" + (f"#{loc['row']}" if loc.get("row") is not None else "")
    url = loc.get("url") or f.get("url") or ""
    return normalise_url(url) if url.startswith(("http://", "https://")) else url


def _truth_place(p: dict) -> str:
    u = p["url"]
    return normalise_url(u) if u.startswith(("http://", "https://")) else u


def evaluate(findings: list[dict], truth: dict, rules: list[str] | None = None) -> dict[str, dict]:
    expected = defaultdict(set)
    hidden = defaultdict(set)
    for p in truth["problems"]:
        (hidden if p.get("hidden_by") else expected)[p["rule"]].add(_truth_place(p))
    found = defaultdict(set)
    for f in findings:
        found[f["rule"]].add(place(f))
    names = sorted(set(rules) if rules else set(found) | set(expected))
    out = {}
    for r in names:
        tp = len(found[r] & expected[r])
        fp = len(found[r] - expected[r])
        fn = len(expected[r] - found[r])
        out[r] = {"tp": tp, "fp": fp, "fn": fn, "hidden": len(hidden[r]),
                  "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
                  "false_positives": sorted(found[r] - expected[r]), "missed": sorted(expected[r] - found[r])}
    return out


def format_table(result: dict[str, dict]) -> str:
    def f(x):
        return "  —  " if x is None else f"{x:.3f}"

    lines = [f"{'rule':28} {'TP':>4} {'FP':>4} {'FN':>4} {'hidden':>6}  precision  recall"]
    for r, v in result.items():
        lines.append(f"{r:28} {v['tp']:>4} {v['fp']:>4} {v['fn']:>4} {v['hidden']:>6}  {f(v['precision']):>9}  {f(v['recall']):>6}")
    return "\n".join(lines)


COLUMN_RULES = ["column.stale", "column.empty", "site.veto_columns", "site.homepage_stale"]


def evaluate_columns(found: dict[str, list[dict]], truth: dict) -> dict:
    """Columns discovered from navigation (no registry) against the sandbox's true columns.

    found: site key -> the columns a run reported for that site (name, url, category). Sites the truth
    expects to be unreachable, and columns hidden by a fault (robots.txt), are left out: nothing can be
    found there. discovery: recall = true columns found / true columns, precision = found columns that
    are true columns / found columns; classification: found true columns whose category is the truth's.
    """
    checked = {s["key"] for s in truth["sites"] if s["expected"] == "checked"}
    true = {normalise_url(c["url"]): c for c in truth["columns"] if c["site"] in checked and not c.get("hidden_by")}
    hidden = {normalise_url(c["url"]) for c in truth["columns"] if c.get("hidden_by")}
    got = {}
    for key, cols in found.items():
        if key in checked:
            for c in cols:
                got.setdefault(normalise_url(c["url"]), c)
    hits = [u for u in got if u in true]
    extra = sorted(u for u in got if u not in true and u not in hidden)
    wrong = [(true[u]["name"], true[u]["category"], got[u]["category"]) for u in hits if got[u]["category"] != true[u]["category"]]
    return {
        "true_columns": len(true), "found": len(got), "matched": len(hits),
        "discovery_recall": len(hits) / len(true) if true else None,
        "discovery_precision": len(hits) / (len(hits) + len(extra)) if hits or extra else None,
        "classification_accuracy": (len(hits) - len(wrong)) / len(hits) if hits else None,
        "missed": sorted(true[u]["url"] for u in true if u not in got), "not_columns": extra,
        "misclassified": [{"name": n, "truth": t, "found": f} for n, t, f in wrong],
        "unrecognised_found": sum(1 for u in hits if got[u]["category"] == "unknown"),
    }


def format_columns(col: dict, rules: dict[str, dict]) -> str:
    """The discovered-columns figures printed beside the rule table (Chinese for the operator)."""
    def f(x):
        return "—" if x is None else f"{x:.3f}"

    lines = [f"栏目发现（不提供名录，从网站导航发现）：真实栏目{col['true_columns']}个，发现{col['found']}个，"
             f"其中真实栏目{col['matched']}个；召回率 {f(col['discovery_recall'])}，精确率 {f(col['discovery_precision'])}",
             f"栏目分类（按栏目名称，rules/freshness.toml）：准确率 {f(col['classification_accuracy'])}"
             f"（类别未识别、未判断更新情况的栏目{col['unrecognised_found']}个）",
             "按发现的栏目检查：", format_table(rules)]
    for m in col["misclassified"][:10]:
        lines.append(f"  分类不符：“{m['name']}” 应为 {m['truth']}，判为 {m['found']}")
    for u in col["missed"][:10]:
        lines.append(f"  未发现：{u}")
    for u in col["not_columns"][:10]:
        lines.append(f"  误作栏目：{u}")
    return "\n".join(lines)

# issue 15's "done when": with discovered columns, discovery, classification and stale/empty precision and
# recall at least this
TARGET = 0.95
