import os
import tempfile
from pathlib import Path

import pytest

# Keep test data (SQLite, WARC files) out of the work tree; set before Django reads its settings.
os.environ.setdefault("GOVINSPECT_DATA_DIR", tempfile.mkdtemp(prefix="govinspect-test-"))

from govinspect.sandbox import generate_county  # noqa: E402
from govinspect.sandbox.serve import SandboxServer  # noqa: E402
from govinspect.sandbox.truth import ground_truth  # noqa: E402

# ../shared beside the checkout (as on developer machines and in CI); tests using it skip without it
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


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
