"""Where the third-party pages for tests are: ../shared/realdata beside the checkout (as on developer machines and in
CI). Tests using them skip without it (fixture `realdata` in conftest.py). A module of its own, not conftest: with
tests/web/conftest.py there are two modules named conftest, and `from conftest import` would find either."""

from pathlib import Path

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
