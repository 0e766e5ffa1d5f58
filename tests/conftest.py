import os
import tempfile
from pathlib import Path

import pytest

# Keep test data (rounds, WARC files) out of the work tree. pytest-django may have read the settings before this
# file runs, so the setting is replaced too (subprocesses get the environment variable).
os.environ.setdefault("GOVINSPECT_DATA_DIR", tempfile.mkdtemp(prefix="govinspect-test-"))
from django.conf import settings as _settings  # noqa: E402

_settings.DATA_DIR = Path(os.environ["GOVINSPECT_DATA_DIR"]).resolve()
if "TEST" in _settings.DATABASES["default"]:  # SQLite: the test database is a file (worker processes share it)
    _settings.DATABASES["default"]["TEST"]["NAME"] = str(_settings.DATA_DIR / "test.sqlite3")

from govinspect.sandbox import generate_county  # noqa: E402
from govinspect.sandbox.serve import SandboxServer  # noqa: E402
from govinspect.sandbox.truth import ground_truth  # noqa: E402

from realdata import REALDATA  # noqa: E402  (../shared/realdata; tests using it skip without it)


@pytest.fixture(scope="session")
def county():
    return generate_county()


@pytest.fixture(scope="session")
def sandbox(county):
    with SandboxServer(county) as srv:
        yield srv


@pytest.fixture(scope="session")
def truth(county, sandbox):
    return ground_truth(county, sandbox.urls)


@pytest.fixture(scope="session")
def realdata():
    if not REALDATA.exists():
        pytest.skip("../shared/realdata is not present")
    return REALDATA


@pytest.fixture(autouse=True, scope="session")
def no_dns_beyond_loopback():
    """Tests never reach the network: any name lookup other than loopback fails loudly."""
    import socket

    real = socket.getaddrinfo
    allowed = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}

    def guarded(host, *args, **kwargs):
        h = host.decode() if isinstance(host, bytes) else host
        if h is None or h in allowed or str(h).startswith("127."):
            return real(host, *args, **kwargs)
        raise OSError(f"test tried to resolve {h!r}: no network beyond 127.0.0.1 in tests")

    socket.getaddrinfo = guarded
    yield
    socket.getaddrinfo = real
