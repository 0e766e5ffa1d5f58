"""Chinese working days: official holidays and adjusted workdays (调休), for deadlines in working days.

Data: chinesecalendar (years it knows) plus the operator's table in rules/workdays.toml, which wins.
A year neither knows raises UnknownYear with instructions: a deadline is never computed from a guess.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar

from ..rules import load_rules


class UnknownYear(ValueError):
    def __init__(self, year: int):
        super().__init__(f"没有{year}年的节假日安排数据，无法按工作日计算期限。请在 govinspect/rules/workdays.toml 中添加 "
                         f"[years.{year}] 的 holidays（放假的工作日）和 workdays（调休上班的周末），或升级 chinesecalendar。")
        self.year = year


_providers: list = []  # callables returning {date: is_workday} (the admin's table, registered by the registry app)


def add_provider(fn) -> None:
    """Another source of overrides (e.g. the database); its dates win over the file and chinesecalendar."""
    _providers.append(fn)
    refresh()


def refresh() -> None:
    """Forget cached overrides (after the operator edited them)."""
    _overrides.cache_clear()


def load() -> None:
    """Read every override now (a provider may need a database connection that async code cannot open)."""
    _overrides()


def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
        return True
    except NotImplementedError:
        return False


@lru_cache(maxsize=1)
def _overrides() -> tuple[dict[dt.date, bool], frozenset[int]]:
    """(date -> is_workday, years defined wholly by the tables: weekdays work unless listed)."""
    table: dict[dt.date, bool] = {}
    years = set()
    for year, spec in (load_rules("workdays").get("years") or {}).items():
        years.add(int(year))
        for d in spec.get("holidays", []):
            table[dt.date.fromisoformat(d)] = False
        for d in spec.get("workdays", []):
            table[dt.date.fromisoformat(d)] = True
    for fn in _providers:
        extra = fn()
        table.update(extra)
        # a year the library and the file do not know becomes known once the operator enters its days
        years |= {d.year for d in extra if d.year not in years and not _library_knows(d.year)}
    return table, frozenset(years)


def is_workday(d: dt.date) -> bool:
    table, years = _overrides()
    if d in table:
        return table[d]
    if d.year in years:
        return d.weekday() < 5
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        raise UnknownYear(d.year) from None


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The date n working days after start (start itself not counted)."""
    d, left = start, n
    while left > 0:
        d += dt.timedelta(days=1)
        if is_workday(d):
            left -= 1
    return d


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: 0 when end is on or before start."""
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        if is_workday(d):
            n += 1
    return n
