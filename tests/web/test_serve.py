"""`govinspect serve` for real: a subprocess on a free port with its own data directory, fetched over HTTP, stopped
with SIGTERM; its runner process must end with it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers, r.read()


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] not in ("Z", "X"):
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(tmp_path / "data")}
    env.pop("GOVINSPECT_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen([sys.executable, "-m", "govinspect.cli", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # the address line comes once the server listens
        deadline = time.time() + 60
        while "平台已启动" not in line and time.time() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
        assert "平台已启动" in line, line
        yield proc, port, line
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_serve_answers_pages_and_static_files_and_stops_with_its_runner(served, tmp_path):
    proc, port, line = served
    assert f"http://127.0.0.1:{port}/" in line
    status, headers, body = _get(f"http://127.0.0.1:{port}/login/")
    assert status == 200 and "登录".encode() in body
    assert "script-src 'self'" in headers.get("Content-Security-Policy", "")
    status, headers, body = _get(f"http://127.0.0.1:{port}/static/web/app.css")
    assert status == 200 and headers.get_content_type() == "text/css" and b".card" in body
    status, headers, body = _get(f"http://127.0.0.1:{port}/static/web/rounds.js")
    assert status == 200 and b"progress" in body
    assert (tmp_path / "data" / "govinspect.sqlite3").exists()  # migrations ran on the data directory
    runners = [p for p in _children(proc.pid) if b"govinspect.rounds.runner" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(runners) == 1, "serve starts exactly one runner process"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert "平台已停止" in proc.stdout.read()
    deadline = time.time() + 10
    while _alive(runners[0]) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(runners[0]), "the runner process ends with the server"
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/login/")


def test_serve_no_runner_and_host_warning(tmp_path):
    port = _free_port()
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(tmp_path / "data"), "GOVINSPECT_ALLOWED_HOSTS": "localhost"}
    env.pop("GOVINSPECT_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "govinspect.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                             "--no-runner"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            lines.append(proc.stdout.readline())
            if "平台已启动" in lines[-1]:
                break
        text = "".join(lines)
        assert "GOVINSPECT_ALLOWED_HOSTS" in text and "127.0.0.1" in text  # the host is not allowed: said before start
        assert "--no-runner" in text
        assert not [p for p in _children(proc.pid) if b"runner" in Path(f"/proc/{p}/cmdline").read_bytes()]
        try:
            _get(f"http://127.0.0.1:{port}/login/")
            raise AssertionError("a host outside ALLOWED_HOSTS must be refused")
        except urllib.error.HTTPError as e:
            assert e.code == 400
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
