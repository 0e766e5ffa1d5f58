"""Cluster mode for real: rounds of a sandbox county (served by this test process) run by `govinspect worker` processes
(Celery, prefork) over a throwaway redis-server and PostgreSQL (tests/cluster/conftest.py), with `govinspect beat`
sweeping. The round is submitted the way the CLI does it (services.run_jobs in cluster mode → dispatch.submit_round,
which waits for the round's end) from a child process with the cluster's environment.

    (a) two workers find exactly what the embedded runner finds (SQLite, its own data dir, forked pool)
    (b) a worker's pool child SIGKILLed mid-job, then a whole worker SIGKILLed mid-job: the jobs are delivered again
        (at once / after the visibility timeout) and run by the surviving worker; the round completes, nothing doubled
    (c) redis-server restarted mid-round (its queue lost: no persistence): the round completes
    (d) every PostgreSQL connection terminated mid-job: the job is retried and completes
    (e) a round queued as the web launches it: claimed by beat, cancelled between jobs, resumed
    (f) Ctrl+C while the CLI waits: the round is asked to cancel, the user is told
    (g) a job that killed its worker five times is failed, not redelivered for ever (the task function, SQLite)
    (h) a unit's claim: its item re-check round dispatched by beat, run as one task, the item answered
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from govinspect.rounds.services import _jsonable
from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

GOVINSPECT = str(Path(sys.executable).with_name("govinspect"))
VISIBILITY_TIMEOUT = 12  # seconds: a message a dead worker took comes back this long after it was delivered
DELAY = 0.05  # seconds between two requests to one host: a site job lasts a few seconds, long enough to hit it mid-way

# Runs in a child with the environment's database (and broker): imports the registry once, plans a round of every site
# and runs it with services.run_round (cluster mode: submitted to the workers and waited for), prints the round's id
# first and what it found last.
ROUND_SCRIPT = textwrap.dedent("""
    import json, sys
    from govinspect.cliutil import _setup_django
    _setup_django(migrate=True)
    from django.db import connection
    from govinspect.registry.models import Website
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round
    from govinspect.rounds.services import _from_json, run_round

    registry, crawl, as_of, name = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    if not Website.objects.exists():
        import_registry(registry)
    rnd = Round.objects.create(name=name, region="清河县", as_of=as_of, allow_networks="127.0.0.0/8")
    print(json.dumps({"round": rnd.pk}), flush=True)
    run_round(rnd, crawl=_from_json(crawl), site_concurrency=2)
    rnd.refresh_from_db()
    findings = sorted([f.rule, f.fingerprint] for f in rnd.findings.all())
    print(json.dumps({"vendor": connection.vendor, "round": rnd.pk, "status": rnd.status, "findings": findings,
                      "jobs": sorted([j.kind, j.label, j.state, j.attempts] for j in rnd.jobs.all()),
                      "events": [e.kind for e in rnd.events.all()]}, ensure_ascii=False), flush=True)
