"""The bulletin (通报) as .docx in the layout of official documents (GB/T 9704 basics).

compose(data) turns round data into text blocks (pure, tested on its own); write_bulletin renders
them with python-docx: A4, 37/35/28/26 mm margins, title in 小标宋 二号, body in 仿宋_GB2312 三号 with
two-character indent and fixed 28.95 pt lines, 一、 headings in 黑体, （一） in 楷体, page numbers
"— N —" in the footer, each 附件 on a new page.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from pathlib import Path
from urllib.parse import quote

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from ..rules import RulesError, load_rules
from ..safetext import xml_text as xml_safe
from .data import ILLEGAL_RULES, LINK_RULES, cn_date, cn_text, link_words, problem_lines, sentences
from .tables import attachment_tables, merged_runs, rule_names

CN_NUM = "一二三四五六七八九十"
def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十 (section numbers)."""
    if n <= 10:
        return CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUM[tens - 1] if tens > 1 else "") + "十" + (CN_NUM[ones - 1] if ones else "")


_SPECIAL = {"site.homepage_stale", "site.veto_columns", "column.stale", "column.empty", "link.illegal", "link.hidden", "link.dead"}


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}  # worst examples first
_OWN_SENTENCES = {"default", "other", "availability", "links_offline"}  # [sentences] entries that are not rule ids


def _fill(template: str, fields: dict) -> str:
    """An operator-edited template from bulletin.toml, with a clear error for an unknown {field}."""
    try:
        return template.format_map(fields)
    except KeyError as e:
        raise RulesError(f"bulletin.toml 中的模板“{template[:30]}…”用了不存在的字段 {e}（可用：{'、'.join(sorted(fields))}）") from None


def ranking_config(cfg: dict | None) -> dict:
    """bulletin.toml [ranking], checked: wrong types, praise for 0 articles and unknown rule ids are refused."""
    cfg = cfg or {}

    def whole(key: str, least: int, why: str = "") -> int:
        v = cfg.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            raise RulesError(f"bulletin.toml [ranking] {key} 应为不小于{least}的整数{why}，现为 {v!r}")
        return v

    out = {**cfg, "top": whole("top", 1), "praise_min": whole("praise_min", 1, "（不表扬发布0条信息的单位）"),
           "low_below": whole("low_below", 0)}
    for key in ("paragraph", "towns", "departments", "praise", "criticise"):
        if not isinstance(cfg.get(key), str) or not cfg[key]:
            raise RulesError(f"bulletin.toml [ranking] 缺少文字 {key}")
    rules = cfg.get("praise_exclude_rules", [])
    known = load_rules("catalog")["rules"]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise RulesError("bulletin.toml [ranking] praise_exclude_rules 应为规则编号列表，如 [\"link.illegal\"]")
    bad = [r for r in rules if r not in known]
    if bad:
        raise RulesError(f"bulletin.toml [ranking] praise_exclude_rules 中的规则 {'、'.join(bad)} 不存在（规则编号见 docs/rules.md）")
    out["praise_exclude_rules"] = set(rules)
    return out


def ranking(sites: list[dict], cfg: dict, fields: dict) -> str:
    """Seed 003's praise and criticism by publication volume: units summed over their websites, ranked within towns
    and within departments (ties keep registry order). Portals publish for everyone and are not ranked. Only units
    whose every website was checked take part, and a unit with a column that could not be read is not criticised
    (a count that may be short is not a small one). Among the first
    `top` of a kind (named only when there are more units of that kind), a unit is praised only for at least
    praise_min articles and when none of its websites failed or has a single-veto or praise_exclude_rules finding."""
    cfg = ranking_config(cfg)
    per_unit: dict[str, dict] = {}
    for x in sites:
        if x["is_portal"]:
            continue
        o = x["org"]
        e = per_unit.setdefault(o["unit"], {"short": o["short"], "kind": o["kind"], "order": o["unit_order"], "count": 0,
                                            "counted": True, "complete": True, "sites": 0, "blemish": False})
        if x["status"] != "checked" or x.get("publication_count") is None:
            e["counted"] = False
            continue
        e["count"] += x["publication_count"]
        e["sites"] += 1
        # a column left unjudged only for its unrecognised name was read: its articles were counted
        e["complete"] &= not any(c.get("status") == "unknown" and not c.get("unclassified") for c in x.get("columns", []))
        if x.get("verdict") == "fail" or any(f.get("veto") or f["rule"] in cfg["praise_exclude_rules"] for f in x["findings"]):
            e["blemish"] = True
    units = sorted((e for e in per_unit.values() if e["counted"]), key=lambda e: (-e["count"], e["order"]))
    n = cfg["top"]
    tops, who, praised = [], [], set()
    for kind, key, label in (("乡镇", "towns", "镇"), ("部门", "departments", "部门")):
        of_kind = [e for e in units if e["kind"] == kind]
        if len(of_kind) <= n:  # "first three" of three says nothing
            continue
        best = [e for e in of_kind[:n] if e["count"] >= cfg["praise_min"] and not e["blemish"]]
        if best:
            tops.append(_fill(cfg[key], {"names": "、".join(e["short"] for e in best), "n": cn_number(n)}))
            who.append(label)
            praised.update(e["short"] for e in best)
    low = sorted((e for e in units if e["count"] < cfg["low_below"] and e["kind"] in ("乡镇", "部门") and e["complete"]
                  and e["short"] not in praised),
                 key=lambda e: (e["count"], e["order"]))
    if not tops and not low:
        return ""
    text = _fill(cfg["paragraph"], {**fields, "sites_counted": sum(e["sites"] for e in units),
                                    "published": sum(e["count"] for e in units)})
    if tops:
        text += _fill(cfg["praise"], {"tops": "，".join(tops), "who": "和".join(who)})
    if low:
        text += _fill(cfg["criticise"], {"names": "、".join(e["short"] for e in low)})
    return text


