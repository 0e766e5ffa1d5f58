"""The typo check's context model: a word trigram read through KenLM.

The model is Debian's `libime-data-language-model` (`zh_CN.lm`, fcitx5's pinyin input method model,
LGPL-2.1+), a KenLM binary word trigram that loads unchanged in the `ufal-kenlm` wheel (mmap: ~2 ms to
open, its pages shared between processes). `make` installs the package; `GOVINSPECT_TYPO_LM` names another
file, or `off` to run the typo check without it (it then falls back to its dictionary method).

The model was built over libime's own word segmentation, so text must be cut into *its* words: a window
is segmented by a unigram dynamic programme over the model's vocabulary (words up to 4 characters), never by
jieba, whose longer words (市场监管, 国际机场) the model lacks and would score as unknown
(docs/typo-lm-notes.md §1 measured it: jieba's cut gives precision 0.17, the model's own 0.88).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DEBIAN_LM = Path("/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm")
MAX_WORD = 4  # longest word the segmentation tries
UNKNOWN = -20.0  # unigram log10 of a character the model does not know (keeps the DP connected)
_MISS = object()


class WordLM:
    def __init__(self, path: Path):
        import kenlm

        self.path = path
        self.model = kenlm.Model(str(path))
        self._uni: dict[str, float | None] = {}
        self._scores: dict[tuple[str, bool, bool], float] = {}
        self._dp: dict[tuple[str, int], tuple[list, list]] = {}  # DP tables of the parts gains() leaves unchanged

    def __contains__(self, w: str) -> bool:
        return self.uni(w) is not None

    def uni(self, w: str) -> float | None:
        """Unigram log10 probability of w, None when the model lacks the word."""
        cache = self._uni
        if w in cache:
            return cache[w]
        v = self.model.score(w, bos=False, eos=False) if w in self.model else None
        if len(cache) > 150_000:  # ~20 MB; a page's words are mostly the common ones
            cache.clear()
        cache[w] = v
        return v

    def segment(self, s: str) -> list[str]:
        """The most probable cut of s into the model's words (unigram DP, words up to MAX_WORD characters)."""
        n = len(s)
        score = [0.0] + [-1e18] * n
        back = [0] * (n + 1)
        uni = self.uni
        for e in range(1, n + 1):
            best, arg = -1e18, 1
            for k in range(1, min(MAX_WORD, e) + 1):
                u = uni(s[e - k:e])
                if u is None:
                    if k > 1:
                        continue
                    u = UNKNOWN
                v = score[e - k] + u
                if v > best:
                    best, arg = v, k
            score[e], back[e] = best, arg
        out, e = [], n
        while e > 0:
            k = back[e]
            out.append(s[e - k:e])
            e -= k
        return out[::-1]

    def _forward(self, s: str) -> tuple[list[float], list[int]]:
        """Unigram DP over s: best score of each prefix s[:k] and the length of its last word."""
        n = len(s)
        score = [0.0] + [-1e18] * n
        back = [0] * (n + 1)
        get, uni = self._uni.get, self.uni
        for e in range(1, n + 1):
            best, arg = -1e18, 1
            for k in range(1, min(MAX_WORD, e) + 1):
                w = s[e - k:e]
                u = get(w, _MISS)
                if u is _MISS:
                    u = uni(w)
                if u is None:
                    if k > 1:
                        continue
                    u = UNKNOWN
                v = score[e - k] + u
                if v > best:
                    best, arg = v, k
            score[e], back[e] = best, arg
        return score, back

    def _backward(self, s: str) -> tuple[list[float], list[int]]:
        """Unigram DP over s from the right: best score of each suffix s[j:] and the length of its first word."""
        n = len(s)
        score = [-1e18] * n + [0.0]
        fwd = [0] * (n + 1)
        get, uni = self._uni.get, self.uni
        for j in range(n - 1, -1, -1):
            best, arg = -1e18, 1
            for k in range(1, min(MAX_WORD, n - j) + 1):
                w = s[j:j + k]
                u = get(w, _MISS)
                if u is _MISS:
                    u = uni(w)
                if u is None:
                    if k > 1:
                        continue
                    u = UNKNOWN
                v = score[j + k] + u
                if v > best:
                    best, arg = v, k
            score[j], fwd[j] = best, arg
        return score, fwd

    def gains(self, left: str, written: str, alts, right: str, bos: bool, eos: bool) -> list[float]:
        """score(left + alt + right) - score(left + written + right) for each alt (as long as written), each
        variant segmented exactly as score() would: the DP of the unchanged left part is extended over the
        changed characters and joined with the DP of the unchanged right part (words crossing the join, or none)."""
        dp = self._dp
        F, fb = dp.get((left, 0)) or self._forward(left)
        B, bf = dp.get((right, 1)) or self._backward(right)
        if len(dp) > 20_000:
            dp.clear()
        dp[left, 0], dp[right, 1] = (F, fb), (B, bf)
        m, r = len(left), len(right)
        get, uni, lm_score = self._uni.get, self.uni, self.model.score
        out = []
        for c in (written, *alts):
            t = left + c
            p = len(t)
            F2, fb2 = F + [0.0] * len(c), fb + [0] * len(c)
            for e in range(m + 1, p + 1):  # the forward DP over the changed characters
                top, arg = -1e18, 1
                for k in range(1, min(MAX_WORD, e) + 1):
                    w = t[e - k:e]
                    u = get(w, _MISS)
                    if u is _MISS:
                        u = uni(w)
                    if u is None:
                        if k > 1:
                            continue
                        u = UNKNOWN
                    v = F2[e - k] + u
                    if v > top:
                        top, arg = v, k
                F2[e], fb2[e] = top, arg
            top, arg = F2[p] + B[0], None  # a word boundary at the join ...
            for st in range(max(0, p - MAX_WORD + 1), p):  # ... or a word across it
                for en in range(p + 1, min(p + r, st + MAX_WORD) + 1):
                    w = t[st:] + right[:en - p]
                    u = get(w, _MISS)
                    if u is _MISS:
                        u = uni(w)
                    if u is not None and F2[st] + u + B[en - p] > top:
                        top, arg = F2[st] + u + B[en - p], (st, en)
            if arg is None:
                k, j, words = p, 0, []
            else:
                k, j, words = arg[0], arg[1] - p, [t[arg[0]:] + right[:arg[1] - p]]
            while k > 0:
                words.append(t[k - fb2[k]:k])
                k -= fb2[k]
            words.reverse()
            while j < r:
                words.append(right[j:j + bf[j]])
                j += bf[j]
            out.append(lm_score(" ".join(words), bos=bos, eos=eos))
        base = out[0]
        return [v - base for v in out[1:]]

    def score(self, s: str, bos: bool = False, eos: bool = False) -> float:
        """log10 probability of s cut into the model's words; bos/eos when s starts/ends a sentence."""
        key = (s, bos, eos)
        v = self._scores.get(key)
        if v is None:
            v = self.model.score(" ".join(self.segment(s)), bos=bos, eos=eos)
            if len(self._scores) > 200_000:
                self._scores.clear()
            self._scores[key] = v
        return v


@lru_cache(maxsize=1)
def load() -> WordLM | None:
    """The configured model, or None (with the reason logged once) when it is switched off or missing."""
    setting = os.environ.get("GOVINSPECT_TYPO_LM", "").strip()
    if setting.lower() in ("off", "0", "no", "false"):
        log.warning("typo language model switched off (GOVINSPECT_TYPO_LM=%s): the typo check uses its dictionary method", setting)
        return None
    path = Path(setting) if setting else DEBIAN_LM
    if not path.is_file():
        log.warning("typo language model not found at %s: the typo check uses its dictionary method "
                    "(install the Debian package libime-data-language-model, or set GOVINSPECT_TYPO_LM)", path)
        return None
    try:
        return WordLM(path)
    except Exception as exc:  # kenlm missing, or not a KenLM model (OSError, RuntimeError, UnicodeDecodeError ...)
        log.warning("typo language model %s could not be opened (%s): the typo check uses its dictionary method", path, exc)
        return None