""")


# ------------------------------------------------------------------------------------------------------------ helpers
def _env(database_url: str, data_dir: Path, broker: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVINSPECT_BROKER_URL",
                                                            "GOVINSPECT_DATABASE_URL", "GOVINSPECT_VISIBILITY_TIMEOUT")}
    env.update(GOVINSPECT_DATABASE_URL=database_url, GOVINSPECT_DATA_DIR=str(data_dir),
               DJANGO_SETTINGS_MODULE="govinspect.settings", PYTHONUNBUFFERED="1")
    if broker:
        # beat sends only the 10 s sweep (and rectification housekeeping): no availability probes between the rounds
        env.update(GOVINSPECT_BROKER_URL=broker, GOVINSPECT_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
                   GOVINSPECT_SCHEDULES="")
    return env


def _wait(predicate, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Sandbox:
    def __init__(self, tmp: Path):
        self.county = generate_county(seed=19, n_sites=4, pages_per_site=40)
        self.server = SandboxServer(self.county)
        self.server.__enter__()
        self.registry = write_registry(self.county, self.server.urls, tmp / "名录.xlsx")
        self.crawl = json.dumps(_jsonable(self.server.crawl_settings(delay=DELAY)))

    def close(self):
        self.server.__exit__(None, None, None)


class Cluster:
    """The workers and beat of one test, as process groups of their own (killed whole at the end)."""

    def __init__(self, env: dict, logs: Path, pg_url: str):
        self.env, self.logs, self.pg_url = env, logs, pg_url
        self.procs: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        p = subprocess.Popen([GOVINSPECT, *args], env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[name] = p
        return p

    def worker(self, name: str) -> subprocess.Popen:
        p = self._spawn(name, ["worker", "--concurrency", "1", "--loglevel", "info", "--hostname", f"{name}@%h"])
        _wait(lambda: b" ready." in (self.logs / f"{name}.log").read_bytes() or p.poll() is not None, 60,
              f"worker {name} to be ready")
        assert p.poll() is None, self.log(name)
        return p

    def beat(self) -> subprocess.Popen:
        return self._spawn("beat", ["beat", "--loglevel", "info"])

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        p = self.procs[name]
        if p.poll() is None:
            os.killpg(p.pid, sig)
        p.wait(30)

    def stop(self) -> None:
        for name in list(self.procs):
            try:
                self.kill(name)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass

    # --- the database, read directly (a new connection each time: the test terminates connections)
    def rows(self, sql: str, *params):
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True, connect_timeout=10) as c:
            cur = c.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def running_job(self, round_id: int, exclude: tuple = ()) -> tuple[int, str] | None:
        """A job of the round running for at least a second (mid-crawl): (job id, owner pid)."""
        for pk, owner, progress in self.rows(
                "SELECT id, owner, progress FROM rounds_roundjob WHERE round_id = %s AND state = 'running' "
                "AND kind = 'site' AND started_at < now() - interval '1 second' ORDER BY id", round_id):
            if pk not in exclude and owner:
                return pk, owner
        return None

    def duplicates(self, round_id: int) -> dict:
        sites = self.rows("SELECT website_id, count(*) FROM rounds_roundsite WHERE round_id = %s GROUP BY website_id "
                          "HAVING count(*) > 1", round_id)
        # a finding belongs to its job's one RoundSite; rows of a killed try would hang off another job/round_site
        stray = self.rows("SELECT count(*) FROM rounds_finding f LEFT JOIN rounds_roundsite s ON s.id = f.round_site_id "
                          "WHERE f.round_id = %s AND f.round_site_id IS NOT NULL AND (s.id IS NULL OR s.job_id <> f.job_id)",
                          round_id)[0][0]
        return {"sites": sites, "stray findings": stray}


class Submission:
    """ROUND_SCRIPT in a child: the CLI's way of running a round in cluster mode (it waits for the round's end)."""

    def __init__(self, sandbox: Sandbox, env: dict, name: str, logs: Path):
        self.err = open(logs / f"submit-{name}.err", "w+b")
        self.proc = subprocess.Popen([sys.executable, "-c", ROUND_SCRIPT, str(sandbox.registry), sandbox.crawl,
                                      str(sandbox.county.as_of), name], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        assert line, self._stderr()
        self.round_id = json.loads(line)["round"]

    def _stderr(self) -> str:
        self.err.seek(0)
        return self.err.read().decode(errors="replace")[-5000:]

    def result(self, timeout: float = 150) -> dict:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError(f"round {self.round_id} did not end within {timeout} s:\n{self._stderr()}")
        assert self.proc.returncode == 0, f"exit {self.proc.returncode}:\n{out[-2000:]}\n{self._stderr()}"
        return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    sb = Sandbox(tmp_path_factory.mktemp("sandbox"))
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def embedded(sandbox, tmp_path_factory):
    """The same county checked by the embedded runner (SQLite in its own data dir, no broker)."""
    data = tmp_path_factory.mktemp("embedded")
    env = _env(f"sqlite:///{data / 'govinspect.sqlite3'}", data, None)
    res = Submission(sandbox, env, "embedded", data).result(timeout=300)
    assert res["vendor"] == "sqlite" and res["status"] == "done", res
    return res


@pytest.fixture(scope="module")
def cluster_env(redis_server, postgres_server, tmp_path_factory):
    data = tmp_path_factory.mktemp("cluster-data")  # the storage shared by the workers and the submitter
    url = postgres_server.create_database("cluster_round")
    env = _env(url, data, redis_server.url)
    res = subprocess.run([GOVINSPECT, "manage", "migrate", "--noinput"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return env, url


@pytest.fixture
def cluster(cluster_env, redis_server, tmp_path):
    env, url = cluster_env
    redis_server.client().flushdb()  # nothing left over from an earlier test
    c = Cluster(env, tmp_path / "logs", url)
    yield c
    c.stop()


def _findings(res: dict) -> Counter:
    return Counter(tuple(f) for f in res["findings"])


# ------------------------------------------------------------------------------------------------------------ tests
def test_a_round_on_two_workers_finds_exactly_what_the_embedded_runner_finds(sandbox, embedded, cluster, tmp_path):
    cluster.worker("w1")
    cluster.worker("w2")
    cluster.beat()
    started = time.monotonic()
    sub = Submission(sandbox, cluster.env, "a", tmp_path)
    res = sub.result()
    took = time.monotonic() - started
    assert res["vendor"] == "postgresql" and res["status"] == "done", (res, cluster.log("w1"), cluster.log("w2"))
    assert _findings(res) == _findings(embedded) and res["findings"]
    assert [j[:3] for j in res["jobs"]] == [j[:3] for j in embedded["jobs"]]
    assert all(j[2] == "done" for j in res["jobs"]), res["jobs"]
    assert res["events"].count("finish") == 1 and res["events"][:2] == ["queue", "start"]
    # both workers ran jobs (prefork child pids differ: host:pid:start)
    owners = {o.split(":")[1] for (o,) in cluster.rows("SELECT owner FROM rounds_roundjob WHERE round_id = %s", sub.round_id)}
    assert len(owners) >= 2, owners
    assert cluster.duplicates(sub.round_id) == {"sites": [], "stray findings": 0}
    print(f"cluster round of {len(res['jobs'])} jobs on two workers: {took:.1f} s")


def test_b_a_killed_pool_child_and_a_killed_worker_lose_nothing(sandbox, embedded, cluster, tmp_path):
    cluster.worker("w1")
    cluster.worker("w2")
    cluster.beat()
    sub = Submission(sandbox, cluster.env, "b", tmp_path)
    rid = sub.round_id
    # 1. the pool child running a site job SIGKILLed: its worker puts the message back at once
    first, owner = _wait(lambda: cluster.running_job(rid), 60, "a running site job")
    os.kill(int(owner.split(":")[1]), signal.SIGKILL)
    # 2. a whole worker (main process and pool) SIGKILLed while it runs another site job: its message comes back
    #    after the visibility timeout, to the surviving worker
    def other():
        job = cluster.running_job(rid, exclude=(first,))
        if job is None:
            return None
        pid = int(job[1].split(":")[1])
        name = next((n for n, p in cluster.procs.items() if n.startswith("w") and _parent(pid) == p.pid), None)
        return (job[0], name) if name else None

    second, victim = _wait(other, 60, "a second running site job")
    cluster.kill(victim)
    res = sub.result(timeout=150)
    assert res["status"] == "done", (res, cluster.log("w1"), cluster.log("w2"))
    jobs = dict(cluster.rows("SELECT id, attempts FROM rounds_roundjob WHERE round_id = %s", rid))
    assert jobs[first] >= 2 and jobs[second] >= 2, jobs
    assert all(j[2] == "done" for j in res["jobs"]), res["jobs"]
    assert cluster.duplicates(rid) == {"sites": [], "stray findings": 0}
    assert _findings(res) == _findings(embedded)
    assert res["events"].count("finish") == 1


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_c_redis_restarted_mid_round_the_round_completes(sandbox, embedded, cluster, redis_server, tmp_path):
    cluster.worker("w1")
    cluster.worker("w2")
    cluster.beat()
    sub = Submission(sandbox, cluster.env, "c", tmp_path)
    _wait(lambda: cluster.running_job(sub.round_id), 60, "a running site job")
    redis_server.restart()  # no persistence: the queue and the unacknowledged messages are gone
    res = sub.result(timeout=150)
    assert res["status"] == "done", (res, cluster.log("w1"), cluster.log("w2"), cluster.log("beat"))
    assert all(j[2] == "done" for j in res["jobs"]), res["jobs"]
    assert cluster.duplicates(sub.round_id) == {"sites": [], "stray findings": 0}
    assert _findings(res) == _findings(embedded)


def test_d_database_connections_dropped_mid_job_the_job_retries(sandbox, embedded, cluster, postgres_server, tmp_path):
    cluster.worker("w1")
    cluster.worker("w2")
    cluster.beat()
    sub = Submission(sandbox, cluster.env, "d", tmp_path)
    job, _ = _wait(lambda: cluster.running_job(sub.round_id), 60, "a running site job")
    assert postgres_server.terminate_backends("cluster_round") >= 1
    res = sub.result(timeout=150)
    assert res["status"] == "done", (res, cluster.log("w1"), cluster.log("w2"))
    attempts = dict(cluster.rows("SELECT id, attempts FROM rounds_roundjob WHERE round_id = %s", sub.round_id))
    assert attempts[job] >= 2, attempts
    assert "retry" in (cluster.log("w1") + cluster.log("w2")).lower()
    assert all(j[2] == "done" for j in res["jobs"]), res["jobs"]
    assert cluster.duplicates(sub.round_id) == {"sites": [], "stray findings": 0}
    assert _findings(res) == _findings(embedded)


# Plans a round and queues it the way the web's launch does (web/views/rounds.py): nothing waits for it here.
QUEUE_SCRIPT = textwrap.dedent("""
    import json, sys
    from govinspect.cliutil import _setup_django
    _setup_django(migrate=False)
    from govinspect.registry.models import Website
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round
    from govinspect.rounds.services import _from_json, event, start_round

    registry, crawl, as_of, name = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    if not Website.objects.exists():
        import_registry(registry)
    rnd = Round.objects.create(name=name, region="清河县", as_of=as_of, allow_networks="127.0.0.0/8")
    jobs = start_round(rnd, crawl=_from_json(crawl), site_concurrency=2)
    Round.objects.filter(pk=rnd.pk, status="pending").update(status="queued", cancel_requested=None)
    event(rnd, "queue", "测试：在平台上开始本轮")
    print(json.dumps({"round": rnd.pk, "jobs": len(jobs)}), flush=True)