def recheck_table(rc: dict, title: str) -> dict:
    """附件 of a re-check round: every re-checked finding that is not fixed, then the fixed ones."""
    label = {"present": "仍存在", "unknown": "未能复查", "fixed": "已整改"}
    order = {"present": 0, "unknown": 1, "fixed": 2}
    items = sorted(rc["items"], key=lambda i: (order[i["state"]], i["org"]["region_order"], i["org"]["unit_order"], i["finding"]))
    rows = [[str(n), i["org"]["region"], i["org"]["unit"], f"{i['where']}：{i['detail']}" if i["where"] else i["detail"],
             label[i["state"]] + ("" if i["state"] != "unknown" else f"（{i['reason']}）"), i["org"]["supervisor"]]
            for n, i in enumerate(items, start=1)]
    return {"key": "recheck", "label": "附件1", "title": title, "headers": ["序号", "区域", "责任单位", "问题", "复查结果", "主管单位"],
            "rows": rows, "widths": [10, 22, 36, 90, 26, 30], "merge": []}


def problems_config() -> dict:
    """bulletin.toml [problems], checked: a typo in a group name would silently move problems under 其他问题."""
    cfg = load_rules("bulletin").get("problems") or {}
    examples, sections = cfg.get("examples", 2), cfg.get("sections")
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 1:
        raise RulesError(f"bulletin.toml [problems] examples 应为不小于1的整数，现为 {examples!r}")
    shape = "每项应为 { title = \"标题\", groups = [\"规则组\", …] }"
    if not isinstance(sections, list) or not all(isinstance(x, dict) and isinstance(x.get("title"), str) and x["title"]
                                                 and isinstance(x.get("groups"), list) for x in sections):
        raise RulesError(f"bulletin.toml [problems] sections {shape}")
    known = {m["group"] for m in load_rules("catalog")["rules"].values()}
    for sec in sections:
        bad = [g for g in sec["groups"] if g not in known]
        if bad:
            raise RulesError(f"bulletin.toml [problems] “{sec['title']}”中的规则组 {'、'.join(map(str, bad))} 不存在"
                             f"（可用：{'、'.join(sorted(known))}）")
    return {**cfg, "examples": examples, "none": cfg.get("none", "本轮检查未发现突出问题。")}


def group_titles() -> dict[str, str]:
    """Catalog rule group -> the 二、存在的主要问题 section it is written under (bulletin.toml [problems])."""
    return {g: sec["title"] for sec in problems_config()["sections"] for g in sec["groups"]}


def _chosen(chosen: dict, rules, items: list, ids, auto: list) -> list:
    """The typical examples the office picked before issuing (Round.examples: {rule: [finding ids]}, kept by
    reports.data.chosen_examples) among `items`, in the office's order; `auto` (the automatic choice) when none of
    them is among the items. `ids(item)`: the finding ids an item stands for (a link line has several)."""
    pos: dict[int, int] = {}
    for rule in ([rules] if isinstance(rules, str) else rules):
        for fid in chosen.get(rule) or []:
            pos.setdefault(fid, len(pos))
    if not pos:
        return auto
    got = [it for it in items if any(i in pos for i in ids(it))]
    got.sort(key=lambda it: min(pos[i] for i in ids(it) if i in pos))
    return got or auto


def _pick(items: list, k: int, key) -> list:
    """The first k items with distinct keys (two accounts of one duplicate pair are one example, not two)."""
    seen, out = set(), []
    for it in items:
        kk = key(it)
        if kk not in seen:
            seen.add(kk)
            out.append(it)
            if len(out) == k:
                break
    return out


def _same(site: str, f: dict):
    """Two findings that make one example: the same matched text on the same website (or the same problem)."""
    from ..engine.finding import _norm_text

    facts = f.get("facts") or {}
    if facts.get("account") and isinstance(facts.get("others"), list):  # one unit's accounts that duplicate each other
        return site, f["rule"], tuple(sorted([facts["account"], *facts["others"]]))
    return site, f["rule"], _norm_text(f.get("match") or "") or f.get("fingerprint") or f["id"]


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T][\d:.+]*)?")  # a date, or a time cited by its day


def _worded(entry: dict, facts: dict) -> dict:
    """Facts as a sentence cites them: values listed in the entry's `words` as words, ISO dates in the one format."""
    words, out = entry.get("words") or {}, {}
    for k, v in facts.items():
        v = words.get(k, {}).get(v, v) if isinstance(v, str) else v
        out[k] = cn_date(v[:10]) if isinstance(v, str) and _ISO_DAY.fullmatch(v) else v
    return out


def _example(entry: dict, f: dict, site: str, **extra) -> str:
    """One example from a [sentences] entry, filled from the finding's facts, {site}, {column}, {detail} and `extra`.
    A fact that is a list of records is written item by item with the entry's `each` (at most 3, then 等), joined by 、."""
    facts = _worded(entry, f.get("facts") or {})
    for k, tpl in (entry.get("each") or {}).items():
        items = [x for x in facts.get(k) or [] if isinstance(x, dict)]
        facts[k] = "、".join(_fill(tpl, _worded(entry, x)) for x in items[:3]) + ("等" if len(items) > 3 else "")
    return _fill(entry["example"], {**facts, "site": site, "column": f.get("column") or "", "detail": f["detail"], **extra})


def _inline(reason: str) -> str:
    """A reason cited inside parentheses: its own closing （…） becomes ，… (首页无法访问（HTTP 503） -> 首页无法访问，HTTP 503)."""
    return re.sub(r"（([^（）]*)）$", r"，\1", reason or "")


def _cite(text: str, note: str) -> str:
    """text（note）, or text，note after a closing parenthesis (no “）（”)."""
    return f"{text}，{note}" if text.endswith("）") else f"{text}（{note}）"


