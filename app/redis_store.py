"""Session documents in Redis, shared by several nnplay replicas (``NNPLAY_STORE=redis://``).

Keys, all under ``nnplay:``:

- ``doc:<id>``: the session document (JSON bytes);
- ``seen``: a sorted set, id -> last use (wall-clock seconds), for expiry and the size bound;
- ``lease:<id>``: the id of the replica that holds (trains, answers for) the session now,
  expiring ``lease_seconds`` after its last renewal;
- ``writer``: a hash, id -> the replica that last took or wrote the session, so a replica
  whose lease lapsed (Redis was away) takes it back only if nobody else had it meanwhile.

The lease is the only truth about who holds a session. A replica that needs a session
another holds publishes its id on the channel ``nnplay:release`` and waits (about the lease
time plus a second, asking again every half second) for the lease to be free; the holder
writes the session, drops it from memory (its clients hear that it moved and reconnect) and
deletes its lease. A holder that died answers nothing: its lease expires and the session
moves all the same. Each replica renews its leases every third of the lease time, with a
script that renews only its own. Every write is refused unless the lease is this replica's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.config import Settings
from app.store import Backend, LeaseLost, Sessions, StoreUnavailable

log = logging.getLogger("nnplay.redis")

PREFIX = "nnplay:"
SEEN = PREFIX + "seen"
WRITER = PREFIX + "writer"
CHANNEL = PREFIX + "release"
POLL_SECONDS = 0.02  # how often a replica waiting for a lease looks again
ASK_AGAIN_SECONDS = 0.5  # pub/sub delivers at most once: a waiting replica asks again this often
RECONNECT_SECONDS = (0.1, 2.0)  # the listener's back-off after losing Redis, first and most
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS: lease, writer. ARGV: me, lease ms, id. Renews our own lease or takes a free one.
TAKE = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: writer, then one lease per id. ARGV: me, lease ms, then the ids. For each: 1 when the
# lease is ours (renewed, or taken back: it lapsed and nobody else had the session since).
RENEW = """
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2]) out[i - 1] = 1
  elseif not v and redis.call('HGET', KEYS[1], ARGV[i + 1]) == ARGV[1] then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
"""

# KEYS: lease, doc, seen, writer. ARGV: me, lease ms, id, doc, last use. Written only by the
# holder (or by the last writer whose lease lapsed, who takes it back); else 0.
SAVE = """
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
if not v then
  if redis.call('HGET', KEYS[4], ARGV[3]) ~= ARGV[1] then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
return 1
"""

# KEYS: lease, doc, seen, writer. ARGV: me, id. Deleted unless another replica holds it.
DELETE = """
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
return 1
"""

# KEYS: lease, writer. ARGV: me, id. Only our own lease is deleted (and our claim as its last
# writer: a replica that let a session go never takes it back without loading it again).
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
return redis.call('DEL', KEYS[1])
"""


def doc_key(sid: str) -> str:
    return f"{PREFIX}doc:{sid}"


def lease_key(sid: str) -> str:
    return f"{PREFIX}lease:{sid}"


