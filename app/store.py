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
import logging
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from app.config import Settings
from app.errors import AppError, SessionNotFound
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


class Sessions:
    """The sessions the routes and the live stream use: held in memory by `registry`,
    documents kept in `backend`. Every method that may touch the store is async."""

    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self.registry = SessionStore(settings)
        self.backend = backend or open_backend(settings)
        self._dirty: dict[str, bool] = {}  # id -> durable (a person's change) or trained
        self._loading: dict[str, asyncio.Future] = {}
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
        """A session changed (on whichever thread changed it): note what to save."""
        if kind == "closed":
            return
        if kind in DURABLE or not self._dirty.get(session.id, False):
            self._dirty[session.id] = kind in DURABLE or self._dirty.get(session.id, False)

    # ---- reading and creating ----------------------------------------------------------

    def held(self, sid: str) -> Session | None:
        """The session if this process holds it (no store access)."""
        try:
            return self.registry.get(sid)
        except SessionNotFound:
            return None

    async def get(self, sid: str) -> Session:
        """The session `sid`: held here, or loaded from the store (taking it over from
        another replica if one holds it). SessionNotFound if no store has it."""
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
        raw = await self.backend.load(sid)
        if raw is None:
            await self.backend.release(sid)
            raise SessionNotFound(sid)
        doc = orjson.loads(raw)
        session = await asyncio.to_thread(Session.from_dict, doc, self.settings)
        held = self.held(sid)
        return held if held is not None else self.registry.add(session)

    async def exists(self, sid: str) -> bool:
        return self.held(sid) is not None or await self.backend.load(sid) is not None

    async def create(self, model: dict | None = None, dataset: dict | None = None,
                     doc: dict | None = None) -> Session:
        """A new session (from `model` and `dataset`, or a copy of session document
        `doc` under a new id), written to the store before it is returned."""
        await self.backend.ping()
        if doc is None:
            session = await asyncio.to_thread(self.registry.create, model, dataset)
        else:
            session = await asyncio.to_thread(self.registry.fork, doc)
        await self.backend.acquire(session.id)
        await self.save(session)
        await self._bound()
        return session

    async def delete(self, sid: str) -> None:
        found = self.held(sid) is not None or await self.backend.load(sid) is not None
        if not found:
            raise SessionNotFound(sid)
        if self.held(sid) is not None:
            self.registry.delete(sid)
        self._dirty.pop(sid, None)
        await self.backend.delete([sid])
        await self.backend.release(sid)

    # ---- writing ------------------------------------------------------------------------

    async def save(self, session: Session) -> None:
        """Write `session`'s whole document now (StoreUnavailable if the store is out of
        reach; the session then stays marked as changed)."""
        began = time.perf_counter()
        was = self._dirty.pop(session.id, None)
        try:
            raw = await asyncio.to_thread(_encode, session)
            await self.backend.save(session.id, raw, time.time())
        except StoreUnavailable:
            if was is not None:
                self._dirty[session.id] = was or self._dirty.get(session.id, False)
            raise
        self.unsaved_since = None
        self.saves += 1
        self.save_seconds += time.perf_counter() - began

    async def flush(self, session: Session | None = None) -> None:
        """Write what a person changed (of `session`, or of every session) before the
        answer goes out. With the store out of reach the sessions held here go on
        serving: what is not written yet is kept and written when the store is back."""
        ids = [session.id] if session is not None else [s for s, d in self._dirty.items() if d]
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

    async def save_dirty(self) -> None:
        """Write every session changed since its last write (training included)."""
        for sid in list(self._dirty):
            held = self.held(sid)
            if held is None:
                self._dirty.pop(sid, None)
            else:
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
            self._dirty.pop(sid, None)
        before = time.time() - self.settings.session_idle_seconds
        stale = [s for s in await self.backend.idle_since(before) if self.held(s) is None]
        await self.backend.delete(gone + stale)
        for sid in gone:
            await self.backend.release(sid)
        return gone + stale

    async def _bound(self) -> None:
        """Keep at most `store_max_sessions` documents: the longest idle go first."""
        extra = [s for s in await self.backend.oldest(self.settings.store_max_sessions)
                 if self.held(s) is None]
        await self.backend.delete(extra)

    async def close(self) -> None:
        """On shutdown: every session held here written, then the store closed."""
        for session in list(self.registry.sessions()):
            try:
                await self.save(session)
            except StoreUnavailable as exc:
                log.warning("not saved on shutdown: %s (%s)", session.id, exc.message)
            await self.backend.release(session.id)
        await self.backend.close()


SWEEP_SECONDS = 30.0


def _encode(session: Session) -> bytes:
    return orjson.dumps(session.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
