"""A running job's heartbeat outlives a dropped database connection: its thread reconnects and beats again (a silent
heartbeat would make a job that is still crawling look abandoned, and a second worker take its host)."""

import subprocess
import sys
import textwrap
import time

from test_services import GOVINSPECT, _env, _run

SCRIPT = textwrap.dedent("""
    import sys, time
    import django
    django.setup()
    from django.utils import timezone
    from govinspect.rounds import jobs
    from govinspect.rounds.models import Round, RoundJob

    jobs.HEARTBEAT_SECONDS, jobs.PROGRESS_SECONDS = 0.5, 0.2
    rnd = Round.objects.create(name="心跳", as_of="2026-11-23", status="running")
    job = RoundJob.objects.create(round=rnd, kind="site", target=1, state="running", owner="me", heartbeat=timezone.now())
    beat = jobs._Heartbeat(job.pk)
    beat.start()
    print("started", flush=True)
    sys.stdin.readline()  # the test has dropped every connection to the database meanwhile
    dropped_at = timezone.now()
    time.sleep(3)
    from django.db import connection
    connection.close()  # this thread's connection was dropped too
    job.refresh_from_db()
    beat.stop.set()
    beat.join(5)
    print("alive" if beat.is_alive() is False and job.heartbeat > dropped_at else f"silent {job.heartbeat} {dropped_at}",
          flush=True)
""")


def test_heartbeat_survives_a_dropped_connection(postgres_server, tmp_path):
    url = postgres_server.create_database("heartbeat")
    env = _env(url, tmp_path)
    _run([GOVINSPECT, "manage", "migrate", "--noinput"], env)
    p = subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "started", p.stderr.read()
        time.sleep(1.5)  # the heartbeat has beaten over its connection
        assert postgres_server.terminate_backends("heartbeat") >= 1
        p.stdin.write("\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert out.strip().splitlines()[-1] == "alive", out + err
