"""Fit the typo check's logistic model and choose its threshold (writes govinspect/rules/typo/lm-model.json).

    .venv/bin/python benchmarks/typo_fit.py [--dry-run] [REALDATA_DIR]

Data, and what each part may touch:
- the weights are fitted on the FIRST half of ECSpell's odw.train (rows 0 to n/2), one example per candidate
  position the detector scores (label: the written character there is wrong). Nothing else is learned from
  ECSpell: no language model, vocabulary or count table comes from its sentences (the model reads only
  features the detector computes from jieba, pypinyin, the confusion sets and the Debian word trigram);
- the threshold is chosen on clean government text first: the lowest one that keeps false alarms on all the
  clean text (the gov.cn policy dump `pages/govcn-policy-fragments.sql` and the real pages of `pages/` and
  `pages-v2/`, 286,000 distinct-sentence characters) at <= TARGET_FA per 100,000 characters and precision on the
  fitting half at >= TARGET_P. A cross-check prints what choosing on one clean set alone would give on the other;
- then reported, untouched by the choice: precision and recall on the SECOND half of odw.train.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from typo_false_alarms import _texts, false_alarms  # noqa: E402

from govinspect.engine.content.typo import FEATURES, LM_MODEL, LmTypoDetector, detector, measure  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata"
TARGET_FA = 2.5  # false alarms per 100,000 characters of all the clean text: under the 3, with a margin
TARGET_P = 0.96  # precision on the fitting half: over the 0.95, with a margin
L2 = 1.0
GRID = [round(0.30 + 0.005 * k, 3) for k in range(140)]


def rows(path: Path, part: slice) -> list[tuple[str, str]]:
    lines = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8")][part]
    return [(x[1], x[2]) for x in lines if len(x) >= 3 and len(x[1]) == len(x[2])]


def examples(det: LmTypoDetector, data) -> tuple[np.ndarray, np.ndarray]:
    """One row per scored position of the pieces scan() checks, labelled by the gold sentence."""
    X, y = [], []
    for src, gold in data:
        for m in det.pieces(src):
            for i, (_, x, *_rest) in det.candidates(m.group()).items():
                X.append(x)
                y.append(float(src[m.start() + i] != gold[m.start() + i]))
    return np.array(X), np.array(y)


def fit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression by Newton's method with a small L2 penalty (not on the bias)."""
    A = np.hstack([np.ones((len(X), 1)), X])
    w = np.zeros(A.shape[1])
    reg = np.full(A.shape[1], L2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(A @ w, -50, 50)))
        grad = A.T @ (p - y) + reg * w
        H = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = Path(args[0]) if args else DEFAULT
    odw = root / "spelling" / "ecspell-odw.train"
    if not odw.exists() or not (root / "pages" / "govcn-policy-fragments.sql").exists():
        sys.exit(f"needs {odw} and {root / 'pages' / 'govcn-policy-fragments.sql'}")
    det = detector()
    if not isinstance(det, LmTypoDetector):
        sys.exit("the language model is not installed (apt-get install libime-data-language-model): nothing to fit")
    det.prune = False  # every candidate's features: the weights are not known yet
    memo: dict = {}
    scored = det.candidates
    det.candidates = lambda s: memo[s] if s in memo else memo.setdefault(s, scored(s))  # thresholds re-use the scores
    n = sum(1 for _ in open(odw, encoding="utf-8"))
    first, second = slice(0, n // 2), slice(n // 2, None)
    t = time.perf_counter()
    X, y = examples(det, rows(odw, first))
    w = fit(X, y)
    print(f"fitted on odw.train rows 0-{n // 2 - 1}: {len(y)} scored positions, {int(y.sum())} wrong  "
          f"[{time.perf_counter() - t:.0f}s]")
    print("  bias %.3f; " % w[0] + ", ".join(f"{f} {v:.3f}" for f, v in zip(FEATURES, w[1:])))
    det.configure([float(v) for v in w[1:]], float(w[0]), det.threshold)
    dump = _texts(root, ("dump",))
    pages = _texts(root, ("pages",))
    table = []  # (threshold, dump hits, dump chars, pages hits, pages chars, fitting-half P, R)
    for thr in GRID:
        det.configure(det.weights, det.bias, thr)
        det._cache.clear()
        dc, dh, _ = false_alarms(root, det, texts=dump)
        pc, ph, _ = false_alarms(root, det, texts=pages)
        m = measure(odw, first, det)
        table.append((thr, len(dh), dc, len(ph), pc, m["char_precision"] or 0, m["char_recall"]))

    def lowest(ok) -> float | None:
        return next((row[0] for row in table if ok(row)), None)

    fa = lambda hits, chars: hits / chars * 1e5
    # all the clean text there is decides; each clean set alone, choosing for the other, shows how well that generalises
    chosen = lowest(lambda r: fa(r[1] + r[3], r[2] + r[4]) <= TARGET_FA and r[5] >= TARGET_P)
    for thr, dh, dc, ph, pc, p, r in table:
        print(f"  threshold {thr:.3f}: FA dump {fa(dh, dc):.2f} pages {fa(ph, pc):.2f} all {fa(dh + ph, dc + pc):.2f} /100k; "
              f"fitting half P {p:.3f} R {r:.3f}{'  <- chosen' if thr == chosen else ''}")
        if chosen is not None and thr > chosen + 0.05:
            break
    if chosen is None:
        sys.exit("no threshold of the grid meets the clean-text and precision targets")
    row = {r[0]: r for r in table}
    for name, own, other in (("dump", (1, 2), (3, 4)), ("pages", (3, 4), (1, 2))):
        t = lowest(lambda r: fa(r[own[0]], r[own[1]]) <= TARGET_FA and r[5] >= TARGET_P)
        if t is not None:
            print(f"cross-check: chosen on {name} alone -> {t:.3f}; the other set then has "
                  f"{fa(row[t][other[0]], row[t][other[1]]):.2f} false alarms /100k")
    det.configure(det.weights, det.bias, chosen)
    det._cache.clear()
    m = measure(odw, second, det)
    print(f"reported: odw.train second half (held out) P {m['char_precision']:.3f} R {m['char_recall']:.3f}")
    spec = {
        "about": "Logistic model of the typo check's context method (govinspect/engine/content/typo.py "
                 "LmTypoDetector). Written by benchmarks/typo_fit.py: weights fitted on ECSpell odw.train rows "
                 f"0-{n // 2 - 1} (MIT), threshold chosen for <= {TARGET_FA} false alarms per 100,000 characters "
                 f"of clean government text (the gov.cn policy dump and the real pages of shared/realdata) and "
                 f"precision >= {TARGET_P} on the fitting half.",
        "weights": {f: round(float(v), 5) for f, v in zip(FEATURES, w[1:])},
        "bias": round(float(w[0]), 5),
        "threshold": chosen,
    }
    if "--dry-run" in sys.argv:
        print(json.dumps(spec, ensure_ascii=False, indent=1))
    else:
        LM_MODEL.write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written: {LM_MODEL}")


if __name__ == "__main__":
    main()
