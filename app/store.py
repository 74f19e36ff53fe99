"""Where sessions are kept: the sessions this process holds in memory, and their documents
in a durable store that outlives the process.

`Sessions` is what the routes and the live stream use. A session is held in memory
(`app.sessions.SessionStore`, the registry) by one process at a time; its document
(`Session.to_dict()`) is written to the store:

- before the answer, after every change a person made (a weight, a setting, the data,
  play and pause): the routes and the socket call `flush` (see `DURABLE`);
- while training plays, at least every `save_interval_seconds` (`save_forever`);
- on shutdown, every session (`close`).

After a restart, a session is loaded from the store on its first request or socket.
The store is chosen by `NNPLAY_STORE`: ``sqlite:///path.db`` (the default, one file in
`NNPLAY_DATA_DIR`), ``redis://host:port/db`` (several replicas; see app/redis_store.py)
or ``memory://`` (nothing kept, for tests that want none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from app.config import Settings
from app.errors import AppError, SessionNotFound, TooManySessions
from app.metrics import Metrics
from app.sessions import Session, SessionStore

log = logging.getLogger("nnplay.store")

# Changes a person made: written before the answer. ("trained" is the training loop's,
# saved every save_interval_seconds; "closed" is the end of a session.)
DURABLE = frozenset({"snapshot", "frame", "status"})


class StoreUnavailable(AppError):
    """The durable store cannot be reached; the server says so with 503."""

    status = 503

    def __init__(self, what: str) -> None:
        super().__init__(f"the session store is unavailable ({what}); try again shortly",
                         "store")


class SessionMoved(AppError):
    """The session went to another replica while this one was changing it: the change was
    not made here; the client tries again (and reaches the session where it is now)."""

    status = 503

    def __init__(self, session_id: str = "") -> None:
        super().__init__("this session moved to another server just now; try again", "id")


class LeaseLost(SessionMoved):
    """A write refused by the store: another replica holds the session's lease."""


class SessionEvicted(SessionMoved):
    """A change that reached a session just as it was let go from memory (evicted to make
    room, or released after its pages left): its document is in the store; trying again
    brings it back."""

    def __init__(self, session_id: str = "") -> None:
        AppError.__init__(self, "this session was just set aside from memory; try again",
                          "id")


# ---- backends: documents by id ---------------------------------------------------------


class Backend:
    """Documents by session id (bytes of JSON) with the time each was last used.
    Methods are async; a sync backend runs them in a thread."""

    kind = "memory"

    async def load(self, sid: str) -> bytes | None:
        raise NotImplementedError

    async def save(self, sid: str, doc: bytes, last_seen: float) -> None:
        raise NotImplementedError

    async def delete(self, sids: list[str]) -> None:
        raise NotImplementedError

    async def oldest(self, keep: int) -> list[str]:
        """Ids beyond the newest `keep` documents by last use (oldest first)."""
        raise NotImplementedError

    async def idle_since(self, before: float) -> list[str]:
        """Ids of documents last used before `before` (wall-clock seconds)."""
        raise NotImplementedError

    async def ping(self) -> None:
        """Raise StoreUnavailable if the store cannot be reached."""

    async def start(self, sessions: Sessions) -> None:
        """Called once the server runs (a shared store listens for its peers here)."""

    # Ownership, for stores shared by several processes (Redis); one process owns all.
    async def acquire(self, sid: str) -> bool:
        return True

    async def release(self, sid: str) -> None:
        return None

    async def close(self) -> None:
        return None


