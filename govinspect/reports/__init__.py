"""Reports: round data (round.json), the bulletin (.docx) and its attachments (.xlsx)."""

from __future__ import annotations

import json
from pathlib import Path


def write_reports(rnd, out_dir: str | Path) -> dict[str, Path]:
    from .bulletin import write_bulletin
    from .data import round_data
    from .workbook import write_workbook

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = round_data(rnd)
    (out / "round.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"bulletin": write_bulletin(data, out / "通报.docx"), "workbook": write_workbook(data, out / "附件.xlsx"),
            "json": out / "round.json"}
