"""Documentation stays in step with the code."""

import re
from pathlib import Path

from govinspect.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_id_is_documented():
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in load_rules("catalog")["rules"]:
        assert f"`{rule}`" in doc, rule


def test_readme_has_exactly_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    assert [l.split("#")[0].strip() for l in block.strip().splitlines()] == ["make demo", "make test"]
