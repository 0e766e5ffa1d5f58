"""Persisted crawl state, one SQLite file per site crawl: the frontier and every stored fetch.

It makes a crawl resumable (after a crash or SIGKILL the next run reloads what was stored, re-reads
the pages from the WARC file and continues with the queued URLs, fetching nothing it stored) and the
next round incremental (ETag / Last-Modified of each URL for conditional requests, and where its
snapshot lies to reuse it on 304). Each fetch is committed right after its WARC record is flushed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS frontier (url TEXT PRIMARY KEY, depth INTEGER, parent TEXT, seq INTEGER, done INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS fetched (
  url TEXT PRIMARY KEY, depth INTEGER, parent TEXT, final_url TEXT, status INTEGER, reason TEXT, content_type TEXT,
  bytes INTEGER, elapsed_ms INTEGER, fetched_at TEXT, error TEXT, redirects TEXT, encoding TEXT,
  etag TEXT, last_modified TEXT, warc_file TEXT, warc_offset INTEGER, revisit INTEGER DEFAULT 0, is_html INTEGER
);
"""

FIELDS = ("url", "depth", "parent", "final_url", "status", "reason", "content_type", "bytes", "elapsed_ms", "fetched_at",
          "error", "redirects", "encoding", "etag", "last_modified", "warc_file", "warc_offset", "revisit", "is_html")

_INSERT_FETCHED = f"INSERT OR REPLACE INTO fetched ({','.join(FIELDS)}) VALUES ({','.join('?' * len(FIELDS))})"
_INSERT_FRONTIER = "INSERT OR IGNORE INTO frontier (url, depth, parent, seq) VALUES (?, ?, ?, ?)"


class CrawlState:
    """synchronous=OFF: a commit is not flushed to the disk surface (half the cost of a commit, which every
    fetch pays). A killed crawl loses nothing (the OS has the data); after an OS crash or power loss the file
    may be damaged: it is then set aside (`damaged` names where) and the crawl starts afresh, as the WARC
    file, which is not flushed to the disk surface either, would be incomplete too."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.damaged: Path | None = None
        existed = path.exists() and path.stat().st_size > 0
        self.db = sqlite3.connect(str(path), isolation_level=None)
        if existed and not self._sound():
            self.db.close()
            self.damaged = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    side.rename(self.damaged.with_name(self.damaged.name + suffix))
            self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)

    def _sound(self) -> bool:
        try:
            return self.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            return False

    # ---------------------------------------------------------------- meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def finished(self) -> bool:
        return self.get_meta("finished_at") is not None

    # ---------------------------------------------------------------- frontier
    def queue(self, url: str, depth: int, parent: str | None, seq: int) -> None:
        self.db.execute(_INSERT_FRONTIER, (url, depth, parent, seq))

    def queued(self) -> list[tuple[str, int, str | None, int]]:
        return self.db.execute("SELECT url, depth, parent, seq FROM frontier WHERE done=0 ORDER BY depth, seq").fetchall()

    def known(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT url FROM frontier")]

    # ---------------------------------------------------------------- fetches
    def store(self, row: dict, queued: list[tuple[str, int, str | None, int]] = ()) -> None:
        """A fetch, and the URLs it queued (url, depth, parent, seq), in one transaction."""
        vals = [json.dumps(row.get(f)) if f == "redirects" else row.get(f) for f in FIELDS]
        self.db.execute("BEGIN")
        try:
            self.db.execute(_INSERT_FETCHED, vals)
            self.db.execute("UPDATE frontier SET done=1 WHERE url=?", (row["url"],))
            if queued:
                self.db.executemany(_INSERT_FRONTIER, queued)
        except BaseException:
            self.db.execute("ROLLBACK")  # all or nothing: the page is fetched again by a resumed crawl
            raise
        self.db.execute("COMMIT")

    def fetched(self) -> list[dict]:
        out = []
        for r in self.db.execute(f"SELECT {','.join(FIELDS)} FROM fetched"):
            d = dict(zip(FIELDS, r))
            d["redirects"] = json.loads(d["redirects"] or "[]")
            out.append(d)
        return out

    def validators(self) -> dict[str, dict]:
        """url -> previous validators and snapshot location, for conditional requests."""
        rows = self.db.execute("SELECT url, final_url, etag, last_modified, warc_file, warc_offset, fetched_at FROM fetched "
                               "WHERE status BETWEEN 200 AND 299 AND warc_file IS NOT NULL AND (etag IS NOT NULL OR last_modified IS NOT NULL)")
        return {r[0]: {"final_url": r[1], "etag": r[2], "last_modified": r[3], "warc_file": r[4], "warc_offset": r[5],
                       "fetched_at": r[6]} for r in rows}

    def close(self) -> None:
        self.db.close()
