"""Helpers of the real-browser tests (tests/web/test_browser.py): a `govinspect serve` subprocess on its own data
directory, queries of that directory's database from a separate Python process, and Debian's chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path) -> dict:
    """The environment of the platform's processes: their own data directory (and so their own SQLite file), never the
    pytest-django test database."""
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(data_dir), "GOVINSPECT_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    for k in ("GOVINSPECT_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "GOVINSPECT_DEBUG"):
        env.pop(k, None)
    return env


_PRELUDE = """
import json, sys
from govinspect.cliutil import _setup_django
_setup_django(migrate=False)
args = json.loads(sys.argv[1])
"""


def run_py(data_dir: Path, code: str, args=None, timeout: float = 120):
    """Run `code` in a separate Python process on the data directory's database (Django set up, `args` holds the
    JSON-decoded argument); whatever it prints last as JSON is returned."""
    out = subprocess.run([sys.executable, "-c", _PRELUDE + code, json.dumps(args)], env=server_env(data_dir), cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


class Served:
    """`govinspect serve --port <free port>` in its own process group; stop() sends SIGTERM to the group (the server
    stops its runner; the runner also dies with its parent)."""

    def __init__(self, data_dir: Path, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "govinspect.cli", "serve", "--port", str(self.port)],
                                     env=server_env(data_dir), cwd=data_dir.parent, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline and self.proc.poll() is None:
            if "平台已启动" in log.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.1)
        text = log.read_text(encoding="utf-8", errors="replace")
        self.stop()
        raise AssertionError(f"govinspect serve did not start:\n{text[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
