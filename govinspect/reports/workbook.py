"""附件.xlsx: the bulletin's attachment tables, one sheet each, plus per-site statistics; 整改清单: one workbook per
responsible unit.

Problem rows come from round.json's problems (data.problem_lines): one problem, one row — a link that is dead,
illegal and hidden is one row with its three problem types. A row's evidence link is, for an illegal or hidden
link, our archived copy of the page carrying it (证据/… beside the bulletin, linked relative to the workbook); an
address the round found illegal or hidden is never written as a live link, only defanged (www[.]xxx[.]top)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..safetext import append_row, sheet_title, unique_stems, xml_text
from . import DRAFT_MARK, unfinished
from .bulletin import compose
from .data import ILLEGAL_RULES, cn_date, defang, illegal_addresses, link_words
from .tables import rule_names

LINK_FONT = Font(color="0563C1", underline="single")


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], widths: list[int], draft: bool = False,
           links: list[dict[int, str]] | None = None):
    """One sheet: bold header row, wrapped text, frozen header and a filter. Every row goes through
    safetext.append_row (no XML-illegal characters, no formulas). A draft (a round that did not finish) gets
    DRAFT_MARK as its first row and as the printed page header. `links`, parallel to `rows`: {column (1-based):
    hyperlink target} of each row."""
    ws = wb.create_sheet(sheet_title(title))
    if draft:
        append_row(ws, [DRAFT_MARK])
        ws.cell(1, 1).font = Font(bold=True, color="C00000")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(headers)))
        ws.oddHeader.center.text = DRAFT_MARK
    top = ws.max_row + 1 if draft else 1
    append_row(ws, headers)
    for c in ws[top]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center")
    for r in rows:
        append_row(ws, r)
    for row in ws.iter_rows(min_row=top + 1):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row_links in enumerate(links or [], start=top + 1):
        for col, target in row_links.items():
            ws.cell(i, col).hyperlink = xml_text(target)  # a crawled URL may carry control characters
            ws.cell(i, col).font = LINK_FONT
    ws.freeze_panes = f"A{top + 1}"
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{max(top, ws.max_row)}"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    return ws


def illegal_targets(data: dict) -> set[str]:
    """Every address the round found illegal or hidden (round.json's findings keep them as machine data)."""
    return {u for f in data["findings"] for u in illegal_addresses(f)}


def _unlive(text: str, illegal: set[str]) -> str:
    """`text` with any illegal or hidden address in it defanged (a line's own are already; this catches one cited
    by another line, e.g. a dead link of one site that is illegal on another)."""
    for u in sorted(illegal, key=len, reverse=True):
        if u in text:
            text = text.replace(u, defang(u))
    return text


def evidence_cell(line: dict, report_dir: Path, prefix: str, illegal: set[str], words: dict) -> tuple[str, str | None]:
    """(cell text, hyperlink target or None) for a problem line's evidence. An illegal or hidden link: our archived
    page 证据/… in `report_dir`, linked as `prefix` + its path (relative to the workbook), or 页面存档未找到 when it
    was not written; never the address itself. Any other line: its address, a live link unless the round found that
    address illegal or hidden."""
    link = line.get("evidence_link") or ""
    if link.startswith("证据/"):
        if (report_dir / link).is_file():
            return words["evidence"].format(file=link), prefix + link
        return words["evidence_missing"], None
    if set(line.get("rules") or [line["rule"]]) & set(ILLEGAL_RULES):
        return words["evidence_missing"], None
    if link in illegal:
        return defang(link), None
    return link, link if link.startswith(("http://", "https://")) else None


def write_workbook(data: dict, path: str | Path, composed: dict | None = None) -> Path:
    c = composed or compose(data)
    draft = unfinished(data)
    wb = Workbook()
    wb.remove(wb.active)
    for att in c["attachments"]:
        _sheet(wb, f"{att['label']} {att['title']}"[:31], att["headers"], att["rows"], att["widths"], draft)
    names = rule_names()
    columns = [x for x in data["problems"] if x["rule"] in ("column.stale", "column.empty")]
    detail = [[i, x["site"], x.get("column") or "", names.get(x["rule"], x["rule"]), x["facts"].get("newest_date") or "—",
               x["responsible_unit"], x["url"]] for i, x in enumerate(columns, start=1)]
    _sheet(wb, "栏目问题明细", ["序号", "网站", "栏目", "问题", "最新信息日期", "责任单位", "栏目地址"], detail, [8, 30, 24, 18, 14, 30, 50], draft)
    verdict = {"pass": "合格", "fail": "不合格", "unknown": "未能检查"}
    rows = [[i, s["name"], s["unit"], s["url"], verdict[s["verdict"]], s["pages_fetched"], s["home_newest"] or "—",
             sum(c["status"] == "stale" for c in s["columns"]), sum(c["status"] == "empty" for c in s["columns"]),
             sum(c["status"] == "unknown" for c in s["columns"]), s["publication_count"], s["reason"]]
            for i, s in enumerate(data["sites"], start=1)]
    _sheet(wb, "网站统计", ["序号", "网站", "主办单位", "首页地址", "结论", "抓取页面数", "首页最新信息", "更新不及时栏目",
                         "空白栏目", "未能检查栏目", "统计期内发布信息", "说明"], rows, [8, 30, 30, 40, 10, 12, 14, 14, 10, 12, 16, 40], draft)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def portal_url(item_id: int) -> str:
    """The item's page in the unit portal: GOVINSPECT_BASE_URL (the platform's address as units reach it, default
    http://127.0.0.1:8000) + /rectify/items/<id>/."""
    import os

    base = (os.environ.get("GOVINSPECT_BASE_URL") or "http://127.0.0.1:8000").strip().rstrip("/")
    return f"{base}/rectify/items/{int(item_id)}/"


ITEM_ID_HEADER = "事项编号"
CLAIM_HEADER = "整改情况（由责任单位填写）"


def write_rectification_lists(data: dict, out_dir: str | Path, composed: dict | None = None) -> Path:
    """整改清单: one workbook per responsible unit with its problems (one row per problem, data["problems"]), the
    evidence link and the deadline; the unit fills in 整改情况 and returns it. Units without problems get no file.
    Every unit has its own file: names that become the same file name get a numeric suffix (safetext.unique_stems);
    the unit's full name is the workbook title and the printed page header. The lists sit in the report folder's
    整改清单/, so an archived page 证据/… is linked as ../证据/….

    Once the round is issued (data["rectify"]["issued"]), each row starts with its rectification item's id (事项编号:
    the returned workbook is imported by it, rectify.workbook.import_claims), carries the item's own deadline and a
    link to the item in the unit portal (portal_url). A line standing for several items (a link that is illegal,
    hidden and dead) lists their ids joined by 、."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.xlsx"):  # a regenerated report must not keep lists of problems that are gone
        old.unlink()
    deadline = (composed or compose(data))["deadline"]  # the bulletin's own deadline
    rf = data.get("rectify") or {}
    issued, items = bool(rf.get("issued")), rf.get("items") or {}
    draft = unfinished(data)
    names = rule_names()
    illegal, words = illegal_targets(data), link_words()
    by_unit: dict[str, list[dict]] = {}
    for line in data["problems"]:
        by_unit.setdefault(line["responsible_unit"] or line["unit"] or "未指定单位", []).append(line)
    stems = unique_stems(by_unit)
    headers = ["序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限", CLAIM_HEADER, "备注"]
    widths = [6, 26, 20, 60, 50, 16, 30, 16]
    if issued:
        headers = [ITEM_ID_HEADER, *headers[:6], "在线办理", *headers[6:]]
        widths = [10, *widths[:6], 40, *widths[6:]]
    for unit, fs in sorted(by_unit.items()):
        wb = Workbook()
        wb.remove(wb.active)
        wb.properties.title = xml_text(f"{unit} 整改清单")[:200]
        rows, links = [], []
        for i, line in enumerate(fs, start=1):
            text, target = evidence_cell(line, out.parent, "../", illegal, words)
            row = [i, line["site"] or "—", "、".join(names.get(r, r) for r in line.get("rules") or [line["rule"]]),
                   _unlive(line["detail"], illegal), text, deadline, "", ""]
            link = {5: target} if target else {}
            if issued:
                its = list({items[str(fid)]["id"]: items[str(fid)] for fid in line.get("finding_ids") or [line["id"]]
                            if str(fid) in items}.values())
                due = min((it["deadline"] for it in its), default=None)
                ids = its[0]["id"] if len(its) == 1 else "、".join(str(it["id"]) for it in its)
                row = [ids, *row[:5], cn_date(due) if due else deadline,
                       portal_url(its[0]["id"]) if its else "", *row[6:]]
                link = {6: target} if target else {}
                if its:
                    link[8] = portal_url(its[0]["id"])
            rows.append(row)
            links.append(link)
        ws = _sheet(wb, "整改清单", headers, rows, widths, draft, links)
        ws.oddHeader.left.text = xml_text(unit)[:100].replace("&", "&&")  # & starts a code in page headers
        wb.save(out / f"{stems[unit]}.xlsx")
    return out
