"""One RuleSet per round: every rule file, word list, calendar override and the scheme, resolved once.

    rs = RuleSet.load(scheme="national-2019", overrides=Path("/etc/govinspect/rules"), calendar={date: is_workday})
    rs["freshness"]          -> the merged freshness.toml (operator overrides win, the scheme's own keys applied)
    rs.scheme.score(...)     -> the scheme (single-veto lists live there and only there)
    rs.calendar.add_workdays(d, 20)
    rs.rate(29, 31)          -> "93.54" with the scheme's rounding: the one rounding of every rate
    rs.hash                  -> sha256 of all of it, stored on the round and in round.json

A RuleSet is a plain value passed to the checks; checks never read the environment or a module cache. It can be
written to JSON (snapshot) and read back, so a resumed or repeated round runs with exactly the rules it started with.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import RULES_DIR, RulesError

# keys a scheme file may carry; each is consumed below (any other key is rejected when the scheme is loaded)
SCHEME_KEYS = {
    "name": "方案名称", "version": "版本", "extends": "继承的方案", "description": "说明",
    "website": "网站部分（单项否决、扣分项、合格线）", "newmedia": "政务新媒体部分（单项否决、扣分项、合格线）",
    "rates": "比率的小数位数和取舍", "letters": "信件办理期限（覆盖 letters.toml 的 deadline_workdays）",
    "newmedia_rules": "政务新媒体检查阈值（覆盖 newmedia.toml 的同名项）",
    "workdays": "工作日调整（覆盖 workdays.toml 的同名年份）",
    "rectify": "整改期限、确认、提醒和逾期扣分（覆盖 rectify.toml 的同名项）",
}
TEXT_LISTS = ("typo",)  # directories of plain-text word lists shipped with the rules


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _read_toml(p: Path) -> dict:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"规则文件 {p} 格式错误：{e}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError(f"规则文件 {p} 无法读取：{e}") from e


def _toml_files(root: Path) -> dict[str, Path]:
    """name ("freshness", "content/sensitive", "schemes/national-2019") -> file."""
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in sorted(root.rglob("*.toml"))}


class Calendar:
    """Chinese working days: chinesecalendar, then rules/workdays.toml (and a scheme's [workdays]), then the admin's
    table (passed in), each winning over the one before. A year nobody knows raises UnknownYear."""

    def __init__(self, years: dict, extra: dict[dt.date, bool] | None = None):
        import chinese_calendar

        self._lib = chinese_calendar
        self.table: dict[dt.date, bool] = {}
        known = set()
        for year, spec in (years or {}).items():
            known.add(int(year))
            for d in spec.get("holidays", []):
                self.table[dt.date.fromisoformat(d)] = False
            for d in spec.get("workdays", []):
                self.table[dt.date.fromisoformat(d)] = True
        extra = extra or {}
        self.table.update(extra)
        known |= {d.year for d in extra if d.year not in known and not self._library_knows(d.year)}
        self.years = frozenset(known)

    def _library_knows(self, year: int) -> bool:
        try:
            self._lib.is_workday(dt.date(year, 1, 1))
            return True
        except NotImplementedError:
            return False

    def is_workday(self, d: dt.date) -> bool:
        from ..engine.workdays import UnknownYear

        if d in self.table:
            return self.table[d]
        if d.year in self.years:
            return d.weekday() < 5
        try:
            return self._lib.is_workday(d)
        except NotImplementedError:
            raise UnknownYear(d.year) from None

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The date n working days after start (start itself not counted)."""
        d, left = start, n
        while left > 0:
            d += dt.timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return d

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: 0 when end is on or before start."""
        n, d = 0, start
        while d < end:
            d += dt.timedelta(days=1)
            if self.is_workday(d):
                n += 1
        return n


@dataclass
class RuleSet:
    files: dict[str, dict]  # every rule file by name, overrides and the scheme's own keys applied
    scheme_key: str
    scheme_data: dict  # the scheme with its `extends` chain resolved
    calendar_extra: dict[str, bool] = field(default_factory=dict)  # the admin's working-day table (ISO date -> workday)
    lists: dict[str, str] = field(default_factory=dict)  # plain-text word list -> sha256; library -> version

    # ------------------------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, scheme: str = "national-2019", overrides: Path | str | None = None,
             calendar: dict[dt.date, bool] | None = None) -> "RuleSet":
        """The shipped rules, then the operator's directory `overrides` (same file names win), then the scheme's own
        keys. calendar: the admin's working-day table."""
        paths = _toml_files(RULES_DIR)
        if overrides:
            root = Path(overrides)
            if not root.is_dir():
                raise RulesError(f"规则覆盖目录 {root} 不存在")
            paths.update(_toml_files(root))
        files = {name: _read_toml(p) for name, p in paths.items() if not name.startswith("schemes/")}
        schemes = {name.split("/", 1)[1]: p for name, p in paths.items() if name.startswith("schemes/")}
        data = _resolve_scheme(scheme, schemes)
        from importlib.metadata import version

        # data read at run time outside the rule files: the typo lists and the holiday library (its version)
        lists = {"chinesecalendar": version("chinesecalendar")}
        for d in TEXT_LISTS:
            for p in sorted((RULES_DIR / d).glob("*.txt")):
                lists[f"{d}/{p.name}"] = hashlib.sha256(p.read_bytes()).hexdigest()
        rs = cls(files=files, scheme_key=scheme, scheme_data=data,
                 calendar_extra={d.isoformat(): bool(v) for d, v in sorted((calendar or {}).items())}, lists=lists)
        rs._apply_scheme()
        return rs

    def _apply_scheme(self) -> None:
        """The scheme's keys that override rule files (each consumed here or by `scheme`)."""
        s = self.scheme_data
        if "newmedia_rules" in s:
            unknown = _unknown_keys(s["newmedia_rules"], self.files.get("newmedia", {}))
            if unknown:
                raise RulesError(f"考核方案 {self.scheme_key}：[newmedia_rules] 中的“{'、'.join(unknown)}”"
                                 f"不是 newmedia.toml 的检查项")
            self.files["newmedia"] = _merge(self.files["newmedia"], s["newmedia_rules"])
        letters = {"rates": s["rates"]} if "rates" in s else {}
        if "letters" in s:
            letters["deadline_workdays"] = s["letters"]["deadline_workdays"]
        if letters and "letters" in self.files:
            self.files["letters"] = _merge(self.files["letters"], letters)
        if "rectify" in s:
            unknown = _unknown_keys(s["rectify"], self.files.get("rectify", {}))
            if unknown:
                raise RulesError(f"考核方案 {self.scheme_key}：[rectify] 中的“{'、'.join(unknown)}”不是 rectify.toml 的设置项")
            self.files["rectify"] = _merge(self.files["rectify"], s["rectify"])
        if "workdays" in s:
            self.files["workdays"] = _merge(self.files.get("workdays", {}), {"years": s["workdays"].get("years", {})})

    # ------------------------------------------------------------------------------------------- use
    def __getitem__(self, name: str) -> dict:
        try:
            return self.files[name]
        except KeyError:
            raise RulesError(f"找不到规则文件 {name}.toml") from None

    def get(self, name: str, default=None):
        return self.files.get(name, default)

    @property
    def scheme(self):
        from ..engine.scheme import Scheme

        s = self.__dict__.get("_scheme")
        if s is None:
            s = self.__dict__["_scheme"] = Scheme(self.scheme_key, self.scheme_data, self["catalog"]["rules"])
        return s

    @property
    def calendar(self) -> Calendar:
        c = self.__dict__.get("_calendar")
        if c is None:
            extra = {dt.date.fromisoformat(k): v for k, v in self.calendar_extra.items()}
            c = self.__dict__["_calendar"] = Calendar(self.get("workdays", {}).get("years") or {}, extra)
        return c

    def rate(self, num: int, den: int) -> str | None:
        """Every rate the product prints, the scheme's way (decimals and rounding)."""
        return self.scheme.rate(num, den)

    def rule(self, rule_id: str) -> dict:
        """The catalogue entry of a rule, with its veto flag from the scheme (the one place veto lists live)."""
        entry = dict(self["catalog"]["rules"].get(rule_id) or {})
        entry["veto"] = self.scheme.is_veto(rule_id)
        return entry

    # ------------------------------------------------------------------------------------------- identity
    def snapshot(self) -> dict:
        return {"scheme": self.scheme_key, "scheme_data": self.scheme_data, "files": self.files,
                "calendar_extra": self.calendar_extra, "lists": self.lists}

    @classmethod
    def from_snapshot(cls, snap: dict) -> "RuleSet":
        return cls(files=snap["files"], scheme_key=snap["scheme"], scheme_data=snap["scheme_data"],
                   calendar_extra=snap.get("calendar_extra") or {}, lists=snap.get("lists") or {})

    @property
    def hash(self) -> str:
        h = self.__dict__.get("_hash")
        if h is None:
            raw = json.dumps(self.snapshot(), sort_keys=True, ensure_ascii=False, default=str)
            h = self.__dict__["_hash"] = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        return h


def _unknown_keys(over: dict, base: dict, prefix: str = "") -> list[str]:
    """Dotted paths of `over` that `base` does not have (an override can only change what exists)."""
    out = []
    for k, v in over.items():
        if k not in base:
            out.append(prefix + k)
        elif isinstance(v, dict) and isinstance(base[k], dict):
            out += _unknown_keys(v, base[k], f"{prefix}{k}.")
    return sorted(out)


def _resolve_scheme(key: str, schemes: dict[str, Path]) -> dict:
    from ..engine.scheme import SchemeError

    chain, seen, k = [], [], key
    while k:
        if k in seen:
            raise SchemeError(f"考核方案 {key}：extends 循环（{' → '.join(seen + [k])}）")
        seen.append(k)
        if k not in schemes:
            raise SchemeError(f"找不到考核方案“{k}”（govinspect/rules/schemes/{k}.toml）")
        d = _read_toml(schemes[k])
        unknown = sorted(set(d) - set(SCHEME_KEYS))
        if unknown:
            raise SchemeError(f"考核方案 {k}：不认识的配置项“{'、'.join(unknown)}”（可用：{'、'.join(SCHEME_KEYS)}）")
        chain.append(d)
        k = d.get("extends")
    data: dict = {}
    for d in reversed(chain):
        data = _merge(data, {kk: v for kk, v in d.items() if kk != "extends"})
    for required in ("name", "version"):
        if required not in data:
            raise SchemeError(f"考核方案 {key}：缺少 {required}")
    return data
