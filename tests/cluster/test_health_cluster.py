"""The health page in cluster mode against a real redis-server: queue length (LLEN of the Celery queue), messages taken
and not acknowledged, a real `govinspect worker` answering the 1 s ping, the broker stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

DB = 7  # a Redis database of its own: the round tests use 0


@pytest.fixture
def cluster(redis_server, settings, monkeypatch, tmp_path):
    url = redis_server.url.rsplit("/", 1)[0] + f"/{DB}"
    monkeypatch.setenv("GOVINSPECT_BROKER_URL", url)
    monkeypatch.delenv("GOVINSPECT_STORAGE_DIR", raising=False)
    settings.GOVINSPECT_BROKER_URL = url
    settings.DATA_DIR = tmp_path
    _redis(url).flushdb()
    yield url
    if not redis_server.ping():
        redis_server.start()
    _redis(url).flushdb()


def _redis(url):
    import redis

    return redis.Redis.from_url(url)  # (redis_server.client(db=…) would keep the URL's database 0)


@pytest.fixture
def office(db, client):
    from django.contrib.auth.models import User

    from govinspect.web.models import Profile

    u = User.objects.create_user("office", password="Test-Passw0rd-42")
    Profile.objects.create(user=u, role="office", must_change_password=False)
    client.force_login(u)
    return client


def _page(client) -> str:
    r = client.get(reverse("web:health"))
    assert r.status_code == 200
    return r.content.decode()


def test_queue_length_and_unacked(office, cluster, redis_server):
    r = _redis(cluster)
    r.lpush("govinspect", "m1", "m2", "m3")
    r.lpush("govinspect\x06\x163", "m4")  # a message of another priority (kombu keeps it in a sibling list)
    r.hset("unacked", "tag-1", "[]")
    body = _page(office)  # (the ping waits 1 s for workers: its speed is not asserted here, machines are noisy)
    assert "集群" in body and "本机运行器" not in body
    assert '<strong class="queue-length">4</strong>' in body
    assert "1 项已被领取" in body
    assert "无应答" in body  # no worker runs
    assert f"127.0.0.1:{redis_server.port}/{DB}" in body


def test_a_real_worker_answers(office, cluster, tmp_path):
    env = {**os.environ, "GOVINSPECT_BROKER_URL": cluster, "GOVINSPECT_DATA_DIR": str(tmp_path)}
    env.pop("GOVINSPECT_DATABASE_URL", None)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([str(Path(sys.executable).parent / "govinspect"), "worker", "--concurrency", "1",
                               "--hostname", "healthcheck@%h"], env=env, stdout=open(log, "w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "ready" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.3)
        while True:  # its broadcast consumer may need a moment after "ready" (longer on a loaded machine)
            body = _page(office)
            if "1 个在线" in body or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "1 个在线" in body and "healthcheck@" in body
        assert '<strong class="queue-length">0</strong>' in body
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait()


def test_broker_stopped(office, cluster, redis_server):
    redis_server.stop()
    try:
        body = _page(office)
        assert "不可连接" in body and "消息队列不可达，未询问" in body
        # /healthz is about the web itself (database, storage): a broker outage does not take it out of a balancer
        assert office.get(reverse("web:healthz")).status_code == 200
    finally:
        redis_server.start()
    assert '<strong class="queue-length">0</strong>' in _page(office)