def _why(facts: dict) -> str:
    """Why a dead link failed its second probe, in Chinese and in parentheses: （域名无法解析）."""
    from .data import _probe_reason

    why = _probe_reason(facts.get("second_probe") or {})
    return f"（{why}）" if why else ""


def _on_page(site: dict, line: dict) -> str:
    page = line.get("page") or ""
    return "首页" if page and page.rstrip("/") == (site.get("url") or "").rstrip("/") else "网站页面"


def _evidence_ref(line: dict, cfg: dict) -> str:
    """Where the evidence of an illegal or hidden link is: our archived copy of the page, never the illegal site."""
    if line.get("evidence_file"):
        return cfg.get("evidence", "页面存档：{file}").format(file=line["evidence_file"])
    return cfg.get("evidence_missing", "页面存档未找到")


def problem_groups(data: dict, checked: list, unknown: list, rc: dict, as_of: dt.date, tpl: dict) -> list[tuple[str, str]]:
    """二、存在的主要问题: (section title, paragraph) in the order of bulletin.toml [problems].sections. Each kind of
    problem is one sentence with its count and its worst examples (oldest stale column, illegal link first …)."""
    cfg = problems_config()
    k = cfg["examples"]
    titles = group_titles()
    written: dict[str, list[str]] = {}

    def add(group: str, sentence: str) -> None:
        written.setdefault(titles.get(group, "其他问题"), []).append(sentence.rstrip("。"))

    S = sentences(tpl)
    chosen = data["round"].get("examples") or {}  # the office's picks (Round.examples), else the automatic choice

    def one(pair) -> list:
        return [pair[1]["id"]]

    catalog = load_rules("catalog")["rules"]
    strange = sorted(set(S) - set(catalog) - _OWN_SENTENCES)
    if strange:
        raise RulesError(f"bulletin.toml [sentences] 中的 {'、'.join(strange)} 不是规则编号（规则编号见 docs/rules.md），"
                         f"也不是 {'、'.join(sorted(_OWN_SENTENCES))} 之一")

    def group(rule: str) -> str:
        return catalog.get(rule, {}).get("group", "")

    home_stale = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "site.homepage_stale"]
    if home_stale:
        home_stale.sort(key=lambda p: p[1]["facts"].get("newest_date") or "")
        e = S["site.homepage_stale"]
        ex = "；".join(_example(e, f, x["name"]) for x, f in _chosen(chosen, "site.homepage_stale", home_stale, one,
                                                                     home_stale[:k]))
        add(group("site.homepage_stale"), _fill(e["text"], {"sites": len(home_stale), "n": len(home_stale), "examples": ex}))
    stale = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "column.stale"]
    if stale:
        e = S["column.stale"]
        vetoed = [x["name"] for x in checked if any(f["rule"] == "site.veto_columns" for f in x["findings"])]
        stale.sort(key=lambda p: p[1]["facts"].get("newest_date") or "")
        examples = []
        for x, f in _chosen(chosen, "column.stale", stale, one,
                            _pick(stale, k, lambda p: p[0]["name"])):  # the oldest column of the k worst sites
            newest = f["facts"].get("newest_date")
            days = (as_of - dt.date.fromisoformat(newest)).days if newest else ""
            examples.append(_example(e, f, x["name"], days=days))
        add(group("column.stale"), _fill(e["text"], {
            "sites": len({x["name"] for x, _ in stale}), "n": len(stale), "examples": "；".join(examples),
            "vetoed": _fill(e["vetoed"], {"names": "、".join(vetoed)}) if vetoed else ""}))
    empty = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "column.empty"]
    if empty:
        e = S["column.empty"]
        by_site: dict[str, list] = {}
        for x, f in empty:
            by_site.setdefault(x["name"], []).append(f)
        worst = _chosen(chosen, "column.empty", list(by_site.items()), lambda kv: [f["id"] for f in kv[1]],
                        sorted(by_site.items(), key=lambda kv: -len(kv[1]))[:k])
        ex = "；".join(_example(e, fs[0], name, columns="".join(f"“{f['column']}”" for f in fs[:3]), more="等" if len(fs) > 3 else "")
                      for name, fs in worst)
        add(group("column.empty"), _fill(e["text"], {"sites": len(by_site), "n": len(empty), "examples": ex}))
    links = [(x, line) for x in checked for line in problem_lines(x["findings"]) if line["rule"] in LINK_RULES]
    bad = [(x, line) for x, line in links if set(line["rules"]) & set(ILLEGAL_RULES)]  # one link, one entry
    if bad:
        e = S["link.illegal"]
        bad.sort(key=lambda p: p[1]["rule"] != "link.illegal")  # illegal links first
        lcfg = link_words(tpl)
        shown = _chosen(chosen, ILLEGAL_RULES, bad, lambda p: p[1]["finding_ids"],
                        _pick(bad, k, lambda p: (p[0]["name"], p[1]["shown_url"])))
        ex = "；".join(_cite(_example(e, line, x["name"], on_page=_on_page(x, line), link=line["link"], reasons="，".join(line["reasons"])),
                            _evidence_ref(line, lcfg)) for x, line in shown)
        labels = list(dict.fromkeys(line["label"] for _, line in bad if line.get("label")))
        add(group("link.illegal"), _fill(e["text"], {"sites": len({x["name"] for x, _ in bad}), "n": len(bad), "examples": ex,
                                                     "kinds": "、".join(labels) + "等" if labels else ""}))
    dead = [(x, line) for x, line in links if line["rules"] == ["link.dead"]]  # a dead illegal link is reported above
    if dead:
        e = S["link.dead"]
        ex = "；".join(_example(e, line, x["name"], scope="外部" if line["facts"].get("external") else "站内",
                                anchor=line.get("anchor") or line["url"], why=_why(line["facts"]))
                      for x, line in _chosen(chosen, "link.dead", dead, lambda p: p[1]["finding_ids"], dead[:k]))
        add(group("link.dead"), _fill(e["text"], {"sites": len({x["name"] for x, _ in dead}), "n": len(dead), "examples": ex}))
    offline = [x for x in checked if (x.get("links_external") or {}).get("state") == "unknown"]
    if offline:  # no route to the internet from the checking machine: not the sites' fault, not dead links
        names_ = "、".join(x["name"] for x in offline[:k]) + ("等" if len(offline) > k else "")
        add(group("link.dead"), _fill(S["links_offline"]["text"], {"sites": len(offline), "names": names_}))
    names = rule_names()
    for rule, meta in catalog.items():
        if rule in _SPECIAL:
            continue
        hits = [(x, f) for x in checked for f in x["findings"] if f["rule"] == rule]
        hits.sort(key=lambda xf: _SEVERITY_ORDER.get(xf[1]["facts"].get("severity") or xf[1].get("severity"), 1))  # worst first
        if hits:
            e = {**S["default"], **S.get(rule, {})}
            ex = "；".join(_example(e, f, x["name"]) for x, f in _chosen(
                chosen, rule, hits, one, _pick(hits, k, lambda p: _same(p[0]["name"], p[1]))))
            add(meta["group"], _fill(e["text"], {"sites": len({x["name"] for x, _ in hits}), "name": names[rule], "n": len(hits),
                                                 "examples": ex}))
    other: dict[str, list] = {}
    for a in data.get("accounts", []):
        for f in a["findings"]:
            other.setdefault(f["rule"], []).append(f)
    for f in data.get("office_findings", []):  # document register, proposals, reply letters
        other.setdefault(f["rule"], []).append(f)
    order = list(catalog)
    for rule, fs in sorted(other.items(), key=lambda kv: (not any(f.get("veto") for f in kv[1]),
                                                          order.index(kv[0]) if kv[0] in order else 999)):
        if rule in names:
            e = {**S["other"], **S.get(rule, {})}
            ex = "；".join(_example(e, f, f.get("site") or "") for f in _chosen(
                chosen, rule, fs, lambda f: [f["id"]], _pick(fs, k, lambda f: _same("", f))))
            add(catalog.get(rule, {}).get("group", "newmedia"), _fill(e["text"], {
                "name": names[rule], "n": len(fs), "unit": "个" if rule.startswith("newmedia.") else "处", "examples": ex}))
    e = S["availability"]
    if unknown:
        ex = "；".join(_fill(e["example"], {"site": x["name"], "reason": _inline(x["reason"]) or "原因不明"}) for x in unknown[:5])
        more = f"等{len(unknown)}个网站" if len(unknown) > 5 else ""
        lead = "在检查期间无法访问，本轮未能完成检查" if all(x.get("site_fault", True) for x in unknown) else "本轮未能完成检查"
        add("availability", _fill(e["text"], {"n": len(unknown), "lead": lead, "examples": ex, "more": more}))
    capped = [x for x in checked if not (x.get("coverage") or {}).get("complete", True)]
    if capped:  # a crawl stopped by the safety limit: what was not checked is said, never left out silently
        add("availability", "；".join(_fill(e["capped"], {"site": x["name"], "max_pages": x["coverage"]["max_pages"],
                                                          "not_fetched": x["coverage"]["not_fetched"]}) for x in capped))
    order_titles = list(dict.fromkeys(sec["title"] for sec in cfg["sections"]))
    groups = [(t, "。".join(written.pop(t)) + "。") for t in order_titles if t in written]
    groups += [(t, "。".join(v) + "。") for t, v in written.items()]  # 其他问题
    present = [i for i in rc.get("items", []) if i["state"] == "present"]
    if present:
        ex = "；".join(f"{i['org']['unit']}{'（' + i['where'] + '）' if i['where'] and i['where'] != i['org']['unit'] else ''}{i['detail']}"
                      for i in present[:k])
        groups.append((tpl["recheck"]["group"], _fill(tpl["recheck"]["group_text"], {
            "units": len({i["org"]["unit"] for i in present}), "present": len(present), "examples": ex})))
    return groups or [("未发现突出问题", cfg["none"])]


