"""Throwaway services for the cluster-mode tests: a redis-server and a PostgreSQL server of their own.

Both listen on 127.0.0.1 on a free port, keep their data in a temporary directory and are stopped (and the directory
removed) when the test session ends. PostgreSQL's server runs as the non-root `postgres` user when the tests run as
root. Nothing here skips: a missing binary fails the test with a message (`make test` installs both from Debian).

Fixtures (session-scoped):
    redis_server     .url (redis://127.0.0.1:PORT/0), .port, .stop(), .start(), .restart(), .ping(), .client()
    postgres_server  .url (postgres://govinspect:…@127.0.0.1:PORT/govinspect), .port, .stop(), .start(), .restart(),
                     .terminate_backends() (pg_terminate_backend on every client connection), .create_database(name)
                     → URL of a new, empty database owned by the test user, .database_url(name), .sql(statement)
Every test in tests/cluster gets the `cluster` marker.
"""

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.cluster)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s{tail}")


# --- Redis -----------------------------------------------------------------------------------------------------------

class RedisServer:
    """redis-server as a child process: no persistence (a restart loses every key), same port across restarts."""

    def __init__(self, binary: str, directory: Path):
        self.binary = binary
        self.dir = directory
        self.port = free_port()
        self.host = "127.0.0.1"
        self.url = f"redis://{self.host}:{self.port}/0"
        self.log = directory / "redis.log"
        self.proc: subprocess.Popen | None = None

    def ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--logfile", str(self.log), "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=self.dir)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: "
                                   + (self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""))
            return self.ping()

        _wait(up, 30, f"redis-server on port {self.port}", self.log)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        _wait(lambda: not self.ping(), 10, f"redis-server on port {self.port} to stop")

    def restart(self):
        self.stop()
        self.start()

    def client(self, **kwargs):
        import redis

        return redis.Redis.from_url(self.url, **kwargs)


@pytest.fixture(scope="session")
def redis_server():
    binary = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.access(p, os.X_OK)), None)
    if binary is None:
        pytest.fail("redis-server is not installed: `make test` installs it (Debian package redis-server)",
                    pytrace=False)
    directory = Path(tempfile.mkdtemp(prefix="govinspect-redis-"))
    server = RedisServer(binary, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- PostgreSQL ------------------------------------------------------------------------------------------------------

def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl (Debian keeps them off PATH)."""
    candidates = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        p = Path(d)
        if (p / "initdb").exists() and (p / "pg_ctl").exists() and (p / "postgres").exists():
            try:
                version = float(p.parent.name)
            except ValueError:
                version = 0.0
            candidates.append((version, p))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


class PostgresServer:
    """A PostgreSQL cluster made by initdb in a temp dir; TCP on 127.0.0.1 with a password user, a unix socket in the
    same dir for the superuser (trust)."""

    user = "govinspect"
    database = "govinspect"

    def __init__(self, bindir: Path, directory: Path, run_as: list[str]):
        self.bindir = bindir
        self.dir = directory
        self.data = directory / "data"
        self.socket_dir = directory / "sock"
        self.log = directory / "postgres.log"
        self.run_as = run_as  # prefix that runs a command as the server's user ([] when not root)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.url = self.database_url(self.database)

    def database_url(self, name: str) -> str:
        return f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{name}"

    def _run(self, *args, check=True, timeout=120):
        cmd = self.run_as + [str(self.bindir / args[0]), *map(str, args[1:])]
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                             cwd=self.dir)
        if check and res.returncode != 0:
            tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}\n{tail}")
        return res

    def init(self):
        pwfile = self.dir / "pwfile"
        pwfile.write_text(secrets.token_hex(12) + "\n")  # superuser's password (it signs in over the socket: trust)
        self._chown(pwfile)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--pwfile", pwfile, "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# throwaway test server (tests/cluster/conftest.py)\n"
                f"port = {self.port}\n"
                f"listen_addresses = '{self.host}'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "max_connections = 100\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"  # data is thrown away anyway
                "timezone = 'UTC'\n"
            )

    def _chown(self, path: Path):
        if self.run_as:
            shutil.chown(path, "postgres", "postgres")

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop", check=False)

    def restart(self):
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w", "-t", "60", "restart")

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement as the superuser over the unix socket; returns psql's unaligned output."""
        res = self._run("psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", self.port,
                        "-U", "postgres", "-d", database, "-c", statement)
        return res.stdout.strip()

    def setup_database(self):
        self.sql(f"CREATE ROLE {self.user} LOGIN CREATEDB PASSWORD '{self.password}'")
        self.create_database(self.database)

    def create_database(self, name: str) -> str:
        """A new empty database owned by the test user (e.g. one per test); returns its URL."""
        self.sql(f'CREATE DATABASE "{name}" OWNER {self.user}')
        return self.database_url(name)

    def terminate_backends(self, database: str | None = None) -> int:
        """Drop every client connection (of one database, or all): the next query on them fails. Returns how many."""
        where = "backend_type = 'client backend' AND pid <> pg_backend_pid()"
        if database:
            where += f" AND datname = '{database}'"
        out = self.sql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {where}")
        return int(out or 0)


@pytest.fixture(scope="session")
def postgres_server():
    bindir = postgres_bin_dir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): `make test` installs them"
                    " (Debian package postgresql)", pytrace=False)
    run_as: list[str] = []
    root = os.geteuid() == 0
    # as root the server's user must reach the directory: /tmp, not a TMPDIR that may be private to root
    directory = Path(tempfile.mkdtemp(prefix="govinspect-pg-", dir="/tmp" if root else None))
    if root:
        # the server refuses to run as root: it runs as the `postgres` user (made by Debian's package)
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            pytest.fail("no `postgres` user to run PostgreSQL's server as: `make test` installs the Debian package"
                        " postgresql, which creates it", pytrace=False)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        run_as = [runuser, "-u", "postgres", "--"]
    directory.chmod(0o700)
    server = PostgresServer(bindir, directory, run_as)
    server.socket_dir.mkdir()
    for p in (directory, server.socket_dir):
        server._chown(p)
    try:
        server.init()
        server.start()
        server.setup_database()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
