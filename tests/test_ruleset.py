"""One RuleSet per round: resolved once, hashed, stored and read back unchanged."""

import datetime as dt
import shutil

import pytest

from govinspect.rules import RULES_DIR, RulesError
from govinspect.rules.ruleset import RuleSet


def test_one_threshold_changes_the_hash_and_a_snapshot_keeps_it(tmp_path):
    base = RuleSet.load()
    assert RuleSet.load().hash == base.hash  # deterministic
    import re

    text = (RULES_DIR / "links.toml").read_text(encoding="utf-8")
    n = int(re.search(r"max_external = (\d+)", text).group(1))
    (tmp_path / "links.toml").write_text(text.replace(f"max_external = {n}", f"max_external = {n + 1}", 1), encoding="utf-8")
    over = RuleSet.load(overrides=tmp_path)
    assert over.hash != base.hash
    assert over["links"]["dead"]["max_external"] == base["links"]["dead"]["max_external"] + 1
    again = RuleSet.from_snapshot(over.snapshot())
    assert again.hash == over.hash and again["links"] == over["links"]
    # the scheme, the admin's calendar table and the word lists are part of it too
    assert RuleSet.load("county-example").hash != base.hash
    assert RuleSet.load(calendar={dt.date(2026, 12, 31): False}).hash != base.hash


def test_calendar_overrides_win_in_order():
    rules = RuleSet.load(calendar={dt.date(2026, 11, 13): False})  # the admin makes a Friday a holiday
    assert rules.calendar.add_workdays(dt.date(2026, 11, 12), 1) == dt.date(2026, 11, 16)
    assert RuleSet.load().calendar.add_workdays(dt.date(2026, 11, 12), 1) == dt.date(2026, 11, 13)
    from govinspect.engine.workdays import UnknownYear

    with pytest.raises(UnknownYear):
        RuleSet.load().calendar.add_workdays(dt.date(2099, 1, 1), 1)
    known = RuleSet.load(calendar={dt.date(2099, 1, 2): False})  # entering a year's days makes it known
    assert known.calendar.add_workdays(dt.date(2099, 1, 1), 1) == dt.date(2099, 1, 5)


def test_a_scheme_overrides_newmedia_rules_and_letters_once():
    national, county = RuleSet.load(), RuleSet.load("county-example")
    assert county["newmedia"]["original"]["min_share"] == 0.6 and county["newmedia"]["update"]["window"] == "14d"
    assert county["letters"]["deadline_workdays"]["咨询"] == 2 and county["letters"]["rates"]["rounding"] == "truncate"
    assert county.rate(29, 31) == "93.54" and national.rate(29, 31) == "93.55"


def test_override_directory_must_exist(tmp_path):
    with pytest.raises(RulesError, match="不存在"):
        RuleSet.load(overrides=tmp_path / "missing")
    (tmp_path / "freshness.toml").write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(RulesError, match="格式错误"):
        RuleSet.load(overrides=tmp_path)