def deadline_of(data: dict) -> tuple[dt.date | None, int]:
    """The rectification deadline the bulletin prints, and its working days: data["rectify"] (reports.data.rectify_info:
    from the issue date once issued, from the as-of date before). Data made without it (older round.json, tests): the
    scheme's rectify.toml `days` working days after the as-of date. A year the working-day calendar does not know
    gives no date (None): the bulletin then says 通报印发后第N个工作日, never a guessed date."""
    from ..engine.workdays import UnknownYear
    from ..rules.ruleset import RuleSet

    rf = data.get("rectify")
    if rf:
        return (dt.date.fromisoformat(rf["deadline"]) if rf.get("deadline") else None), int(rf["days"])
    rules = RuleSet.load((data["round"].get("scheme") or {}).get("key") or "national-2019")
    days = int((rules.get("rectify") or load_rules("rectify"))["days"])
    try:
        return rules.calendar.add_workdays(dt.date.fromisoformat(data["round"]["as_of"]), days), days
    except UnknownYear:
        return None, days


def _counted(clauses: dict, counts: dict) -> str:
    """The clauses of bulletin.toml [rectification] clauses whose count is not 0, in their order, joined by ，."""
    return "，".join(_fill(text, counts) for key, text in clauses.items() if counts.get(key))


def rectification_paragraph(rf: dict, tpl: dict, fields: dict) -> str:
    """复查整改情况 from the items issued by earlier rounds (reports.data.rectification_data): every state counted
    (0s left out; 均已整改 only when every item was verified fixed), then the annual-assessment deductions of the
    units with overdue items."""
    cfg = tpl["rectification"]
    f = {**fields, **{k: v for k, v in rf.items() if not isinstance(v, (list, dict))}}
    if rf["fixed"] == rf["total"]:
        text = _fill(cfg["all_fixed"], f)
    else:
        text = _fill(cfg["paragraph"], {**f, "counts": _counted(cfg["clauses"], rf)})
    if rf.get("deductions"):
        text += _fill(cfg["deductions"], {**f, "list": "；".join(
            _fill(cfg["deduction"], {**f, **d}) for d in rf["deductions"])})
    return text


def rectification_table(rf: dict, tpl: dict, fields: dict) -> dict:
    """附件 整改情况: per responsible unit, the items issued to it and how they stand, with the deduction."""
    cfg = tpl["rectification"]

    def cells(c: dict, deduction) -> list:
        return [c["total"], c["fixed"], c["present"], c["overdue"], c["unverified"], f"{c['disputed']}/{c['accepted']}",
                c["open"] + c["claimed"], deduction]

    rows = [[str(n), u["unit"], *cells(u, u["deduction"])] for n, u in enumerate(rf["units"], start=1)]
    total = sum(u["deduction"] for u in rf["units"])
    rows.append(["", "合计", *cells(rf, int(total) if float(total).is_integer() else total)])
    return {"key": "rectification", "label": "", "title": _fill(cfg["table_title"], {**fields, "previous": rf["previous"]}),
            "headers": ["序号", "责任单位", "下发问题数", "已整改", "仍存在", "逾期", "未能复查", "申诉中/申诉成立",
                        "待整改/已反馈", "年度考核扣分"],
            "rows": [[str(v) for v in row] for row in rows], "widths": [8, 44, 16, 14, 14, 12, 16, 22, 20, 18], "merge": []}


def compose(data: dict) -> dict:
    r, s = data["round"], data["summary"]
    as_of = dt.date.fromisoformat(r["as_of"])
    tpl = load_rules("bulletin")
    due, days = deadline_of(data)
    deadline = cn_date(due) if due else f"通报印发后第{days}个工作日"  # a year without a working-day calendar
    region, office, quarter = r["region"], r["office"], r["quarter"]
    sites = data["sites"]
    checked = [x for x in sites if x["status"] == "checked"]
    unknown = [x for x in sites if x["status"] != "checked"]
    portals = sum(1 for x in sites if x["is_portal"])

    ov = tpl["overview"]
    fields = {**s, "region": region, "office": office, "quarter": quarter, "period": r.get("quarter_short", quarter),
              "sites_total": len(sites), "sites_unknown": len(unknown), "portals": portals,
              "accounts_unknown": s.get("accounts_total", 0) - s.get("accounts_checked", 0),
              "accounts_unfiled": sum(1 for a in data.get("accounts", []) for f in a["findings"] if f["rule"] == "newmedia.not_filed"),
              "mailbox_name": ov["mailbox_name"], "hotline_name": ov["hotline_name"],
              "filing_systems": tpl.get("attachments", {}).get("filing_systems", "“全国政务新媒体信息报送系统”")}
    paras: list[str] = []
    if sites:
        if checked:
            text = _fill(ov["website"], fields)
            if unknown:
                text += _fill(ov["website_unknown"], fields) if all(x.get("site_fault", True) for x in unknown) else \
                    f"另有{len(unknown)}个网站本轮未能完成检查（{_why_unchecked(unknown)}），不计入合格率。"
            failed = [x for x in checked if x["verdict"] == "fail"]
            if failed and ov.get("website_failed"):  # the failing websites by name, with why
                text += _fill(ov["website_failed"], {**fields, "failed": "；".join(
                    x["name"] + (f"（{'，'.join(x.get('fail_reasons') or [])}）" if x.get("fail_reasons") else "") for x in failed)})
        else:  # nothing checked: say so, and why, in Chinese; no rate
            text = _fill(ov.get("website_none", "政府网站。本轮未能完成对任何网站的检查（共{sites_total}个网站），原因：{reasons}。"),
                         {**fields, "reasons": _why_unchecked(unknown)})
        paras.append(text)
        if s["columns_checked"]:
            unknown_text = ""
            if s["columns_unknown"]:  # columns whose category is not recognised are could-not-check too, and said so
                unknown_text = (_fill(ov["columns_unknown_any"], fields) + _fill(ov["columns_unclassified"], fields)
                                if s.get("columns_unclassified") else _fill(ov["columns_unknown"], fields))
            paras.append(_fill(ov["columns"], fields) + unknown_text)
    if s.get("accounts_total"):
        if s.get("accounts_checked"):
            text = _fill(ov["newmedia"], fields) + (_fill(ov["newmedia_unknown"], fields) if fields["accounts_unknown"] else "")
        else:  # no account could be judged: no rate
            text = _fill(ov.get("newmedia_none", "政务新媒体。本轮未能完成对{region}{accounts_total}个政务新媒体的检查。"), fields)
        paras.append(text + (_fill(ov["newmedia_unfiled"], fields) if fields["accounts_unfiled"] else ""))
    rank = ranking(sites, tpl["ranking"], fields) if r.get("period_start") and checked else ""  # no period, no volumes
    if rank:
        paras.append(rank)
    rc = data.get("recheck") or {}
    rf = data.get("rectification") or {}
    if rf.get("total") and not r.get("recheck_of"):  # the items say how the earlier problems stand
        paras.append(rectification_paragraph(rf, tpl, fields))
    elif rc.get("total"):
        rcf = {**fields, **{k: v for k, v in rc.items() if k != "items"}}
        if rc["fixed"] + rc["present"] == 0:  # nothing could be re-checked: no rate
            paras.append(_fill(tpl["recheck"].get("none_checked", "复查整改情况。对{previous}中发现的{total}个问题均未能复查。"), rcf))
        else:
            text = _fill(tpl["recheck"]["all_fixed" if rc["fixed"] == rc["total"] else "partly"], rcf)
            paras.append(text + (_fill(tpl["recheck"]["unknown"], rcf) if rc["unknown"] else ""))
    overview = [f"（{cn_number(i + 1)}）{p}" for i, p in enumerate(paras)]
    reg = data.get("registers") or {}
    for key, head in (("documents", "公文公开"), ("proposals", "建议提案办理"), ("replies", "依申请公开答复")):
        if reg.get(key):
            overview.append(f"（{cn_number(len(overview) + 1)}）{head}。{reg[key]['text']}")
    for channel in ("mailbox", "hotline"):
        if data.get("letters", {}).get(channel):
            text = _fill(ov[channel], {**fields, "letters": data["letters"][channel]["text"]})
            overview.append(f"（{cn_number(len(overview) + 1)}）{text}")

    use_items = bool(rf.get("total")) and not r.get("recheck_of")
    groups = problem_groups(data, checked, unknown, {} if use_items else rc, as_of, tpl)
    if use_items and rf.get("unfixed"):  # 整改不到位 from the items still present or overdue
        if groups == [("未发现突出问题", problems_config()["none"])]:
            groups = []
        k = problems_config()["examples"]
        un = rf["unfixed"]
        ex = "；".join(f"{i['unit']}{'（' + i['site'] + '）' if i['site'] and i['site'] != i['unit'] else ''}{i['detail']}"
                      for i in un[:k])
        groups.append((tpl["rectification"]["group"], _fill(tpl["rectification"]["group_text"], {
            "units": len({i["unit"] for i in un}), "n": len(un), "present": sum(i["state"] == "present" for i in un),
            "overdue": sum(i["state"] == "overdue" for i in un), "examples": ex})))

    attachments = attachment_tables(data, {"quarter": quarter, "name": r["name"], "region": region})
    if use_items:
        attachments.append(rectification_table(rf, tpl, {"quarter": quarter, "name": r["name"], "region": region}))
        for i, a in enumerate(attachments, start=1):
            a["label"] = f"附件{i}"
    title = f"关于{quarter}{region}政府网站检查情况的通报"
    intro = (f"根据政府网站监管工作要求，{office}以{cn_date(as_of)}为检查时点，对{region}政府网站开展了{quarter}检查。"
             "现将有关情况通报如下：")
    if r.get("recheck_of") and rc:  # a re-check round's own bulletin: the re-check and what is still there
        rcf = {"previous": rc["previous"], "office": office, "date": cn_date(as_of)}
        title, intro = _fill(tpl["recheck"]["title"], rcf), _fill(tpl["recheck"]["intro"], rcf)
        attachments = [recheck_table(rc, _fill(tpl["recheck"]["table_title"], rcf))] if rc["total"] else []
    recipients = re.sub(r"[：:\s]+$", "", r.get("recipients") or "")
    return clean({
        "title": title,
        "doc_number": (r.get("doc_number") or "").strip(),
        "recipients": recipients + "：" if recipients else "",
        "intro": intro,
        "overview": overview,
        "groups": [(f"（{cn_number(i + 1)}）{name}。", text) for i, (name, text) in enumerate(groups)],
        "requirements": [p.format(office=office, deadline=deadline) for p in tpl["requirements"]],
        "attachment_list": [f"{i}.{a['title']}" for i, a in enumerate(attachments, start=1)],
        "office": office,
        "date": cn_date(as_of),
        "deadline": deadline,
        "attachments": attachments,
    })


