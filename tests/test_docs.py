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


def _subparser(parser, args):
    """The argparse (sub)parser a command line ends in, and the words after its sub-command names."""
    import argparse

    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not args or args[0] not in subs[0].choices:
            return parser, args
        parser, args = subs[0].choices[args[0]], args[1:]


def test_readme_commands_use_only_existing_options():
    """Every option a README command shows exists on that command (a renamed flag such as the retired
    --allow-private shows up here at once; tests/test_readme.py runs the commands themselves)."""
    from test_readme import readme_commands, split_command

    from govinspect.cli import build_parser

    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(commands) >= 25
    bad = []
    for cmd in commands:
        _, args = split_command(cmd)
        if args[:1] == ["manage"]:
            continue  # Django's own commands and options
        parser, rest = _subparser(build_parser(), args)
        known = {o for a in parser._actions for o in a.option_strings}
        bad += [f"{cmd}: {w}" for w in rest if w.startswith("--") and w.split("=")[0] not in known]
    assert not bad, bad
