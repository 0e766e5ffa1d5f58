"""The site crawler.

One call crawls one site: breadth-first from the home page (and any registered column URLs),
within scope (the site's host and its registered extra hosts), under per-host concurrency and
delay, robots.txt, redirect, timeout, size, content-type, depth and page limits, and the
private-address guard. Every response goes to the site's WARC file and every URL to the crawl log.
HTML pages are decoded (header, meta, detection; gbk as gb18030) and turned into page models whose
links, datastore records and pagination feed the frontier.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from protego import Protego
from tqdm import tqdm

from ..extract import PageModel, decode_html, extract_page
from ..extract.page import ATTACHMENT_EXT
from .guard import REDIRECT_CODES, AddressGuard, BlockedAddress, RedirectRefused, guarded_connector, guarded_request, next_hop
from .state import CrawlState
from .warc import WarcSink, read_payload

HTML_TYPES = ("text/html", "application/xhtml+xml")
ATTACHMENT_TYPES = (
    "application/pdf", "application/msword", "application/vnd.ms-excel", "application/vnd.openxmlformats",
    "application/octet-stream", "text/csv", "text/plain", "application/zip", "application/x-rar", "application/ofd",
)
SKIP_EXT = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".svg", ".webp", ".ico", ".css", ".js", ".mp4", ".mp3",
            ".avi", ".flv", ".wmv", ".swf", ".woff", ".woff2", ".ttf", ".exe", ".apk", ".iso")
# meta tags the checks read from any page (the home page keeps all of its own)
_NO_REDIRECTS: list = []  # shared, never appended to
_KEEP_META = {"ArticleTitle", "PubDate", "ContentSource", "ColumnName", "SiteName", "SiteDomain", "SiteIDCode", "__img_alts__"}
# The safety limit of one site's crawl (URLs fetched) when neither the registry nor the command line sets one. A crawl
# kept on disk (rounds, check-site --warc-dir) takes ~4 MB per 1,000 pages (benchmarks/crawl_memory.py: 414 MB at
# 104,321 pages), so 50,000 pages stay near 200 MB per site in flight (four sites at once: under 1 GB) and cover the
# county and department sites met so far (the largest seen: 5,041 pages) ten times over. A site larger than the limit
# is not cut silently: the crawl counts the URLs it found but did not fetch (stats["not_fetched"]).
DEFAULT_MAX_PAGES = 50_000


@dataclass
class CrawlConfig:
    max_pages: int = DEFAULT_MAX_PAGES  # URLs fetched per site; the in-scope URLs found beyond it are counted, not fetched
    max_depth: int = 8
    concurrency_per_host: int = 2
    delay: float = 0.5  # seconds between two requests to one host
    timeout: float = 15.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 1
    retry_backoff: float = 0.5
    max_query_variants: int = 500  # URLs of one path reached from that same path (calendar-style traps)
    user_agent: str = "govinspect/0.1 (government website inspection)"
    obey_robots: bool = True
    allow_networks: tuple[str, ...] = ()  # networks (CIDR) opened by the operator; nothing else non-public is fetched
    extra_hosts: tuple[str, ...] = ()
    resolve_map: dict = field(default_factory=dict)  # host -> (ip, port): a hosts file of our own
    offline_dns: bool = False  # resolve only resolve_map names (sandbox, tests)
    link_recheck_interval: float | None = None  # seconds between the two probes of a failing link (None: rules)
    # known-good addresses probed before external links are judged dead (None: rules/availability.toml references)
    reference_urls: tuple[str, ...] | None = None
    check_links: bool = True
    fetch_attachments: bool = True
    follow_links: bool = True  # False: fetch the home page and the seeds only (a re-check of known pages)
    progress: bool = False
    # factory(netloc, concurrency, delay) -> the per-host gate (`async with`, a writable .delay). None: the in-process
    # _HostGate, or in cluster mode (a Redis for the slots configured) the slot shared by every worker
    # (govinspect.cluster.slots). Never part of a round's run_options (set by whoever builds the config).
    gate_factory: object = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class FetchRecord:
    url: str
    depth: int = 0
    parent: str | None = None
    final_url: str | None = None
    status: int | None = None
    reason: str = ""
    content_type: str = ""
    bytes: int = 0
    elapsed_ms: int = 0
    fetched_at: str = ""
    error: str | None = None
    redirects: list[str] = field(default_factory=list)
    encoding: str | None = None
    page: PageModel | None = None
    body: bytes | None = None  # kept for attachments only (content checks read them later)
    etag: str | None = None
    last_modified: str | None = None
    warc_file: str | None = None  # where the payload is kept (an earlier crawl's file for a revisit)
    warc_offset: int | None = None
    revisit: bool = False  # 304 Not Modified: the snapshot of the previous crawl was reused

    def load_body(self) -> bytes | None:
        if self.body is None and self.warc_file and self.warc_offset is not None:
            self.body = read_payload(self.warc_file, self.warc_offset)
        return self.body

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def log_entry(self) -> dict:
        return {
            "url": self.url, "final_url": self.final_url, "status": self.status, "time_ms": self.elapsed_ms,
            "bytes": self.bytes, "parent": self.parent, "depth": self.depth, "error": self.error,
            "content_type": self.content_type, "fetched_at": self.fetched_at, "redirects": self.redirects,
            "revisit": self.revisit,
        }

    def state_row(self) -> dict:
        return {"url": self.url, "depth": self.depth, "parent": self.parent, "final_url": self.final_url, "status": self.status,
                "reason": self.reason, "content_type": self.content_type, "bytes": self.bytes, "elapsed_ms": self.elapsed_ms,
                "fetched_at": self.fetched_at, "error": self.error, "redirects": self.redirects, "encoding": self.encoding,
                "etag": self.etag, "last_modified": self.last_modified, "warc_file": self.warc_file,
                "warc_offset": self.warc_offset, "revisit": int(self.revisit), "is_html": int(self.page is not None)}


@dataclass
class CrawlResult:
    site_url: str
    started_at: str
    finished_at: str = ""
    records: dict[str, FetchRecord] = field(default_factory=dict)
    warc_path: str | None = None
    log_path: str | None = None
    stats: dict = field(default_factory=dict)
    scope: set[str] = field(default_factory=set)  # netlocs and host names inside the site
    _full_cache: dict = field(default_factory=dict, repr=False)

    def in_scope(self, url: str) -> bool:
        p = urlsplit(url)
        return p.scheme in ("http", "https") and (p.netloc.lower() in self.scope or (p.hostname or "") in self.scope)

    def get(self, url: str) -> FetchRecord | None:
        return self.records.get(normalise_url(url))

    def full_page(self, url: str) -> PageModel | None:
        """The page with its text. Crawls kept on disk drop page text from memory (100,000 pages must
        fit in a few hundred MB); it is read back from the WARC snapshot when a check needs it."""
        rec = self.get(url)
        if rec is None or rec.page is None:
            return None
        if not rec.page.compacted:
            return rec.page
        cache = self._full_cache
        key = rec.url
        if key not in cache:
            body = read_payload(rec.warc_file, rec.warc_offset)
            text, _ = decode_html(body, rec.content_type)
            cache[key] = extract_page(text, rec.final_url or rec.url)
            while len(cache) > 64:
                cache.pop(next(iter(cache)))
        return cache[key]

    @property
    def pages_fetched(self) -> int:
        return sum(1 for r in self.records.values() if r.ok)


_SESSION_PATH = re.compile(r";(?:jsessionid|phpsessid|sessionid)=[^/?#]*", re.I)
_SESSION_PARAMS = re.compile(r"^(?:jsessionid|phpsessid|aspsessionid\w*|sessionid|sess_id|cfid|cftoken)$", re.I)


@functools.lru_cache(maxsize=1 << 15)  # the same navigation links are normalised on every page
def normalise_url(url: str) -> str:
    """Canonical form: lower-case scheme and host, default port dropped, fragment and session ids removed."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    if (parts.scheme == "http" and netloc.endswith(":80")) or (parts.scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    path = _SESSION_PATH.sub("", parts.path) or "/"
    query = parts.query
    if query and ("sess" in query.lower() or "cfid" in query.lower()):
        query = "&".join(p for p in query.split("&") if not _SESSION_PARAMS.match(p.split("=", 1)[0]))
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


