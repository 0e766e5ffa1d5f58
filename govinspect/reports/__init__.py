"""Reports: round data (round.json), the bulletin (.docx) and its attachments (.xlsx).

Reports are written to a temporary directory beside the output directory and moved into place only when every
file is complete: a run that dies half-way leaves the previous report as it was. A round that did not finish is
reported only as a draft, marked DRAFT_MARK on every page and sheet.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

DRAFT_MARK = "未完成，仅供内部参考"
# what write_reports puts into an output directory (anything else there, e.g. the demo's database, is left alone);
# 证据 holds the archived pages the bulletin and the lists link to, so it is moved in before them
OUTPUTS = ("round.json", "证据", "附件.xlsx", "整改清单", "图表", "通报.docx")


class ReportError(Exception):
    """A report that must not be written (the message is for the user, in Chinese)."""


def unfinished(data: dict) -> bool:
    """True when the round behind `data` did not finish: its reports are drafts."""
    return data["round"].get("status") != "done"


def write_reports(rnd, out_dir: str | Path, template: str | Path | None = None, draft: bool = False) -> dict[str, Path]:
    """round.json, 通报.docx (with charts), 附件.xlsx and one 整改清单 workbook per responsible unit.

    A round that did not finish (pending, running, failed, interrupted) raises ReportError unless `draft`:
    then every page of the bulletin and every sheet says DRAFT_MARK."""
    import sys

    from ..rounds.models import RoundEvent
    from ..rules import load_rules
    from ..safetext import clean_tree
    from .bulletin import compose, group_titles, write_bulletin
    from .charts import ChartError, make_charts
    from .data import round_data
    from .workbook import write_rectification_lists, write_workbook

    if rnd.status != "done" and not draft:
        raise ReportError(f"第{rnd.pk}轮检查的状态为“{rnd.get_status_display()}”，检查未完成，不能生成通报；"
                          f"如需内部参考，可加 --draft 生成每页标注“{DRAFT_MARK}”的报告")
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ReportError(f"输出位置 {out} 已存在且不是目录")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    tmp = out.parent / f"{_tmp_prefix(out)}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()  # beside the output: the same file system, so moving into place is a rename
    try:
        data = clean_tree(round_data(rnd))  # crawled text without XML-illegal characters, for every file below
        (tmp / "round.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            charts = make_charts(data, tmp / "图表", group_titles(), load_rules("catalog")["rules"]) if not data["round"]["recheck_of"] else []
        except ChartError as e:
            print(f"提示：{e}", file=sys.stderr)
            charts = []
        c = compose(data)  # once: the bulletin, the workbook and the rectification lists share its tables and deadline
        write_bulletin(data, tmp / "通报.docx", template, charts, c)
        if unfinished(data):
            mark_draft(tmp / "通报.docx")
        write_workbook(data, tmp / "附件.xlsx", c)
        write_rectification_lists(data, tmp / "整改清单", c)
        _publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RoundEvent.objects.create(round=rnd, kind="report", detail=f"{out}" + (f"（{DRAFT_MARK}）" if unfinished(data) else ""))
    return {"bulletin": out / "通报.docx", "workbook": out / "附件.xlsx", "rectification": out / "整改清单", "json": out / "round.json"}


def _tmp_prefix(out: Path) -> str:
    return f".{out.name}.生成中-"


def _remove_stale(out: Path) -> None:
    """Temporary directories of earlier runs for the same output whose process is gone (killed half-way)."""
    if os.name != "posix":  # os.kill(pid, 0) only asks on POSIX (on Windows it terminates the process)
        return
    for d in out.parent.glob(f"{_tmp_prefix(out)}*"):
        try:
            os.kill(int(d.name.removeprefix(_tmp_prefix(out)).split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, OSError):  # not ours, or a process of another user: left alone
            pass


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished files from `tmp` into `out`, replacing the previous report's; files of the previous report
    that this one does not have (charts of a re-check) are removed."""
    if not out.exists():
        os.rename(tmp, out)  # atomic: the directory appears complete
        return
    for name in OUTPUTS:
        new, old = tmp / name, out / name
        if new.is_dir() or old.is_dir():
            if old.exists() or old.is_symlink():
                os.rename(old, tmp / f".previous-{name}")  # removed with tmp
            if new.exists():
                os.rename(new, old)
        elif new.exists():
            os.replace(new, old)  # atomic per file
        elif old.exists():
            old.unlink()


def mark_draft(path: Path) -> None:
    """Put DRAFT_MARK at the top of every page header of the .docx at `path` (first-page and even-page headers
    included when the document uses them)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor

    doc = Document(path)
    even = doc.settings.odd_and_even_pages_header_footer
    for section in doc.sections:
        headers = [section.header]
        if section.different_first_page_header_footer:
            headers.append(section.first_page_header)
        if even:
            headers.append(section.even_page_header)
        for h in headers:  # a header linked to the previous section's is that header: marked once
            if any(DRAFT_MARK in p.text for p in h.paragraphs):
                continue
            first = h.paragraphs[0] if h.paragraphs else None
            p = first if first is not None and not first.text and not first.runs else \
                first.insert_paragraph_before() if first is not None else h.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(DRAFT_MARK)
            run.bold = True
            run.font.color.rgb = RGBColor(0xC0, 0, 0)
    doc.save(path)
