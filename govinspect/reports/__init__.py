"""Reports: round data (round.json), the bulletin (.docx) and its attachments (.xlsx)."""

from __future__ import annotations

import json
from pathlib import Path


def write_reports(rnd, out_dir: str | Path, template: str | Path | None = None) -> dict[str, Path]:
    """round.json, 通报.docx (with charts), 附件.xlsx and one 整改清单 workbook per responsible unit."""
    import sys

    from ..rules import load_rules
    from .bulletin import compose, group_titles, write_bulletin
    from .charts import ChartError, make_charts
    from .data import round_data
    from .workbook import write_rectification_lists, write_workbook

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = round_data(rnd)
    (out / "round.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    try:
        charts = make_charts(data, out / "图表", group_titles(), load_rules("catalog")["rules"]) if not data["round"]["recheck_of"] else []
    except ChartError as e:
        print(f"提示：{e}", file=sys.stderr)
        charts = []
    c = compose(data)  # once: the bulletin, the workbook and the rectification lists share its tables and deadline
    return {"bulletin": write_bulletin(data, out / "通报.docx", template, charts, c), "workbook": write_workbook(data, out / "附件.xlsx", c),
            "rectification": write_rectification_lists(data, out / "整改清单", c), "json": out / "round.json"}
