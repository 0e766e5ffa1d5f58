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
from itertools import groupby
from pathlib import Path

log = logging.getLogger(__name__)

DEBIAN_LM = Path("/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm")
MAX_WORD = 4  # longest word the segmentation tries
UNKNOWN = -20.0  # unigram log10 of a character the model does not know (keeps the DP connected)


_MAGIC = b"mmap lm http://kheafield.com/code format version 5\n\0"
_MISS = object()


def _word_pairs(path: Path, model) -> dict[str, str] | None:
    """Character -> the characters that follow it inside some word of a KenLM binary model (two neighbours no
    word holds make a string no word), or None when the file does not plainly hold its vocabulary (an ARPA file,
    another format version): then every string is looked up.

    A KenLM binary file written with its vocabulary ends with the words, NUL-terminated, from <unk> on; its header
    (binary_format.cc: Sanity, 88 bytes, then FixedWidthParameters) says whether they are there (has_vocabulary,
    offset 100) and how many unigrams the model has (the first count, offset 108). The list is used only when it
    looks complete: as many words as unigrams, and a sample of them known to the model."""
    import mmap
    import struct

    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if len(mm) < 116 or mm[:len(_MAGIC)] != _MAGIC or mm[100] != 1:
                return None
            count = struct.unpack_from("<Q", mm, 108)[0]
            start = mm.rfind(b"<unk>\0")
            if start < 0:
                return None
            text = mm[start:].decode("utf-8")
    except (OSError, ValueError):  # ValueError: an empty file, or not UTF-8 (UnicodeDecodeError)
        return None
    if not text.endswith("\0") or text.count("\0") != count:
        return None
    for k in range(6, len(text), max(1, len(text) // 2000)):  # a sample of the words after <unk> (no word)
        w = text[text.rfind("\0", 0, k) + 1:text.find("\0", k)]
        if w and w not in model:
            return None
    pairs = sorted(set(map(str.__add__, text, text[1:])))
    follows: dict[str, str] = {}
    for a, group in groupby(pairs, key=lambda p: p[0]):
        if a != "\0":
            follows[a] = "".join(p[1] for p in group if p[1] != "\0")
    return follows


class _Anything:
    def __contains__(self, item) -> bool:
        return True


_ANY = _Anything()


class WordLM:
    def __init__(self, path: Path):
        import kenlm

        self.path = path
        self.model = kenlm.Model(str(path))
        self._uni: dict[str, float | None] = {}
        self._scores: dict[tuple[str, bool, bool], float] = {}
        self._dp: dict[tuple[str, int], tuple] = {}  # DP tables of the parts gains() leaves unchanged
        # _next(a, "") holds b when the neighbours a, b occur together inside some word of the model (any b when
        # the file does not list its words): the DP never looks up a string holding two neighbours no word holds
        # (most of the strings it would try)
        follows = _word_pairs(path, self.model)
        self._next = follows.get if follows is not None else (lambda a, default: _ANY)

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
        _, back, _ = self._forward(s)
        out, e = [], len(s)
        while e > 0:
            k = back[e]
            out.append(s[e - k:e])
            e -= k
        return out[::-1]

    def _forward(self, s: str) -> tuple[list[float], list[int], int]:
        """Unigram DP over s: best score of each prefix s[:k] and the length of its last word; and the length of
        the longest suffix of s whose neighbours all occur together inside some word (_next)."""
        n = len(s)
        score, back = [0.0] + [-1e18] * n, [0] * (n + 1)
        return score, back, self._extend(s, score, back, 0, 0)

    def _extend(self, s: str, score: list[float], back: list[int], start: int, reach: int) -> int:
        """Run the forward DP over s[start:], score/back already holding it up to start (reach: the longest
        suffix of s[:start] a word could be); returns the reach at the end of s."""
        get, uni, nxt = self._uni.get, self.uni, self._next
        for e in range(start + 1, len(s) + 1):
            reach = reach + 1 if e > 1 and s[e - 1] in nxt(s[e - 2], "") else 1  # no longer word ends at e
            best, arg = -1e18, 1
            for k in range(1, min(MAX_WORD, reach) + 1):
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
        return reach

    def _backward(self, s: str) -> tuple[list[float], list[int], int]:
        """Unigram DP over s from the right: best score of each suffix s[j:] and the length of its first word;
        and the length of the longest prefix of s whose neighbours all occur together inside some word."""
        n = len(s)
        score = [-1e18] * n + [0.0]
        fwd = [0] * (n + 1)
        get, uni, nxt = self._uni.get, self.uni, self._next
        reach = 0  # the longest prefix of s[j:] a word could be: no longer word starts at j
        for j in range(n - 1, -1, -1):
            reach = reach + 1 if j + 1 < n and s[j + 1] in nxt(s[j], "") else 1
            best, arg = -1e18, 1
            for k in range(1, min(MAX_WORD, reach) + 1):
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
        return score, fwd, reach

    def _left_table(self, left: str) -> tuple:
        """What gains() needs of an unchanged left part: its forward DP, the best cut of each prefix left[:k]
        joined by spaces, the longest suffix a word could be, and its suffixes by length + 1 (the characters
        before a changed one in a word of that length)."""
        F, fb, reach = self._forward(left)
        cut = [""] * (len(left) + 1)
        for k in range(1, len(left) + 1):
            b = k - fb[k]
            cut[k] = cut[b] + " " + left[b:k] if b else left[:k]
        m = len(left)
        return F, fb, cut, reach, ["", ""] + [left[m - k + 1:] for k in range(2, min(MAX_WORD, m + 1) + 1)]

    def _right_table(self, right: str) -> tuple:
        """What gains() needs of an unchanged right part: its backward DP, the best cut of each suffix right[j:]
        joined by spaces, the prefixes right[:j] a word across the join can end with, and the longest prefix a
        word could be."""
        B, bf, reach = self._backward(right)
        r = len(right)
        cut = [""] * (r + 1)
        for j in range(r - 1, -1, -1):
            e = j + bf[j]
            cut[j] = right[j:e] + " " + cut[e] if e < r else right[j:]
        return B, bf, cut, [right[:j] for j in range(min(r, MAX_WORD - 1) + 1)], reach

    def gains(self, left: str, written: str, alts, right: str, bos: bool, eos: bool) -> list[float]:
        """score(left + alt + right) - score(left + written + right) for each alt (as long as written), each
        variant segmented exactly as score() would: the DP of the unchanged left part is extended over the
        changed characters and joined with the DP of the unchanged right part (words crossing the join, or none).
        Strings holding neighbours no word holds are never looked up (_next): they are not words."""
        dp = self._dp
        lt = dp.get((left, 0))
        rt = dp.get((right, 1))
        if lt is None or rt is None:
            if len(dp) > 20_000:
                dp.clear()
            if lt is None:
                lt = dp[left, 0] = self._left_table(left)
            if rt is None:
                rt = dp[right, 1] = self._right_table(right)
        F, fb, lcut, lreach, lsuf = lt
        B, bf, rcut, rpre, rreach = rt
        m, r = len(left), len(right)
        B0 = B[0]
        get, uni, nxt, lm_score = self._uni.get, self.uni, self._next, self.model.score
        out = []
        alts = tuple(alts)
        if len(written) == 1 and len("".join(alts)) == len(alts):  # one changed character (most calls): the same
            # steps as below, with the words ending at it built once
            first = left[-1:]
            for c in (written, *alts):
                reach = lreach + 1 if m and c in nxt(first, "") else 1  # the longest word that could end at c
                ends = [lsuf[k] + c for k in range(min(MAX_WORD, reach) + 1)]  # ends[k]: the k characters up to c
                top, arg = -1e18, 1  # the forward DP at c
                for k in range(1, len(ends)):
                    u = get(ends[k], _MISS)
                    if u is _MISS:
                        u = uni(ends[k])
                    if u is None:
                        if k > 1:
                            continue
                        u = UNKNOWN
                    v = F[m + 1 - k] + u
                    if v > top:
                        top, arg = v, k
                k, j, word = m + 1 - arg, 0, ends[arg]
                top += B0  # a word boundary after c ...
                if r and right[0] in nxt(c, ""):  # ... or a word across it
                    for n in range(min(MAX_WORD - 1, reach), 0, -1):  # its first n characters end at c
                        st = m + 1 - n
                        for jj in range(1, min(rreach, MAX_WORD - n) + 1):
                            w = ends[n] + rpre[jj]
                            u = get(w, _MISS)
                            if u is _MISS:
                                u = uni(w)
                            if u is not None and F[st] + u + B[jj] > top:
                                top, k, j, word = F[st] + u + B[jj], st, jj, w
                words = [lcut[k], word, rcut[j]] if k else [word, rcut[j]]
                out.append(lm_score(" ".join(words) if j < r else " ".join(words[:-1]), bos=bos, eos=eos))
            base = out[0]
            return [v - base for v in out[1:]]
        for c in (written, *alts):
            t = left + c
            p = len(t)
            F2, fb2 = F + [0.0] * len(c), fb + [0] * len(c)
            reach = self._extend(t, F2, fb2, m, lreach)  # the forward DP over the changed characters
            top, arg = F2[p] + B0, None  # a word boundary at the join ...
            if r and right[0] in nxt(t[-1], ""):  # ... or a word across it
                for st in range(max(0, p - MAX_WORD + 1, p - reach), p):
                    tail = t[st:]
                    for j in range(1, min(rreach, st + MAX_WORD - p) + 1):
                        w = tail + rpre[j]
                        u = get(w, _MISS)
                        if u is _MISS:
                            u = uni(w)
                        if u is not None and F2[st] + u + B[j] > top:
                            top, arg = F2[st] + u + B[j], (st, j)
            if arg is None:
                k, j, words = p, 0, []
            else:
                k, j = arg
                words = [t[k:] + rpre[j]]
            while k > m:  # the words over the changed characters; left[:k] keeps its own cut
                words.append(t[k - fb2[k]:k])
                k -= fb2[k]
            if k:
                words.append(lcut[k])
            words.reverse()
            if j < r:
                words.append(rcut[j])
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
