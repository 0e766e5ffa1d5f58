"""Where crawls, WARC files, uploaded registers and reports are kept: one interface, keys instead of paths.

    store = storage()                    # the data directory (GOVINSPECT_DATA_DIR), or GOVINSPECT_STORAGE_DIR
    d = store.path("rounds/12/site-3")   # a local path for a key (created on demand by the caller)
    key = store.key(d / "crawl.warc.gz") # the key of a path inside the store ("rounds/12/site-3/crawl.warc.gz")

Keys are relative POSIX paths; the database stores keys, never absolute paths, so every process that mounts the same
directory (the web server, local workers, cluster workers on a shared mount) finds the same files. A key that would
leave the store (absolute, "..") is refused.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath


class StorageError(ValueError):
    pass


class LocalStorage:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        k = PurePosixPath(key)
        if not key or k.is_absolute() or ".." in k.parts or "\\" in key or "\x00" in key:
            raise StorageError(f"存储位置不合法：{key!r}")
        p = self.root.joinpath(*k.parts)
        if not p.resolve().is_relative_to(self.root):  # a link inside the store pointing out of it
            raise StorageError(f"存储位置 {key!r} 指向存储目录以外")
        return p

    def key(self, path: Path | str) -> str:
        """The key of a path inside the store; StorageError for a path outside it."""
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            raise StorageError(f"{p} 不在存储目录 {self.root} 中") from None

    def key_or_path(self, path: str | None) -> str:
        """A key when the path is inside the store, else the path unchanged (a crawl written elsewhere by check-site)."""
        if not path:
            return ""
        try:
            return self.key(path)
        except StorageError:
            return str(path)

    def resolve(self, key_or_path: str) -> Path:
        """A stored key as a local path; an absolute path (kept by rows from before keys) only when it lies inside the
        store. StorageError otherwise: a stored value never makes the product read outside its data."""
        if os.path.isabs(key_or_path):
            return self.path(self.key(key_or_path))
        return self.path(key_or_path)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def put(self, key: str, src: Path | str) -> str:
        """Copy a file into the store under `key`; returns the key."""
        dst = self.path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        return key

    def set_aside(self, key: str, suffix: str) -> None:
        """Move what lies under `key` out of the way (a new round must not resume an old crawl of the same number)."""
        p = self.path(key)
        if p.exists():
            p.rename(p.with_name(f"{p.name}.{suffix}"))


def storage() -> LocalStorage:
    from django.conf import settings

    return LocalStorage(os.environ.get("GOVINSPECT_STORAGE_DIR") or settings.DATA_DIR)
