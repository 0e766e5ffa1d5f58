"""Serve the sandbox county on 127.0.0.1: one aiohttp app (one port) per site, in a background thread.

Faults per site (site.faults): down (share 0..1 of requests answered 503, deterministic per URL
and request number), slow (seconds added to every response), status5xx (list of paths, or "all"),
redirect_loop (/loop/a.html <-> /loop/b.html), oversize (/download/big.html of `oversize_mb`, default 11),
robots_disallow (list of path prefixes). ETag / If-None-Match are honoured.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import defaultdict
from html import escape

from aiohttp import web

from . import render
from .county import EXTERNAL_HOSTS, County, Site
from .files import attachment_bytes


class _SiteApp:
    def __init__(self, county: County, site: Site):
        self.county, self.site = county, site
        self.counts: dict[str, int] = defaultdict(int)
        self.requests = 0
        self.bytes_sent = 0
        self.inflight = 0
        self.max_inflight = 0  # politeness is measured here, on the server side
        self.arrivals: list[float] = []
        self.rebuild()

    def rebuild(self) -> None:
        """(Re)build the routes from the model, e.g. after a test changed the site between two rounds."""
        site = self.site
        render.clear_cache(site)
        self.routes: dict[str, tuple] = {}
        self.cache: dict[str, tuple[int, bytes, str, dict]] = {}
        f = render.fam(site)
        self.routes["/"] = ("redirect", "/index.asp") if f == "legacy" else ("home", None)
        self.routes["/index.asp" if f == "legacy" else "/index.html"] = ("home", None)
        if site.kind == "portal":
            for k, _ in render.HOME_TABS:
                self.routes[f"/index.html?link={k}"] = ("home", None)
        for c in site.columns:
            self.routes[c.path] = ("column", (c, 0))
            for p in range(1, render.column_pages(site, c)):
                if f == "trs":
                    self.routes[c.path.replace("index.html", f"index_{p}.html")] = ("column", (c, p))
                elif f == "legacy":
                    self.routes[f"{c.path}&page={p + 1}"] = ("column", (c, p))
            if f == "trs":
                self.routes[c.path.replace("index.html", "")] = ("column", (c, 0))
            for a in c.articles:
                self.routes[a.path] = ("article", a)
                for att in a.attachments:
                    self.routes[att.path] = ("attachment", att)
        if site.directory_path:
            self.routes[site.directory_path] = ("directory", None)
        for path, route in site.extra_routes.items():
            self.routes[path] = route
        if site.faults.get("redirect_loop"):
            self.routes["/loop/a.html"] = ("redirect", "/loop/b.html")
            self.routes["/loop/b.html"] = ("redirect", "/loop/a.html")
        if site.faults.get("oversize"):
            self.routes["/download/big.html"] = ("oversize", int(site.faults.get("oversize_mb", 11)))

    def _render(self, key: str) -> tuple[int, bytes, str, dict]:
        if key in self.cache:
            return self.cache[key]
        kind, payload = self.routes.get(key, ("missing", None))
        headers: dict = {}
        if kind == "home":
            body, ctype = render.encode(self.site, render.home_page(self.site, self.county))
            status = 200
        elif kind == "column":
            body, ctype = render.encode(self.site, render.column_page(self.site, self.county, *payload))
            status = 200
        elif kind == "directory":
            body, ctype = render.encode(self.site, render.directory_page(self.site, self.county))
            status = 200
        elif kind == "article":
            body, ctype = render.encode(self.site, render.article_page(self.site, self.county, payload))
            status = 200
        elif kind == "attachment":
            (body, ctype), status = attachment_bytes(payload), 200
        elif kind == "redirect":
            return 302, b"", "text/html", {"Location": payload}
        elif kind == "raw":  # (bytes, content type): arbitrary responses for tests
            (body, ctype), status = payload, 200
        else:
            body, ctype = render.encode(self.site, "<html><body><h1>404 页面不存在</h1></body></html>")
            status = 404
        headers["ETag"] = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        self.cache[key] = (status, body, ctype, headers)
        return self.cache[key]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        self.arrivals.append(asyncio.get_running_loop().time())
        try:
            resp = await self._handle(request)
            # bytes on the wire, roughly: status line and headers too (a 304 is not free)
            self.bytes_sent += 17 + sum(len(k) + len(v) + 4 for k, v in resp.headers.items())
            return resp
        finally:
            self.inflight -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        key = request.path_qs
        self.requests += 1
        n = self.counts[key]
        self.counts[key] += 1
        faults = self.site.faults
        if faults.get("slow"):
            await asyncio.sleep(float(faults["slow"]))
        share = float(faults.get("down", 0) or 0)
        if share:
            h = int(hashlib.sha1(f"{self.county.seed}:{self.site.key}:{key}:{n}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            if h < share:
                return web.Response(status=503, text="Service Unavailable")
        bad = faults.get("status5xx")
        if bad and (bad == "all" or any(request.path.startswith(p) for p in bad)):
            return web.Response(status=500, text="Internal Server Error")
        if faults.get("traps") and request.path == "/calendar.html":  # an infinite calendar
            import datetime as _dt

            try:
                day = _dt.date.fromisoformat(request.query.get("d", "2026-01-01"))
            except ValueError:
                day = _dt.date(2026, 1, 1)
            prev, nxt = day - _dt.timedelta(days=1), day + _dt.timedelta(days=1)
            body = (f"<html><body><h1>活动日历 {day}</h1><a href='/calendar.html?d={prev}'>前一天活动安排</a> "
                    f"<a href='/calendar.html?d={nxt}'>后一天活动安排</a></body></html>")
            return web.Response(text=body, content_type="text/html")
        if faults.get("traps") and request.path.startswith("/hall.jsp"):  # a new session id on every link
            self.session_counter = getattr(self, "session_counter", 0) + 1
            body = (f"<html><body><h1>办事大厅</h1><a href='/hall.jsp;jsessionid=S{self.session_counter}'>进入办事大厅</a>"
                    "</body></html>")
            return web.Response(text=body, content_type="text/html")
        if request.path == "/search.html":  # site search; a broken one finds nothing
            from urllib.parse import parse_qs

            enc = "gbk" if render.fam(self.site) == "legacy" else "utf-8"  # a browser submits in the page's charset
            raw = request.raw_path.partition("?")[2]  # still percent-encoded: decode in the page's charset
            q = parse_qs(raw, encoding=enc, errors="replace").get("q", [""])[0].strip()
            hits = [] if self.site.faults.get("search_broken") or not q else [
                a for c in self.site.columns for a in c.articles if q in a.title][:20]
            items = "".join(f'<li><a href="{a.path}">{escape(a.title)}</a><span>{a.date}</span></li>' for a in hits)
            body = (f"<html><head><meta charset='utf-8'><title>搜索结果</title></head><body><h1>搜索结果</h1>"
                    f"<ul>{items or '<li>很抱歉，未能搜到相关数据</li>'}</ul></body></html>")
            return web.Response(body=body.encode(enc, "xmlcharrefreplace"), content_type="text/html", charset=enc)
        if request.path == "/robots.txt":
            lines = ["User-agent: *"] + [f"Disallow: {p}" for p in faults.get("robots_disallow", [])] or ["Disallow:"]
            return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
        kind, payload = self.routes.get(key, ("missing", None))
        if kind == "flaky":  # fails on its first request only: a transient error, not a dead link
            if n == 0:
                return web.Response(status=503, text="Service Unavailable")
            return web.Response(text="<html><body><h1>专题</h1><p>优化营商环境专题。</p></body></html>", content_type="text/html")
        if kind == "oversize":
            resp = web.StreamResponse(status=200, headers={"Content-Type": "text/html; charset=utf-8"})
            await resp.prepare(request)
            chunk = ("<p>" + "档案目录" * 4000 + "</p>\n").encode()
            sent = 0
            try:
                while sent < payload * 1024 * 1024:
                    await resp.write(chunk)
                    sent += len(chunk)
                await resp.write_eof()
            except (ConnectionResetError, RuntimeError):
                pass  # the client gave up, as it should
            return resp
        status, body, ctype, headers = self._render(key)
        if status == 200 and request.headers.get("If-None-Match") == headers.get("ETag"):
            return web.Response(status=304, headers=headers)
        self.bytes_sent += len(body)
        resp = web.Response(status=status, body=body, headers=headers)
        resp.headers["Content-Type"] = ctype
        return resp


class _InternetApp:
    """The outside world as the sandbox pages see it: one server answering for many host names."""

    def __init__(self):
        self.requests: list[tuple[str, str, str]] = []  # (method, host, path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0].lower()
        self.requests.append((request.method, host, request.path_qs))
        kind, text = EXTERNAL_HOSTS.get(host, ("missing", ""))
        if kind == "missing":
            return web.Response(status=404, text="<html><body>404 Not Found</body></html>", content_type="text/html")
        body = f"<html><head><meta charset='utf-8'><title>{text}</title></head><body><h1>{text}</h1><p>{text}</p></body></html>"
        return web.Response(text=body, content_type="text/html")


class SandboxServer:
    """Run the county in a background thread. Use as a context manager; stop() ends it."""

    def __init__(self, county: County, host: str = "127.0.0.1", port_base: int = 0):
        self.county, self.host, self.port_base = county, host, port_base
        self.apps: dict[str, _SiteApp] = {}
        self.urls: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.internet = _InternetApp()
        self.internet_port = 0

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.internet.handle)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        tcp = web.TCPSite(runner, self.host, self.port_base + 99 if self.port_base else 0, reuse_address=True)
        await tcp.start()
        self.internet_port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._runners.append(runner)
        for site in self.county.sites:
            sa = _SiteApp(self.county, site)
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", sa.handle)
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await runner.setup()
            port = self.port_base + site.index if self.port_base else 0
            tcp = web.TCPSite(runner, self.host, port, reuse_address=True)
            await tcp.start()
            real_port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._runners.append(runner)
            self.apps[site.key] = sa
            self.urls[site.key] = f"http://{self.host}:{real_port}/"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start())
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        for r in self._runners:
            loop.run_until_complete(r.cleanup())
        loop.close()

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise RuntimeError(f"沙盒启动失败：{self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(30)

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, key: str, path: str = "/") -> str:
        return self.urls[key].rstrip("/") + path

    def refresh(self) -> None:
        """Serve the current state of the county model (after it was changed in place)."""
        for sa in self.apps.values():
            sa.rebuild()

    @property
    def resolve_map(self) -> dict[str, tuple[str, int]]:
        """Host names of the sandbox internet -> the loopback server that plays them."""
        return {h: (self.host, self.internet_port) for h in EXTERNAL_HOSTS}

    def crawl_settings(self, **overrides) -> dict:
        """CrawlConfig fields for crawling this sandbox: loopback allowed, DNS answered by the sandbox only."""
        from . import SANDBOX_CRAWL

        return {**SANDBOX_CRAWL, "resolve_map": self.resolve_map, "offline_dns": True, **overrides}

    def crawl_config(self, **overrides):
        from ..engine.fetch import CrawlConfig

        return CrawlConfig(**self.crawl_settings(**overrides))

    @property
    def bytes_sent(self) -> int:
        return sum(a.bytes_sent for a in self.apps.values())
