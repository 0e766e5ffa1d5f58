"""The document register (公文公开属性台账): 文号, title, dates, disclosure attribute, publication and
interpretation — imported from CSV/XLSX/XLS (engine/letters.read_table) and checked.

Checks: a 主动公开 document published later than 20 working days after it was made (条例 Art. 26; a local
scheme may be shorter: rules/register.toml); 不予公开/依申请公开 without a reason; a document that needs an
interpretation without one, or with one published later than the local limit. Statistics give seed 001's
sentence (69 documents, 62 主动公开, 25 need interpretation, 21 interpreted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .finding import Finding, Location, Subject, iso
from ..rules.ruleset import RuleSet
from .letters import LettersError, RowError, find_columns, parse_datetime, read_table
from .workdays import UnknownYear

HEADERS = {
    "number": ["文号", "发文字号", "文件编号"], "title": ["标题", "文件标题", "文件名称", "名称"],
    "made": ["成文日期", "印发日期", "发文日期"], "unit": ["发文单位", "发文机关", "制发单位"],
    "attribute": ["公开属性", "公开方式"], "reason": ["不公开理由", "不予公开理由", "理由", "依申请公开理由"],
    "url": ["公开网址", "发布网址", "链接"], "published": ["公开日期", "发布日期", "公开时间"],
    "needs_interpretation": ["是否需要解读", "需要解读"], "interpretation_url": ["解读网址", "解读链接"],
    "interpretation_date": ["解读日期", "解读发布日期"],
}
ATTRIBUTES = {"主动公开": "主动公开", "依申请公开": "依申请公开", "不予公开": "不予公开", "不公开": "不予公开"}


@dataclass
class Document:
    row: int  # the row number in the file
    title: str
    attribute: str
    number: str = ""
    unit: str = ""
    made: dt.date | None = None
    reason: str = ""
    url: str = ""
    published: dt.date | None = None
    needs_interpretation: bool = False
    interpretation_url: str = ""
    interpretation_date: dt.date | None = None
    file: str = ""  # the register file's name


@dataclass
class RegisterResult:
    documents: list[Document]
    errors: list[RowError]
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def read_register(path: Path) -> tuple[list[Document], list[RowError]]:
    headers, rows, first = read_table(Path(path))
    col = find_columns(headers, HEADERS)
    missing = [f for f in ("title", "attribute") if f not in col]
    if missing:
        raise LettersError(f"台账缺少“{'、'.join(HEADERS[f][0] for f in missing)}”列（表头：{'、'.join(h for h in headers if h)}）")
    docs, errors = [], []
    for n, row in enumerate(rows, start=first):
        if not any(str(v or "").strip() for v in row):
            continue
        get = lambda f: str(row[col[f]] or "").strip() if f in col and col[f] < len(row) and row[col[f]] is not None else ""
        attr = ATTRIBUTES.get(get("attribute"))
        if attr is None:
            errors.append(RowError(n, "公开属性", f"应为主动公开、依申请公开或不予公开，实际为“{get('attribute')}”"))
            continue
        dates = {}
        bad = False
        for f in ("made", "published", "interpretation_date"):
            try:
                v = parse_datetime(row[col[f]] if f in col and col[f] < len(row) else None)
                dates[f] = v.date() if v else None
            except ValueError as e:
                errors.append(RowError(n, HEADERS[f][0], str(e)))
                bad = True
        if bad:
            continue
        docs.append(Document(row=n, file=Path(path).name, title=get("title"), attribute=attr, number=get("number"), unit=get("unit"),
                             reason=get("reason"), url=get("url"), needs_interpretation=get("needs_interpretation") in ("是", "需要", "Y", "y", "1"),
                             interpretation_url=get("interpretation_url"), **dates))
    return docs, errors


def _doc_finding(d: Document, rule: str, detail: str) -> Finding:
    return Finding(rule=rule, detail=detail, subject=Subject(kind="register_row", unit=d.unit, ref=d.number),
                   location=Location(file=d.file, row=d.row),
                   facts={"file": d.file, "row": d.row, "number": d.number, "title": d.title, "made": iso(d.made),
                          "published": iso(d.published), "interpretation_date": iso(d.interpretation_date),
                          "url": d.url or d.interpretation_url})


def check_register(docs: list[Document], as_of: dt.date, rules: RuleSet | None = None) -> tuple[list[Finding], dict]:
    rules = rules or RuleSet.load()
    limits, cal = rules["register"], rules.calendar
    out: list[Finding] = []
    add = lambda d, rule, detail: out.append(_doc_finding(d, rule, detail))
    for d in docs:
        name = f"《{d.title}》" + (f"（{d.number}）" if d.number else "")
        if d.attribute == "主动公开":
            if d.made and d.published is None and as_of:
                try:
                    due = cal.add_workdays(d.made, limits["publish_workdays"])
                    if as_of > due:
                        add(d, "document.not_published", f"{name}为主动公开，成文于{d.made:%Y年%m月%d日}，截至检查时点未公开（应于{due:%Y年%m月%d日}前公开）")
                except UnknownYear:
                    pass
            elif d.made and d.published:
                try:
                    due = cal.add_workdays(d.made, limits["publish_workdays"])
                    if d.published > due:
                        add(d, "document.published_late", f"{name}成文于{d.made:%Y年%m月%d日}，{d.published:%Y年%m月%d日}才公开，超过{limits['publish_workdays']}个工作日")
                except UnknownYear:
                    pass
        elif not d.reason:
            add(d, "document.no_reason", f"{name}公开属性为{d.attribute}，未说明理由")
        if d.needs_interpretation:
            if not d.interpretation_url and not d.interpretation_date:
                add(d, "document.interpretation_missing", f"{name}需要解读，未发布政策解读")
            elif d.published and d.interpretation_date:
                try:
                    due = cal.add_workdays(d.published, limits["interpretation_workdays"])
                    if d.interpretation_date > due:
                        add(d, "document.interpretation_late", f"{name}{d.published:%Y年%m月%d日}公开，解读{d.interpretation_date:%Y年%m月%d日}才发布，"
                                                               f"超过{limits['interpretation_workdays']}个工作日")
                except UnknownYear:
                    pass
    stats = {"documents": len(docs), "active": sum(d.attribute == "主动公开" for d in docs),
             "on_request": sum(d.attribute == "依申请公开" for d in docs), "not_disclosed": sum(d.attribute == "不予公开" for d in docs),
             "need_interpretation": sum(d.needs_interpretation for d in docs),
             "interpreted": sum(d.needs_interpretation and bool(d.interpretation_url or d.interpretation_date) for d in docs)}
    stats["text"] = (f"共制发文件{stats['documents']}件，其中主动公开{stats['active']}件，依申请公开{stats['on_request']}件，"
                     f"不予公开{stats['not_disclosed']}件；需要解读{stats['need_interpretation']}件，已解读{stats['interpreted']}件。")
    return out, stats


# ------------------------------------------------------------------------------------------ proposals
PROPOSAL_HEADERS = {"number": ["编号", "建议编号", "提案编号", "案号"], "title": ["标题", "案由", "建议标题", "提案标题"],
                    "kind": ["类型", "类别"], "unit": ["承办单位", "主办单位"], "handled": ["是否办结", "办理状态", "办结"],
                    "url": ["答复公开网址", "公开网址", "答复网址"], "secret": ["不公开理由", "涉密"]}


def check_proposals(path: Path, rules: RuleSet | None = None) -> tuple[list[Finding], dict, list[RowError]]:
    """NPC suggestions (人大代表建议) and CPPCC proposals (政协提案): handled vs disclosed.

    A handled item without a published reply (and no stated reason such as 涉密) is `proposal.not_disclosed`
    (国办: 建议提案办理复文原则上全文公开). rules: unused (no limits of its own), taken like every checker's."""
    path = Path(path)
    headers, rows, first = read_table(path)
    col = find_columns(headers, PROPOSAL_HEADERS)
    if "title" not in col or "kind" not in col:
        raise LettersError(f"台账缺少“标题”或“类型”列（表头：{'、'.join(h for h in headers if h)}）")
    findings, errors = [], []
    counts = {"人大代表建议": [0, 0, 0], "政协提案": [0, 0, 0]}  # received, handled, disclosed
    for n, row in enumerate(rows, start=first):
        if not any(str(v or "").strip() for v in row):
            continue
        get = lambda f: str(row[col[f]] or "").strip() if f in col and col[f] < len(row) and row[col[f]] is not None else ""
        kind = "人大代表建议" if "人大" in get("kind") or "建议" in get("kind") else "政协提案" if "政协" in get("kind") or "提案" in get("kind") else None
        if kind is None:
            errors.append(RowError(n, "类型", f"应为人大代表建议或政协提案，实际为“{get('kind')}”"))
            continue
        handled = get("handled") in ("是", "已办结", "办结", "Y", "y", "1") or "办结" in get("handled") and "未" not in get("handled")
        c = counts[kind]
        c[0] += 1
        c[1] += handled
        c[2] += bool(get("url"))
        if handled and not get("url") and not get("secret"):
            findings.append(Finding(
                rule="proposal.not_disclosed", detail=f"{kind}《{get('title')}》已办结，答复未公开，也未说明不公开理由",
                subject=Subject(kind="register_row", unit=get("unit"), ref=get("number")),
                location=Location(file=path.name, row=n),
                facts={"file": path.name, "row": n, "number": get("number"), "title": get("title"), "kind": kind}))
    nd, zx = counts["人大代表建议"], counts["政协提案"]
    stats = {"npc": dict(zip(("received", "handled", "disclosed"), nd)), "cppcc": dict(zip(("received", "handled", "disclosed"), zx)),
             "text": f"承办人大代表建议{nd[0]}件、政协提案{zx[0]}件，已办结{nd[1] + zx[1]}件，公开答复{nd[2] + zx[2]}件。"}
    return findings, stats, errors
