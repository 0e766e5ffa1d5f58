"""The health page (/health/) in embedded mode and /healthz for load balancers; the cluster mode's broker and workers
are tested against a real redis-server in tests/cluster/test_health_cluster.py."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def embedded(settings, tmp_path, monkeypatch):
    """Embedded mode with a data directory of its own (no runner heartbeat yet)."""
    monkeypatch.delenv("GOVINSPECT_BROKER_URL", raising=False)
    monkeypatch.delenv("GOVINSPECT_STORAGE_DIR", raising=False)
    settings.GOVINSPECT_BROKER_URL = ""
    settings.DATA_DIR = tmp_path
    return tmp_path


def _jobs(platform):
    """A queued round with a running job (heartbeat now), a queued one; a failed job of the current round."""
    from govinspect.rounds.models import Round, RoundJob

    rnd = Round.objects.create(name="第四季度检查", as_of=dt.date(2026, 11, 23), status="running")
    RoundJob.objects.create(round=rnd, kind="site", target=platform.sites["a"].pk, label="测试县卫生健康局网站",
                            state="running", owner="worker-1:4242:99", heartbeat=timezone.now(),
                            started_at=timezone.now(), progress={"pages": 37})
    RoundJob.objects.create(round=rnd, kind="site", target=platform.sites["b"].pk, label="测试县教育局网站")
    stale = RoundJob.objects.create(round=rnd, kind="accounts", label="政务新媒体账号", state="running",
                                    owner="worker-2:77:12", started_at=timezone.now() - dt.timedelta(hours=2),
                                    heartbeat=timezone.now() - dt.timedelta(hours=1))
    failed = RoundJob.objects.filter(round=platform.rounds["current"], kind="site").first()
    failed.state, failed.reason, failed.attempts = "failed", "OperationalError: 数据库连接中断（测试）", 3
    failed.finished_at = timezone.now()
    failed.save()
    return rnd, failed, stale


def test_health_page_embedded(platform, client_for, embedded):
    rnd, failed, stale = _jobs(platform)
    body = client_for("office").get(reverse("web:health")).content.decode()
    assert "单机" in body and "本机运行器" in body and "未运行" in body  # no heartbeat file yet
    assert "消息队列" not in body
    assert "可连接" in body and "sqlite" in body  # the database
    assert str(embedded) in body  # the storage directory, readable
    # the running round with its jobs: one running, one queued
    assert reverse("web:round", args=[rnd.pk]) in body and "第四季度检查" in body
    assert "worker-1:4242:99" in body and ">37<" in body
    assert "心跳超时" in body  # the job whose heartbeat stopped an hour ago
    assert body.count("心跳超时") == 1
    # the failed job with its error, linked to its round
    assert "数据库连接中断（测试）" in body
    assert reverse("web:round", args=[failed.round_id]) in body


def test_health_page_sees_the_runner(platform, client_for, embedded):
    from govinspect.rounds.runner import beat

    beat()  # what the local runner writes every turn of its loop
    body = client_for("readonly").get(reverse("web:health")).content.decode()
    assert "运行中" in body and "最近心跳 0 秒前" in body
    assert "没有正在运行或排队的轮次" in body and "没有失败的检查任务" in body


def test_health_page_only_office_and_readonly(platform, client, client_for, embedded):
    url = reverse("web:health")
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    for who in ("supervisor", "unit_a"):
        assert client_for(who).get(url).status_code == 403
    for who in ("office", "readonly"):
        assert client_for(who).get(url).status_code == 200


def test_healthz_ok_without_sign_in(db, client, embedded):
    r = client.get(reverse("web:healthz"))
    assert r.status_code == 200 and r.content == b"ok"
    assert reverse("web:healthz") == "/healthz"


def test_healthz_503_when_the_database_fails(db, client, embedded, monkeypatch):
    from govinspect.web.views import health

    class Down:
        vendor = "postgresql"

        def cursor(self):
            raise RuntimeError("connection refused")

    monkeypatch.setattr(health, "connection", Down())
    r = client.get(reverse("web:healthz"))
    assert r.status_code == 503 and r.content == b"unavailable"  # no detail for an anonymous caller
    assert health.database_ok() == (False, "RuntimeError: connection refused")


def test_healthz_503_when_the_storage_is_gone(db, client, embedded, monkeypatch, tmp_path):
    monkeypatch.setenv("GOVINSPECT_STORAGE_DIR", str(tmp_path / "not-mounted"))
    r = client.get(reverse("web:healthz"))
    assert r.status_code == 503 and r.content == b"unavailable"


def test_cluster_mode_with_the_broker_down(platform, client_for, embedded, monkeypatch, settings):
    """Cluster mode whose broker does not answer: shown as unreachable at once, workers not asked, no error page."""
    from govinspect.web.views.health import cluster_mode

    url = f"redis://127.0.0.1:{_closed_port()}/0"
    monkeypatch.setenv("GOVINSPECT_BROKER_URL", url)
    settings.GOVINSPECT_BROKER_URL = url
    assert cluster_mode()
    t = time.monotonic()
    r = client_for("office").get(reverse("web:health"))
    assert time.monotonic() - t < 5
    body = r.content.decode()
    assert r.status_code == 200 and "集群" in body and "不可连接" in body and "消息队列不可达，未询问" in body
    assert "本机运行器" not in body


def test_broker_password_not_shown():
    from govinspect.web.views.health import _redacted

    assert _redacted("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert _redacted("redis://user:s3cret@redis.local/2") == "redis://user:***@redis.local/2"
    assert _redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the socket is: nothing listens there
