"""The storage interface: keys stay inside the data directory, whatever a stored value says."""

import os

import pytest

from govinspect.storage import LocalStorage, StorageError


def test_keys_never_leave_the_store(tmp_path):
    root = tmp_path / "data"
    (root / "rounds" / "1").mkdir(parents=True)
    store = LocalStorage(root)
    assert store.path("rounds/1/site-2/crawl.warc.gz") == root / "rounds" / "1" / "site-2" / "crawl.warc.gz"
    assert store.key(root / "rounds" / "1" / "x") == "rounds/1/x"
    for bad in ("", "../etc/passwd", "rounds/../../x", "/etc/passwd", "rounds\\..\\x", "a\x00b"):
        with pytest.raises(StorageError):
            store.path(bad)
    outside = tmp_path / "secret.txt"
    outside.write_text("x")
    with pytest.raises(StorageError):
        store.resolve(str(outside))  # an absolute path in a row: only inside the store
    assert store.resolve(str(root / "rounds" / "1")) == root / "rounds" / "1"
    os.symlink(tmp_path, root / "rounds" / "escape")  # a link inside the store pointing out of it
    with pytest.raises(StorageError):
        store.path("rounds/escape/secret.txt")
    assert store.key_or_path(str(outside)) == str(outside)  # check-site's own crawl directory is reported as is