def clean(value):
    """Every string of the composed bulletin through one filter (data.cn_text): no character XML cannot hold,
    one date format, no doubled words. Applied once, to what compose returns."""
    if isinstance(value, str):
        return cn_text(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean(v) for v in value)
    return value


def _why_unchecked(sites: list[dict]) -> str:
    """Websites not checked, grouped by reason: 网站地址属于内网或本机地址，检查设置未放行（甲、乙等9个网站）；首页无法访问，访问超时（丙）."""
    by_reason: dict[str, list[str]] = {}
    for x in sites:
        by_reason.setdefault(x.get("reason") or "原因不明", []).append(x["name"])
    parts = []
    for reason, names in by_reason.items():
        who = names[0] if len(names) == 1 else f"{'、'.join(names[:3])}{'等' if len(names) > 3 else ''}{len(names)}个网站"
        parts.append(f"{_inline(reason)}（{who}）")
    return "；".join(parts)


# ------------------------------------------------------------------------------------------ docx
def _font(run, east: str, size: float, bold: bool = False, latin: str | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = latin or load_rules("bulletin")["fonts"]["latin"]
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east)


def _para(doc, text: str, east: str, size: float = 16, align=None, indent: bool = True, bold: bool = False, space_before: float = 0):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28.95)
    fmt.space_after = Pt(0)
    fmt.space_before = Pt(space_before)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), east, size, bold)
    return p


def _page_number_footer(section, fonts) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", 14)
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    _font(run, "宋体", 14)
    _font(p.add_run(" —"), "宋体", 14)


def _page_setup(doc, fonts) -> None:
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    _page_number_footer(sec, fonts)