class RedisBackend(Backend):
    """Documents and leases in one Redis database, for several replicas."""

    kind = "redis"

    def __init__(self, url: str, settings: Settings) -> None:
        parts = urlsplit(url)
        self.where = f"redis at {parts.hostname or 'localhost'}:{parts.port or 6379}"
        self.me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease_seconds = settings.lease_seconds
        self.lease_ms = max(1, int(settings.lease_seconds * 1000))
        # Short timeouts and two quick retries: with Redis away, answer 503 within seconds.
        self.client = aioredis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=2.0,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 2))
        self._take = self.client.register_script(TAKE)
        self._renew = self.client.register_script(RENEW)
        self._save = self.client.register_script(SAVE)
        self._delete = self.client.register_script(DELETE)
        self._release = self.client.register_script(RELEASE)
        self.sessions: Sessions | None = None
        self._tasks: list[asyncio.Task] = []
        self._answering: set[asyncio.Task] = set()
        self.reachable = True  # last known; only for logging an outage once

    async def _call(self, what: str, fn, *args, **kwargs):
        """`fn(...)`, Redis being out of reach raised as StoreUnavailable."""
        try:
            result = await fn(*args, **kwargs)
        except UNREACHABLE as exc:
            if self.reachable:
                log.warning("%s cannot be reached (%s): %s", self.where, what, exc)
            self.reachable = False
            raise StoreUnavailable(f"{self.where} cannot be reached") from exc
        if not self.reachable:
            log.warning("%s is back", self.where)
        self.reachable = True
        return result

    # ---- documents -------------------------------------------------------------------

    async def load(self, sid):
        return await self._call("load", self.client.get, doc_key(sid))

    async def save(self, sid, doc, last_seen):
        keys = [lease_key(sid), doc_key(sid), SEEN, WRITER]
        done = await self._call("save", self._save, keys=keys,
                                args=[self.me, self.lease_ms, sid, doc, last_seen])
        if not done:
            raise LeaseLost(sid)

    async def delete(self, sids):
        for sid in sids:
            await self._call("delete", self._delete, keys=[lease_key(sid), doc_key(sid),
                                                           SEEN, WRITER], args=[self.me, sid])

    async def oldest(self, keep):
        ids = await self._call("oldest", self.client.zrange, SEEN, 0, -(keep + 1))
        return [i.decode() for i in ids]

    async def idle_since(self, before):
        ids = await self._call("idle", self.client.zrangebyscore, SEEN, "-inf", f"({before}")
        return [i.decode() for i in ids]

    async def ping(self):
        await self._call("ping", self.client.ping)

    # ---- leases ----------------------------------------------------------------------

    async def _try_take(self, sid: str) -> bool:
        return bool(await self._call("lease", self._take, keys=[lease_key(sid), WRITER],
                                     args=[self.me, self.lease_ms, sid]))

    async def acquire(self, sid):
        """Take the session's lease: at once if it is free or ours; else ask its holder to
        let go and wait, at most the lease time plus a second (a dead holder's lease
        expires by then). False if it is still held by then."""
        if await self._try_take(sid):
            return True
        deadline = time.monotonic() + self.lease_seconds + 1.0
        ask_at = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= ask_at:
                await self._call("ask", self.client.publish, CHANNEL, f"{self.me} {sid}")
                ask_at = time.monotonic() + ASK_AGAIN_SECONDS
            await asyncio.sleep(POLL_SECONDS)
            if await self._try_take(sid):
                if self.sessions is not None:
                    self.sessions.metrics.lease_moves.labels("in").inc()
                return True
        return False

    async def release(self, sid):
        await self._call("release", self._release, keys=[lease_key(sid), WRITER],
                         args=[self.me, sid])

    async def renew(self) -> None:
        """Renew the lease of every session held here; a session whose lease another
        replica took meanwhile is dropped from memory (it moved)."""
        if self.sessions is None:
            return
        sids = sorted(self.sessions.holding())
        if not sids:
            return
        kept = await self._call("renew", self._renew,
                                keys=[WRITER, *(lease_key(s) for s in sids)],
                                args=[self.me, self.lease_ms, *sids])
        now = self.sessions.holding()  # a session may have left while the script ran
        for sid, ours in zip(sids, kept, strict=True):
            if ours and sid not in now:
                await self.release(sid)
            elif not ours and self.sessions.held(sid) is not None:
                log.warning("session %s is held by another replica now: dropped here", sid)
                await self.sessions.drop(sid)

    # ---- running ---------------------------------------------------------------------

    async def start(self, sessions):
        self.sessions = sessions
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._renew_forever()),
                       loop.create_task(self._listen_forever())]

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            with contextlib.suppress(StoreUnavailable):  # logged once; retried next time
                await self.renew()

    async def _listen_forever(self) -> None:
        """Answer other replicas' requests for the sessions held here; subscribe again
        after Redis comes back."""
        delay = RECONNECT_SECONDS[0]
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                delay = RECONNECT_SECONDS[0]
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._asked(message["data"])
            except UNREACHABLE:
                pass  # the other calls say so; listen again once it is back
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(RECONNECT_SECONDS[1], delay * 2)

    def _asked(self, data: bytes) -> None:
        who, _, sid = data.decode().partition(" ")
        if who == self.me or self.sessions is None or not self.sessions.holds(sid):
            return
        task = asyncio.get_running_loop().create_task(self.sessions.let_go(sid))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def close(self):
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.client.aclose()
