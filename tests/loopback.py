"""Small loopback web servers for tests: a handler base that answers HTML quietly, and a server started on 127.0.0.1
on a free port in a daemon thread (call .shutdown() when done)."""

from __future__ import annotations

import http.server
import threading


class HTMLHandler(http.server.BaseHTTPRequestHandler):
    def reply(self, status: int, body: bytes | str, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    srv = http.server.ThreadingHTTPServer((host, 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv
