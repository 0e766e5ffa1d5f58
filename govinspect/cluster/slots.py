"""Per-host politeness shared through Redis: every process on every machine that touches a host takes its slot here.

One host (a netloc, as the crawler's in-process gate keys it) has two Redis keys:

    govinspect:slot:<netloc>:next      when the next request to the host may start (Redis server time, microseconds)
    govinspect:slot:<netloc>:inflight  sorted set: one member per request in flight, scored by when it expires

Taking a slot is one Lua script (atomic on the Redis server, whose clock all machines share): expired members are
dropped (the slot of a process killed while it held one frees itself after `ttl` seconds), and when fewer than
`concurrency` requests are in flight the caller reserves the next start (max(now, next)), moves `next` on by `delay`
and is told how long to wait for its start; otherwise it polls. A slot is given back by removing its member.

    gate = SharedHostGate(url, "www.example.gov.cn", concurrency=2, delay=0.5)   # the crawler's _HostGate interface
    async with gate: ...                                                          # redis.asyncio

    with HostSlot(url, "www.example.gov.cn", 2, 0.5): ...                         # the same slot for synchronous code

CrawlConfig.gate_factory = SharedGates(url) makes the crawler, the link checker and the availability probes take these
slots instead of their in-process gates (engine/fetch/crawler.py make_gate). When Redis cannot be reached (restarted,
network cut) a request falls back to an in-process gate with the same limits after `fallback_after` seconds of retrying:
the round goes on, polite within this process; the cluster-wide bound returns with Redis.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
import weakref

log = logging.getLogger(__name__)

PREFIX = "govinspect:slot:"
DEFAULT_TTL = 120.0  # seconds a slot is held at most (longer than any request: CrawlConfig.timeout is 15 s)
POLL = 0.05  # seconds between two tries while the host's in-flight slots are all taken
FALLBACK_AFTER = 30.0  # seconds of Redis errors before a request goes on under the in-process gate
DOWN_RETRY = 10.0  # then requests take the in-process gate at once, and Redis is tried again every this many seconds

# KEYS: inflight, next. ARGV: member, concurrency, delay (µs), ttl (µs).
# Returns {1, wait µs} (reserved: start after waiting) or {0, retry µs} (all slots in flight).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, delay, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(0, tonumber(first[2]) - now)}
end
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[2], string.format('%.0f', start + delay), 'PX', string.format('%.0f', (start - now + delay) / 1000 + 1000))
redis.call('ZADD', KEYS[1], string.format('%.0f', start + ttl), ARGV[1])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', (start - now + ttl) / 1000 + 1000))
return {1, start - now}
"""

# KEYS: inflight. ARGV: member, ttl (µs). Extends a held slot (long transfers).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', tonumber(ARGV[2]) / 1000 + 1000))
  return 1
