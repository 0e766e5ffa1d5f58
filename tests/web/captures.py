"""Captured pages for the web tests: one WARC response record written where a finding's evidence points."""

from __future__ import annotations

import io


def write_warc(key: str, url: str, body: bytes, content_type: str | None = "text/html; charset=utf-8") -> int:
    """Write a gzip WARC (a warcinfo record, then one response record of `body`) at storage key `key`; the response
    record's offset. content_type None: the response has no Content-Type header."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from govinspect.storage import storage

    path = storage().path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_warc_record("warcinfo:", "warcinfo", payload=io.BytesIO(b"software: tests")))
        offset = fh.tell()
        headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)] if content_type else [],
                                   protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    return offset