def default_template(path: str | Path | None = None):
    """The bulletin template (docxtpl: Jinja tags in a .docx). Operators save it with `govinspect report-template`,
    edit wording, fonts and layout in Word or WPS, and point GOVINSPECT_BULLETIN_TEMPLATE (or --template) at it.
    Tags: title doc_number (文号, may be empty) recipients (主送 line with its colon, may be empty) intro overview[]
    groups[].head/.text requirements[] attachment_list[] office date charts[].image/.caption;
    the 附件 tables are appended after the template's last paragraph."""
    fonts = load_rules("bulletin")["fonts"]
    doc = Document()
    _page_setup(doc, fonts)
    _para(doc, "{{ title }}", fonts["title"], 22, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    # 文号 under the title; without one this line is the blank line under the title (and a tag broken in Word,
    # such as "{{ title ", runs into it and is reported instead of swallowing the title)
    _para(doc, "{{ doc_number }}", fonts["body"], 16, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, "{%p if doc_number %}", fonts["body"], indent=False)
    _para(doc, "", fonts["body"], 16, indent=False)
    _para(doc, "{%p endif %}", fonts["body"], indent=False)
    _para(doc, "{%p if recipients %}", fonts["body"], indent=False)
    _para(doc, "{{ recipients }}", fonts["body"], indent=False)
    _para(doc, "{%p endif %}", fonts["body"], indent=False)
    _para(doc, "{{ intro }}", fonts["body"])
    _para(doc, "一、总体情况", fonts["heading1"]).paragraph_format.keep_with_next = True  # no heading alone at a page foot
    _para(doc, "{%p for t in overview %}", fonts["body"])
    _para(doc, "{{ t }}", fonts["body"])
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "{%p for c in charts %}", fonts["body"])
    _para(doc, "{{ c.image }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.CENTER, indent=False).paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _para(doc, "{{ c.caption }}", fonts["heading2"], 14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "二、存在的主要问题", fonts["heading1"]).paragraph_format.keep_with_next = True  # no heading alone at a page foot
    _para(doc, "{%p for g in groups %}", fonts["body"])
    p = _para(doc, "", fonts["body"])
    _font(p.add_run("{{ g.head }}"), fonts["heading2"], 16)
    _font(p.add_run("{{ g.text }}"), fonts["body"], 16)
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "三、下一步工作要求", fonts["heading1"]).paragraph_format.keep_with_next = True  # no heading alone at a page foot
    _para(doc, "{%p for t in requirements %}", fonts["body"])
    _para(doc, "{{ t }}", fonts["body"])
    _para(doc, "{%p endfor %}", fonts["body"])
    # the 附件 list, 落款 and date kept together: the signature page never stands without text (GB/T 9704 7.3.5)
    _para(doc, "", fonts["body"]).paragraph_format.keep_with_next = True
    _para(doc, "{%p for a in attachment_list %}", fonts["body"])
    _para(doc, "{{ a }}", fonts["body"]).paragraph_format.keep_with_next = True
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "", fonts["body"]).paragraph_format.keep_with_next = True
    _para(doc, "{{ office }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False).paragraph_format.keep_with_next = True
    _para(doc, "{{ date }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        doc.save(path)
        return Path(path)
    import io

    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    return buf


def template_path(explicit: str | Path | None = None) -> Path | None:
    """--template, else GOVINSPECT_BULLETIN_TEMPLATE, else DATA_DIR/templates/通报模板.docx when present."""
    import os

    from django.conf import settings

    for cand in (explicit, os.environ.get("GOVINSPECT_BULLETIN_TEMPLATE")):
        if cand:
            if not Path(cand).is_file():
                raise RulesError(f"通报模板 {cand} 不存在")
            return Path(cand)
    own = Path(settings.DATA_DIR) / "templates" / "通报模板.docx"
    return own if own.is_file() else None


def write_bulletin(data: dict, path: str | Path, template: str | Path | None = None, charts: list[dict] | None = None,
                   composed: dict | None = None) -> Path:
    """Render the bulletin: the (operator's) docxtpl template for the body, then the 附件 tables."""
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError

    c = composed or compose(data)
    fonts = load_rules("bulletin")["fonts"]
    chosen = template_path(template)
    tpl = DocxTemplate(chosen if chosen is not None else default_template())
    prefixed = [("附件：" if i == 0 else "　　　") + a for i, a in enumerate(c["attachment_list"])]
    context = {**c, "groups": [{"head": h, "text": t} for h, t in c["groups"]], "attachment_list": prefixed,
               "charts": [{"image": InlineImage(tpl, str(ch["path"]), width=Mm(140)), "caption": f"图{i} {ch['caption']}"}
                          for i, ch in enumerate(charts or [], start=1)]}
    try:
        tpl.render(context, autoescape=True)
    except TemplateError as e:
        raise RulesError(f"通报模板 {chosen} 有误：{e}") from None
    doc = tpl.docx
    for att in c["attachments"]:
        _append_attachment(doc, att, fonts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = write_evidence(data, path.parent)
    _link_evidence(doc, set(written))
    doc.save(path)
    return path


_EVIDENCE_REF = re.compile(r"证据/[^\s，。；、：（）()“”]+?\.html")


def _link_evidence(doc, files: set[str]) -> None:
    """Each 证据/….html named in the text becomes a hyperlink to that file beside the bulletin (a relative link:
    the report folder moves as a whole). Only our own archived copies: nothing else is ever linked."""
    paragraphs = list(doc.paragraphs) + [p for t in doc.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    for p in paragraphs:
        for run in list(p.runs):
            text = run.text
            if not any(m[0] in files for m in _EVIDENCE_REF.finditer(text)):
                continue
            r = run._r
            parent, at = r.getparent(), r.getparent().index(r)
            pieces, last = [], 0
            for m in _EVIDENCE_REF.finditer(text):
                if m[0] not in files:
                    continue
                pieces += [(text[last:m.start()], None), (m[0], m[0])]
                last = m.end()
            pieces.append((text[last:], None))
            parent.remove(r)
            for piece, target in pieces:
                if not piece:
                    continue
                new = copy.deepcopy(r)
                for child in list(new):
                    if child.tag != qn("w:rPr"):
                        new.remove(child)
                el = OxmlElement("w:t")
                el.set(qn("xml:space"), "preserve")
                el.text = piece
                new.append(el)
                if target:
                    rpr = new.get_or_add_rPr()
                    u = OxmlElement("w:u")
                    u.set(qn("w:val"), "single")
                    rpr.append(u)
                    link = OxmlElement("w:hyperlink")
                    link.set(qn("r:id"), p.part.relate_to(quote(target), RT.HYPERLINK, is_external=True))
                    link.append(new)
                    new = link
                parent.insert(at, new)
                at += 1


_EVIDENCE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>页面存档（证据）</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:1em}}
pre{{white-space:pre-wrap;word-break:break-all;border:1px solid #999;padding:1em;background:#fafafa}}mark{{background:#ffd24d}}</style>
</head><body>
<h1>页面存档（证据）</h1>
<table>
<tr><th>网站</th><td>{site}</td></tr>
<tr><th>页面地址</th><td>{page}</td></tr>
<tr><th>抓取时间</th><td>{when}</td></tr>
<tr><th>存档</th><td>{warc}（第 {offset} 字节处的记录，WARC 格式，可用任何 WARC 工具核对）</td></tr>
<tr><th>违法违规或隐藏链接的域名</th><td>{hosts}</td></tr>
</table>
<p>以下是检查时抓取的该页面源代码，只以文字显示：不执行脚本、不加载任何外部资源，其中的地址不可点击。含上述域名的行以底色标出。</p>
<pre>{source}</pre>
</body></html>
"""


def _cn_time(stamp: str) -> str:
    """A WARC-Date (UTC) in the reports' date format: 2026年11月28日 17:05:04（世界协调时）."""
    try:
        t = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return f"{cn_date(t.date())} {t:%H:%M:%S}（世界协调时）"


def write_evidence(data: dict, out_dir: str | Path) -> list[str]:
    """证据/*.html: for each illegal or hidden link, our archived copy of the page that carries it, read from the
    site's WARC file and shown as escaped text (it can never run the page's scripts or reach the illegal site).
    Returns the files written, relative to out_dir."""
    from warcio.archiveiterator import ArchiveIterator

    from ..engine.extract.decode import decode_html
    from .data import defang

    folder = Path(out_dir) / "证据"
    if folder.is_dir():
        for old in folder.glob("网站*.html"):  # a regenerated report keeps no evidence of problems that are gone
            old.unlink()
    written = []
    for cap in data.get("captures") or []:
        try:
            with open(cap["warc"], "rb") as fh:
                fh.seek(cap["offset"])
                rec = next(iter(ArchiveIterator(fh)))
                body = rec.content_stream().read()
                when = _cn_time(rec.rec_headers.get_header("WARC-Date") or "")
                ctype = rec.http_headers.get_header("Content-Type") if rec.http_headers else None
        except (OSError, StopIteration, ValueError):
            continue
        text = decode_html(body, ctype)[0]
        hosts = [h.lower() for h in cap.get("hosts", [])]
        lines = []
        for line in text.splitlines():
            esc = html.escape(xml_safe(line))
            lines.append(f"<mark>{esc}</mark>" if any(h in line.lower() for h in hosts) else esc)
        folder.mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / cap["file"]).write_text(_EVIDENCE_PAGE.format(
            site=html.escape(cap.get("site") or ""), page=html.escape(cap["page"]), when=html.escape(when),
            warc=html.escape(Path(cap["warc"]).name), offset=int(cap["offset"]),
            hosts=html.escape("、".join(defang(h) for h in hosts)), source="\n".join(lines)), encoding="utf-8")
        written.append(cap["file"])
    return written


def _append_attachment(doc, att: dict, fonts: dict) -> None:
    """Each attachment starts a new section (new page); wide tables get a landscape page."""
    new = doc.add_section(WD_SECTION.NEW_PAGE)
    wide = len(att["headers"]) > 5
    new.orientation = WD_ORIENT.LANDSCAPE if wide else WD_ORIENT.PORTRAIT
    new.page_width, new.page_height = (Mm(297), Mm(210)) if wide else (Mm(210), Mm(297))
    new.top_margin, new.bottom_margin = (Mm(28), Mm(26)) if wide else (Mm(37), Mm(35))
    new.left_margin, new.right_margin = (Mm(37), Mm(35)) if wide else (Mm(28), Mm(26))
    text_width = 225 if wide else 156
    _para(doc, att["label"], fonts["heading1"], indent=False)
    _para(doc, att["title"], fonts["title"], 18, WD_ALIGN_PARAGRAPH.CENTER, indent=False, space_before=6)
    table = doc.add_table(rows=1, cols=len(att["headers"]))
    try:
        table.style = "Table Grid"
    except KeyError:  # an operator's template without Word's built-in table style: draw the grid ourselves
        borders = OxmlElement("w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            b = OxmlElement(f"w:{side}")
            for k, v in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
                b.set(qn(f"w:{k}"), v)
            borders.append(b)
        table._tbl.tblPr.append(borders)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, h in zip(table.rows[0].cells, att["headers"]):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(h), fonts["heading1"], 12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in att["rows"]:
        cells = table.add_row().cells
        for cell, v in zip(cells, row):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(str(v)), fonts["body"], 12)
    for col, runs in merged_runs(att["rows"], att.get("merge", [])).items():
        for first, last in runs:  # equal 区域 / 主管单位 cells become one, as in the seeds
            top = table.cell(first + 1, col)
            top.merge(table.cell(last + 1, col))
            for extra in top.paragraphs[1:]:  # merge() keeps every cell's paragraph: keep one
                extra._element.getparent().remove(extra._element)
    total = sum(att["widths"])
    table.autofit = False
    for col, w in zip(table.columns, att["widths"]):
        col.width = Mm(text_width * w / total)
    for row in table.rows:
        for cell, w in zip(row.cells, att["widths"]):
            cell.width = Mm(text_width * w / total)
