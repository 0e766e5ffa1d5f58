"""Chinese working days: official holidays and adjusted workdays (调休), for deadlines in working days.

The calendar itself is rules/ruleset.py's Calendar (chinesecalendar, then rules/workdays.toml and the scheme's
[workdays], then the admin's table), reached through the round's RuleSet: `rules.calendar.add_workdays(d, n)`.
A year nobody knows raises UnknownYear with instructions: a deadline is never computed from a guess.

The functions below are for commands outside a round: the shipped calendar unless one is given.
"""

from __future__ import annotations

import datetime as dt


class UnknownYear(ValueError):
    def __init__(self, year: int):
        super().__init__(f"没有{year}年的节假日安排数据，无法按工作日计算期限。请在 govinspect/rules/workdays.toml 中添加 "
                         f"[years.{year}] 的 holidays（放假的工作日）和 workdays（调休上班的周末），或升级 chinesecalendar。")
        self.year = year


def _cal(calendar):
    if calendar is not None:
        return calendar
    from ..rules.ruleset import RuleSet

    return RuleSet.load().calendar


def is_workday(d: dt.date, calendar=None) -> bool:
    return _cal(calendar).is_workday(d)


def add_workdays(start: dt.date, n: int, calendar=None) -> dt.date:
    """The date n working days after start (start itself not counted)."""
    return _cal(calendar).add_workdays(start, n)


def workdays_between(start: dt.date, end: dt.date, calendar=None) -> int:
    """Working days in (start, end]: 0 when end is on or before start."""
    return _cal(calendar).workdays_between(start, end)
