"""Scoring schemes as data: validation, rates rounding, and every sandbox site's score by hand."""

import pytest

from govinspect.engine.scheme import SchemeError, load_scheme
from govinspect.rules import RULES_DIR, RulesError
from govinspect.rules.ruleset import RuleSet

# Hand-computed with rules/schemes/national-2019.toml (points × findings, capped per indicator) from the
# findings the sandbox plants on each site (tests/test_freshness.py checks those findings against the truth):
HAND = {
    # stale 2×5=10, empty 1×2=2, WV-1 6×5=30→cap 20, misspelling 2×1=2, interpretation 1×2=2: 100-36; veto unanswered
    "portal": (64, "fail"),
    # stale 5×5=25→20, empty 2, dead links 2×1=2, interpretation late 2: 100-26; veto homepage + columns
    "jyj": (74, "fail"),
    # stale 5, empty 2, WV-1 (expression 1, sensitive 3, illegal link 1) 25→20, misspelling 2, guide 2, unlinked 2: 100-33
    "wjw": (67, "pass"),
    # empty 5×2=10 (cap 10), stale 5, institution 1, guide year 2, dead link + search 2, meta 2: 100-22; veto columns
    "zrzyj": (78, "fail"),
    # stale 10×5=50→20, WV-1 (sensitive 2, hidden 2, illegal 2) 30→20, footer + meta 4: 100-44; veto columns
    "rsj": (56, "fail"),
    # stale 2×5=10, annual report 2, dead link 1, footer 2: 100-15; veto homepage
    "cgz": (85, "fail"),
    # stale 5, WV-1 (illegal 1, cards 2, IDs 4, mobile 1) 40→20, interpretation 2: 100-27; veto unanswered
    "bmz": (73, "fail"),
    # stale 5, empty 2, misspelling 1, guide year + required column 4, mobile (WV-1) 5, footer + meta 4: 100-21
    "nyj": (79, "pass"),
}


def test_sandbox_scores_match_the_hand_table(county, sandbox):
    from govinspect.sandbox.demo import _inspect_county

    rules = RuleSet.load()
    reports = dict(zip([s.key for s in county.sites], _inspect_county(county, sandbox)))
    for key, (score, verdict) in HAND.items():
        rep = reports[key]
        got = rules.scheme.judge(rep.status, [f.rule for f in rep.findings], "website")
        assert (got[1], got[0]) == (score, verdict), (key, got[2])
    fgj = reports["fgj"]
    assert fgj.status == "could_not_check" and rules.scheme.judge(fgj.status, [f.rule for f in fgj.findings], "website")[0] == "unknown"


def test_rates_round_the_schemes_way():
    national, county = load_scheme("national-2019"), load_scheme("county-example")
    assert national.rate(47, 48) == "97.92" and national.rate(178, 180) == "98.89"  # seed 002
    assert county.rate(29, 31) == "93.54" and national.rate(29, 31) == "93.55"  # seed 003 truncates
    assert national.rate(1, 0) is None
    letters = RuleSet.load("county-example")["letters"]  # the scheme's deadlines and rounding, merged once
    assert letters["deadline_workdays"]["咨询"] == 2 and letters["rates"]["rounding"] == "truncate"


def test_veto_lists_live_only_in_the_scheme():
    rules = RuleSet.load()
    assert not [r for r, v in rules["catalog"]["rules"].items() if "veto" in v]  # the catalogue names no veto
    assert "veto" not in rules["newmedia"] and "veto" not in rules["freshness"].get("veto", {}).get("rules", [])
    for part in ("website", "newmedia"):
        for r in rules.scheme.data[part]["veto"]:
            assert r in rules["catalog"]["rules"] and rules.rule(r)["veto"] and rules.scheme.is_veto(r)
    assert not rules.rule("column.stale")["veto"]


def _write(tmp_path, name, text):
    (tmp_path / "schemes").mkdir(exist_ok=True)
    (tmp_path / "schemes" / f"{name}.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("patch, message", [
    ('pass_score = 60         # below 60', "pass_score = 120  #"),
    ('veto = ["site.unreachable",', 'veto = ["site.nonsense",'),
    ('rounding = "half_up"', 'rounding = "bankers"'),
])
def test_bad_scheme_files_say_what_is_wrong(tmp_path, monkeypatch, patch, message):
    text = (RULES_DIR / "schemes" / "national-2019.toml").read_text(encoding="utf-8")
    assert patch in text
    _write(tmp_path, "bad", text.replace(patch, message, 1))
    _write(tmp_path, "loop-a", 'name = "a"\nversion = "1"\nextends = "loop-b"\n')
    _write(tmp_path, "loop-b", 'name = "b"\nversion = "1"\nextends = "loop-a"\n')
    _write(tmp_path, "extra-key", 'name = "x"\nversion = "1"\nextends = "national-2019"\n[newmedia_ruels]\nx = 1\n')
    _write(tmp_path, "bad-override", 'name = "x"\nversion = "1"\nextends = "national-2019"\n[newmedia_rules.update]\nwindw = "7d"\n')
    with pytest.raises(SchemeError, match="pass_score|nonsense|rounding"):
        RuleSet.load("bad", tmp_path).scheme
    with pytest.raises(SchemeError, match="循环"):
        RuleSet.load("loop-a", tmp_path)
    with pytest.raises(SchemeError, match="找不到考核方案"):
        RuleSet.load("missing", tmp_path)
    with pytest.raises(SchemeError, match="不认识的配置项.*newmedia_ruels"):  # every scheme key is consumed or rejected
        RuleSet.load("extra-key", tmp_path)
    with pytest.raises(RulesError, match="update.windw"):
        RuleSet.load("bad-override", tmp_path)
