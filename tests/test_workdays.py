"""Working days across holidays and adjusted workdays; unknown years are refused."""

import datetime as dt

import pytest

from govinspect.cli import main
from govinspect.engine.workdays import UnknownYear, add_workdays, is_workday, workdays_between
from govinspect.rules.ruleset import RuleSet

D = dt.date


def test_national_day_2024_and_2025():
    assert add_workdays(D(2024, 9, 27), 1) == D(2024, 9, 29)  # Sunday 9-29 is an adjusted workday
    assert add_workdays(D(2024, 9, 30), 1) == D(2024, 10, 8)  # 10-1 .. 10-7 off
    assert add_workdays(D(2025, 9, 28), 10) == D(2025, 10, 17)  # 10-1..10-8 off, Saturday 10-11 worked
    assert is_workday(D(2025, 10, 11)) and not is_workday(D(2025, 10, 8))


def test_spring_festival_2025_and_2026():
    assert not is_workday(D(2025, 1, 29)) and is_workday(D(2025, 1, 26)) and is_workday(D(2025, 2, 8))
    assert add_workdays(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 27)) == 5
    assert workdays_between(D(2026, 2, 27), D(2026, 2, 13)) == 0


@pytest.mark.django_db
def test_unknown_year_is_refused_with_instructions(capsys):
    with pytest.raises(UnknownYear) as e:
        add_workdays(D(2026, 12, 25), 10)
    assert "2027" in str(e.value) and "workdays.toml" in str(e.value)
    assert main(["workdays", "add", "2026-12-25", "10"]) == 2
    assert "2027" in capsys.readouterr().err
    assert main(["workdays", "add", "2025-09-28", "10"]) == 0
    assert capsys.readouterr().out.strip() == "2025-10-17"


def test_scheme_workdays_define_a_year(tmp_path):
    """A scheme's [workdays] (or an operator's workdays.toml) defines a year the library does not know."""
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "y2031.toml").write_text(
        'name = "x"\nversion = "1"\nextends = "national-2019"\n[workdays.years.2031]\nholidays = ["2031-01-07"]\n',
        encoding="utf-8")
    cal = RuleSet.load("y2031", overrides=tmp_path).calendar
    assert cal.add_workdays(D(2031, 1, 6), 2) == D(2031, 1, 9)
    with pytest.raises(UnknownYear):
        RuleSet.load().calendar.add_workdays(D(2031, 1, 6), 2)


@pytest.mark.django_db
def test_admin_table_defines_a_new_year_and_patches_a_known_one():
    """The admin's working-day table reaches the checks as the RuleSet's calendar= (each round reads it once)."""
    from govinspect.registry.models import WorkdayOverride

    table = lambda: {o.date: o.is_workday for o in WorkdayOverride.objects.all()}
    with pytest.raises(UnknownYear):
        RuleSet.load(calendar=table()).calendar.add_workdays(D(2031, 1, 6), 2)
    WorkdayOverride.objects.create(date=D(2031, 1, 7), is_workday=False, note="测试：假日")
    cal = RuleSet.load(calendar=table()).calendar
    assert cal.add_workdays(D(2031, 1, 6), 2) == D(2031, 1, 9)  # Mon 6 -> Wed 8, Thu 9 (7 off)
    WorkdayOverride.objects.create(date=D(2025, 10, 9), is_workday=False, note="地方调整")
    rs = RuleSet.load(calendar=table())
    assert add_workdays(D(2025, 9, 30), 1, rs.calendar) == D(2025, 10, 10)  # chinesecalendar still applies to 2025
    assert rs.hash != RuleSet.load().hash  # the admin's table is part of the round's rules
    WorkdayOverride.objects.all().delete()
    cal = RuleSet.load(calendar=table()).calendar
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    with pytest.raises(UnknownYear):
        cal.add_workdays(D(2031, 1, 6), 2)
