"""docs/rules.md is generated from the catalogue and the check registry, and the registry matches both."""

from pathlib import Path

from govinspect.engine.checks.docs import render
from govinspect.engine.checks.registry import site_checks
from govinspect.rules.ruleset import RuleSet

ROOT = Path(__file__).resolve().parents[1]
RS = RuleSet.load()


def test_rules_doc_is_generated_and_current():
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == render(RS), "docs/rules.md is stale: python -m govinspect.engine.checks.docs > docs/rules.md"
    for rule in RS["catalog"]["rules"]:
        assert f"| `{rule}` |" in doc, rule


def test_every_catalogue_rule_has_its_contract_and_no_veto_key():
    for rid, e in RS["catalog"]["rules"].items():
        assert e["subject"] in ("site", "column", "page", "link", "account", "register_row", "reply", "letter", "ticket"), rid
        assert e["severity"] in ("high", "medium", "low"), rid
        assert isinstance(e["facts"], list) and all(isinstance(x, str) for x in e["facts"]), rid
        assert "veto" not in e, f"{rid}: veto lists live in the scheme only"
        assert e.get("section") and e.get("method"), rid
    for rid in ("letter.overdue", "ticket.overdue"):
        assert RS["catalog"]["rules"][rid]["facts"] == ["number", "kind", "unit", "received", "due", "finished", "workdays"]
    assert RS.rule("site.homepage_stale")["veto"] and not RS.rule("column.stale")["veto"]  # from the scheme


def _has(d, key: str) -> bool:
    if key in d:
        return True
    head, _, rest = key.partition(".")
    return bool(rest) and isinstance(d.get(head), dict) and _has(d[head], rest)


def test_registered_checks_emit_catalogue_rules_and_read_existing_keys():
    checks = site_checks()
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    catalog = RS["catalog"]["rules"]
    emitted = [r for c in checks for r in c.rules]
    assert len(emitted) == len(set(emitted)), "a rule belongs to one check"
    assert set(emitted) <= set(catalog)
    site_rules = {r for r, e in catalog.items() if e["subject"] in ("site", "column", "page", "link")}
    assert site_rules == set(emitted), site_rules ^ set(emitted)
    for c in checks:
        for read in c.reads:
            name, _, key = read.partition(".")
            if name in RS.files:
                assert not key or _has(RS[name], key), (c.id, read)
            else:
                assert any(k.startswith(name + "/") for k in RS.lists), (c.id, read)


def test_site_checks_take_their_rules_as_parameters():
    """No check reads rule files itself (no module cache, no environment): the RuleSet is passed in."""
    engine = ROOT / "govinspect" / "engine"
    sources = [*(engine / "checks").glob("*.py"), *(engine / "content").glob("*.py"), engine / "inspect.py"]
    offenders = [p.name for p in sources if "load_rules" in p.read_text(encoding="utf-8")
                 or "load_scheme" in p.read_text(encoding="utf-8")]
    assert offenders == []
