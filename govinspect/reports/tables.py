"""The bulletin's attachment tables in the layout of seed 002: 政务公开 / 政府网站 / 政务新媒体 problems per unit.

Each row names the 区域 (市直部门 or the county/district), the unit or website, the problems in short official
wording and the 主管单位. Which table lists a rule and its wording are data (bulletin.toml [[phrases]]); rows are
ordered by region, then unit, in registry order; the docx merges equal cells of the grouping columns vertically.
"""

from __future__ import annotations

import re

from ..rules import RulesError, load_rules
from .data import LINK_RULES, link_words, problem_lines

TABLES = ("disclosure", "website", "newmedia")
_GROUP_TABLE = {"newmedia": "newmedia", "disclosure": "disclosure", "documents": "disclosure", "replies": "disclosure"}


def rule_names() -> dict[str, str]:
    """Rule id -> its Chinese name from the catalogue (tables, bulletin text, workbooks)."""
    return {k: v["name"] for k, v in load_rules("catalog")["rules"].items()}


def _config() -> dict:
    cfg = load_rules("bulletin")
    att = cfg.get("attachments", {})
    for key in ("direct_units", "region_header", "filing_systems", "examples", "unreachable", "veto_a", "veto_b", "veto_c",
                "disclosure_title", "website_title", "newmedia_title"):
        if key not in att:
            raise RulesError(f"bulletin.toml 的 [attachments] 缺少 {key}")
    for i, p in enumerate(cfg.get("phrases", [])):
        if p.get("table") not in TABLES or not p.get("rule") or not p.get("text"):
            raise RulesError(f"bulletin.toml 第{i + 1}个 [[phrases]] 需要 rule、text 和 table（{'/'.join(TABLES)} 之一）")
    return cfg


def _phrase_for(rule: str, column: str | None, phrases: list[dict]) -> tuple[int, dict] | None:
    for i, p in enumerate(phrases):
        if p["rule"] == rule and (not p.get("column") or (column and re.search(p["column"], column))):
            return i, p
    return None


def _fields(findings: list[dict], examples: int, filing: str, links: dict) -> dict:
    cols = [f["column"] for f in findings if f.get("column")]
    shown = cols[:examples]
    missing = []
    for f in findings:
        missing += [m for m in f["facts"].get("missing", []) if m not in missing]
    domains = list(dict.fromkeys(f.get("shown_url", "") for f in findings if f["rule"] in LINK_RULES))
    return {"n": len(findings), "columns": "、".join(shown), "columns_quoted": "".join(f"“{c}”" for c in shown),
            "more": "等" if len(cols) > examples else "", "missing": "、".join(missing), "detail": findings[0]["detail"],
            "filing_systems": filing, "domains": "、".join(domains[:examples]) + ("等" if len(domains) > examples else ""),
            "also": _also(findings, links)}


def _also(lines: list[dict], links: dict) -> str:
    """The other problems of links reported under their most serious one: “，为隐藏链接（暗链）且无法访问” for one link,
    “，均为隐藏链接（暗链），其中1个无法访问” for several."""
    lines = [x for x in lines if x["rule"] in LINK_RULES]
    if not lines:
        return ""
    n, first = len(lines), LINK_RULES.index(lines[0]["rule"])
    parts = []
    for r in LINK_RULES[first + 1:]:
        k = sum(r in x.get("rules", [x["rule"]]) for x in lines)
        label = links.get(r.split(".")[1], r).format(label="违法违规")
        if k:
            parts.append(label if n == 1 else "均" + label if k == n else f"其中{k}个{label}")
    return ("，" + ("且" if n == 1 else "，").join(parts)) if parts else ""


def problems_by_table(findings: list[dict], catalog: dict, cfg: dict, veto: dict | None = None) -> dict[str, str]:
    """{table: 存在的问题 text} for one website, account or unit. Phrases sharing a subject are written once
    (指南未标注年度版本且缺少政务新媒体二维码); identical phrases (several reply rules) once."""
    att, phrases = cfg["attachments"], cfg.get("phrases", [])
    groups: dict[tuple, list] = {}
    for f in problem_lines(findings):  # one bad link is one entry, under its most serious problem
        if f["rule"] == "site.veto_columns":
            continue
        hit = _phrase_for(f["rule"], f.get("column"), phrases)
        if hit is None:
            table = _GROUP_TABLE.get(catalog.get(f["rule"], {}).get("group"), "website")
            groups.setdefault((10_000 + list(catalog).index(f["rule"]) if f["rule"] in catalog else 99_999, table, f["rule"]), []).append(f)
        else:
            groups.setdefault((hit[0], hit[1]["table"], None), []).append(f)
    out: dict[str, list[tuple[str, str]]] = {}
    if veto:  # the veto wording stands for every stale/empty column of the website table
        for key in ("a", "b", "c"):
            if veto.get(key):
                out.setdefault("website", []).append(("", att[f"veto_{key}"]))
    names = rule_names()
    for (order, table, rule), fs in sorted(groups.items(), key=lambda kv: kv[0][0]):
        if rule is None:
            p = phrases[order]
            if veto and table == "website" and p["rule"] in ("column.stale", "column.empty"):
                continue
            try:
                text = p["text"].format_map(_fields(fs, att["examples"], att["filing_systems"], link_words(cfg)))
            except KeyError as e:
                raise RulesError(f"bulletin.toml [[phrases]] {p['rule']} 的文字用了不存在的字段 {e}") from None
            subject = p.get("subject", "")
        else:
            text, subject = (fs[0]["detail"] if len(fs) == 1 else f"{names.get(rule, rule)}{len(fs)}处"), ""
        items = out.setdefault(table, [])
        if any(t == text for _, t in items):
            continue
        items.append((subject, text))
    result = {}
    for table, items in out.items():
        parts: list[str] = []
        done = set()
        for subject, text in items:
            if subject and subject in done:
                continue
            if subject:
                done.add(subject)
                parts.append(subject + "且".join(t for s, t in items if s == subject))
            else:
                parts.append(text)
        result[table] = "；".join(parts)
    return result