class _HostGate:
    """At most `concurrency` requests in flight to one host, and `delay` seconds between starts."""

    def __init__(self, concurrency: int, delay: float):
        self.sem = asyncio.Semaphore(max(1, concurrency))
        self.delay = delay
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def __aenter__(self):
        await self.sem.acquire()
        async with self.lock:
            loop = asyncio.get_running_loop()
            wait = self.next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = loop.time() + self.delay

    async def __aexit__(self, *exc):
        self.sem.release()


def gate_factory_of(cfg: CrawlConfig):
    """cfg.gate_factory, else in cluster mode (a Redis for the slots configured) the shared slots' factory
    (cluster/slots.py), else None (embedded mode: in-process gates)."""
    if cfg.gate_factory is None and (os.environ.get("GOVINSPECT_SLOTS_URL") or os.environ.get("GOVINSPECT_BROKER_URL")):
        from ...cluster.slots import gate_factory

        return gate_factory()
    return cfg.gate_factory


def make_gate(cfg: CrawlConfig, netloc: str):
    """The politeness gate of one host for a crawl or a link check: the factory's (gate_factory_of), else the
    in-process _HostGate (embedded mode: exactly as before)."""
    factory = gate_factory_of(cfg)
    if factory is not None:
        return factory(netloc, cfg.concurrency_per_host, cfg.delay)
    return _HostGate(cfg.concurrency_per_host, cfg.delay)


