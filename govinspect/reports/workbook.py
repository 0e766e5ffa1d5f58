"""附件.xlsx: the bulletin's attachment tables, one sheet each, plus per-site statistics."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .bulletin import compose
from .tables import rule_names


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], widths: list[int]) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for c in ws[1]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center")
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, ws.max_row)}"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def write_workbook(data: dict, path: str | Path, composed: dict | None = None) -> Path:
    c = composed or compose(data)
    wb = Workbook()
    wb.remove(wb.active)
    for att in c["attachments"]:
        _sheet(wb, f"{att['label']} {att['title']}"[:31], att["headers"], att["rows"], att["widths"])
    names = rule_names()
    detail = [[i, s["name"], f["column"] or "", names.get(f["rule"], f["rule"]), f["evidence"].get("newest_date") or "—",
               f["responsible_unit"], f["url"]]
              for i, (s, f) in enumerate(((s, f) for s in data["sites"] for f in s["findings"]
                                          if f["rule"] in ("column.stale", "column.empty")), start=1)]
    _sheet(wb, "栏目问题明细", ["序号", "网站", "栏目", "问题", "最新信息日期", "责任单位", "栏目地址"], detail, [8, 30, 24, 18, 14, 30, 50])
    verdict = {"pass": "合格", "fail": "不合格", "unknown": "未能检查"}
    rows = [[i, s["name"], s["unit"], s["url"], verdict[s["verdict"]], s["pages_fetched"], s["home_newest"] or "—",
             sum(c["status"] == "stale" for c in s["columns"]), sum(c["status"] == "empty" for c in s["columns"]),
             sum(c["status"] == "unknown" for c in s["columns"]), s["publication_count"], s["reason"]]
            for i, s in enumerate(data["sites"], start=1)]
    _sheet(wb, "网站统计", ["序号", "网站", "主办单位", "首页地址", "结论", "抓取页面数", "首页最新信息", "更新不及时栏目",
                         "空白栏目", "未能检查栏目", "统计期内发布信息", "说明"], rows, [8, 30, 30, 40, 10, 12, 14, 14, 10, 12, 16, 40])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_rectification_lists(data: dict, out_dir: str | Path, composed: dict | None = None) -> Path:
    """整改清单: one workbook per responsible unit with its problems, the evidence link and the deadline; the unit fills
    in 整改情况 and returns it. Units without problems get no file."""
    import re

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.xlsx"):  # a regenerated report must not keep lists of problems that are gone
        old.unlink()
    deadline = (composed or compose(data))["deadline"]  # the bulletin's own deadline
    names = rule_names()
    by_unit: dict[str, list[dict]] = {}
    for f in data["findings"]:
        by_unit.setdefault(f["responsible_unit"] or f["unit"], []).append(f)
    for unit, fs in sorted(by_unit.items()):
        wb = Workbook()
        wb.remove(wb.active)
        rows = [[i, f["site"] or "—", names.get(f["rule"], f["rule"]), f["detail"], f["url"], deadline, "", ""]
                for i, f in enumerate(fs, start=1)]
        _sheet(wb, "整改清单", ["序号", "网站/账号", "问题类型", "问题", "证据链接", "整改期限", "整改情况（由责任单位填写）", "备注"], rows,
               [6, 26, 20, 60, 50, 16, 30, 16])
        ws = wb["整改清单"]
        for r in range(2, ws.max_row + 1):
            link = ws.cell(r, 5)
            if str(link.value).startswith(("http://", "https://")):
                link.hyperlink = str(link.value)
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", unit)[:80] or "未指定单位"
        wb.save(out / f"{safe}.xlsx")
    return out