def attachment_tables(data: dict, title_fields: dict) -> list[dict]:
    """The three attachment tables (only those with rows), numbered 附件1… in this order."""
    cfg = _config()
    att = cfg["attachments"]
    catalog = load_rules("catalog")["rules"]
    rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
    unit_rows: dict[tuple, dict] = {}  # 政务公开 rows are per unit: a unit's website and office findings together

    def add_unit(info: dict, text: str):
        # one row per unit name: the office's own findings (registers, replies) and its website's meet here
        key = (info["region_order"], info["region"], info["unit"])
        row = unit_rows.setdefault(key, {"info": info, "texts": [], "order": info["unit_order"] or 10**9})
        row["order"] = min(row["order"], info["unit_order"] or 10**9)
        if text not in row["texts"]:
            row["texts"].append(text)

    for s in data["sites"]:
        info = s["org"]
        if s["status"] != "checked":  # the website's own failure, or a reason of ours (not "无法访问")
            why = att["unreachable"] if s.get("site_fault", True) else \
                att.get("unchecked", "本轮未能完成检查（{reason}）").format(reason=s.get("reason") or "原因不明")
            rows["website"].append(((info["region_order"], info["unit_order"], s["id"]), [info["region"], why, info["supervisor"]]))
            continue
        texts = problems_by_table(s["findings"], catalog, cfg, s.get("veto") if any(f["rule"] == "site.veto_columns" for f in s["findings"]) else None)
        if texts.get("website") or texts.get("newmedia"):  # a phrase table "newmedia" for a website rule: its own site row
            text = "；".join(t for t in (texts.get("website"), texts.get("newmedia")) if t)
            rows["website"].append(((info["region_order"], info["unit_order"], s["id"]), [info["region"], text, info["supervisor"]]))
        if texts.get("disclosure"):
            add_unit(info, texts["disclosure"])
    by_unit: dict[str, list] = {}
    for f in data.get("office_findings", []):
        by_unit.setdefault(f["responsible_unit"], []).append(f)
    for fs in by_unit.values():  # registers and reply letters: always the responsible unit's 政务公开 row
        add_unit(fs[0]["org"], "；".join(problems_by_table(fs, catalog, cfg).values()))
    for key, row in unit_rows.items():
        info = row["info"]
        rows["disclosure"].append(((key[0], key[1], row["order"]), [info["region"], "；".join(row["texts"]), info["supervisor"]]))
    for a in data.get("accounts", []):
        if not a["findings"]:
            continue
        texts = problems_by_table(a["findings"], catalog, cfg)
        text = "；".join(t for t in (texts.get("newmedia"), texts.get("website"), texts.get("disclosure")) if t)
        info = a["org"]
        rows["newmedia"].append(((info["region_order"], info["unit_order"], a["id"]),
                                 [info["region"], a["unit"], f"{a['name']}（{a['platform']}）", text, info["supervisor"]]))
    layout = {
        "disclosure": (["序号", att["region_header"], "存在的问题", "责任单位/主管单位"], [12, 30, 90, 40], [1]),
        "website": (["序号", "区域", "存在的问题", "主管单位"], [12, 30, 90, 40], [1, 3]),
        "newmedia": (["序号", "区域", "开设主体", "政务新媒体名称", "存在的问题", "主管单位"], [10, 22, 40, 44, 60, 30], [1, 4, 5]),
    }
    out = []
    for table in TABLES:
        if not rows[table]:
            continue
        headers, widths, merge = layout[table]
        body = [[str(i)] + r for i, (_, r) in enumerate(sorted(rows[table], key=lambda kr: kr[0]), start=1)]
        title = att[f"{table}_title"].format_map(title_fields)
        out.append({"key": table, "label": f"附件{len(out) + 1}", "title": title, "headers": headers, "rows": body,
                    "widths": widths, "merge": merge})
    return out


def merged_runs(rows: list[list[str]], merge: list[int]) -> dict[int, list[tuple[int, int]]]:
    """Vertical merges: for each merge column, runs (first row, last row) of equal values, nested in the runs of the
    merge columns to its left (a 主管单位 never spans two regions)."""
    out: dict[int, list[tuple[int, int]]] = {}
    joined = [False] + [True] * (len(rows) - 1)  # joined[i]: row i continues the run of row i - 1
    for col in merge:
        joined = [j and rows[i][col] == rows[i - 1][col] for i, j in enumerate(joined)]
        runs, start = [], 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or not joined[i]:
                if i - start > 1:
                    runs.append((start, i - 1))
                start = i
        out[col] = runs
    return out
