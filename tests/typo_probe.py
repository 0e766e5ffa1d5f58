"""A fresh process that builds the typo detector under given environment settings (GOVINSPECT_TYPO_LM,
GOVINSPECT_TYPO_LAWLM are read once per process) and reports what it built, what it logged and what it found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, logging
records = []
class Collect(logging.Handler):
    def emit(self, r): records.append([r.levelname, r.name, r.getMessage()])
logging.getLogger().addHandler(Collect())
from govinspect.engine.content import lawlm
from govinspect.engine.content.typo import detector
d = detector()
law = lawlm.load()
hits = [[h.text, h.suggestion] for h in d.scan("要进一步加强安全生产监督管里，确保不发生重大事故。")]
print(json.dumps({"type": type(d).__name__, "law": type(law).__name__, "records": records, "hits": hits},
                 ensure_ascii=False))
"""


def probe(**settings: str | None) -> dict:
    """Run SCRIPT with these environment variables set (None: removed)."""
    env = dict(os.environ)
    for key, value in settings.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])
