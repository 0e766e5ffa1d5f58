"""Helpers of the tests that run the platform for real (the browser tests, the README's curl lines): a `govinspect
serve` subprocess on its own data directory, queries of that directory's database from a separate Python process, and
Debian's chromium driven by Playwright: signing in, pages with the same viewport and locale, watchers of console errors
and of requests leaving 127.0.0.1, screenshots. The `chromium` fixture is in conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHOTS = Path(os.environ.get("GOVINSPECT_SCREENSHOTS") or ROOT / "out" / "screenshots")
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


# for run_py: the county of tests/web/conftest.py (build_platform, its current round issued) in the data directory's
# database, as `p`; a snippet appended to it may use it and print its answer
BUILD_PLATFORM = f"""
sys.path.insert(0, {str(HERE)!r})
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from conftest import build_platform
p = build_platform()
"""


class Served:
    """`govinspect serve --port <free port>` in its own process group; stop() sends SIGTERM to the group (the server
    stops its runner; the runner also dies with its parent). runner=False: `--no-runner` (queued rounds stay queued)."""

    def __init__(self, data_dir: Path, log: Path, runner: bool = True):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = data_dir
        self.log = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "govinspect.cli", "serve", "--port", str(self.port),
                                      *([] if runner else ["--no-runner"])],
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


@contextlib.contextmanager
def serving(tmp: Path, setup: str, args=None, runner: bool = True, timeout: float = 300):
    """`govinspect serve` (a Served, stopped on exit) on the data directory tmp/data, set up first by
    run_py(setup, args): what the setup printed is the Served's `setup`; its log is tmp/serve.log."""
    data = tmp / "data"
    data.mkdir()
    answer = run_py(data, setup, args, timeout=timeout)
    srv = Served(data, tmp / "serve.log", runner=runner)
    srv.setup = answer
    try:
        yield srv
    finally:
        srv.stop()


# ------------------------------------------------------------------------------------------------------ in chromium
class Watch:
    """What the pages it watches do: every request they (and their frames) make, console errors ("text @ url") and
    uncaught errors ("pageerror: …"). One Watch may watch several pages."""

    def __init__(self):
        self.requests: list[str] = []
        self.errors: list[str] = []

    def attach(self, page):
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{m.text} @ {m.location.get('url')}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        return page

    def outside(self) -> list[str]:
        """The requests that left 127.0.0.1 (data:, about: and blob: URLs stay in the browser)."""
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "about", "blob")
                and urlsplit(u).hostname != "127.0.0.1"]


def new_page(browser, watch: Watch | None = None):
    """A page in a new context (1280×800, zh-CN; page.context is it), 30 s default timeout, watched by `watch`."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    page.set_default_timeout(30_000)
    if watch is not None:
        watch.attach(page)
    return page


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in on the login page; fails with the page if it is still the login page."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/login/" not in page.url, page.content()[:2000]


def act(page, action: str, **texts: str) -> None:
    """Fill the textareas (by name) of the page's form whose action ends with /<action>/ and submit it; returns when
    the page it leads to has loaded."""
    form = page.locator(f"form[action$='/{action}/']")
    for name, value in texts.items():
        form.locator(f"textarea[name={name}]").fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def shot(page, name: str, tall: bool = False, full: bool = True) -> Path:
    """A screenshot to $GOVINSPECT_SCREENSHOTS (else out/screenshots)/<name>.png: the full page; full=False: the
    viewport only; tall: the viewport is made as tall as the page instead (chromium's full-page capture leaves the
    sandboxed frame of a captured page blank: it is painted by another process)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if tall:
        old = page.viewport_size
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.set_viewport_size({"width": old["width"], "height": height})
        page.wait_for_timeout(500)  # the frame repaints at the new size
        page.screenshot(path=str(path))
        page.set_viewport_size(old)
    else:
        page.screenshot(path=str(path), full_page=full)
    return path