class _Crawler:
    PROGRESS_SECONDS = 1.0  # on_progress is called at most this often

    def __init__(self, site_url: str, cfg: CrawlConfig, out_dir: Path | None, seeds: list[str], previous: Path | None = None,
                 on_page=None, on_progress=None):
        self.site_url = normalise_url(site_url)
        self.on_page = on_page
        self.on_progress = on_progress
        self._next_progress = 0.0
        self.cfg = cfg
        self.seeds = [normalise_url(s) for s in seeds]
        self.seed_set = set(self.seeds)
        self.guard = AddressGuard(cfg.allow_networks)
        site = urlsplit(self.site_url)
        self.scope = {site.netloc} | {h.lower() for h in cfg.extra_hosts}
        self.result = CrawlResult(site_url=self.site_url, started_at=_now(), scope=self.scope)
        self.queue: asyncio.PriorityQueue = asyncio.PriorityQueue()
        self.seen: set[str] = set()
        self.seen_raw: set[str] = set()  # links as written whose normal form is in seen: skipped at no cost
        self.query_variants: dict[str, int] = {}
        self.not_fetched: set[int] = set()  # in-scope URLs found once max_pages URLs were queued (hashes)
        self.gates: dict[str, _HostGate] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.seq = 0
        self._interned: dict = {}
        self.out_dir = out_dir
        self.warc = WarcSink(out_dir / "crawl.warc.gz", self.site_url) if out_dir else None
        self.log_fh = open(out_dir / "crawl-log.jsonl", "a", encoding="utf-8") if out_dir else None
        self.state = CrawlState(out_dir / "crawl-state.sqlite") if out_dir else None
        self.validators: dict[str, dict] = {}
        prev_db = previous / "crawl-state.sqlite" if previous else None
        if prev_db and prev_db.exists() and (not out_dir or prev_db.resolve() != (out_dir / "crawl-state.sqlite").resolve()):
            prev = CrawlState(prev_db)
            if prev.finished:  # only a complete earlier crawl is a baseline
                self.validators = prev.validators()
            prev.close()
        self.bar = tqdm(desc=site.netloc, unit="页", disable=not cfg.progress, leave=True, dynamic_ncols=True)
        self.stats = {"requests": 0, "bytes": 0, "errors": 0, "robots_disallowed": 0, "out_of_scope": 0,
                      "skipped_type": 0, "oversize": 0, "blocked_private": 0, "trap_pruned": 0, "not_modified": 0,
                      "resumed": 0}
        if self.state and self.state.damaged:  # after an OS crash or power loss (see CrawlState)
            self.stats["state_damaged"] = 1
            print(f"警告：{out_dir} 中的抓取状态文件已损坏（多因断电或系统崩溃），已另存为 {self.state.damaged.name}，"
                  "本站从头抓取", file=sys.stderr)

    # ---------------------------------------------------------------- scope and frontier
    def in_scope(self, url: str) -> bool:
        return self.result.in_scope(url)

    def enqueue(self, url: str, depth: int, parent: str | None, batch: list | None = None) -> None:
        """Queue url unless seen or out of bounds; persisted at once, or with the rest of `batch` (a page's links
        are stored in the transaction that stores the page)."""
        raw, url = url, normalise_url(url)
        if url in self.seen:
            self.seen_raw.add(raw)
            return
        if len(url) > 2048:
            return
        if not self.cfg.follow_links and parent is not None and url not in self.seed_set:
            return
        if not self.in_scope(url):
            self.stats["out_of_scope"] += 1
            return
        p = urlsplit(url)
        path = p.path.lower()
        if path.endswith(SKIP_EXT) or (path.endswith(ATTACHMENT_EXT) and not self.cfg.fetch_attachments):
            return
        if depth > self.cfg.max_depth:
            return
        if p.query and parent:
            # a trap grows by itself: calendar.html?d=… links to calendar.html?d=… . Articles such as
            # show.asp?id=N are reached from list pages (another path) and are never counted here.
            pp = urlsplit(parent)
            if pp.netloc == p.netloc and pp.path == p.path:
                key = p.netloc + p.path
                n = self.query_variants.get(key, 0)
                if n >= self.cfg.max_query_variants:
                    self.stats["trap_pruned"] += 1
                    return
                self.query_variants[key] = n + 1
        if len(self.seen) >= self.cfg.max_pages:  # the safety limit: counted once per URL, never fetched
            self.not_fetched.add(hash(url))  # a count: 64-bit hashes, not the strings (a huge site finds many)
            self.seen_raw.add(raw)
            return
        self.seen.add(url)
        self.seen_raw.add(raw)
        self.seq += 1
        if batch is not None:
            batch.append((url, depth, parent, self.seq))
        elif self.state:
            self.state.queue(url, depth, parent, self.seq)
        self.queue.put_nowait((depth, self.seq, url, parent))

    # ---------------------------------------------------------------- politeness
    def gate(self, netloc: str) -> _HostGate:
        if netloc not in self.gates:
            self.gates[netloc] = make_gate(self.cfg, netloc)
        return self.gates[netloc]

    async def allowed_by_robots(self, session: aiohttp.ClientSession, url: str) -> bool:
        if not self.cfg.obey_robots:
            return True
        p = urlsplit(url)
        lock = self.robots_locks.setdefault(p.netloc, asyncio.Lock())
        async with lock:
            if p.netloc not in self.robots:
                self.robots[p.netloc] = await self._fetch_robots(session, f"{p.scheme}://{p.netloc}/robots.txt")
        rp = self.robots[p.netloc]
        return rp is None or rp.can_fetch(url, self.cfg.user_agent)

    async def _fetch_robots(self, session, robots_url: str) -> Protego | None:
        for attempt in range(self.cfg.retries + 1):
            try:
                async with guarded_request(session, self.guard, "GET", robots_url, max_redirects=self.cfg.max_redirects,
                                           gate=self.gate) as (r, _):
                    if r.status >= 500:
                        raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
                    if r.status >= 400:
                        return None  # no robots.txt: everything allowed
                    body, _ = await _read_limited(r, 512 * 1024)
                rp = Protego.parse(body.decode("utf-8", "replace"))
                cd = rp.crawl_delay(self.cfg.user_agent)
                if cd:
                    g = self.gate(urlsplit(robots_url).netloc)
                    g.delay = max(g.delay, min(float(cd), 30.0))
                return rp
            except BlockedAddress:  # robots.txt (or a hop of its redirects) on a refused address: never fetched
                self.stats["blocked_private"] += 1
                return None
            except (RedirectRefused, ValueError):  # a loop, or a redirect to a malformed address: no robots.txt
                return None
            except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeError):
                await asyncio.sleep(self.cfg.retry_backoff * (attempt + 1))
        return None  # robots.txt unreachable: proceed; the pages themselves will tell

    # ---------------------------------------------------------------- fetching
    async def fetch(self, session: aiohttp.ClientSession, url: str, depth: int, parent: str | None) -> FetchRecord:
        for attempt in range(self.cfg.retries + 1):
            rec = FetchRecord(url=url, depth=depth, parent=parent)
            await self._fetch_once(session, rec)
            transient = rec.error is not None and not rec.error.startswith(("blocked", "robots", "redirect", "oversize", "skipped", "out of scope"))
            if not (transient or (rec.status is not None and rec.status >= 500)) or attempt == self.cfg.retries:
                break
            await asyncio.sleep(self.cfg.retry_backoff * (attempt + 1))
        return rec

    async def _fetch_once(self, session: aiohttp.ClientSession, rec: FetchRecord) -> None:
        current = rec.url
        t0 = time.monotonic()
        rec.fetched_at = _now()
        try:
            for _hop in range(self.cfg.max_redirects + 1):
                host = urlsplit(current).hostname or ""
                self.guard.check_host(host)
                if not await self.allowed_by_robots(session, current):
                    self.stats["robots_disallowed"] += 1
                    rec.error = "robots.txt disallow"
                    return
                prev = self.validators.get(current) if current == rec.url else None
                cond = {}
                if prev and prev["final_url"] == current:
                    if prev["etag"]:
                        cond["If-None-Match"] = prev["etag"]
                    if prev["last_modified"]:
                        cond["If-Modified-Since"] = prev["last_modified"]
                async with self.gate(urlsplit(current).netloc):
                    self.stats["requests"] += 1
                    async with session.get(current, allow_redirects=False, headers=cond) as resp:
                        rec.status, rec.reason = resp.status, resp.reason or ""
                        rec.content_type = resp.headers.get("Content-Type", "")
                        headers = list(resp.headers.items())
                        if resp.status == 304 and cond:
                            self._reuse(rec, current, prev, headers)
                            return
                        if resp.status in REDIRECT_CODES and resp.headers.get("Location"):
                            if self.warc:
                                self.warc.write_response(current, resp.status, rec.reason, headers, b"")
                            try:  # the hop check every fetcher shares (address, scheme, loop)
                                nxt = normalise_url(next_hop(self.guard, current, resp.headers["Location"], rec.redirects))
                            except RedirectRefused as e:
                                rec.redirects.append(current)
                                rec.error = str(e)
                                return
                            if nxt in rec.redirects or nxt == current:  # a loop through session ids
                                rec.redirects.append(current)
                                rec.error = f"redirect loop at {nxt}"
                                return
                            rec.redirects.append(current)
                            if not self.in_scope(nxt):
                                rec.final_url = nxt
                                rec.error = f"out of scope redirect to {nxt}"
                                return
                            current = nxt
                            continue
                        rec.final_url = current
                        ctype = rec.content_type.split(";")[0].strip().lower()
                        path = urlsplit(current).path.lower()
                        is_html = ctype in HTML_TYPES or (not ctype and not path.endswith(ATTACHMENT_EXT))
                        is_attachment = ctype.startswith(ATTACHMENT_TYPES) or path.endswith(ATTACHMENT_EXT)
                        if not (is_html or is_attachment):
                            self.stats["skipped_type"] += 1
                            rec.error = f"skipped content-type {ctype}"
                            return
                        body, truncated = await _read_limited(resp, self.cfg.max_bytes)
                        rec.bytes = len(body)
                        self.stats["bytes"] += len(body)
                        rec.etag, rec.last_modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
                        if self.warc:
                            rec.warc_offset = self.warc.write_response(current, resp.status, rec.reason, headers, body, truncated)
                            rec.warc_file = self.warc.file
                        if truncated:
                            self.stats["oversize"] += 1
                            rec.error = f"oversize: more than {self.cfg.max_bytes} bytes"
                            return
                        if is_html and not is_attachment:
                            text, rec.encoding = decode_html(body, rec.content_type)
                            rec.page = self.page(rec, text, current)
                            if rec.depth == 0 and not self.warc:
                                rec.body = body  # the home page as served, for checks of its markup (no WARC to read)
                        else:
                            rec.body = body
                        return
            rec.error = f"redirect limit: more than {self.cfg.max_redirects} redirects"
        except BlockedAddress as e:
            self.stats["blocked_private"] += 1
            rec.error = f"blocked: {e}"
        except asyncio.TimeoutError:
            rec.error = f"timeout after {self.cfg.timeout:g}s"
        except aiohttp.ClientError as e:
            rec.error = f"{type(e).__name__}: {e}"[:300]
        except (ValueError, UnicodeError) as e:
            rec.error = f"bad response: {e}"[:300]
        finally:
            rec.elapsed_ms = int((time.monotonic() - t0) * 1000)

    def page(self, rec: FetchRecord, html: str, url: str) -> PageModel:
        """The page model of a fetched (or reused, or resumed) page; on_page sees it with its text."""
        page = extract_page(html, url, self._interned if self.warc else None)
        if self.on_page is not None:
            self.on_page(rec, page)
        return self.compact(page, rec.url == self.site_url)

    def compact(self, page: PageModel, home: bool = False) -> PageModel:
        """Keep what the checks need in memory; the text stays in the WARC (see CrawlResult.full_page).

        Links and items are interned: a navigation bar repeated on 100,000 pages is stored once.
        """
        if not self.warc:
            return page
        page.text = ""
        page.compacted = True
        intern = self._interned
        page.links = tuple(page.links)  # each one shared already (extract_page(..., shared=self._interned))
        page.attachments = tuple(page.attachments)
        items = []
        for it in page.items:  # a "related articles" box repeats the same items on every article
            url, title = sys.intern(it.url), sys.intern(it.title)
            key = ("item", url, title, it.date, it.box)  # the same item in a side bar elsewhere is another item
            obj = intern.get(key)
            if obj is None:
                it.url, it.title = url, title
                if it.date is not None:
                    it.date = intern.setdefault(it.date, it.date)
                obj = intern[key] = it
            items.append(obj)
        page.items = tuple(items)
        page.next_pages = tuple(sys.intern(u) for u in page.next_pages)
        if home:
            page.meta = {sys.intern(k): v for k, v in page.meta.items()}
        else:  # which tags a page has is all the checks ask of other pages: share one dict per key set
            page.forms = ()  # the site search is looked for on the home page only
            keys = frozenset(k for k in page.meta if k in _KEEP_META)
            page.meta = intern.setdefault(keys, {k: "" for k in keys})
        return page

    def _intern_record(self, rec: FetchRecord) -> None:
        for f in ("content_type", "reason", "encoding", "warc_file", "fetched_at"):
            v = getattr(rec, f)
            if isinstance(v, str):
                setattr(rec, f, sys.intern(v))
        if not rec.redirects:
            rec.redirects = _NO_REDIRECTS

    def _reuse(self, rec: FetchRecord, url: str, prev: dict, headers: list[tuple[str, str]]) -> None:
        """304 Not Modified: take the page from the earlier snapshot and record a WARC revisit."""
        body = read_payload(prev["warc_file"], prev["warc_offset"])
        self.stats["not_modified"] += 1
        rec.final_url, rec.revisit = url, True
        rec.status, rec.reason = 200, "OK (not modified)"
        rec.etag = dict((k.lower(), v) for k, v in headers).get("etag") or prev["etag"]
        rec.last_modified = prev["last_modified"]
        rec.warc_file, rec.warc_offset = prev["warc_file"], prev["warc_offset"]
        if self.warc:
            self.warc.write_revisit(url, body, url, prev.get("fetched_at") or "", headers)
        ctype = dict((k.lower(), v) for k, v in headers).get("content-type") or ""
        rec.content_type = ctype
        path = urlsplit(url).path.lower()
        if path.endswith(ATTACHMENT_EXT) or ctype.split(";")[0].strip().lower().startswith(ATTACHMENT_TYPES):
            rec.body = body
        else:
            text, rec.encoding = decode_html(body, ctype)
            rec.page = self.page(rec, text, url)

    def _resume(self) -> None:
        """Reload what an interrupted (or finished) crawl in out_dir stored, and its queue."""
        rows = self.state.fetched()
        for row in rows:
            rec = FetchRecord(**{k: row[k] for k in ("url", "depth", "parent", "final_url", "status", "reason", "content_type",
                                                     "bytes", "elapsed_ms", "fetched_at", "error", "redirects", "encoding",
                                                     "etag", "last_modified", "warc_file", "warc_offset")})
            rec.revisit = bool(row["revisit"])
            if row["is_html"] and rec.warc_file and rec.warc_offset is not None:
                body = read_payload(rec.warc_file, rec.warc_offset)
                text, _ = decode_html(body, rec.content_type)
                rec.page = self.page(rec, text, rec.final_url or rec.url)
            self.result.records[rec.url] = rec
        self.stats["resumed"] = len(rows)
        self.seen.update(self.state.known())
        for url, depth, parent, seq in self.state.queued():
            self.seq = max(self.seq, seq)
            self.queue.put_nowait((depth, seq, url, parent))
        if len(self.seen) >= self.cfg.max_pages:  # the interrupted crawl had reached its limit: count again what
            for rec in list(self.result.records.values()):  # its pages link to beyond it (nothing is queued)
                if rec.ok and rec.page is not None and rec.final_url and self.in_scope(rec.final_url):
                    for link in rec.page.links:
                        self.enqueue(link.url, rec.depth + 1, rec.url, [])
                    for nxt in rec.page.next_pages:
                        self.enqueue(nxt, rec.depth, rec.url, [])

    # ---------------------------------------------------------------- loop
    async def worker(self, session: aiohttp.ClientSession) -> None:
        while True:
            depth, _, url, parent = await self.queue.get()
            try:
                rec = await self.fetch(session, url, depth, parent)
                found: list = []
                if rec.ok and rec.page is not None and rec.final_url and self.in_scope(rec.final_url):
                    seen_raw = self.seen_raw
                    for link in rec.page.links:  # a menu's links were queued by the first page that had it
                        if link.url not in seen_raw:
                            self.enqueue(link.url, depth + 1, url, found)
                    for nxt in rec.page.next_pages:
                        self.enqueue(nxt, depth, url, found)  # pagination belongs to the list's own depth
                    if rec.page.redirect_to:  # a stub (meta refresh, location.href=): its target stands in for it
                        if url in self.seed_set:  # a re-check fetching only known pages fetches a seed's target too
                            self.seed_set.add(normalise_url(rec.page.redirect_to))
                        self.enqueue(rec.page.redirect_to, depth, url, found)
                if self.state:  # committed after its WARC record was flushed, with the links it queued:
                    self.state.store(rec.state_row(), found)  # a resumed crawl skips it and still has its links
                self._intern_record(rec)
                self.record(rec)
            except Exception as e:  # a bug in one page must not stop the site
                self.record(FetchRecord(url=url, depth=depth, parent=parent, error=f"internal error: {e!r}"[:300], fetched_at=_now()))
            finally:
                self.queue.task_done()

    def record(self, rec: FetchRecord) -> None:
        self.result.records[rec.url] = rec
        if rec.error or (rec.status or 0) >= 400:
            self.stats["errors"] += 1
        if self.log_fh:
            self.log_fh.write(json.dumps(rec.log_entry(), ensure_ascii=False) + "\n")
        if not self.bar.disable:
            self.bar.update(1)
            self.bar.set_postfix(queued=self.queue.qsize(), errors=self.stats["errors"], refresh=False)
        if self.on_progress is not None and time.monotonic() >= self._next_progress:
            self._next_progress = time.monotonic() + self.PROGRESS_SECONDS
            self.report_progress()

    def report_progress(self) -> None:
        """on_progress({"pages": pages fetched so far, "urls": URLs done, "queued": URLs waiting, "errors": n})."""
        self.on_progress({"pages": self.result.pages_fetched, "urls": len(self.result.records),
                          "queued": self.queue.qsize(), "errors": self.stats["errors"]})

    async def run(self) -> CrawlResult:
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout, sock_connect=min(self.cfg.timeout, 10))
        connector = guarded_connector(self.guard, self.cfg.resolve_map, self.cfg.offline_dns,
                                      limit=max(4, self.cfg.concurrency_per_host * 4), ttl_dns_cache=300)
        headers = {"User-Agent": self.cfg.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers, auto_decompress=True) as session:
                if self.state and self.state.known():
                    self._resume()
                self.enqueue(self.site_url, 0, None)
                for s in self.seeds:
                    self.enqueue(s, 1, self.site_url)
                n = max(1, self.cfg.concurrency_per_host * max(1, len(self.scope)))
                workers = [asyncio.create_task(self.worker(session)) for _ in range(n)]
                await self.queue.join()
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
            if self.state:
                self.state.set_meta("finished_at", _now())
        finally:
            self.close()
        self.result.finished_at = _now()
        if self.on_progress is not None:
            self.report_progress()
        self.result.stats = dict(self.stats, pages_ok=self.result.pages_fetched, urls=len(self.result.records),
                                 max_pages=self.cfg.max_pages, not_fetched=len(self.not_fetched))
        return self.result

    def close(self) -> None:
        self.bar.close()
        if self.state:
            self.state.close()
        if self.warc:
            self.warc.close()
            self.result.warc_path = str(self.warc.path)
        if self.log_fh:
            self.log_fh.close()
            self.result.log_path = str(self.out_dir / "crawl-log.jsonl")


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    declared = resp.content_length
    if declared is not None and declared > limit:
        return b"", True
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


