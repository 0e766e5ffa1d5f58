"""One WARC file per site per round: the captured responses are evidence, not cache."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ... import __version__


class WarcSink:
    def __init__(self, path: Path, site_url: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = open(path, "wb")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = self._writer.create_warcinfo_record(
            path.name, {"software": f"govinspect/{__version__}", "format": "WARC File Format 1.1", "isPartOf": site_url}
        )
        self._writer.write_record(info)

    def write_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                       truncated: bool = False) -> None:
        http_headers = StatusAndHeaders(f"{status} {reason or ''}".strip(), headers, protocol="HTTP/1.1")
        warc_headers = {"WARC-Truncated": "length"} if truncated else None
        rec = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        self._writer.write_record(rec)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
