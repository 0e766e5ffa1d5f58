"""Leader names and titles against the registry roster (领导信息: name, title, unit, start, end).

A name from the roster followed (or preceded) by a leader title is checked at the page's publish date
(or the as-of date when the page has none):
- the person held that title then: fine;
- the person held it earlier but the term had ended: a former leader presented as current;
- the person never held that title: a wrong title;
- rightly titled leaders listed together out of protocol order (书记, the head, 常务副职, 副职): an order error.
"原县长张三", "时任县长张三", "前任…" are history and never hits. Names of people outside the roster
are not judged (the roster is the only source of truth).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import ahocorasick_rs as ac

from .lexicon import Hit

_LIST_SEP = re.compile(r"\s*(?:、|和|及|以及)?\s*")
HISTORY = re.compile(r"(?:原|时任|前任|曾任|原任|老)$")
GENERIC_TITLES = ("书记", "副书记", "县长", "副县长", "市长", "副市长", "区长", "副区长", "镇长", "副镇长", "乡长", "副乡长",
                  "局长", "副局长", "主任", "副主任", "主席", "副主席", "部长", "副部长", "厅长", "副厅长", "省长", "副省长",
                  "州长", "副州长", "旗长", "副旗长", "常务副县长", "常务副市长", "处长", "科长", "所长", "站长", "院长", "检察长")


@dataclass(frozen=True)
class Term:
    name: str
    title: str
    unit: str
    start: dt.date
    end: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Roster:
    def __init__(self, terms: list[Term], as_of: dt.date | None = None):
        self.terms = [t for t in terms if len(t.name) >= 2]
        self.as_of = as_of or dt.date.today()
        self.by_name: dict[str, list[Term]] = {}
        for t in self.terms:
            self.by_name.setdefault(t.name, []).append(t)
        titles = {t.title for t in self.terms} | set(GENERIC_TITLES)
        self.titles = sorted(titles, key=len, reverse=True)
        self._after = re.compile("(?:同志)?(" + "|".join(map(re.escape, self.titles)) + ")") if self.titles else None
        self._before = re.compile("(" + "|".join(map(re.escape, self.titles)) + ")$") if self.titles else None
        names = sorted(self.by_name)
        self._ac = ac.AhoCorasick(names, matchkind=ac.MATCHKIND_LEFTMOST_LONGEST) if names else None
        self._names = names

    def __reduce__(self):  # the compiled matcher cannot be pickled: a worker process rebuilds it
        return Roster, (self.terms, self.as_of)

    @classmethod
    def from_rows(cls, rows: list[dict], as_of: dt.date | None = None) -> "Roster":
        return cls([Term(r["name"], r["title"], r.get("unit", ""), r["start"], r.get("end")) for r in rows], as_of)

    def scan(self, text: str, published: dt.date | None = None) -> list[Hit]:
        if self._ac is None or not text:
            return []
        day = published or self.as_of
        hits = []
        correct: list[tuple[int, int, str, str]] = []  # (start, end, name, title) of rightly titled mentions
        for idx, s, e in self._ac.find_matches_as_indexes(text):
            name = self._names[idx]
            m = self._after.match(text, e)
            title, t_start, t_end = (m.group(1), s, m.end()) if m else (None, s, e)
            if title is None:
                mb = self._before.search(text, max(0, s - 12), s)
                if not mb:
                    continue
                title, t_start, t_end = mb.group(1), mb.start(), e
            if HISTORY.search(text, max(0, t_start - 3), t_start):
                continue
            terms = self.by_name[name]
            same = [t for t in terms if _title_matches(t.title, title)]
            if any(t.holds(day) for t in same):
                correct.append((t_start, t_end, name, title))
                continue
            current = [t for t in terms if t.holds(day)]
            if same:  # held this title once; not at that date
                ended = max((t.end for t in same if t.end and t.end < day), default=None)
                if ended is None:
                    continue  # the term starts later than the page: an announcement, not an error
                now = f"，现任{current[0].title}" if current else ""
                note = f"{name}已于{ended:%Y年%m月}卸任{title}{now}，不应再以现职称呼"
                suggestion = f"原{title}{name}" if not current else f"{name}{current[0].title}"
            else:
                if not current:
                    continue  # not a leader at that date at all: the roster cannot judge
                note = f"{name}的职务是{current[0].title}，不是{title}"
                suggestion = f"{name}{current[0].title}"
            hits.append(Hit(rule="content.leader", start=t_start, end=t_end, text=text[t_start:t_end], suggestion=suggestion,
                            category="领导姓名职务", severity="high", note=note))
        return hits + _order_hits(text, correct)


def rank(title: str) -> int:
    """Protocol order of titles in a list of leaders: 书记, the head (县长, 局长 …), 常务副职 and 副书记, other 副职."""
    if title.startswith("常务副") or title == "副书记":
        return 2
    if "副" in title:
        return 3
    return 0 if title.endswith("书记") else 1


def _order_hits(text: str, mentions: list[tuple[int, int, str, str]]) -> list[Hit]:
    """Leaders listed together (“县长李强、副县长赵敏”) must follow protocol order."""
    out = []
    mentions.sort()
    run = mentions[:1]
    for m in mentions[1:] + [None]:
        if m is not None and _LIST_SEP.fullmatch(text[run[-1][1]:m[0]]):
            run.append(m)
            continue
        for a, b in zip(run, run[1:]):
            if rank(a[3]) > rank(b[3]):
                out.append(Hit(rule="content.leader", start=run[0][0], end=run[-1][1], text=text[run[0][0]:run[-1][1]],
                               suggestion="、".join(f"{x[3]}{x[2]}" if text[x[0]:x[0] + len(x[3])] == x[3] else f"{x[2]}{x[3]}"
                                                   for x in sorted(run, key=lambda x: rank(x[3]))),
                               category="领导排序", severity="high", note=f"领导排序有误：{b[3]}{b[2]}应排在{a[3]}{a[2]}之前"))
                break
        run = [m] if m is not None else []
    return out


def _title_matches(registered: str, written: str) -> bool:
    """县长 in the roster matches 县长 in the text; 清河县县长 matches 县长; 副县长 never matches 县长."""
    return registered == written or (registered.endswith(written) and not registered[: -len(written)].endswith("副"))
