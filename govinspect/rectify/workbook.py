"""A returned 整改清单 workbook read back: its filled 整改情况 column becomes claims (or disputes) of the items.

The lists are written by reports.workbook.write_rectification_lists; once the round is issued each row starts with
its item id (事项编号). import_claims reads the sheet 整改清单 through govinspect.office (bounded: zip and XML bombs,
rows, cells, characters), and for each row with an item id and a filled 整改情况 cell:

- text starting with 不属于问题 or 申诉： → rectify.services.dispute (the office accepts or rejects it);
- any other text → rectify.services.claim (the item's re-check is queued at once).

Rows in error (no id, an id that is not an item, another unit's item, a formula, a state that does not allow the act)
are reported with their row number and reason in Chinese; every other row is applied (each in its own transaction).
A row whose text is the item's last claim (or dispute) already is left alone: importing the same file twice does
nothing the second time.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import office
from ..reports.workbook import CLAIM_HEADER, ITEM_ID_HEADER

SHEET = "整改清单"
MAX_FILE_BYTES = 20 * 1024 * 1024
LIMITS = office.Limits(file_bytes=MAX_FILE_BYTES, total_uncompressed=200 * 1024 * 1024, rows=100_000, cells=2_000_000)
MAX_NOTE = 2000  # characters of one 整改情况 cell
ID_BATCH = 5000  # item ids looked up per query
DISPUTE_PREFIXES = ("不属于问题", "申诉：", "申诉:")
# control characters (tab and newline kept) and the bidirectional overrides that make a note read differently
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_ID_SPLIT = re.compile(r"[、,，;；\s]+")


def clean_text(text: str) -> str:
    """A note, reason or filter typed by a user without control characters (tab and newline kept; a NUL is refused by
    PostgreSQL) and bidirectional overrides (text that reads differently from what it is): the same cleaning for the
    web's forms, the API and this import."""
    return _CONTROL.sub("", text)


class ClaimImportError(ValueError):
    """The whole file refused (not a workbook, no 整改清单 sheet, no 事项编号 column); str(e) is in Chinese."""


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return _CONTROL.sub("", str(v)).strip()


