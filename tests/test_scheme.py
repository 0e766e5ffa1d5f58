"""Scoring schemes as data: validation, rates rounding, and every sandbox site's score by hand."""

import pytest

from govinspect.engine.scheme import SchemeError, load_scheme
from govinspect.rules import RULES_DIR, load_rules

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
    from govinspect.cli import _inspect_county

    reports = dict(zip([s.key for s in county.sites], _inspect_county(county, sandbox)))
    for key, (score, verdict) in HAND.items():
        assert (reports[key].score, reports[key].verdict) == (score, verdict), (key, reports[key].deductions)
    assert reports["fgj"].status == "could_not_check" and reports["fgj"].verdict == "unknown"


def test_rates_round_the_schemes_way():
    national, county = load_scheme("national-2019"), load_scheme("county-example")
    assert national.rate(47, 48) == "97.92" and national.rate(178, 180) == "98.89"  # seed 002
    assert county.rate(29, 31) == "93.54" and national.rate(29, 31) == "93.55"  # seed 003 truncates
    assert national.rate(1, 0) is None
    assert county.letters_rules()["deadline_workdays"]["咨询"] == 2 and county.letters_rules()["rates"]["rounding"] == "truncate"


def test_scheme_veto_items_agree_with_the_catalogue():
    catalog = load_rules("catalog")["rules"]
    s = load_scheme()
    for part, prefix in (("website", ("site.", "interaction.", "content.backdated")), ("newmedia", ("newmedia.",))):
        flagged = {r for r, v in catalog.items() if v.get("veto") and r.startswith(prefix)}
        assert set(s.data[part]["veto"]) == flagged, part


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
    monkeypatch.setenv("GOVINSPECT_RULES_DIR", str(tmp_path))
    load_rules.cache_clear()
    load_scheme.cache_clear()
    try:
        with pytest.raises(SchemeError, match="pass_score|nonsense|rounding"):
            load_scheme("bad")
        with pytest.raises(SchemeError, match="循环"):
            load_scheme("loop-a")
        with pytest.raises(SchemeError, match="找不到考核方案"):
            load_scheme("missing")
    finally:
        monkeypatch.delenv("GOVINSPECT_RULES_DIR")
        load_rules.cache_clear()
        load_scheme.cache_clear()
