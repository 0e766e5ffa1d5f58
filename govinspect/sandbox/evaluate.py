"""Compare findings with the sandbox ground truth: precision and recall per rule.

A finding matches a planted problem with the same rule and URL. Problems hidden by a fault
(robots.txt, site down) are expected NOT to be reported: they leave recall untouched, and a finding
there counts as a false positive (a false accusation).
"""

from __future__ import annotations

from collections import defaultdict

from ..engine.fetch.crawler import normalise_url


def evaluate(findings: list[dict], truth: dict, rules: list[str] | None = None) -> dict[str, dict]:
    expected = defaultdict(set)
    hidden = defaultdict(set)
    for p in truth["problems"]:
        key = normalise_url(p["url"])
        (hidden if p.get("hidden_by") else expected)[p["rule"]].add(key)
    found = defaultdict(set)
    for f in findings:
        found[f["rule"]].add(normalise_url(f["url"]))
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
