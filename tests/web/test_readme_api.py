"""The README's API examples (`curl …` lines of its user part) run as printed against a real `govinspect serve`.

The server runs on a free port with its own data directory; in each line the port 8000 becomes that port, 密码 the
office account's password and 令牌 the token the first line returned. Every line must exit 0 and answer JSON that
does what the README says: a token, a page of findings, the pre-publication check finding the ID number (masked).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "govinspect"
PASSWORD = "Readme-Api-Passw0rd"


def curl_lines() -> list[str]:
    user = (ROOT / "README.md").read_text(encoding="utf-8").split("\n# Developer guide", 1)[0]
    return [l.strip() for block in re.findall(r"```bash\n(.*?)```", user, re.S) for l in block.splitlines()
            if l.strip().startswith("curl ")]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(tmp_path / "data"), "GOVINSPECT_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    setup = ("import django,os;os.environ['DJANGO_SETTINGS_MODULE']='govinspect.settings';django.setup();"
             "from django.core.management import call_command;call_command('migrate',verbosity=0);"
             "from django.contrib.auth.models import User;from govinspect.web.models import Profile;"
             f"u=User.objects.create_user('office',password={PASSWORD!r});"
             "Profile.objects.create(user=u,role='office',must_change_password=False)")
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=120)
    port = _free_port()
    p = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--no-runner"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        end = time.time() + 60
        while time.time() < end:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError("govinspect serve did not answer")
        yield port
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=30)


def test_readme_api_examples_run_as_printed(server):
    assert shutil.which("curl"), "curl is installed by make (Makefile APT_PACKAGES)"
    lines = curl_lines()
    assert len(lines) >= 3 and "auth/token" in lines[0], lines
    token = None
    outputs = []
    for line in lines:
        cmd = line.replace("127.0.0.1:8000", f"127.0.0.1:{server}").replace("密码", PASSWORD)
        if "令牌" in cmd:
            assert token, "a line uses the token before the README obtained one"
            cmd = cmd.replace("令牌", token)
        r = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (line, r.stderr)
        data = json.loads(r.stdout)
        if "auth/token" in line:
            token = data["token"]
        outputs.append((line, data))
    by_path = {re.search(r"/api/v1/([\w-]+)/", l).group(1): d for l, d in outputs}
    assert "results" in by_path["findings"] and "count" in by_path["findings"]
    hits = by_path["check-text"]["findings"]
    assert any(h["rule"] == "privacy.id_number" for h in hits), hits
    assert "110101199003074514" not in json.dumps(by_path["check-text"], ensure_ascii=False)  # masked
