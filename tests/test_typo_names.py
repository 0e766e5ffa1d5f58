"""Registered names are never typo-corrected (issue 20, item 4): the registry's units and websites and the roster's
leaders are passed to ContentChecker, which drops typo hits on them, in this process and in a worker process.
Own sentences; the slip 措失 (措施) is one the context method finds when nothing protects it."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from govinspect.engine.content import ContentChecker
from govinspect.engine.content.leaders import Roster, Term
from govinspect.engine.content.typo import LmTypoDetector, detector

TEXT = "会议由刘措失主持，各部门负责同志参加。"

needs_context = pytest.mark.skipif(not isinstance(detector(), LmTypoDetector),
                                   reason="the typo check's language models are not installed (make installs them)")


def typos(checker, text=TEXT):
    return [(h.text, h.suggestion) for h in checker.check(text) if h.rule == "content.typo"]


@needs_context
def test_unprotected_name_is_taken_for_a_slip():
    assert typos(ContentChecker(only=("content.typo",))) == [("措失", "措施")]


@needs_context
def test_registered_names_are_not_corrected():
    checker = ContentChecker(only=("content.typo",), names=["刘措失", " ", "x"])
    assert checker.names == ["刘措失"]  # blank and one-character names are no names
    assert typos(checker) == []
    # a real slip beside the name is still found
    assert typos(checker, TEXT + "要进一步加强安全生产监督管理，切实落实主体责人。") == [("责人", "责任")]


@needs_context
def test_roster_names_protect_even_without_the_leader_rule():
    roster = Roster([Term("刘措失", "局长", "县交通运输局", dt.date(2020, 1, 1))])
    checker = ContentChecker(roster=roster, only=("content.typo",))
    assert checker.roster is None and checker.names == ["刘措失"]
    assert typos(checker) == []


@needs_context
def test_names_travel_to_worker_processes():
    checker = ContentChecker(only=("content.typo",), names=["刘措失"])
    clone = pickle.loads(pickle.dumps(checker))
    assert clone.names == ["刘措失"] and typos(clone) == []


@needs_context
@pytest.mark.django_db
def test_round_checker_protects_the_registry_names():
    from govinspect.registry.models import Unit, Website
    from govinspect.rounds.jobs import content_checker
    from govinspect.rules.ruleset import RuleSet

    unit = Unit.objects.create(name="县措失研究中心", kind="部门", short_name="措失中心")
    Website.objects.create(name="刘措失", home_url="http://cuoshi.example.test/", owner=unit)  # a site named after a person
    checker = content_checker(dt.date(2026, 11, 1), RuleSet.load())
    assert {"县措失研究中心", "措失中心", "刘措失"} <= set(checker.names)
    assert typos(checker) == []  # TEXT names the website
    Website.objects.all().delete()
    assert typos(content_checker(dt.date(2026, 11, 1), RuleSet.load())) == [("措失", "措施")]


@needs_context
def test_overlapping_registered_names_all_protect():
    """清河县 (a unit's short name) then 县刘措失: the registered name beginning inside another's occurrence must
    protect too (a leftmost-longest, non-overlapping search skipped it)."""
    text = "会议由清河县刘措失主持，各部门负责同志参加。"
    assert typos(ContentChecker(only=("content.typo",)), text) == [("措失", "措施")]
    assert typos(ContentChecker(only=("content.typo",), names=["县刘措失"]), text) == []
    assert typos(ContentChecker(only=("content.typo",), names=["清河县", "县刘措失"]), text) == []


@needs_context
def test_names_with_regex_metacharacters_and_many_names():
    names = [f"单位{k:05d}" for k in range(100_000)] + ["a.*b", "(刘)+", "[刘措失]", "刘措失"]
    checker = ContentChecker(only=("content.typo",), names=names)
    assert typos(checker) == []  # 刘措失 matched literally among 100,004 names
    assert typos(ContentChecker(only=("content.typo",), names=["刘.*", "(刘措)"])) == [("措失", "措施")]
    clone = pickle.loads(pickle.dumps(checker))
    assert clone.names == checker.names and typos(clone) == []