def _ids(v) -> list[int] | None:
    """事项编号 cell -> item ids (one, or several joined by 、); None when it is not a list of whole numbers."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return [v] if v > 0 else None
    if isinstance(v, float):
        return [int(v)] if v.is_integer() and v > 0 else None
    parts = [p for p in _ID_SPLIT.split(_text(v)) if p]
    if not parts or not all(p.isdigit() and len(p) < 12 for p in parts):
        return None
    return list(dict.fromkeys(int(p) for p in parts))


def _header(rows) -> tuple[int, int, int]:
    """(row number of the header, index of 事项编号, index of 整改情况) from the first rows (a draft list has its mark
    first)."""
    for n, row in rows:
        cells = [_text(c) for c in row]
        claim = next((i for i, c in enumerate(cells) if c.startswith("整改情况")), None)
        if claim is None:
            if n >= 5:
                break
            continue
        if ITEM_ID_HEADER not in cells:
            raise ClaimImportError("整改清单中没有“事项编号”列：这是通报下发前生成的清单，无法对应整改事项。"
                                   "请使用通报下发后重新生成的整改清单填写")
        return n, cells.index(ITEM_ID_HEADER), claim
    raise ClaimImportError(f"“{SHEET}”工作表中找不到表头（应有“{ITEM_ID_HEADER}”和“{CLAIM_HEADER}”两列）")


def _open(path: Path) -> office.Workbook:
    """The workbook after govinspect.office's checks (zip and XML bombs), read-only and bounded as its rows are read,
    with formulas as written (=…), not their cached results: a formula in 整改情况 is refused, never taken as a note."""
    office.check(path, LIMITS)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many kinds on broken files
        raise office.OfficeFileError(f"不是有效的 .xlsx 文件（{type(e).__name__}: {str(e)[:120]}）") from None
    return office.Workbook(wb, LIMITS)


def _kind(text: str) -> tuple[str, str]:
    """("dispute", reason) for a note that says it is not a problem, else ("claim", note)."""
    if text.startswith("不属于问题"):
        rest = text[len("不属于问题"):].lstrip("：:，,。. \t\n")
        return "dispute", text if rest else ""
    for p in DISPUTE_PREFIXES[1:]:
        if text.startswith(p):
            return "dispute", text[len(p):].strip()
    return "claim", text


def import_claims(path, actor: str, unit=None) -> dict:
    """Import a filled 整改清单 (.xlsx at `path`) as `actor`. `unit` (a registry Unit or its id): the unit importing
    its own list; rows of another unit's items are refused. Returns {"rows": rows with a filled 整改情况, "claimed",
    "disputed", "unchanged": counts, "items": ids acted on, "errors": [{"row", "reason"}]}. ClaimImportError when the
    file as a whole cannot be read."""
    from .models import Item, ItemEvent
    from .services import TransitionError, claim, dispute

    if not actor:
        raise ClaimImportError("导入整改情况必须记录操作人")
    unit_id = getattr(unit, "pk", unit)
    path = Path(path)
    if not path.is_file():
        raise ClaimImportError(f"文件 {path} 不存在")
    try:
        with _open(path) as wb:
            if SHEET not in wb.sheetnames:
                raise ClaimImportError(f"文件中没有“{SHEET}”工作表（请使用本系统生成的整改清单填写后导入）")
            rows = enumerate(wb[SHEET].iter_rows(values_only=True), start=1)
            head, id_col, note_col = _header(rows)
            filled = []
            for n, row in rows:
                raw_note = row[note_col] if note_col < len(row) else None
                raw_id = row[id_col] if id_col < len(row) else None
                if _text(raw_note):
                    filled.append((n, raw_id, raw_note))
    except office.OfficeFileError as e:
        raise ClaimImportError(f"无法读取该文件：{e}") from None
    out = {"rows": len(filled), "claimed": 0, "disputed": 0, "unchanged": 0, "items": [], "errors": []}

    def refuse(n: int, reason: str) -> None:
        out["errors"].append({"row": n, "reason": reason})

    wanted = sorted({i for _, raw, _ in filled for i in (_ids(raw) or [])})
    if len(wanted) > LIMITS.rows:  # a list has one row per problem: more ids than rows allowed is not a returned list
        raise ClaimImportError(f"文件中的事项编号超过{LIMITS.rows}个，不是本系统生成的整改清单，未导入")
    items = {}
    for at in range(0, len(wanted), ID_BATCH):  # in batches: a database takes only so many parameters in one query
        items.update((i.pk, i) for i in Item.objects.filter(pk__in=wanted[at:at + ID_BATCH]).select_related("unit"))
    for n, raw_id, raw_note in filled:
        ids = _ids(raw_id)
        if ids is None:
            refuse(n, "缺少事项编号" if not _text(raw_id) else f"事项编号“{_text(raw_id)[:20]}”无效")
            continue
        if isinstance(raw_note, str) and raw_note.lstrip().startswith("="):
            refuse(n, "整改情况以“=”开头，疑似公式，未导入（请直接填写文字说明）")
            continue
        note = _text(raw_note)
        if len(note) > MAX_NOTE:
            refuse(n, f"整改情况过长（{len(note)}字，上限{MAX_NOTE}字）")
            continue
        kind, text = _kind(note)
        if not text:
            refuse(n, "申诉须说明理由（如“不属于问题：该页面为……”）")
            continue
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                refuse(n, f"事项{item_id}不存在")
                continue
            if unit_id is not None and item.unit_id != unit_id:
                refuse(n, f"事项{item_id}不属于本单位，未处理")
                continue
            action = "dispute" if kind == "dispute" else "claim"
            last = ItemEvent.objects.filter(item=item, action=action).order_by("-at", "-id").first()
            if last is not None and last.note == text:
                out["unchanged"] += 1
                continue
            try:
                (dispute if kind == "dispute" else claim)(item, actor, text)
            except TransitionError as e:
                refuse(n, f"事项{item_id}：{e}")
                continue
            out["claimed" if kind == "claim" else "disputed"] += 1
            out["items"].append(item_id)
    return out
