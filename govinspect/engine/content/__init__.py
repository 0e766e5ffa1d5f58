"""Content checks on text: 错敏词 and wrong expressions (lexicon), personal data (pii), typos (typo),
leader names and titles (leaders). Pure functions over strings; engine/checks/content.py applies
them to crawled pages and attachments.

    ContentChecker(RuleSet.load(), only=("privacy", "content.misspelling")).check(text) -> list[Hit]
"""

from __future__ import annotations

from bisect import bisect_right

from ...safetext import without_surrogates
from . import pii
from .lexicon import Hit, lexicon



def _free_of(spans):
    """A test of whether [start, end) overlaps none of the spans: the spans merged and bisected, so many spans (a
    page full of registered names) cost log time per question, not a pass over all of them."""
    starts: list[int] = []
    ends: list[int] = []
    for a, b in sorted(spans):
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)

    def free(start: int, end: int) -> bool:
        k = bisect_right(ends, start)  # the first merged span ending after start
        return k == len(ends) or starts[k] >= end

    return free


ALL_RULES = ("privacy.id_number", "privacy.mobile", "privacy.bank_card", "content.misspelling", "content.expression",
             "content.sensitive", "content.institution_name", "content.leader", "content.typo")


def _selected(rule: str, prefixes: tuple[str, ...] | None) -> bool:
    return prefixes is None or any(rule.startswith(p) for p in prefixes)


class ContentChecker:
    """The content rules of a RuleSet (None: the shipped rules): all, or those whose ids start with one of `only`
    (e.g. ("privacy", "content.typo")). typos=False leaves the (slower) typo detector out; roster enables content.leader.
    names: proper names the typo check never corrects (the registry's units and websites); the roster's leader names
    are added to them.
    """

    def __init__(self, rules=None, roster=None, *, only: tuple[str, ...] | None = None, typos: bool = True,
                 names=()):
        if rules is None:
            from ...rules.ruleset import RuleSet

            rules = RuleSet.load()
        only = tuple(r.strip() for r in only if r.strip()) if only else None
        unknown = [p for p in only or () if not any(r.startswith(p) for r in ALL_RULES)]
        if unknown:
            raise ValueError(f"未知的规则前缀：{', '.join(unknown)}（可用：{', '.join(ALL_RULES)}）")
        self.ruleset = rules
        self.rules = only
        self.lexicon = lexicon(rules, only)
        self.privacy = {r for r in ALL_RULES if r.startswith("privacy.") and _selected(r, only)}
        self.typos = None
        if typos and _selected("content.typo", only):
            from .typo import detector

            self.typos = detector()
        self.names = sorted({n.strip() for n in names if len(n.strip()) >= 2}
                            | (set(roster.by_name) if roster is not None else set()))
        self._names = None
        if self.typos is not None and self.names:
            import ahocorasick_rs as ac

            # every occurrence, overlapping ones too: 清河县 must not hide 县措失 in 清河县措失
            self._names = ac.AhoCorasick(self.names, matchkind=ac.MATCHKIND_STANDARD)
        self.roster = roster if roster is not None and _selected("content.leader", only) else None

    def __reduce__(self):
        """Sent to a worker process as its settings: the word lists and typo model are rebuilt (or inherited) there."""
        return _rebuild, (self.ruleset.snapshot(), self.roster, self.rules, self.typos is not None, self.names)

    def check(self, text: str, table_context: str = "", published=None) -> list[Hit]:
        return self.check_all(text, table_context, published)[0]

    def check_all(self, text: str, table_context: str = "", published=None) -> tuple[list[Hit], list[Hit]]:
        """(findings, compliant masked personal data)."""
        text = without_surrogates(text)  # the scanners (Rust, C) take UTF-8 only; positions hold
        hits = self.lexicon.scan(text)
        masked: list[Hit] = []
        if self.privacy:
            found, masked = pii.scan(text, table_context)
            hits += [h for h in found if h.rule in self.privacy]
            masked = [h for h in masked if h.rule in self.privacy]
        if self.roster is not None:
            hits += self.roster.scan(text, published)
        if self.typos is not None:
            taken = [(h.start, h.end) for h in hits]
            if self._names is not None:  # a registered name (单位, 网站, 领导) is never a typo: 张效律 stays 张效律
                taken += [(a, b) for _, a, b in self._names.find_matches_as_indexes(text, overlapping=True)]
            free = _free_of(taken)
            hits += [t for t in self.typos.scan(text) if free(t.start, t.end)]
        hits.sort(key=lambda h: (h.start, h.rule))
        return hits, masked


def _rebuild(snapshot, roster, only, typos, names=()):
    from ...rules.ruleset import RuleSet

    return ContentChecker(RuleSet.from_snapshot(snapshot), roster, only=only, typos=typos, names=names)


def excerpt(text: str, start: int, end: int, shown: str, width: int = 20) -> tuple[str, tuple[int, int]]:
    """(the hit in its surroundings with personal numbers masked, the hit's [start, end) in it); `shown` stands for
    the hit (masked personal data)."""
    a, b = max(0, start - width), min(len(text), end + width)
    while a > 0 and start - a < width + 20 and (text[a - 1].isdigit() or text[a].isdigit()):
        a -= 1  # never cut a number in half: a half number escapes masking
    while b < len(text) and b - end < width + 20 and (text[b - 1].isdigit() or text[b].isdigit()):
        b += 1
    clean = lambda s: pii.mask_runs(s).replace("\x1f", " | ").replace("\x0c", " ").replace("\n", " ")
    before = ("…" if a > 0 else "") + clean(text[a:start])
    return before + shown + clean(text[end:b]) + ("…" if b < len(text) else ""), (len(before), len(before) + len(shown))


def context(text: str, start: int, end: int, shown: str, width: int = 20) -> str:
    """The hit in its surroundings, marked 【…】, with personal numbers around it masked."""
    ex, (a, b) = excerpt(text, start, end, shown, width)
    return ex[:a] + "【" + ex[a:b] + "】" + ex[b:]


def hit_facts(h: Hit) -> dict:
    """The facts of a content finding (the rest of a hit is its excerpt): the matched text (masked personal data),
    the right form, category and severity (reports order examples by it)."""
    out = {"text": h.text, "category": h.category, "severity": h.severity}
    if h.suggestion:
        out["suggestion"] = h.suggestion
    if h.note:
        out["note"] = h.note
    return out


def hit_evidence(h: Hit, text: str, ctx: str | None = None) -> dict:
    """What every content finding carries as evidence (check-site, new-media posts, check-text)."""
    return {**h.to_dict(), "context": ctx if ctx is not None else context(text, h.start, h.end, h.text)}


__all__ = ["ALL_RULES", "ContentChecker", "Hit", "context", "excerpt", "hit_evidence", "hit_facts"]
