"""Throwaway redis-server and PostgreSQL for benchmarks/cluster_scale.py: free ports, data in a temp dir, stopped at
the end. PostgreSQL's server runs as the `postgres` user when this runs as root (it refuses to run as root). The
Debian packages are what `make test` installs (redis-server, postgresql)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


class Redis:
    def __init__(self):
        exe = shutil.which("redis-server")
        if not exe:
            raise SystemExit("redis-server is missing (make test installs it: apt-get install redis-server)")
        self.dir = Path(tempfile.mkdtemp(prefix="gi-bench-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Postgres:
    USER, PASSWORD = "govinspect", "bench"

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL is missing (make test installs it: apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="gi-bench-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.PASSWORD)
        if self.as_postgres:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run([self.bin / "initdb", "-D", self.data, "-U", self.USER, "--pwfile", pwfile, "-A", "scram-sha-256",
                   "-E", "UTF8", "--locale", "C.UTF-8"])
        self._run([self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "-o",
                   f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                   "start"])

    def _run(self, args: list) -> None:
        args = [str(a) for a in args]
        if self.as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"{' '.join(args)}: {r.stdout}{r.stderr}")

    def url(self, db: str) -> str:
        return f"postgres://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}/{db}"

    def createdb(self, db: str) -> str:
        env = {**os.environ, "PGPASSWORD": self.PASSWORD}
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER, db],
                       check=True, env=env)
        return self.url(db)

    def stop(self) -> None:
        try:
            self._run([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
