"""Shared benchmark helper: run `govinspect sandbox serve` in its own process and read its URLs."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "govinspect"


class ServedCounty:
    def __init__(self, sites: int, pages: int, seed: int = 2026):
        self.args = [str(BIN), "sandbox", "serve", "--sites", str(sites), "--pages", str(pages), "--seed", str(seed),
                     "--no-faults", "--duration", "7200"]
        self.urls: list[str] = []

    def __enter__(self) -> "ServedCounty":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 300
        for line in self.proc.stdout:
            m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            if m:
                self.urls.append(m.group(1))
            if len(self.urls) >= int(self.args[4]) or time.time() > deadline:
                break
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
