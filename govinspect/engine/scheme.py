"""Scoring schemes as data (rules/schemes/*.toml): single-veto items, the 100-point deduction part with
per-indicator caps, the pass line, local limits and the rounding of rates.

    scheme = RuleSet.load("national-2019").scheme   # or a local file that `extends` it (rules/ruleset.py)
    s = scheme.score([f.rule for f in findings], "website")  -> Score(score, verdict, vetoes, deductions)
    scheme.rate(47, 48) -> "97.92"

A scheme file is validated when loaded; SchemeError names the file, the place and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from ..rules import RulesError, load_rules

PARTS = ("website", "newmedia")


class SchemeError(RulesError):
    pass


@dataclass
class Score:
    score: int
    verdict: str  # pass | fail
    vetoes: list[str] = field(default_factory=list)
    deductions: list[dict] = field(default_factory=list)  # {"id", "name", "count", "points", "confirmed"}

    @property
    def reasons(self) -> list[str]:
        out = [f"单项否决：{v}" for v in self.vetoes]
        out += [f"{d['name']}（{d['id']}）{d['count']}处，扣{d['points']}分" for d in self.deductions]
        return out


def percent(num: int, den: int, decimals: int = 2, rounding: str = "half_up", trim: bool = False) -> str | None:
    """A percentage as bulletins print it: 47/48 -> "97.92" (half_up), 29/31 -> "93.54" (truncate);
    trim: an integral value without decimals ("100"). None when there is nothing to divide by."""
    if not den:
        return None
    q = Decimal(1).scaleb(-decimals)
    v = (Decimal(num) * 100 / Decimal(den)).quantize(q, rounding=ROUND_DOWN if rounding == "truncate" else ROUND_HALF_UP)
    return f"{v.normalize():f}" if trim and v == v.to_integral() else f"{v:f}"


class Scheme:
    def __init__(self, key: str, data: dict, catalog: dict | None = None):
        self.key = key
        self.data = data
        self.catalog = catalog if catalog is not None else load_rules("catalog")["rules"]
        self.name = data["name"]
        self.version = str(data["version"])
        self._validate()

    def _validate(self) -> None:
        where = f"考核方案 {self.key}"
        catalog = set(self.catalog)
        for part in PARTS:
            p = self.data.get(part)
            if not isinstance(p, dict):
                raise SchemeError(f"{where}：缺少 [{part}] 部分")
            full, passing = p.get("full_score"), p.get("pass_score")
            if not isinstance(full, int) or not isinstance(passing, int) or not 0 < passing <= full:
                raise SchemeError(f"{where}：[{part}] 的 full_score/pass_score 应为整数且 0 < 合格分 ≤ 满分")
            for r in p.get("veto", []):
                if r not in catalog:
                    raise SchemeError(f"{where}：[{part}] veto 中的规则“{r}”不存在（见 docs/rules.md）")
            for i, d in enumerate(p.get("deduction", []), start=1):
                w = f"{where}：[{part}] 第{i}个扣分项（{d.get('id', '?')}）"
                if not d.get("id") or not d.get("name"):
                    raise SchemeError(f"{w}缺少 id 或 name")
                unknown = [r for r in d.get("rules", []) if r not in catalog]
                if unknown or not d.get("rules"):
                    raise SchemeError(f"{w}的 rules 为空或含未知规则：{'、'.join(unknown)}")
                if not isinstance(d.get("points"), int) or d["points"] <= 0 or not isinstance(d.get("cap"), int) or d["cap"] < d["points"]:
                    raise SchemeError(f"{w}：points 应为正整数，cap 不小于 points")
        r = self.data.get("rates", {})
        if r.get("rounding") not in ("half_up", "truncate") or not isinstance(r.get("decimals"), int) or not 0 <= r["decimals"] <= 4:
            raise SchemeError(f"{where}：[rates] rounding 应为 half_up 或 truncate，decimals 为 0–4")

    def score(self, rules: list[str], part: str = "website") -> Score:
        p = self.data[part]
        vetoes = sorted({r for r in rules if r in set(p.get("veto", []))})
        total, deductions = 0, []
        for d in p.get("deduction", []):
            n = sum(1 for r in rules if r in d["rules"])
            if n:
                pts = min(d["cap"], n * d["points"])
                total += pts
                deductions.append({"id": d["id"], "name": d["name"], "count": n, "points": pts, "confirmed": d.get("confirmed", True)})
        score = max(0, p["full_score"] - total)
        verdict = "fail" if vetoes or score < p["pass_score"] else "pass"
        return Score(score, verdict, vetoes, deductions)

    def judge(self, status: str, rules: list[str], part: str = "website") -> tuple[str, int | None, list]:
        """(verdict, score, deductions) of a target from the rules of its findings (ignored ones left out): checked ->
        the score; not checked -> "unknown", or "fail" when a single-veto item was established anyway. The one scoring
        of the product (rounds/scoring.py after a job is stored and after ignores; check-site; newmedia)."""
        scored = self.score(rules, part)
        if status == "checked":
            return scored.verdict, scored.score, scored.deductions
        return ("fail" if scored.vetoes else "unknown"), None, []

    def is_veto(self, rule: str) -> bool:
        """Whether the rule is a single-veto item in any part of the scheme (the one place veto lists live)."""
        return any(rule in self.data[part].get("veto", []) for part in PARTS)

    def rate(self, num: int, den: int) -> str | None:
        """A percentage the scheme's way: 47/48 -> 97.92 (half_up); 29/31 -> 93.54 (truncate)."""
        r = self.data["rates"]
        return percent(num, den, r["decimals"], r["rounding"])


def load_scheme(key: str = "national-2019") -> Scheme:
    """The shipped scheme `key` (for commands that show or validate a scheme; rounds use their RuleSet's)."""
    from ..rules.ruleset import RuleSet

    return RuleSet.load(key).scheme
