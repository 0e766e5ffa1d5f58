"""docs/rules.md, generated from docs/rules.template.md, the rule catalogue (rules/catalog.toml) and the check registry.

    python -m govinspect.engine.checks.docs > docs/rules.md

In the template, {{rules:SECTION}} becomes the table of the catalogue's rules of that section (catalogue order) and
{{checks}} the table of registered site checks. tests/test_rules_doc.py fails when docs/rules.md is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ...rules.ruleset import RuleSet
from .registry import NEEDS, site_checks

TEMPLATE = Path(__file__).resolve().parents[3] / "docs" / "rules.template.md"
SEVERITY = {"high": "高", "medium": "中", "low": "低"}
SUBJECT = {"site": "网站", "column": "栏目", "page": "页面", "link": "链接", "account": "新媒体账号", "register_row": "台账行",
           "reply": "答复书", "letter": "信件", "ticket": "工单"}


def _cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def rules_table(catalog: dict, section: str, veto) -> str:
    rows = ["| 规则编号 | 名称 | 问题对象 | 严重程度 | 指标依据 | 判断方法（默认） | 依据 |", "|---|---|---|---|---|---|---|"]
    for rid, e in catalog.items():
        if e.get("section") != section:
            continue
        name = e["name"] + ("（单项否决）" if veto(rid) and "单项否决" not in e["name"] else "")
        rows.append(f"| `{rid}` | {_cell(name)} | {SUBJECT[e['subject']]} | {SEVERITY[e['severity']]} | {_cell(e['indicator'])} "
                    f"| {_cell(e.get('method', ''))} | {_cell(e.get('basis', ''))} |")
    if len(rows) == 2:
        raise ValueError(f"no rule of section {section!r} in the catalogue")
    return "\n".join(rows)


def checks_table() -> str:
    rows = ["## 网站检查登记表", "",
            "每项网站检查在 `govinspect/engine/checks/` 中登记自己：检查编号、可能报告的规则、需要的数据和读取的规则项"
            "（`文件.键`）。检查网站时按此表依次运行；“需要”监测记录的检查由检查轮次根据监测数据运行。", "",
            "| 检查 | 规则 | 需要 | 读取的规则项 |", "|---|---|---|---|"]
    for c in site_checks():
        rows.append(f"| `{c.id}` | {'、'.join(f'`{r}`' for r in c.rules)} | {'、'.join(NEEDS[n] for n in c.needs)} "
                    f"| {'、'.join(f'`{k}`' for k in c.reads) or '—'} |")
    return "\n".join(rows)


def render(rules: RuleSet | None = None, template: Path = TEMPLATE) -> str:
    rules = rules or RuleSet.load()
    catalog = rules["catalog"]["rules"]
    text = template.read_text(encoding="utf-8")
    text = re.sub(r"\A<!--.*?-->\n", "", text, flags=re.S)  # the template's own note
    text = re.sub(r"\{\{rules:(\w+)\}\}", lambda m: rules_table(catalog, m.group(1), rules.scheme.is_veto), text)
    text = text.replace("{{checks}}", checks_table())
    head = ("<!-- 本文件由 `python -m govinspect.engine.checks.docs > docs/rules.md` 生成，请勿手改："
            "改 docs/rules.template.md、govinspect/rules/catalog.toml 或检查模块后重新生成 -->\n")
    return head + text


if __name__ == "__main__":
    sys.stdout.write(render())