class MemoryBackend(Backend):
    """Keeps documents in this process only (``memory://``): a restart forgets them."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[bytes, float]] = {}

    async def load(self, sid):
        found = self.docs.get(sid)
        return found[0] if found else None

    async def save(self, sid, doc, last_seen):
        self.docs[sid] = (doc, last_seen)

    async def delete(self, sids):
        for sid in sids:
            self.docs.pop(sid, None)

    async def oldest(self, keep):
        by_age = sorted(self.docs, key=lambda s: self.docs[s][1])
        return by_age[:max(0, len(by_age) - keep)]

    async def idle_since(self, before):
        return [s for s, (_, seen) in self.docs.items() if seen < before]


class SqliteBackend(Backend):
    """One SQLite file in WAL mode (standard library `sqlite3`): a committed write
    survives the process being killed, and readers never wait for the writer."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: each commit reaches the WAL file before it returns; only an
            # operating-system crash could lose the last ones, not a killed process.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, "
                             "doc BLOB NOT NULL, last_seen REAL NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS sessions_seen ON sessions(last_seen)")

    def _run(self, sql: str, args=()) -> list:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    async def _call(self, sql: str, args=()) -> list:
        try:
            return await asyncio.to_thread(self._run, sql, args)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    async def load(self, sid):
        rows = await self._call("SELECT doc FROM sessions WHERE id = ?", (sid,))
        return rows[0][0] if rows else None

    async def save(self, sid, doc, last_seen):
        await self._call("INSERT INTO sessions (id, doc, last_seen) VALUES (?, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, "
                         "last_seen = excluded.last_seen", (sid, doc, last_seen))

    async def delete(self, sids):
        for sid in sids:
            await self._call("DELETE FROM sessions WHERE id = ?", (sid,))

    async def oldest(self, keep):
        rows = await self._call("SELECT id FROM sessions ORDER BY last_seen DESC "
                                "LIMIT -1 OFFSET ?", (keep,))
        return [r[0] for r in reversed(rows)]

    async def idle_since(self, before):
        rows = await self._call("SELECT id FROM sessions WHERE last_seen < ?", (before,))
        return [r[0] for r in rows]

    async def ping(self):
        await self._call("SELECT 1")

    async def close(self):
        with self._lock:
            self._db.close()


def open_backend(settings: Settings) -> Backend:
    """The backend `settings.store` names (``sqlite:///path``, ``redis://...``,
    ``memory://``); an empty value means ``nnplay.db`` in `settings.data_dir`."""
    url = settings.store or f"sqlite:///{Path(settings.data_dir) / 'nnplay.db'}"
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBackend()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"NNPLAY_STORE={url!r}: expected sqlite:///path/to/file.db")
        return SqliteBackend(Path(path))
    if scheme in ("redis", "rediss"):
        from app.redis_store import RedisBackend

        return RedisBackend(url, settings)
    raise ValueError(f"NNPLAY_STORE={url!r}: expected sqlite:///..., redis://... or memory://")


# ---- the sessions of this process, kept in the store --------------------------------------

MOVED_MESSAGE = "this session moved to another server; reconnecting"
EVICTED_MESSAGE = ("The server was full and set this session aside to make room for "
                   "others. Nothing is lost: reload the page to carry on.")
# A session just taken from another replica stays at least this long before it is let go
# again, so that the request that brought it here is served, not bounced back.
MOVE_HOLD_SECONDS = 0.25


