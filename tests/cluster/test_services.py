"""The throwaway services of tests/cluster really work: the whole schema migrates on PostgreSQL and a sandbox round runs
there with the embedded runner (forked pool) giving exactly what it gives on SQLite; redis-server restarts on its port
with its data gone; PostgreSQL drops connections on request and restarts."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from govinspect.rounds.services import _jsonable
from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

GOVINSPECT = str(Path(sys.executable).with_name("govinspect"))

# Runs in a child with the database from the environment: imports the registry, runs a round of every site on the
# embedded runner's pool of forked workers, prints what it found.
ROUND_SCRIPT = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.db import connection
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.models import Round
    from govinspect.rounds.services import _from_json, run_round

    registry, crawl, as_of = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    import_registry(registry)
    rnd = Round.objects.create(name="集群测试", region="清河县", as_of=as_of, allow_networks="127.0.0.0/8")
    run_round(rnd, crawl=_from_json(crawl), processes=2, site_concurrency=2)
    rnd.refresh_from_db()
    # stored JSON compared by value or keys (facts hold probe times): PostgreSQL's jsonb keeps an object's keys sorted, not in the order written (the
    # order matters only in the round's rules, kept as text there: rounds.models.OrderedJSONField; a finding's detail
    # lists things in the rules' order)
    def js(v):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)

    sites = sorted((rs.website.name, rs.status, rs.verdict, rs.pages_fetched, str(rs.score),
                    js([rs.deductions, rs.veto, rs.check_stats])) for rs in rnd.sites.all())
    findings = sorted((f.round_site.website.name if f.round_site else "", f.rule, f.fingerprint, f.detail, sorted(f.facts),
                       sorted(f.evidence)) for f in rnd.findings.all())
    jobs = sorted((j.kind, j.state) for j in rnd.jobs.all())
    print(json.dumps({"vendor": connection.vendor, "status": rnd.status, "sites": sites, "findings": findings,
                      "jobs": jobs}, ensure_ascii=False))
""")


def _env(database_url: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVINSPECT_BROKER_URL")}
    env.update(GOVINSPECT_DATABASE_URL=database_url, GOVINSPECT_DATA_DIR=str(data_dir),
               DJANGO_SETTINGS_MODULE="govinspect.settings")
    return env


def _run(cmd: list[str], env: dict, timeout: int = 600) -> str:
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f"{cmd[:3]} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res.stdout


def test_migrate_and_a_sandbox_round_on_postgresql_find_what_sqlite_finds(postgres_server, tmp_path):
    county = generate_county(seed=5, n_sites=3, pages_per_site=40)
    targets = {"postgresql": postgres_server.create_database("round_pg"),
               "sqlite": f"sqlite:///{tmp_path / 'sqlite' / 'govinspect.sqlite3'}"}
    results = {}
    with SandboxServer(county) as srv:
        registry = write_registry(county, srv.urls, tmp_path / "名录.xlsx")
        crawl = json.dumps(_jsonable(srv.crawl_settings()))
        for name, url in targets.items():
            data_dir = tmp_path / name
            data_dir.mkdir(exist_ok=True)
            env = _env(url, data_dir)
            _run([GOVINSPECT, "manage", "migrate", "--noinput"], env)
            plan = _run([GOVINSPECT, "manage", "showmigrations", "--plan"], env)
            assert "[ ]" not in plan and "[X]" in plan
            out = _run([sys.executable, "-c", ROUND_SCRIPT, str(registry), crawl, str(county.as_of)], env)
            results[name] = json.loads(out.strip().splitlines()[-1])
    pg, lite = results["postgresql"], results["sqlite"]
    assert (pg["vendor"], lite["vendor"]) == ("postgresql", "sqlite")
    assert pg["status"] == lite["status"] == "done", (pg["status"], lite["status"])
    assert all(state == "done" for _, state in pg["jobs"]), pg["jobs"]
    assert any(status == "checked" for _, status, *_ in pg["sites"]) and pg["findings"]
    assert pg["sites"] == lite["sites"]
    assert pg["findings"] == lite["findings"]
    assert pg["jobs"] == lite["jobs"]


def test_redis_restart_loses_the_data_and_keeps_the_port(redis_server):
    port, url = redis_server.port, redis_server.url
    r = redis_server.client()
    r.set("govinspect:probe", "1")
    assert r.get("govinspect:probe") == b"1"
    redis_server.stop()
    assert not redis_server.ping()
    redis_server.start()
    assert redis_server.ping() and (redis_server.port, redis_server.url) == (port, url)
    r = redis_server.client()
    assert r.get("govinspect:probe") is None and r.dbsize() == 0
    redis_server.restart()
    assert redis_server.client().ping()


def test_postgres_drops_connections_on_request_and_restarts(postgres_server):
    import psycopg

    url = postgres_server.create_database("drop_test")
    conn = psycopg.connect(url, autocommit=True)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    assert postgres_server.terminate_backends("drop_test") >= 1
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    conn.close()
    postgres_server.restart()
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("govinspect",)


def test_settings_take_database_url_and_govinspect_database_url_wins(tmp_path):
    code = ("from django.conf import settings; d = settings.DATABASES['default']; "
            "print(d['ENGINE'], d['NAME'], d['PORT'], d.get('CONN_HEALTH_CHECKS'))")
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVINSPECT_DATABASE_URL")}
    base.update(GOVINSPECT_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="govinspect.settings")

    def db(**env):
        return _run([sys.executable, "-c", code], {**base, **env}).split()

    assert db(DATABASE_URL="postgres://u:p@127.0.0.1:5433/plain") == \
        ["django.db.backends.postgresql", "plain", "5433", "True"]
    assert db(DATABASE_URL="postgres://u:p@127.0.0.1:5433/plain",
              GOVINSPECT_DATABASE_URL="postgres://u:p@127.0.0.1:5434/ours")[1:3] == ["ours", "5434"]
    engine, name, *_ = db()
    assert engine == "django.db.backends.sqlite3" and name == str(tmp_path / "govinspect.sqlite3")