""")


def test_e_a_round_queued_on_the_web_is_claimed_by_beat_cancelled_and_resumed(sandbox, embedded, cluster, tmp_path):
    """The web's launch only queues the round: beat's claim_queued_rounds dispatches it. The office's cancel stops it
    between jobs (finished jobs kept, the others stay queued); its resume runs only those and finds what the embedded
    runner finds."""
    cluster.worker("w1")
    cluster.beat()
    out = subprocess.run([sys.executable, "-c", QUEUE_SCRIPT, str(sandbox.registry), sandbox.crawl, str(sandbox.county.as_of), "e"],
                         env=cluster.env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    planned = json.loads(out.stdout.strip().splitlines()[-1])
    rid = planned["round"]
    assert planned["jobs"] >= 4

    def status():
        return cluster.rows("SELECT status, owner FROM rounds_round WHERE id = %s", rid)[0]

    def jobs():
        return dict(cluster.rows("SELECT state, count(*) FROM rounds_roundjob WHERE round_id = %s GROUP BY state", rid))

    _wait(lambda: jobs().get("done"), 60, "beat to dispatch the round and its first job to finish")
    assert status()[0] == "running" and status()[1]["host"] == "cluster"
    cluster.rows("UPDATE rounds_round SET cancel_requested = now() WHERE id = %s", rid)  # the office's cancel
    _wait(lambda: status()[0] == "cancelled", 60, "the round to end cancelled")
    left = jobs()
    assert left.get("queued", 0) >= 1 and "running" not in left, left
    kinds = [k for (k,) in cluster.rows("SELECT kind FROM rounds_roundevent WHERE round_id = %s ORDER BY id", rid)]
    assert kinds.count("cancel") == 1 and "finish" not in kinds, kinds
    # the office's resume (web/views/rounds.py resume): queued again, claimed again, only the rest runs
    cluster.rows("UPDATE rounds_round SET status = 'queued', cancel_requested = NULL, error = '' WHERE id = %s", rid)
    _wait(lambda: status()[0] == "done", 120, "the resumed round to finish")
    assert jobs() == {"done": sum(left.values())}
    kinds = [k for (k,) in cluster.rows("SELECT kind FROM rounds_roundevent WHERE round_id = %s ORDER BY id", rid)]
    assert kinds[-2:] == ["resume", "finish"], kinds
    found = Counter(cluster.rows("SELECT rule, fingerprint FROM rounds_finding WHERE round_id = %s", rid))
    assert found == _findings(embedded)
    assert cluster.duplicates(rid) == {"sites": [], "stray findings": 0}


def test_f_ctrl_c_while_the_cli_waits_asks_the_round_to_be_cancelled(sandbox, cluster, tmp_path):
    cluster.worker("w1")
    sub = Submission(sandbox, cluster.env, "f", tmp_path)
    rid = sub.round_id
    _wait(lambda: cluster.running_job(rid), 60, "a running site job")
    sub.proc.send_signal(signal.SIGINT)
    sub.proc.communicate(timeout=60)
    assert sub.proc.returncode != 0
    err = sub._stderr()
    assert f"已请求取消第{rid}轮" in err and f"govinspect round --resume {rid}" in err, err
    assert cluster.rows("SELECT cancel_requested IS NOT NULL FROM rounds_round WHERE id = %s", rid)[0][0]
    # the worker finishes the job it runs, starts no other; the round ends cancelled
    _wait(lambda: cluster.rows("SELECT status FROM rounds_round WHERE id = %s", rid)[0][0] == "cancelled", 60,
          "the round to end cancelled")
    states = dict(cluster.rows("SELECT state, count(*) FROM rounds_roundjob WHERE round_id = %s GROUP BY state", rid))
    assert states.get("queued", 0) >= 1 and "running" not in states, states


@pytest.mark.django_db
def test_g_a_job_that_killed_its_worker_five_times_is_failed_not_redelivered_for_ever(sandbox, tmp_path):
    """(no services: the task's function on the test database) A redelivered job whose owner died is queued again;
    after MAX_KILLED_ATTEMPTS deaths it is recorded failed, its site could not be checked, and the round ends."""
    import socket

    from govinspect.cluster import tasks
    from govinspect.registry.models import Website
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round, RoundJob
    from govinspect.rounds.services import _from_json, start_round

    import_registry(sandbox.registry)
    rnd = Round.objects.create(name="g", as_of=sandbox.county.as_of, allow_networks="127.0.0.0/8")
    (job,) = start_round(rnd, websites=[Website.objects.order_by("pk").first()],
                         crawl=_from_json(json.loads(sandbox.crawl)), accounts=False)
    Round.objects.filter(pk=rnd.pk).update(status="running", owner=tasks.owner("dispatched"))
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs, on this host
    gone = f"{socket.gethostname()}:{dead.pid}:1"
    RoundJob.objects.filter(pk=job.pk).update(state="running", owner=gone, attempts=1)
    assert tasks.requeue_if_abandoned(RoundJob.objects.get(pk=job.pk)) == "queued"
    RoundJob.objects.filter(pk=job.pk).update(state="running", owner=gone, attempts=tasks.MAX_KILLED_ATTEMPTS)
    assert tasks.run_one_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == "failed" and "意外终止" in job.reason and job.attempts == tasks.MAX_KILLED_ATTEMPTS
    rs = rnd.sites.get()
    assert rs.status == "could_not_check" and "意外终止" in rs.reason
    rnd.refresh_from_db()
    assert rnd.status == "done" and rnd.owner == {} and rnd.events.filter(kind="finish").count() == 1


# Issues the latest finished round (rectification items) and claims a stale column fixed without updating it: the
# claim queues an item re-check round (rectify.services.request_recheck), as a unit's claim on the web does.
CLAIM_SCRIPT = textwrap.dedent("""
    import json
    from govinspect.cliutil import _setup_django
    _setup_django(migrate=False)
    from govinspect.rectify.models import Item
    from govinspect.rectify.services import claim, issue_round
    from govinspect.rounds.models import Round

    rnd = Round.objects.filter(status="done", item_recheck=False, recheck_of__isnull=True).order_by("-id").first()
    issue_round(rnd, "office", issued_on=rnd.as_of)
    item = Item.objects.filter(round_issued=rnd, rule="column.stale", finding__round_site__isnull=False).order_by("id")[0]
    claim(item, "unit-1", "已更新")
    item.refresh_from_db()
    print(json.dumps({"item": item.pk, "recheck": item.recheck_round_id}), flush=True)
""")


def test_h_a_units_claim_is_rechecked_by_a_worker(sandbox, cluster, tmp_path):
    """An item re-check round (Round.item_recheck) is dispatched by beat and run as one task by a worker; the item
    takes its answer (仍存在: the column was not updated)."""
    cluster.worker("w1")
    cluster.beat()
    if not cluster.rows("SELECT 1 FROM rounds_round WHERE status = 'done' AND NOT item_recheck"):
        assert Submission(sandbox, cluster.env, "h", tmp_path).result()["status"] == "done"
    out = subprocess.run([sys.executable, "-c", CLAIM_SCRIPT], env=cluster.env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    claimed = json.loads(out.stdout.strip().splitlines()[-1])
    assert claimed["recheck"]

    def state():
        return cluster.rows("SELECT state FROM rectify_item WHERE id = %s", claimed["item"])[0][0]

    _wait(lambda: state() == "present", 90, "the item to be answered by the re-check")
    status, owner = cluster.rows("SELECT status, owner FROM rounds_round WHERE id = %s", claimed["recheck"])[0]
    assert status == "done" and owner == {}
    starts = cluster.rows("SELECT detail FROM rounds_roundevent WHERE round_id = %s AND kind = 'start'", claimed["recheck"])
    assert len(starts) == 1
