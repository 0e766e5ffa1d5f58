"""Throw-away probe for issue 20: sound/shape-alike candidates scored by Debian's libime word trigram.

Standalone: not imported by govinspect, not collected by pytest. Runs in a separate venv:

    python3 -m venv /tmp/t1venv && /tmp/t1venv/bin/pip install ufal-kenlm pypinyin jieba
    apt-get install libime-data-language-model          # /usr/lib/x86_64-linux-gnu/libime/zh_CN.lm
    /tmp/t1venv/bin/python benchmarks/typo_lm_probe.py [--stats] [--show] [--jieba-seg | --char-seg]
    PROBE_WORD_FREQ=10 PROBE_HOMO_FREQ=100 /tmp/t1venv/bin/python benchmarks/typo_lm_probe.py   # broader candidates

What it measures (docs/typo-lm-notes.md has the figures):
- --stats: size of the vendored confusion sets (same_pinyin/same_stroke) and of the pypinyin homophone routes,
  and how often they hold the gold character of odw.train (a measurement, nothing is learned from ECSpell).
- the LM: load time, RSS, queries per second.
- detection: candidates (G1: one character from the confusion sets that makes a 2-4 character jieba word;
  G2: a 2-character jieba token replaced by a same-toneless-pinyin jieba word), each scored by the LM's log10
  gain over a +-6 character window cut into the LM's own words (unigram DP over its vocabulary; --jieba-seg cuts
  with jieba instead, --char-seg into single characters: both far worse). A position is
  flagged when its best gain passes a threshold. Character-level P/R on odw.train rows 860-1719 (second half;
  nothing is fitted here, thresholds are only swept) and false alarms per 100,000 distinct-sentence CJK
  characters of the gov.cn policy dump (text extracted with govinspect's own extractor, run in the project venv).
No model, vocabulary or count table is built from ECSpell sentences.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import jieba
import kenlm
from pypinyin import Style, lazy_pinyin, pinyin

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "realdata"
ODW = SHARED / "spelling" / "ecspell-odw.train"
SQL = SHARED / "pages" / "govcn-policy-fragments.sql"
LM_PATH = "/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm"
RULES = ROOT / "govinspect" / "rules" / "typo"
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
NUMERAL = set("〇零一二三四五六七八九十百千万亿两0123456789")
CTX = 6
WORD_FREQ = int(os.environ.get("PROBE_WORD_FREQ", 100))  # a candidate must make a jieba word at least this common (G1)
HOMO_FREQ = int(os.environ.get("PROBE_HOMO_FREQ", 1000))  # G2 replacement words
RARE = 30  # variant B: the written window must be rarer than this (jieba freq) - the current detector's rule
THRESHOLDS = (2.0, 3.0, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 8.0)
SEGMENT = "jieba" if "--jieba-seg" in sys.argv else "chars" if "--char-seg" in sys.argv else "lm"  # how a window is cut into the LM's words
SHOW = 5.0  # --show lists clean-text false alarms with at least this gain


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def confusion() -> dict[str, set[str]]:
    conf: dict[str, set[str]] = defaultdict(set)
    for line in (RULES / "same_pinyin.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            conf[parts[0]].update(c for c in "".join(parts[1:]) if CJK.match(c) and c != parts[0])
    for line in (RULES / "same_stroke.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            group = "".join(line.split("\t"))
            for c in group:
                conf[c].update(x for x in group if x != c and CJK.match(x))
    return conf


class Probe:
    def __init__(self):
        jieba.setLogLevel(logging.WARNING)
        self.tk = jieba.Tokenizer()
        self.tk.initialize()
        self.freq = self.tk.FREQ
        r0 = rss_mb()
        t = time.perf_counter()
        self.lm = kenlm.Model(LM_PATH)
        self.load_s = time.perf_counter() - t
        self.lm_rss_open = rss_mb() - r0
        self.conf = confusion()
        lm = self.lm
        self.fixes: dict[str, str] = {}
        self.homo: dict[str, list[str]] = defaultdict(list)
        for w, f in self.freq.items():
            if f < WORD_FREQ or not (2 <= len(w) <= 4) or not CJK_RUN.fullmatch(w):
                continue
            for j in range(len(w)):
                key = w[:j] + "?" + w[j + 1:]
                self.fixes[key] = self.fixes.get(key, "") + w[j]
            if len(w) == 2 and f >= HOMO_FREQ and w in lm:
                self.homo[" ".join(lazy_pinyin(w))].append(w)
        self.seg_cache: dict = {}
        self.uni_cache: dict = {}

    def score(self, s: str, bos: bool, eos: bool) -> float:
        key = (s, bos, eos)
        v = self.seg_cache.get(key)
        if v is None:
            if SEGMENT == "lm":
                toks = self.segment(s)
            elif SEGMENT == "chars":
                toks = list(s)
            else:
                toks = [x for t in self.tk.cut(s, HMM=False) for x in ([t] if t in self.lm else list(t))]
            v = self.lm.score(" ".join(toks), bos=bos, eos=eos)
            if len(self.seg_cache) > 200_000:
                self.seg_cache.clear()
            self.seg_cache[key] = v
        return v

    def uni(self, w: str) -> float | None:
        v = self.uni_cache.get(w, 0.0)
        if v == 0.0:
            v = self.lm.score(w, bos=False, eos=False) if w in self.lm else None
            self.uni_cache[w] = v
        return v

    def segment(self, s: str) -> list[str]:
        """Best segmentation of s into the LM's own words (unigram DP, words up to 4 characters): the LM was
        built over libime's segmentation, so jieba's longer words (市场监管, 国际机场) would fall into characters."""
        n = len(s)
        best = [(0.0, 0)] + [(-1e9, 0)] * n
        for e in range(1, n + 1):
            for k in range(1, min(4, e) + 1):
                u = self.uni(s[e - k:e])
                if u is None:
                    u = -20.0 if k == 1 else None
                if u is not None and best[e - k][0] + u > best[e][0]:
                    best[e] = (best[e - k][0] + u, k)
        out, e = [], n
        while e > 0:
            k = best[e][1]
            out.append(s[e - k:e])
            e -= k
        return out[::-1]

    def gain(self, s: str, a: int, n: int, repl: str) -> float:
        lo, hi = max(0, a - CTX), min(len(s), a + n + CTX)
        bos, eos = lo == 0, hi == len(s)
        orig = s[lo:hi]
        fixed = s[lo:a] + repl + s[a + n:hi]
        return self.score(fixed, bos, eos) - self.score(orig, bos, eos)

    def candidates(self, s: str):
        """(position -> best (gain, written window rare?, suggestion char, G1/G2)) for one sentence."""
        best: dict[int, tuple[float, bool, str]] = {}
        L = len(s)
        for i, ch in enumerate(s):
            alts = self.conf.get(ch)
            if not alts or not CJK.match(ch):
                continue
            seen = set()
            for n in (2, 3, 4):
                for a in range(max(0, i - n + 1), min(i, L - n) + 1):
                    win = s[a:a + n]
                    if not CJK_RUN.fullmatch(win) or any(c in NUMERAL for c in s[max(0, a - 1):a + n + 1]):
                        continue
                    fx = self.fixes.get(win[:i - a] + "?" + win[i - a + 1:])
                    if not fx:
                        continue
                    rare = self.freq.get(win, 0) < RARE
                    for alt in set(fx) & alts:
                        if (alt, a, n) in seen:
                            continue
                        seen.add((alt, a, n))
                        g = self.gain(s, i, 1, alt)
                        cur = best.get(i)
                        if cur is None or g > cur[0]:
                            best[i] = (g, rare, alt, "G1")
        # G2: whole-word homophones of 2-character tokens
        pos = 0
        for t in self.tk.cut(s, HMM=False):
            if len(t) == 2 and CJK_RUN.fullmatch(t) and not any(c in NUMERAL for c in s[max(0, pos - 1):pos + 3]):
                for w in self.homo.get(" ".join(lazy_pinyin(t)), ()):
                    if w == t:
                        continue
                    g = self.gain(s, pos, 2, w)
                    rare = self.freq.get(t, 0) < RARE
                    for k in range(2):
                        if w[k] != t[k]:
                            cur = best.get(pos + k)
                            if cur is None or g > cur[0]:
                                best[pos + k] = (g, rare, w[k], "G2")
            pos += len(t)
        return best


def clean_sentences() -> list[str]:
    """Distinct sentences of the gov.cn dump, extracted by govinspect (project venv, read only)."""
    code = (
        "import json,html,re,sys; sys.path.insert(0,'benchmarks'); from pathlib import Path\n"
        "from typo_false_alarms import _sql_documents\n"
        "from govinspect.engine.extract import extract_page\n"
        f"docs=_sql_documents(Path({str(SQL)!r}))\n"
        "out=[]\n"
        "for name, body in docs:\n"
        "    page=extract_page(body if '<html' in body[:2000].lower() else f'<html><body>{body}</body></html>','http://clean.test/')\n"
        "    out.append(html.unescape(page.text))\n"
        "print(json.dumps(out, ensure_ascii=False))\n")
    texts = json.loads(subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
    seen, out = set(), []
    for text in texts:
        for m in re.finditer(r"[^。！？；\n]+[。！？；]?", text):
            key = "".join(m.group().split())
            if CJK.search(key) and key not in seen:
                seen.add(key)
                out.append(key)
    return out


def stats(p: Probe, rows) -> None:
    conf = p.conf
    sizes = [len(v) for v in conf.values()]
    print(f"confusion sets: {len(conf)} characters, mean {sum(sizes) / len(sizes):.1f} candidates per character, "
          f"max {max(sizes)}")
    sp = defaultdict(set)
    for line in (RULES / "same_pinyin.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            sp[parts[0]].update(c for c in "".join(parts[1:]) if c != parts[0])
    print(f"  same_pinyin alone: mean {sum(map(len, sp.values())) / len(sp):.1f}")
    # pypinyin: characters of the confusion keys (about the 3,500 common ones) grouped by toneless pinyin
    by_py = defaultdict(set)
    for c in sp:
        for r in pinyin(c, style=Style.NORMAL, heteronym=True)[0]:
            by_py[r].add(c)
    homos = {c: set().union(*(by_py[r] for r in pinyin(c, style=Style.NORMAL, heteronym=True)[0])) - {c} for c in sp}
    print(f"  pypinyin toneless homophones among the {len(sp)} same_pinyin keys: mean "
          f"{sum(map(len, homos.values())) / len(homos):.1f} per character")
    groups = list(p.homo.values())
    print(f"whole-word route: {sum(map(len, groups))} two-character jieba words (freq >= {HOMO_FREQ}, in the LM) in "
          f"{len(groups)} toneless-pinyin keys; words with >= 1 homophone: "
          f"{sum(len(g) for g in groups if len(g) > 1)}, mean homophones of those: "
          f"{sum(len(g) * (len(g) - 1) for g in groups if len(g) > 1) / max(1, sum(len(g) for g in groups if len(g) > 1)):.1f}")
    errs = in_conf = in_homo = 0
    for src, gold in rows:
        for a, b in zip(src, gold):
            if a != b:
                errs += 1
                in_conf += b in conf.get(a, ())
                in_homo += b in homos.get(a, ())
    print(f"odw.train gold character covered: confusion sets {in_conf / errs:.3f}, pypinyin homophones {in_homo / errs:.3f}, "
          f"of {errs} errors")


def lm_speed(p: Probe) -> None:
    lm = p.lm
    words = ["推动 经济 高质量 发展", "中华 人民 共和国 国务院", "加强 基层 党 组织 建设", "全面 深化 改革 开放"]
    t = time.perf_counter()
    n = 0
    for _ in range(50_000):
        for w in words:
            lm.score(w, bos=False, eos=False)
            n += 1
    dt = time.perf_counter() - t
    print(f"LM: lm.score on 4-5-word strings: {n / dt:,.0f} queries/s ({dt / n * 1e6:.1f} us)")
    s = "坚持以人民为中心的发展思想推动经济高质量发展"
    t = time.perf_counter()
    for k in range(5_000):
        p.seg_cache.clear()
        p.score(s[k % 6:k % 6 + 13], False, False)
    dt = time.perf_counter() - t
    print(f"LM: segment ({SEGMENT}) + score of a 13-char window (uncached): {5_000 / dt:,.0f} /s ({dt / 5_000 * 1e6:.0f} us)")
    print(f"LM: load {p.load_s * 1000:.1f} ms (mmap), RSS after open +{p.lm_rss_open:.0f} MB; file "
          f"{Path(LM_PATH).stat().st_size / 1e6:.1f} MB")


def evaluate(p: Probe, rows, clean: list[str], show: bool) -> None:
    t = time.perf_counter()
    res = []
    chars = 0
    for src, gold in rows:
        chars += len(src)
        res.append((src, gold, p.candidates(src)))
    dt_odw = time.perf_counter() - t
    t = time.perf_counter()
    cres = [(s, p.candidates(s)) for s in clean]
    dt_clean = time.perf_counter() - t
    cchars = sum(len(CJK.findall(s)) for s in clean)
    print(f"odw.train rows 860-1719: {len(rows)} sentences, {chars} chars, {chars / dt_odw:,.0f} chars/s; clean gov text: "
          f"{len(clean)} distinct sentences, {cchars} CJK chars, {sum(map(len, clean)) / dt_clean:,.0f} chars/s")
    for variant in ("A: LM gain only", "B: + written window rarer than jieba freq 30"):
        print(f"-- {variant}")
        for thr in THRESHOLDS:
            tp = fp = fn = 0
            for src, gold, best in res:
                wrong = {i for i, (a, b) in enumerate(zip(src, gold)) if a != b}
                flagged = {i for i, (g, rare, _, _) in best.items() if g >= thr and (variant[0] == "A" or rare)}
                tp += len(flagged & wrong)
                fp += len(flagged - wrong)
                fn += len(wrong - flagged)
            fa = sum(1 for s, best in cres for g, rare, _, _ in best.values() if g >= thr and (variant[0] == "A" or rare))
            prec = tp / (tp + fp) if tp + fp else 0
            print(f"   gain >= {thr:.1f}: P {prec:.3f} R {tp / (tp + fn):.3f} (tp {tp} fp {fp})   "
                  f"FA {fa} = {fa / cchars * 1e5:.1f} per 100k clean chars")
    for thr in (4.0, 5.0, 6.0):  # which route found the hits (variant A)
        by = defaultdict(lambda: [0, 0])
        for src, gold, best in res:
            for i, (g, _, alt, grp) in best.items():
                if g >= thr:
                    by[grp][src[i] == gold[i]] += 1
        print(f"   gain >= {thr}: true/false hits by route: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by.items())))
    gold_cov = sum(1 for src, gold, best in res for i, (a, b) in enumerate(zip(src, gold)) if a != b and best.get(i, (0, 0, ""))[2] == b)
    errs = sum(1 for src, gold, _ in res for a, b in zip(src, gold) if a != b)
    print(f"   candidate recall (gold char among the scored candidates' best, any gain): {gold_cov / errs:.3f}")
    if show:
        for s, best in cres:
            for i, (g, rare, alt, _) in best.items():
                if g >= SHOW:
                    print(f"  FA {g:.1f} {'rare' if rare else ''}: {s[max(0, i - 8):i]}[{s[i]}→{alt}]{s[i + 1:i + 9]}")


def main() -> None:
    lines = [l.rstrip("\n").split("\t") for l in open(ODW, encoding="utf-8")]
    rows_all = [(x[1], x[2]) for x in lines if len(x) >= 3 and len(x[1]) == len(x[2])]
    half = [(x[1], x[2]) for x in lines[len(lines) // 2:] if len(x) >= 3 and len(x[1]) == len(x[2])]
    t = time.perf_counter()
    p = Probe()
    print(f"probe ready in {time.perf_counter() - t:.1f}s, RSS {rss_mb():.0f} MB")
    if "--stats" in sys.argv:
        stats(p, rows_all)
        lm_speed(p)
        return
    clean = clean_sentences()
    evaluate(p, half, clean, "--show" in sys.argv)
    print(f"peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
