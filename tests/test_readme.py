"""Every `govinspect …` command the README shows its users runs as printed, in order, against a running sandbox.

The commands are taken from README.md (the user part, before "# Developer guide": fenced code blocks and inline
code spans), `[optional parts]` included, the first of `a|b|c` chosen, `…` dropped, and placeholders (网址, 轮次编号,
问题编号, 文件 …) replaced by real values of the running sandbox county and of the commands before. Files the
README names (名录.xlsx, 台账.xlsx, 答复书.docx …) are made from the sandbox in the working directory first, the way
a user would have them. A command fails when it exits non-zero, prints a traceback, or checks nothing (a round
with no checked site, a re-check that re-checked no finding, a check-site whose site could not be checked).

Commands that run until stopped: the README's first `sandbox serve` is the sandbox itself (started, kept running
for every later command, stopped with Ctrl+C at the end, as in the README's two terminals); a later `sandbox serve`,
`manage runserver` and `serve` (the web platform; its `--port 8000` replaced by a free port, since a CI machine may
have 8000 taken) are started, asked for a page, and stopped with Ctrl+C. SKIPPED below lists what is not run.
The subprocesses resolve no host name beyond loopback (a sitecustomize installs the guard of conftest.py), like a
checking machine without outside DNS.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "govinspect"
NETWORK = "127.0.0.0/8"  # the sandbox serves on 127.0.0.1
TRACEBACK = "Traceback (most recent call last)"

# Commands not run, with the reason (matched on the command's words after `govinspect`, as printed)
SKIPPED = {
    ("monitor",): "一直运行到 Ctrl+C（每72分钟一轮）；README 中的有界形式 `govinspect monitor --cycles 1` 照常运行",
    ("manage", "createsuperuser"): "在终端上交互询问用户名和密码；README 中的无人值守形式（--noinput）照常运行",
    ("worker",): "集群模式的工作进程，需要 Redis 和 PostgreSQL，一直运行到停止；tests/cluster/ 的测试启动真实的 redis-server、"
                 "PostgreSQL 和 govinspect worker 进程运行它",
    ("beat",): "集群模式的计划任务进程，需要 Redis，一直运行到停止；tests/cluster/test_cluster_round.py 启动真实的 govinspect beat",
}

GUARD = '''
import socket
_real = socket.getaddrinfo
def _guarded(host, *a, **k):
    h = host.decode() if isinstance(host, bytes) else host
    if h is None or h in ("localhost", "ip6-localhost", "::1") or str(h).startswith("127."):
        return _real(host, *a, **k)
    raise socket.gaierror(socket.EAI_NONAME, "no DNS beyond loopback in tests")
socket.getaddrinfo = _guarded
'''


def user_part(text: str) -> str:
    return text.split("\n# Developer guide", 1)[0]


def readme_commands(text: str) -> list[str]:
    """`govinspect …` commands of the README's user part in document order (code block lines, inline code spans),
    with leading VAR=value environment assignments kept."""
    out = []
    for m in re.finditer(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", user_part(text), re.S):
        lines = m.group(1).splitlines() if m.group(1) is not None else [m.group(2)]
        out += [l.split(" #")[0].strip() for l in lines if re.match(r"\s*(?:[A-Z_]+=\S+\s+)*govinspect ", l)]
    return out


def split_command(cmd: str) -> tuple[dict, list[str]]:
    """(environment, argv after `govinspect`): optional [parts] kept, first of a|b|c, … dropped."""
    words = shlex.split(cmd.replace("…", " ").replace("[", " ").replace("]", " "))
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        k, _, v = words.pop(0).partition("=")
        env[k] = v
    assert words[0] == "govinspect", cmd
    args = [w.split("|")[0] if re.fullmatch(r"[\w.-]+(\|[\w.-]+)+", w) else w for w in words[1:]]
    return env, args


def skip_reason(args: list[str]) -> str | None:
    if args[:1] == ["monitor"] and "--cycles" not in args:
        return SKIPPED[("monitor",)]
    if args[:2] == ["manage", "createsuperuser"] and "--noinput" not in args:
        return SKIPPED[("manage", "createsuperuser")]
    if args[:1] in (["worker"], ["beat"]):  # cluster mode: run for real by tests/cluster/ against real services
        return SKIPPED[(args[0],)]
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Background:
    """A command that runs until Ctrl+C: its output collected by a thread; stop() sends SIGINT to its group."""

    def __init__(self, argv, cwd, env):
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.out: list[str] = []
        threading.Thread(target=lambda: self.out.extend(iter(self.p.stdout.readline, "")), daemon=True).start()

    def text(self) -> str:
        return "".join(self.out)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match | None:
        end = time.time() + timeout
        while time.time() < end and self.p.poll() is None:
            if m := re.search(pattern, self.text()):
                return m
            time.sleep(0.2)
        return re.search(pattern, self.text())

    def stop(self, sig=signal.SIGINT) -> int:
        if self.p.poll() is None:
            os.killpg(self.p.pid, sig)
        try:
            return self.p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            return self.p.wait(10)


def http_ok(url: str, timeout: float = 60) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status == 200
        except OSError:
            time.sleep(0.3)
    return False


class Session:
    """The user's working directory, data directory and the running sandbox; placeholder values."""

    def __init__(self, work: Path):
        self.work, self.data = work, work / "数据"
        guard = work / ".guard"
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GOVINSPECT_")}
        self.env.update(GOVINSPECT_DATA_DIR=str(self.data), PYTHONPATH=str(guard), PYTHONIOENCODING="utf-8")
        self.sandbox: Background | None = None
        self.site_urls: list[str] = []
        self.county = None
        self.dirs = 0
        self.interrupted: dict[str, int] = {}

    # --------------------------------------------------------------------- the database of the commands
    def query(self, sql: str, *params):
        with sqlite3.connect(f"file:{self.data / 'govinspect.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def last_round(self) -> int:
        return (self.query("SELECT max(id) FROM rounds_round") or [(None,)])[0][0] or 0

    def done_round(self) -> int:
        rows = self.query("SELECT id FROM rounds_round WHERE status='done' AND recheck_of_id IS NULL ORDER BY id DESC LIMIT 1")
        assert rows, "README 中需要轮次编号的命令之前没有完成的检查轮次"
        return rows[0][0]

    # --------------------------------------------------------------------- the sandbox and its files
    def start_sandbox(self, env: dict, args: list[str]) -> str | None:
        from govinspect.cli import build_parser
        from govinspect.sandbox import generate_county

        self.sandbox = Background([str(BIN), *args], self.work, {**self.env, **env})
        if not self.sandbox.wait_for(r"按 Ctrl\+C 停止"):
            return "沙盒没有启动：" + self.sandbox.text()[-1500:]
        time.sleep(0.5)
        self.site_urls = re.findall(r"^\s+(http://127\.0\.0\.1:\d+/)", self.sandbox.text(), re.M)
        if not self.site_urls or not http_ok(self.site_urls[0]):
            return "沙盒网站没有应答：" + self.sandbox.text()[-1500:]
        a = build_parser().parse_args(args)
        self.county = generate_county(a.seed, a.as_of, a.sites, a.pages)  # the same model (deterministic)
        self.prepare_files()
        return None

    def prepare_files(self):
        """Files the README names, made from the sandbox as a user would have them."""
        import datetime as dt

        from openpyxl import Workbook

        from govinspect.sandbox.letters import export_xlsx, generate_letters
        from govinspect.sandbox.registers import document_register
        from govinspect.sandbox.replies import LETTERS, letter_bytes

        w = self.work
        wb = Workbook()
        ws = wb.active
        ws.append(["平台", "账号名称", "主办单位", "备案状态"])
        for s in self.county.sites:
            for x in s.accounts:
                if x["filed"]:
                    ws.append([x["platform"], x["name"], x["owner"], "已备案"])
        wb.save(w / "备案清单.xlsx")
        (w / "答复书.docx").write_bytes(letter_bytes(next(n for n in LETTERS if n.endswith(".docx"))))
        (w / "台账.xlsx").write_bytes(export_xlsx(document_register()[0]))
        rows, _ = generate_letters(n=31, seed=2057, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 22), prefix="MA")
        (w / "信箱导出.xlsx").write_bytes(export_xlsx(rows))
        with urllib.request.urlopen(self.site_urls[0], timeout=30) as r:
            (w / "页面.html").write_bytes(r.read())
        (w / "样例.txt").write_text("截止2025年底，全县各单位再接再励。联系人张三，手机13912345678。", encoding="utf-8")
        r = subprocess.run([str(BIN), "report-template", "--out", "通报模板.docx"], cwd=w, env=self.env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def interrupted_round(self, purpose: str) -> int:
        """A round killed half-way (as by a power cut), one per purpose (`round --resume`, `report --draft`):
        started, killed with its workers."""
        if purpose not in self.interrupted:
            before = self.last_round()
            p = Background([str(BIN), "round", "--name", "被中断的轮次", "--as-of", "2026-11-23", "--allow-network", NETWORK,
                            "--delay", "0", "--quiet"], self.work, self.env)
            end = time.time() + 60
            while time.time() < end and not self.query("SELECT id FROM rounds_round WHERE id>? AND status='running'", before):
                time.sleep(0.2)
            time.sleep(2)  # crawling (a whole round of the small sandbox takes ~15 s)
            p.stop(signal.SIGKILL)
            (self.interrupted[purpose], status), = self.query(
                "SELECT id, status FROM rounds_round WHERE id>? ORDER BY id DESC LIMIT 1", before)
            assert status != "done", "要中断的轮次在被强制结束之前已经完成"
        return self.interrupted[purpose]

    # --------------------------------------------------------------------- placeholders
    def value(self, word: str, args: list[str], flag: str = "") -> str:
        site = self.site_urls[0] if self.site_urls else None
        if word in ("网址", "原网址"):
            assert site, "README 在启动沙盒之前用到了网址"
            return site
        if word == "网段":
            return NETWORK
        if word == "轮次编号":
            if args[:1] == ["round"] and "--resume" in args:
                return str(self.interrupted_round("resume"))
            if args[:1] == ["report"] and "--draft" in args:  # what --draft is for: a round that did not finish
                return str(self.interrupted_round("draft"))
            return str(self.done_round())
        if word == "问题编号":
            rows = self.query("SELECT id FROM rounds_finding WHERE round_id=? AND round_site_id IS NOT NULL AND "
                              "ignored_by_id IS NULL AND match <> '' ORDER BY id",
                              self.done_round())
            assert rows, "没有可以忽略的问题"
            return str(rows[0][0])
        if word == "目录":
            self.dirs += 1
            return f"目录{self.dirs}"
        if word == "上次目录":
            (wid,), = self.query("SELECT id FROM registry_website WHERE home_url=?", site)
            return str(self.data / "rounds" / str(self.done_round()) / f"site-{wid}")
        if word == "秒数":  # the sandbox is ours: no politeness delay; a bounded run of a few seconds
            return {"--delay": "0", "--duration": "3"}[flag]
        if word == "整改清单.xlsx" and args[:2] == ["rectify", "import"]:
            return self.filled_rectification_list(word)
        if word == "地址:端口":
            return f"127.0.0.1:{free_port()}"
        return {"理由": "经核实不是问题（沙盒测试）", "日期": "2025-09-28", "N": "10", "文件": "样例.txt",
                "导出文件": "信箱导出.xlsx", "表头=字段": "受理时间=received", "答复机关": "清河县人民政府",
                "方案名": "national-2019", "密码": "Sandbox-2026-pw", "用户名": "zhangsan"}.get(word, word)

    def filled_rectification_list(self, name: str) -> str:
        """A unit's 整改清单 of the issued round (as frozen when issued), its 整改情况 filled in for the first item."""
        from openpyxl import load_workbook

        lists = sorted((self.data / "rectify" / "issued").glob("*/整改清单/*.xlsx"))
        assert lists, "README 在下发之前用到了整改清单"
        wb = load_workbook(lists[0])
        ws = wb["整改清单"]
        col = next(c.column for c in ws[1] if str(c.value or "").startswith("整改情况"))
        ws.cell(2, col).value = "已删除页面中的相关内容（README 测试）"
        wb.save(self.work / name)
        return name

    # --------------------------------------------------------------------- one command
    def run(self, cmd: str) -> tuple[str, str]:
        """('ok' | 'skipped' | 'failed', detail)."""
        env, args = split_command(cmd)
        if reason := skip_reason(args):
            return "skipped", reason
        if args[:2] == ["sandbox", "serve"] and "--duration" not in args and self.sandbox is None:
            error = self.start_sandbox(env, args)  # the README's first terminal: the sandbox for what follows
            return ("failed", error) if error else ("ok", f"沙盒已启动：{len(self.site_urls)}个网站")
        env = {k: self.value(v, args) for k, v in env.items()}
        args = [self.value(w, args, args[i - 1] if i else "") for i, w in enumerate(args)]
        full = {**self.env, **env}
        if args[:2] == ["sandbox", "serve"] and "--duration" not in args:
            return self.run_until_stopped(args, full, r"^\s+(http://127\.0\.0\.1:\d+/)")
        if args[:1] == ["serve"]:
            if "--port" in args:
                args[args.index("--port") + 1] = str(free_port())
            else:
                args += ["--port", str(free_port())]
            return self.run_until_stopped(args, full, r"平台已启动：(http://127\.0\.0\.1:\d+/)")
        if args[:2] == ["manage", "runserver"]:
            addr = next((a for a in args[2:] if re.fullmatch(r"[\d.]+:\d+", a)), None)
            if addr is None:
                return "failed", "runserver 没有给出地址:端口（测试不能占用默认的 8000 端口）"
            return self.run_until_stopped(args, full, None, f"http://{addr}/admin/login/")
        before = self.last_round() if (self.data / "govinspect.sqlite3").exists() else 0
        r = subprocess.run([str(BIN), *args], cwd=self.work, env=full, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=400)
        out = r.stdout + r.stderr
        if r.returncode != 0:
            return "failed", f"退出码 {r.returncode}：{out[-2000:]}"
        if TRACEBACK in out:
            return "failed", "输出了 Python 错误堆栈：" + out[-2000:]
        if args[:1] == ["registry"] and args[1:2] == ["template"]:
            # the user fills the template in: here with the running sandbox's registry
            (self.work / args[2]).write_bytes((self.work / "沙盒名录.xlsx").read_bytes())
        if args[:1] == ["round"]:
            return self.round_checked(args, before, out)
        if args[:1] == ["check-site"]:
            d = json.loads((self.work / args[args.index("--out") + 1]).read_text(encoding="utf-8")) if "--out" in args \
                else json.loads(r.stdout)
            if d.get("status") != "checked":
                return "failed", f"网站未能检查：{d.get('reason')}"
        return "ok", out.strip().splitlines()[-1][:200] if out.strip() else ""

    def round_checked(self, args, before, out) -> tuple[str, str]:
        if "--resume" in args:
            rid = int(args[args.index("--resume") + 1])
        else:
            rid = self.last_round()
            if rid <= before:
                return "failed", "没有建立新的检查轮次：" + out[-1500:]
        if "--recheck" in args:
            n = self.query("SELECT count(*) FROM rounds_recheckresult WHERE round_id=? AND state IN ('fixed', 'present')", rid)[0][0]
            return ("ok", f"第{rid}轮复查了{n}个问题") if n else ("failed", "复查没有复查到任何问题：" + out[-1500:])
        n = self.query("SELECT count(*) FROM rounds_roundsite WHERE round_id=? AND status='checked'", rid)[0][0]
        return ("ok", f"第{rid}轮检查了{n}个网站") if n else ("failed", f"第{rid}轮没有检查任何网站：" + out[-1500:])

    def run_until_stopped(self, args, env, ready: str | None, url: str | None = None) -> tuple[str, str]:
        p = Background([str(BIN), *args], self.work, env)
        try:
            if ready:
                m = p.wait_for(ready)
                ok = bool(m) and http_ok(m.group(1))
            else:
                ok = http_ok(url)
        finally:
            rc = p.stop()
        if not ok:
            return "failed", "没有开始服务：" + p.text()[-2000:]
        if TRACEBACK in p.text():
            return "failed", "输出了 Python 错误堆栈：" + p.text()[-2000:]
        if rc != 0:
            return "failed", f"按 Ctrl+C 后退出码 {rc}：{p.text()[-1500:]}"
        return "ok", "启动、应答、按 Ctrl+C 停止"


@pytest.mark.timeout(480)  # ~2 minutes on 2 idle cores
def test_every_readme_command_runs_as_printed(tmp_path):
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(commands) >= 25, commands  # the extraction itself works
    session = Session(tmp_path)
    results = []
    try:
        for cmd in commands:
            t = time.time()
            try:
                state, detail = session.run(cmd)
            except (AssertionError, subprocess.TimeoutExpired, OSError, ValueError, sqlite3.Error) as e:
                state, detail = "failed", f"{type(e).__name__}: {e}"
            results.append((state, cmd, detail, time.time() - t))
            print(f"[{state} {time.time() - t:5.1f}s] {cmd}\n    {detail[:300]}")
    finally:
        if session.sandbox is not None:
            rc = session.sandbox.stop()
            results.append(("ok" if rc == 0 and TRACEBACK not in session.sandbox.text() else "failed",
                            "（沙盒）Ctrl+C", f"退出码 {rc}", 0))
    assert session.sandbox is not None, "README 没有启动沙盒的命令（govinspect sandbox serve … 不带 --duration）"
    ran = [cmd for state, cmd, _, _ in results if state == "ok"]
    assert any(c.startswith("govinspect round ") for c in ran), "README 中没有一条能检查沙盒网站的 round 命令"
    failed = [f"{cmd}\n    {detail}" for state, cmd, detail, _ in results if state == "failed"]
    assert not failed, "README 中以下命令不能照原样运行：\n" + "\n".join(failed)


def test_commands_are_read_as_printed():
    """How README text becomes command lines: code block lines and inline spans of the user part only, optional
    parts kept, the first of a|b|c, … dropped, environment assignments apart; mentions of files are not commands."""
    text = ("1. 运行 `govinspect round --name \"第一轮\" [--allow-network 网段]`，模板在 `govinspect/rules/bulletin.toml`。\n"
            "```\ngovinspect sandbox serve --sites 3  # 一直运行\nmake demo\n```\n"
            "`DJANGO_SUPERUSER_PASSWORD=密码 govinspect manage createsuperuser --noinput` 和 "
            "`govinspect ignore 问题编号 --scope hit|page|site …`\n"
            "\n# Developer guide\n\n`govinspect demo --out DIR`\n")
    commands = readme_commands(text)
    assert [split_command(c) for c in commands] == [
        ({}, ["round", "--name", "第一轮", "--allow-network", "网段"]),
        ({}, ["sandbox", "serve", "--sites", "3"]),
        ({"DJANGO_SUPERUSER_PASSWORD": "密码"}, ["manage", "createsuperuser", "--noinput"]),
        ({}, ["ignore", "问题编号", "--scope", "hit"]),
    ]
    assert skip_reason(["monitor"]) and not skip_reason(["monitor", "--cycles", "1"])
