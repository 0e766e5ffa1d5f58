"""Typo detector accuracy on ECSpell's official-document set (shared/realdata/spelling/ecspell-odw.train).

    .venv/bin/python benchmarks/typo_accuracy.py [PATH]

Prints character- and sentence-level precision and recall and the false-alarm rate on correct
sentences, for the whole file and for its two halves (the thresholds were chosen on the whole file:
the halves show how much that matters).
"""

import json
import sys
import time
from pathlib import Path

from govinspect.engine.content.typo import detector, measure

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "spelling" / "ecspell-odw.train"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        sys.exit(f"not found: {path}")
    detector()
    n = sum(1 for _ in open(path, encoding="utf-8"))
    for label, rows in (("all", slice(None)), ("first half", slice(0, n // 2)), ("second half", slice(n // 2, None))):
        detector()._cache.clear()  # a cold cache: the speed is the detector's, not the cache's
        t = time.perf_counter()
        m = measure(path, rows)
        m["chars_per_second"] = round(m["chars"] / (time.perf_counter() - t))
        print(f"== {label}: " + json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
