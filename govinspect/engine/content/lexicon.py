"""Word and expression rules (错敏词, 固定表述, 机构名称) as curated data, matched with ahocorasick-rs.

The lists live in rules/content/*.toml (see docs/rules.md for the format). Every entry has the wrong
form, the correct form (empty for terms that are simply not allowed), a category, a severity and its
source. Matching:

- Text is scanned after removing *separators* (spaces, zero-width characters, * · _ | / \\ ~), so
  "博 彩" and "博*彩" match "博彩" and a word split by a line break in a PDF still matches. Offsets
  are mapped back to the original text.
- Patterns are also added in traditional characters (OpenCC s2t), so 國土資源局 matches.
- Allow entries beat deny entries: a deny hit inside an allow match is not a hit (截止日期 is right,
  路口交通 is not 口交). An entry may require context after the hit (截止 + a date), forbid some
  text just before it (原国土资源局 is history, not an error), or be void in a sentence that shows
  the term is being condemned (打击网络赌博).
- Overlapping deny hits: the longest wins.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import ahocorasick_rs as ac

from ...rules import RulesError

LEXICON_FILES = ("content/misspellings", "content/expressions", "content/institutions", "content/sensitive")
SEVERITIES = ("high", "medium", "low")
# removed before matching (never inside a word); \x1f and \x0c join table cells and pages and stay
SEPARATORS = re.compile(r"[ \t\r\n\u00a0\u3000\u200b\u200c\u200d\ufeff*·•_|/\\~]+")
SENTENCE_REACH = 40  # characters each way: page text without punctuation (menus, footers) is no sentence
# sentence ends; in page text a space between two elements (menu items, list titles) ends one too
_SENTENCE_END = re.compile(r"[。！？!?；;\n\t\x1f\x0c \u3000]")


@dataclass(frozen=True, slots=True)
class Entry:
    rule: str
    wrong: str
    right: str
    category: str
    severity: str
    source: str
    note: str = ""
    after: re.Pattern | None = None  # the hit counts only when the text after it matches
    not_before: re.Pattern | None = None  # ... and the text before it does not end with this
    sentence_unless: re.Pattern | None = None  # ... and its sentence does not match this
    since: dt.date | None = None  # the wrong form became wrong on this date (older pages are history)
    level: str | None = None  # national | province | local: the date comes from the reform of the unit's level
    not_in_title: bool = False  # void inside 《…》: a cited document's title keeps the name it was issued under


@dataclass(slots=True)
class Hit:
    rule: str
    start: int
    end: int
    text: str  # the matched text as it stands in the source (masked for personal data)
    suggestion: str
    category: str
    severity: str
    note: str = ""
    since: dt.date | None = None

    def to_dict(self) -> dict:
        return {"rule": self.rule, "start": self.start, "end": self.end, "text": self.text,
                "suggestion": self.suggestion, "category": self.category, "severity": self.severity}


def _regex(value, where: str) -> re.Pattern | None:
    if not value:
        return None
    try:
        return re.compile(value)
    except re.error as e:
        raise RulesError(f"{where}：正则表达式“{value}”无效：{e}") from e


def _entries(name: str, data: dict) -> tuple[list[Entry], list[str], str, "Reform | None"]:
    where = f"规则文件 {name}.toml"
    rule = data.get("rule")
    if not rule:
        raise RulesError(f"{where}：缺少 rule（规则编号）")
    version = str(data.get("version", ""))
    if not version:
        raise RulesError(f"{where}：缺少 version（版本号）")
    defaults = data.get("defaults", {})
    unless = _regex(data.get("sentence_unless"), where)
    reform = _reform(data.get("reform"), where)
    out = []
    for i, raw in enumerate(data.get("entry", []), start=1):
        e = {**defaults, **raw}
        w = f"{where} 第{i}条（{e.get('wrong', '?')}）"
        unknown = set(e) - {"wrong", "right", "category", "severity", "source", "note", "after", "not_before", "since",
                            "check_sentence", "level", "not_in_title"}
        if unknown:
            raise RulesError(f"{w}：未知字段 {', '.join(sorted(unknown))}")
        wrong = str(e.get("wrong", "")).strip()
        if len(wrong) < 2:
            raise RulesError(f"{w}：wrong（错误写法）至少两个字")
        if SEPARATORS.search(wrong):
            raise RulesError(f"{w}：wrong 不能含空格或分隔符")
        sev = e.get("severity", "medium")
        if sev not in SEVERITIES:
            raise RulesError(f"{w}：severity 应为 {'/'.join(SEVERITIES)}")
        if not e.get("category") or not e.get("source"):
            raise RulesError(f"{w}：缺少 category（类别）或 source（来源）")
        since = e.get("since")
        if isinstance(since, str):
            try:
                since = dt.date.fromisoformat(since)
            except ValueError as ex:
                raise RulesError(f"{w}：since 应为日期 YYYY-MM-DD") from ex
        level = e.get("level")
        if level is not None and (level not in LEVELS or not reform):
            raise RulesError(f"{w}：level 应为 {'/'.join(LEVELS)}，且规则文件须有 [reform] 日期表")
        out.append(Entry(rule=rule, wrong=wrong, right=str(e.get("right", "")), category=e["category"], severity=sev,
                         source=e["source"], note=str(e.get("note", "")), after=_regex(e.get("after"), w),
                         not_before=_regex(e.get("not_before") and f"(?:{e['not_before']})$", w),
                         sentence_unless=unless if e.get("check_sentence", unless is not None) else None, since=since,
                         level=level, not_in_title=bool(e.get("not_in_title", False))))
    allows = [str(a).strip() for a in data.get("allow", [])]
    for a in allows:
        if len(a) < 2 or SEPARATORS.search(a):
            raise RulesError(f"{where}：allow 条目“{a}”无效")
    return out, allows, f"{name.split('/')[-1]}@{version}", reform


# ------------------------------------------------------------------ reform dates by level
# An institution name became outdated when the reform reached the unit's level: the State Council's
# ministries in March 2018, provinces late 2018, cities and counties early 2019. The dates are data
# ([reform] in rules/content/institutions.toml), overridable per jurisdiction ([[reform.place]]).
LEVELS = ("national", "province", "local")
_LEVEL_BEFORE = (("national", re.compile(r"(?:国家|国务院)$")), ("province", re.compile(r"(?:省|自治区)(?:人民政府)?$")),
                 ("city", re.compile(r"(?:市|自治州|州|盟|地区)(?:人民政府)?$")),
                 ("county", re.compile(r"(?:县|区|旗|镇|乡)(?:人民政府)?$")))
_OTHER_UNIT = re.compile(r"[省市县区旗镇乡州盟和与及、，,。；;局委厅办]")  # between a place and the name: another unit
_PLACE_REACH = 12  # characters before the name searched for a jurisdiction (清河县人民政府办公室 …)


@dataclass(frozen=True, slots=True)
class Reform:
    dates: dict  # national / province / city / county -> date
    places: tuple  # (place name, date): a jurisdiction whose reform came on another date


def _reform(raw, where: str) -> Reform | None:
    if not raw:
        return None
    def date(v, what):
        try:
            return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
        except ValueError as ex:
            raise RulesError(f"{where}：[reform] {what} 应为日期 YYYY-MM-DD") from ex
    dates = {k: date(raw.get(k), k) for k in ("national", "province", "city", "county")}
    places = tuple((str(p["name"]), date(p.get("date"), p.get("name", "?"))) for p in raw.get("place", []))
    if any(not n for n, _ in places):
        raise RulesError(f"{where}：[[reform.place]] 缺少 name（地名）")
    return Reform(dates, places)


def reform_since(e: Entry, reform: Reform | None, text: str, start: int) -> dt.date | None:
    """The date from which e.wrong is outdated where it stands in text: by the level its prefix names
    (国家…, …省…, …市…, …县…); a local name with no level before it gets the latest local date (a
    county that reformed last is never accused too early). A jurisdiction named before it overrides."""
    if e.level is None or reform is None:
        return e.since
    before = SEPARATORS.sub("", text[max(0, start - _PLACE_REACH - 8):start])[-_PLACE_REACH:]
    for name, d in reform.places:
        k = before.rfind(name)
        if k >= 0 and not _OTHER_UNIT.search(before, k + len(name)):  # 深圳市环保局, not 深圳市…和清河县国土局
            return d
    if e.level != "local":
        return reform.dates[e.level]
    for level, rx in _LEVEL_BEFORE:
        if rx.search(before):
            return reform.dates[level]
    return max(reform.dates["city"], reform.dates["county"])


def _variants(word: str) -> set[str]:
    """The word as written plus its traditional-character forms."""
    out = {word}
    conv = _s2t()
    if conv is not None:
        t = conv.convert(word)
        out |= {t, t.replace("臺", "台")}
    return out


@lru_cache(maxsize=1)
def _s2t():
    try:
        from opencc import OpenCC
    except ImportError:  # optional: without it traditional forms are simply not matched
        return None
    return OpenCC("s2t")


class Lexicon:
    """All word rules, compiled into one automaton."""

    def __init__(self, files: dict[str, dict], rules: tuple[str, ...] | None = None):
        """files: rule file name ("content/sensitive") -> its data (a RuleSet's files); rules: rule-id prefixes."""
        self.entries: list[Entry] = []
        allows: set[str] = set()
        self.versions: list[str] = []
        self.reform: Reform | None = None
        for f, data in files.items():
            entries, allow, version, reform = _entries(f, data)
            if rules is not None and not any(entries and entries[0].rule.startswith(p) for p in rules):
                continue
            self.entries += entries
            self.reform = self.reform or reform
            allows |= set(allow)
            self.versions.append(version)
        patterns: list[str] = []
        self._kind: list[tuple[str, int]] = []  # per pattern: ("deny", entry index) or ("allow", -1)
        seen: dict[str, int] = {}
        for i, e in enumerate(self.entries):
            for v in _variants(e.wrong):
                if v in seen:
                    continue  # first entry wins; duplicates across files are a data error caught by tests
                seen[v] = len(patterns)
                patterns.append(v)
                self._kind.append(("deny", i))
        for a in sorted(allows):
            for v in _variants(a):
                if v not in seen:
                    seen[v] = len(patterns)
                    patterns.append(v)
                    self._kind.append(("allow", -1))
        # on UTF-8 bytes: twice the speed of the str automaton on CJK text; offsets are converted back
        self._ac = ac.BytesAhoCorasick([p.encode("utf-8") for p in patterns]) if patterns else None

    def scan(self, text: str) -> list[Hit]:
        if self._ac is None or not text:
            return []
        stripped = SEPARATORS.sub("", text.replace(" ", ""))  # spaces first: the commonest separator, cheapest
        raw = stripped.encode("utf-8")
        matches = self._ac.find_matches_as_indexes(raw, overlapping=True)
        if not matches:
            return []
        if len(raw) != len(stripped):  # byte offsets -> character offsets (matches end on character boundaries)
            chars = _byte_to_char(raw, {o for _, s, e in matches for o in (s, e)})
            matches = [(p, chars[s], chars[e]) for p, s, e in matches]
        to_orig = _offset_map(text) if len(stripped) != len(text) else None
        # allowed phrases: a deny match inside one is no hit. Starts sorted with the running maximum of the ends, so each
        # question is a bisection (a page of 10^5 matches stays linear-logarithmic)
        allow = sorted((s, e) for p, s, e in matches if self._kind[p][0] == "allow")
        allow_starts = [a for a, _ in allow]
        reach = list(accumulate((b for _, b in allow), max))
        cands = []
        for p, s, e in matches:
            kind, idx = self._kind[p]
            if kind != "deny":
                continue
            k = bisect.bisect_right(allow_starts, s)
            if k and reach[k - 1] >= e:  # an allowed phrase starting at or before s reaches past e
                continue
            cands.append((idx, s, e))
        cands.sort(key=lambda c: (-(c[2] - c[1]), c[1]))
        taken_starts: list[int] = []  # the hits taken so far: disjoint spans, sorted
        taken_ends: list[int] = []
        hits = []
        for idx, s, e in cands:
            k = bisect.bisect_right(taken_starts, s)
            if (k and taken_ends[k - 1] > s) or (k < len(taken_starts) and taken_starts[k] < e):
                continue
            os_, oe = (to_orig(s), to_orig(e - 1) + 1) if to_orig else (s, e)
            entry = self.entries[idx]
            if not _context_ok(entry, text, os_, oe):
                continue
            taken_starts.insert(k, s)
            taken_ends.insert(k, e)
            hits.append(Hit(rule=entry.rule, start=os_, end=oe, text=text[os_:oe], suggestion=entry.right,
                            category=entry.category, severity=entry.severity, note=entry.note,
                            since=reform_since(entry, self.reform, text, os_)))
        hits.sort(key=lambda h: h.start)
        return hits


TITLE_REACH = 120  # characters each way searched for the 《 》 around a hit


def _in_title(text: str, start: int, end: int) -> bool:
    """Inside 《…》 (a cited document or book title)."""
    a = text.rfind("《", max(0, start - TITLE_REACH), start)
    if a < 0 or text.find("》", a, start) >= 0:
        return False
    return text.find("》", end, end + TITLE_REACH) >= 0


def _context_ok(e: Entry, text: str, start: int, end: int) -> bool:
    if e.not_in_title and _in_title(text, start, end):
        return False
    if e.after is not None and not e.after.match(text, end):
        return False
    if e.not_before is not None and e.not_before.search(text[max(0, start - 8):start]):
        return False
    if e.sentence_unless is not None:
        a = start
        while a > 0 and not _SENTENCE_END.match(text, a - 1) and start - a < SENTENCE_REACH:
            a -= 1
        m = _SENTENCE_END.search(text, end, min(len(text), end + SENTENCE_REACH))
        b = m.start() if m else min(len(text), end + SENTENCE_REACH)
        if e.sentence_unless.search(text, a, b):
            return False
    return True


def _byte_to_char(raw: bytes, offsets: set[int]) -> dict[int, int]:
    out, prev, pos = {}, 0, 0
    for o in sorted(offsets):
        pos += len(raw[prev:o].decode("utf-8"))
        out[o], prev = pos, o
    return out


def _offset_map(text: str):
    """Map an offset in SEPARATORS.sub('', text) back to the offset in text."""
    starts, removed = [], []  # stripped offset where a run was removed, total removed up to and incl. it
    total = 0
    for m in SEPARATORS.finditer(text):
        starts.append(m.start() - total)
        total += m.end() - m.start()
        removed.append(total)

    def to_orig(i: int) -> int:
        k = bisect.bisect_right(starts, i) - 1
        return i + (removed[k] if k >= 0 else 0)

    return to_orig


_BUILT: dict[tuple, Lexicon] = {}  # (rule-set hash, prefixes) -> automaton: the same rules are compiled once


def lexicon(ruleset, rules: tuple[str, ...] | None = None) -> Lexicon:
    """The word rules of a RuleSet (LEXICON_FILES), those whose ids start with one of `rules`."""
    key = (ruleset.hash, rules)
    if key not in _BUILT:
        if len(_BUILT) >= 4:
            _BUILT.clear()
        _BUILT[key] = Lexicon({f: ruleset[f] for f in LEXICON_FILES}, rules)
    return _BUILT[key]