_clock = [-1, ""]  # the last second formatted: a crawl asks for the time several hundred times a second


def _now() -> str:
    t = int(time.time())
    if t != _clock[0]:
        _clock[:] = [t, dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")]
    return _clock[1]


async def crawl_site_async(site_url: str, cfg: CrawlConfig | None = None, out_dir: Path | None = None,
                           seeds: list[str] | None = None, previous: Path | None = None, on_page=None,
                           on_progress=None) -> CrawlResult:
    """Crawl one site. With out_dir the crawl is persisted there (WARC, log, state) and resumes what an
    interrupted crawl in out_dir stored; with `previous` (an earlier crawl's out_dir) it is incremental.
    on_page(record, page) is called once per HTML page while its text is still in memory (content checks).
    on_progress(dict) is called about once a second while the crawl runs, and at its end (pages fetched so far: the
    live progress of a round's job)."""
    return await _Crawler(site_url, cfg or CrawlConfig(), out_dir, seeds or [], previous, on_page, on_progress).run()


def crawl_site(site_url: str, cfg: CrawlConfig | None = None, out_dir: Path | None = None,
               seeds: list[str] | None = None, previous: Path | None = None) -> CrawlResult:
    """Crawl one site synchronously (runs its own event loop)."""
    return asyncio.run(crawl_site_async(site_url, cfg, out_dir, seeds, previous))