end
return 0
"""


def slots_url() -> str | None:
    """The Redis that holds the slots: GOVINSPECT_SLOTS_URL, else the broker (GOVINSPECT_BROKER_URL) when it is Redis."""
    url = os.environ.get("GOVINSPECT_SLOTS_URL") or os.environ.get("GOVINSPECT_BROKER_URL") or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def _keys(netloc: str) -> tuple[str, str]:
    n = netloc.lower()
    return f"{PREFIX}{n}:inflight", f"{PREFIX}{n}:next"


def _member() -> str:
    return f"{os.getpid()}:{uuid.uuid4().hex}"


# ------------------------------------------------------------------------------------------- asyncio
_clients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # event loop -> {url: redis.asyncio client}


def _async_client(url: str):
    """One redis.asyncio client per (event loop, url): a crawl runs its own loop (asyncio.run), a client is bound to it."""
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    if url not in per_loop:
        per_loop[url] = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return per_loop[url]


class SharedHostGate:
    """At most `concurrency` requests in flight to one host and `delay` seconds between their starts, across every
    process that uses the same Redis; `async with gate:` like crawler._HostGate (several tasks may hold it at once)."""

    def __init__(self, url: str, netloc: str, concurrency: int = 2, delay: float = 0.5, ttl: float = DEFAULT_TTL,
                 fallback_after: float = FALLBACK_AFTER):
        self.url, self.netloc = url, netloc
        self.concurrency, self.delay, self.ttl = max(1, int(concurrency)), float(delay), float(ttl)
        self.fallback_after = fallback_after
        self.inflight_key, self.next_key = _keys(netloc)
        self._held: dict = {}  # task -> members it holds (a task holds one slot of this host at a time, but be safe)
        self._local = None  # the in-process gate used while Redis is unreachable
        self._down, self._down_until = False, 0.0  # Redis found unreachable; tried again after DOWN_RETRY seconds
        self.fallbacks = 0

    async def __aenter__(self):
        member = await self.acquire()
        self._held.setdefault(asyncio.current_task(), []).append(member)
        return self

    async def __aexit__(self, *exc):
        task = asyncio.current_task()
        member = self._held[task].pop()
        if not self._held[task]:
            del self._held[task]
        await self.release(member)

    async def acquire(self) -> str | None:
        """Take a slot (waiting as long as needed); its member, or None when taken from the in-process gate."""
        from redis.exceptions import RedisError

        member, failing_since = _member(), None
        if time.monotonic() < self._down_until:  # Redis was found down a moment ago: not waited for again yet
            return await self._local_acquire()
        while True:
            try:
                client = _async_client(self.url)
                ok, wait = await client.eval(_ACQUIRE, 2, self.inflight_key, self.next_key, member, self.concurrency,
                                             int(self.delay * 1e6), int(self.ttl * 1e6))
                self._down = False
            except (RedisError, OSError) as e:
                now = time.monotonic()
                failing_since = failing_since or now
                if self._down or now - failing_since >= self.fallback_after:
                    if not self._down:
                        log.warning("slots: Redis unreachable for %.0f s (%s): %s polite within this process only until "
                                    "it is back", now - failing_since, e, self.netloc)
                    self._down, self._down_until = True, now + DOWN_RETRY
                    return await self._local_acquire()
                await asyncio.sleep(min(1.0, 0.1 + (now - failing_since) / 10))
                continue
            if int(ok):
                if int(wait) > 0:
                    await asyncio.sleep(int(wait) / 1e6)
                return member
            await asyncio.sleep(min(POLL, int(wait) / 1e6) if int(wait) > 0 else POLL)

    async def release(self, member: str | None) -> None:
        if member is None:
            await self._local.__aexit__(None, None, None)
            return
        from redis.exceptions import RedisError

        try:
            await _async_client(self.url).zrem(self.inflight_key, member)
        except (RedisError, OSError):  # it expires by itself
            pass

    async def _local_acquire(self) -> None:
        from ..engine.fetch.crawler import _HostGate

        if self._local is None:
            self._local = _HostGate(self.concurrency, self.delay)
        self._local.delay = self.delay
        self.fallbacks += 1
        await self._local.__aenter__()
        return None


class SharedGates:
    """CrawlConfig.gate_factory for cluster mode: factory(netloc, concurrency, delay) -> SharedHostGate. Holds only its
    settings (picklable; clients are made per event loop)."""

    def __init__(self, url: str | None = None, ttl: float = DEFAULT_TTL, fallback_after: float = FALLBACK_AFTER):
        self.url = url or slots_url()
        if not self.url:
            raise ValueError("no Redis for the per-host slots (GOVINSPECT_SLOTS_URL or GOVINSPECT_BROKER_URL)")
        self.ttl, self.fallback_after = ttl, fallback_after

    def __call__(self, netloc: str, concurrency: int, delay: float) -> SharedHostGate:
        return SharedHostGate(self.url, netloc, concurrency, delay, self.ttl, self.fallback_after)

    def __repr__(self):
        return f"SharedGates({self.url!r})"

    def __eq__(self, other):
        return isinstance(other, SharedGates) and (self.url, self.ttl) == (other.url, other.ttl)

    def __hash__(self):
        return hash((self.url, self.ttl))


def gate_factory() -> SharedGates | None:
    """The factory every crawl config gets in cluster mode (a Redis for the slots configured); None in embedded mode
    (the crawler's in-process gate, exactly as before)."""
    url = slots_url()
    return SharedGates(url) if url else None


# ------------------------------------------------------------------------------------------- synchronous
_sync_clients: dict = {}
_sync_lock = threading.Lock()
_sync_down: dict[str, float] = {}  # url -> until when Redis is not waited for (found unreachable)


def _sync_client(url: str):
    import redis

    with _sync_lock:
        key = (url, os.getpid())  # never a client inherited through fork
        if key not in _sync_clients:
            _sync_clients[key] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _sync_clients[key]


class HostSlot:
    """The same slot for synchronous code: `with HostSlot(url, netloc, 2, 0.5): fetch(...)`. One object per use."""

    def __init__(self, url: str | None, netloc: str, concurrency: int = 2, delay: float = 0.5, ttl: float = DEFAULT_TTL,
                 fallback_after: float = FALLBACK_AFTER):
        self.url = url or slots_url()
        self.netloc = netloc
        self.concurrency, self.delay, self.ttl = max(1, int(concurrency)), float(delay), float(ttl)
        self.fallback_after = fallback_after
        self.inflight_key, self.next_key = _keys(netloc)
        self.member: str | None = None

    def __enter__(self):
        from redis.exceptions import RedisError

        member, failing_since = _member(), None
        if time.monotonic() < _sync_down.get(self.url, 0.0):  # found down a moment ago: not waited for again yet
            self.member = None
            return self
        while True:
            try:
                ok, wait = _sync_client(self.url).eval(_ACQUIRE, 2, self.inflight_key, self.next_key, member,
                                                       self.concurrency, int(self.delay * 1e6), int(self.ttl * 1e6))
            except (RedisError, OSError) as e:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since >= self.fallback_after:
                    log.warning("slots: Redis unreachable (%s): %s taken without the shared slot", e, self.netloc)
                    _sync_down[self.url] = now + DOWN_RETRY
                    self.member = None
                    return self
                time.sleep(min(1.0, 0.1 + (now - failing_since) / 10))
                continue
            if int(ok):
                if int(wait) > 0:
                    time.sleep(int(wait) / 1e6)
                self.member = member
                return self
            time.sleep(min(POLL, int(wait) / 1e6) if int(wait) > 0 else POLL)

    def renew(self) -> bool:
        """Extend the slot held (a transfer longer than ttl); False when it had expired already."""
        if self.member is None:
            return False
        return bool(_sync_client(self.url).eval(_RENEW, 1, self.inflight_key, self.member, int(self.ttl * 1e6)))

    def __exit__(self, *exc):
        from redis.exceptions import RedisError

        if self.member is not None:
            try:
                _sync_client(self.url).zrem(self.inflight_key, self.member)
            except (RedisError, OSError):
                pass
            self.member = None


def in_flight(url: str, netloc: str) -> int:
    """Slots of a host held now (expired ones not counted): for the web's health page and the tests."""
    import redis  # noqa: F401

    client = _sync_client(url)
    inflight, _ = _keys(netloc)
    sec, usec = client.time()
    return int(client.zcount(inflight, sec * 1_000_000 + usec, "+inf"))