class Sessions:
    """The sessions the routes and the live stream use: held in memory by `registry`,
    documents kept in `backend`. Every method that may touch the store is async."""

    def __init__(self, settings: Settings, backend: Backend | None = None,
                 metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.registry = SessionStore(settings, bounded=False)  # the bound is kept here
        self.backend = backend or open_backend(settings)
        self.metrics = metrics or Metrics()
        self.metrics.watch_sessions(
            lambda: len(self.registry),
            lambda: sum(1 for s in self.registry.sessions() if s.playing))
        self._dirty: dict[str, bool] = {}  # id -> durable (a person's change) or trained
        self._loading: dict[str, asyncio.Future] = {}
        self._leaving: dict[str, asyncio.Future] = {}  # being let go to another replica
        self._asked: set[str] = set()  # another replica's request being answered
        self._taken_at: dict[str, float] = {}  # when each session came here (monotonic)
        self._writing: dict[str, asyncio.Lock] = {}  # one write at a time per session, in order
        # Page views' sessions not claimed yet: id -> (client address, created, monotonic).
        # In memory only, not counted in max_sessions (see `create`, `claim`).
        self.provisional: dict[str, tuple[str, float]] = {}
        self._room = asyncio.Lock()  # one newcomer at a time makes room (evicts)
        self.evictions = 0
        self.registry.listeners.append(self._heard)
        self.saves = 0  # documents written (for /metrics)
        self.save_seconds = 0.0
        self.unsaved_since: float | None = None  # when a write first failed, unwritten since

    async def start(self) -> None:
        """Reach the store once at start-up (a Redis backend subscribes here)."""
        await self.backend.start(self)

    # registry passthroughs: what the synchronous code needs
    def __len__(self) -> int:
        return len(self.registry)

    @property
    def listeners(self):
        return self.registry.listeners

    def _heard(self, session: Session, kind: str) -> None:
        """A session changed (on whichever thread changed it): note what to save. A change
        to a session that has just moved away is refused (SessionMoved): it would be lost."""
        if kind == "closed":
            return
        if session.closed and getattr(session, "evicted", False):
            raise SessionEvicted(session.id)
        if session.closed and getattr(session, "moved", False):
            raise SessionMoved(session.id)
        if kind in DURABLE or not self._dirty.get(session.id, False):
            self._dirty[session.id] = kind in DURABLE or self._dirty.get(session.id, False)

    # ---- reading and creating ----------------------------------------------------------

    def held(self, sid: str) -> Session | None:
        """The session if this process holds it (no store access)."""
        try:
            return self.registry.get(sid)
        except SessionNotFound:
            return None

    def holds(self, sid: str) -> bool:
        """Whether this process holds `sid`, or is loading or letting it go."""
        return sid in self.registry or sid in self._loading or sid in self._leaving

    def holding(self) -> set[str]:
        """Every id this process holds, is loading or is letting go (their leases)."""
        return {s.id for s in self.registry.sessions()} | set(self._loading) | set(self._leaving)

    async def get(self, sid: str) -> Session:
        """The session `sid`: held here, or loaded from the store (taking it over from
        another replica if one holds it). SessionNotFound if no store has it."""
        leaving = self._leaving.get(sid)
        if leaving is not None:  # being handed to another replica: ask for it back after
            await asyncio.shield(leaving)
        session = self.held(sid)
        if session is not None:
            return session
        pending = self._loading.get(sid)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._loading[sid] = pending
            try:
                pending.set_result(await self._load(sid))
            except Exception as exc:
                pending.set_exception(exc)
            finally:
                del self._loading[sid]
        return await asyncio.shield(pending)

    async def _load(self, sid: str) -> Session:
        if not await self.backend.acquire(sid):
            raise StoreUnavailable("another replica did not let the session go in time")
        try:
            began = time.perf_counter()
            raw = await self.backend.load(sid)
            self.metrics.store_seconds.labels("read").observe(time.perf_counter() - began)
            if raw is None:
                raise SessionNotFound(sid)
            doc = orjson.loads(raw)
            session = await asyncio.to_thread(Session.from_dict, doc, self.settings)
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await self.backend.release(sid)
            raise
        held = self.held(sid)
        self._taken_at[sid] = time.monotonic()
        if held is not None:
            return held
        async with self._room:
            await self._make_room()
            return self.registry.add(session)

    async def exists(self, sid: str) -> bool:
        return self.held(sid) is not None or await self.backend.load(sid) is not None

    async def create(self, model: dict | None = None, dataset: dict | None = None,
                     doc: dict | None = None, provisional_for: str | None = None) -> Session:
        """A new session (from `model` and `dataset`, or a copy of session document
        `doc` under a new id), written to the store before it is returned. At
        `max_sessions` the least recently used idle session is evicted first (`evict`);
        TooManySessions only when none can be.

        With `provisional_for` (a client address: a page view), the session is held in
        memory only, not counted, and dropped after `provisional_seconds` unless claimed
        (`claim`: its page's socket, or a change to it)."""
        await self.backend.ping()
        if provisional_for is not None:
            session = await asyncio.to_thread(self.registry.create, model, dataset)
            self.provisional[session.id] = (provisional_for, time.monotonic())
            self._taken_at[session.id] = time.monotonic()
            await self.backend.acquire(session.id)  # a shared store: others ask us for it
            await self._trim_provisional(provisional_for)
            return session
        async with self._room:
            await self._make_room()
            if doc is None:
                session = await asyncio.to_thread(self.registry.create, model, dataset)
            else:
                session = await asyncio.to_thread(self.registry.fork, doc)
        self._taken_at[session.id] = time.monotonic()
        await self.backend.acquire(session.id)
        await self.save(session)
        await self._bound()
        return session

    # ---- room: provisional sessions, eviction, release ------------------------------------

    def claimed(self) -> int:
        """Sessions held here that count toward `max_sessions` (not provisional)."""
        return len(self.registry) - len(self.provisional)

    async def claim(self, session: Session) -> None:
        """Make a provisional session a real one: counted (room made for it) and written."""
        if session.id not in self.provisional:
            return
        async with self._room:
            entry = self.provisional.pop(session.id, None)
            if entry is None:
                return  # claimed meanwhile
            try:
                await self._make_room(session)
            except BaseException:
                self.provisional[session.id] = entry  # still a page view's: kept as it was
                raise
        await self.save(session)

    async def _trim_provisional(self, address: str) -> None:
        """At most `provisional_per_client` for `address` and `provisional_max` in all: the
        oldest go (a flood of page views replaces its own, nobody else's)."""
        s = self.settings
        mine = [sid for sid, (a, _) in self.provisional.items() if a == address]
        extra = mine[:max(0, len(mine) - s.provisional_per_client)]
        extra += list(self.provisional)[:max(0, len(self.provisional) - len(extra)
                                             - s.provisional_max)]
        for sid in dict.fromkeys(extra):
            await self._drop_provisional(sid)

    async def _drop_provisional(self, sid: str) -> None:
        self.provisional.pop(sid, None)
        self._forget(sid)
        if self.held(sid) is not None:
            with contextlib.suppress(SessionNotFound):
                self.registry.delete(sid)
        with contextlib.suppress(StoreUnavailable):
            await self.backend.release(sid)

    def _victim(self, keep: Session | None = None) -> Session | None:
        """Who makes room (never `keep`): the least recently used session that is not
        playing and has no socket; else one with no socket; else one not playing (its pages
        are told)."""
        busy = set(self._loading) | set(self._leaving) | set(self.provisional)
        if keep is not None:
            busy.add(keep.id)
        held = [s for s in self.registry.sessions() if s.id not in busy and not s.closed]
        for fits in (lambda s: not s.playing and not s.connections,
                     lambda s: not s.connections,
                     lambda s: not s.playing):
            found = [s for s in held if fits(s)]
            if found:
                return min(found, key=lambda s: s.last_seen)
        return None

    def capacity(self) -> dict:
        """What /healthz says about room: claimed sessions, the limit, whether full."""
        return {"claimed": self.claimed(), "max_sessions": self.settings.max_sessions,
                "full": self.full()}

    def full(self) -> bool:
        """At the limit with nobody to evict: a newcomer would get 503."""
        return self.claimed() >= self.settings.max_sessions and self._victim() is None

    async def _make_room(self, claiming: Session | None = None) -> None:
        """Evict until a newcomer fits under `max_sessions` (call holding `_room`);
        `claiming`: a held session being claimed (counted already, never evicted here)."""
        while self.claimed() - (claiming is not None) >= self.settings.max_sessions:
            victim = self._victim(claiming)
            if victim is None:
                raise TooManySessions(self.settings.max_sessions)
            await self.evict(victim)

    async def evict(self, session: Session, reason: str = "evicted") -> None:
        """Write `session`'s document, then let it go from memory (it stays in the store:
        `/s/{id}` brings it back). Its pages get a status with `reason` and close 4410.
        A change that comes after the write is refused (SessionEvicted)."""
        sid = session.id
        lock = self._writing.setdefault(sid, asyncio.Lock())
        async with lock:
            if session.closed:
                return
            raw = await asyncio.to_thread(_close_for_eviction, session)
            try:
                await self._write(sid, raw)
            except StoreUnavailable:
                session.closed = session.evicted = False  # still ours: carry on here
                raise
            except LeaseLost:
                pass  # another replica has it already: drop ours all the same
        session.status = {"playing": False, "reason": reason, "message": EVICTED_MESSAGE}
        with contextlib.suppress(SessionNotFound):
            await asyncio.to_thread(self.registry.delete, sid)
        self._forget(sid)
        self.evictions += reason == "evicted"
        with contextlib.suppress(StoreUnavailable):
            await self.backend.release(sid)

    async def tidy(self) -> None:
        """Drop provisional sessions nobody claimed in time, and let go from memory the
        sessions with no socket and no use for `release_seconds` (written first)."""
        s, now = self.settings, time.monotonic()
        for sid, (_, since) in list(self.provisional.items()):
            session = self.held(sid)
            if session is None or (now - since > s.provisional_seconds
                                   and not session.connections):
                await self._drop_provisional(sid)
        for session in self.registry.sessions():
            if (session.id not in self.provisional and not session.connections
                    and not session.playing and not session.closed
                    and now - session.last_seen > s.release_seconds
                    and not self.holds_elsewhere(session.id)):
                with contextlib.suppress(StoreUnavailable, SessionMoved):
                    await self.evict(session, reason="released")

    def holds_elsewhere(self, sid: str) -> bool:
        """Whether `sid` is being loaded or let go to another replica right now."""
        return sid in self._loading or sid in self._leaving

    async def delete(self, sid: str) -> None:
        """Delete session `sid` everywhere (taken over first if another replica holds it)."""
        await self.get(sid)  # SessionNotFound if no store has it
        if self.held(sid) is not None:
            self.registry.delete(sid)
        self._forget(sid)
        await self.backend.delete([sid])
        await self.backend.release(sid)

    def _forget(self, sid: str) -> None:
        self._dirty.pop(sid, None)
        self.provisional.pop(sid, None)
        self._taken_at.pop(sid, None)
        self._writing.pop(sid, None)

    # ---- writing ------------------------------------------------------------------------

    async def save(self, session: Session) -> None:
        """Write `session`'s whole document now (StoreUnavailable if the store is out of
        reach; the session then stays marked as changed. SessionMoved if another replica
        holds it now: it is dropped here)."""
        if session.id in self.provisional:  # a change to a page view's session claims it
            try:
                await self.claim(session)
            except TooManySessions as exc:  # kept in memory; its socket may claim it later
                log.warning("session %s not claimed: %s", session.id, exc.message)
            return
        lock = self._writing.setdefault(session.id, asyncio.Lock())
        async with lock:
            if session.closed:  # let go or deleted meanwhile: nothing of ours to write
                return
            was = self._dirty.pop(session.id, None)
            try:
                raw = await asyncio.to_thread(_encode, session)
                await self._write(session.id, raw)
            except SessionMoved:
                await self.drop(session.id)
                raise
            except StoreUnavailable:
                if was is not None:
                    self._dirty[session.id] = was or self._dirty.get(session.id, False)
                raise
        self.unsaved_since = None

    async def _write(self, sid: str, raw: bytes) -> None:
        began = time.perf_counter()
        await self.backend.save(sid, raw, time.time())
        took = time.perf_counter() - began
        self.metrics.store_seconds.labels("write").observe(took)
        self.saves += 1
        self.save_seconds += took

    async def flush(self, session: Session | None = None) -> None:
        """Write what a person changed (of `session`, or of every session) before the
        answer goes out. With the store out of reach the sessions held here go on
        serving: what is not written yet is kept and written when the store is back."""
        # list() copies the items in one step: training threads add entries meanwhile, and
        # iterating the dict itself could then fail ("changed size during iteration")
        ids = [session.id] if session is not None else [
            s for s, d in list(self._dirty.items()) if d]
        for sid in ids:
            held = self.held(sid) if self._dirty.get(sid) else None
            if held is None:
                continue
            try:
                await self.save(held)
            except StoreUnavailable as exc:
                self._dirty[sid] = True
                self.unsaved_since = self.unsaved_since or time.time()
                log.warning("not written yet: %s", exc.message)
            except SessionMoved:
                log.warning("session %s: another replica holds it; not written", sid)

    async def save_dirty(self) -> None:
        """Write every session changed since its last write (training included)."""
        for sid in list(self._dirty):
            held = self.held(sid)
            if held is None:
                self._dirty.pop(sid, None)
                continue
            with contextlib.suppress(SessionMoved):
                await self.save(held)

    async def save_forever(self) -> None:
        """While the server runs: training progress at least every save interval, and
        idle sessions expired (from memory and from the store)."""
        interval = self.settings.save_interval_seconds
        next_sweep = time.monotonic() + SWEEP_SECONDS
        while True:
            await asyncio.sleep(interval)
            try:
                await self.save_dirty()
                await self.tidy()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                    await self.sweep()
            except StoreUnavailable as exc:
                log.warning("%s", exc.message)

    async def sweep(self) -> list[str]:
        """Drop sessions idle for longer than `session_idle_seconds`, here and in the
        store; returns their ids."""
        gone = self.registry.sweep()
        for sid in gone:
            self._forget(sid)
        before = time.time() - self.settings.session_idle_seconds
        stale = [s for s in await self.backend.idle_since(before) if not self.holds(s)]
        await self.backend.delete(gone + stale)
        for sid in gone:
            await self.backend.release(sid)
        return gone + stale

    async def _bound(self) -> None:
        """Keep at most `store_max_sessions` documents: the longest idle go first."""
        extra = [s for s in await self.backend.oldest(self.settings.store_max_sessions)
                 if not self.holds(s)]
        await self.backend.delete(extra)

    # ---- moving between replicas (a shared store) ---------------------------------------

    async def let_go(self, sid: str) -> None:
        """Another replica asked for `sid`: write it, drop it from memory (its clients hear
        that it moved, and reconnect) and give up its lease. Changes that come after the
        last write are refused (SessionMoved), so none is lost."""
        if sid in self._asked:
            return
        self._asked.add(sid)
        try:
            await self._let_go(sid)
        except StoreUnavailable as exc:
            log.warning("session %s not let go: %s", sid, exc.message)
        finally:
            self._asked.discard(sid)

    async def _let_go(self, sid: str) -> None:
        pending = self._loading.get(sid)
        if pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
        session = self.held(sid)
        if session is None:
            if sid not in self._leaving and sid not in self._loading:
                await self.backend.release(sid)  # a lease kept for a session gone from here
            return
        hold = self._taken_at.get(sid, 0.0) + MOVE_HOLD_SECONDS - time.monotonic()
        if hold > 0:
            await asyncio.sleep(hold)
        if self.held(sid) is not session:
            return
        done = asyncio.get_running_loop().create_future()
        self._leaving[sid] = done
        try:
            lock = self._writing.setdefault(sid, asyncio.Lock())
            async with lock:
                raw, playing = await asyncio.to_thread(_close_for_move, session)
                try:
                    await self._write(sid, raw)
                except StoreUnavailable:
                    session.closed = session.moved = False  # still ours: carry on here
                    raise
                except LeaseLost:
                    pass  # another replica has it already: drop ours all the same
            session.status = {"playing": playing, "reason": "moved", "message": MOVED_MESSAGE}
            await asyncio.to_thread(self.registry.delete, sid)
            self._forget(sid)
            await self.backend.release(sid)
            self.metrics.lease_moves.labels("out").inc()
        finally:
            del self._leaving[sid]
            done.set_result(None)

    async def drop(self, sid: str) -> None:
        """Drop `sid` from memory without writing it: another replica holds it now."""
        session = self.held(sid)
        self._forget(sid)
        if session is None:
            return
        session.moved = True
        session.status = {"playing": session.playing, "reason": "moved",
                          "message": MOVED_MESSAGE}
        with contextlib.suppress(SessionNotFound):
            await asyncio.to_thread(self.registry.delete, sid)

    async def close(self) -> None:
        """On shutdown: every session held here written, then the store closed."""
        for session in list(self.registry.sessions()):
            try:
                await self.save(session)
                await self.backend.release(session.id)
            except (StoreUnavailable, SessionMoved) as exc:
                log.warning("not saved on shutdown: %s (%s)", session.id, exc.message)
        await self.backend.close()


SWEEP_SECONDS = 30.0


def _encode(session: Session) -> bytes:
    return orjson.dumps(session.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)


def _close_for_eviction(session: Session) -> bytes:
    """The session's last document, taken under its lock as it is closed (as
    `_close_for_move`)."""
    with session.lock:
        raw = _encode(session)
        session.closed = True
        session.evicted = True
    return raw


def _close_for_move(session: Session) -> tuple[bytes, bool]:
    """The session's last document, taken under its lock as it is closed: a change made
    before is in the document, one made after is refused (`Sessions._heard`)."""
    with session.lock:
        raw = _encode(session)
        playing = session.training["playing"]
        session.closed = True
        session.moved = True
    return raw, playing
