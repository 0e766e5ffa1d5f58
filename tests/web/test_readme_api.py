"""The README's API examples (`curl …` lines of its user part) run as printed against a real `govinspect serve`.

The server runs on a free port with its own data directory; in each line the port 8000 becomes that port, 密码 the
office account's password and 令牌 the token the first line returned. Every line must exit 0 and answer JSON that
does what the README says: a token, a page of findings, the pre-publication check finding the ID number (masked).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest

from browser_util import ROOT, serving

PASSWORD = "Readme-Api-Passw0rd"


def curl_lines() -> list[str]:
    user = (ROOT / "README.md").read_text(encoding="utf-8").split("\n# Developer guide", 1)[0]
    return [l.strip() for block in re.findall(r"```bash\n(.*?)```", user, re.S) for l in block.splitlines()
            if l.strip().startswith("curl ")]


# the office account (the README's lines sign in as "office" with 密码)
_SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.contrib.auth.models import User
from govinspect.web.models import Profile
u = User.objects.create_user("office", password=args["password"])
Profile.objects.create(user=u, role="office", must_change_password=False)
"""


@pytest.fixture
def server(tmp_path):
    """`govinspect serve --no-runner` on its own data directory with the office account; its port."""
    with serving(tmp_path, _SETUP, {"password": PASSWORD}, runner=False, timeout=120) as srv:
        yield srv.port


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
