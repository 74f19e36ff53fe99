"""The live stream: one WebSocket per client, frames paced to it, training off the loop.

How the pieces talk:

- A `Session` calls its listeners after every change, on whatever thread made it (a sync
  route handler, a worker thread, the loop). `Live.notify` is one of them (subscribed
  through the store): it hops onto the event loop with ``call_soon_threadsafe`` and marks
  every client of that session: a structural change wants a snapshot, anything else a
  frame, a play/pause a status message. Marks only set flags: nothing is queued.
- Each client has a sender task: it waits for a mark, builds ONE message from the
  session's newest state (in a worker thread), sends it, and only then looks again. A
  slow client therefore gets fewer, newer frames, never a backlog.
- A playing session has one trainer task: it runs `Session.train_chunk` (about
  ``train_chunk_seconds`` of fast-path training) in a worker thread, over and over, until
  the session pauses, diverges or goes away; alone, it waits for each turn's frame to go
  out first (`Live._frames_out`). The loop itself never trains.
- The receiver validates each client message (app.schemas), applies it in a worker
  thread and answers: ``ack``, ``trace``, ``pong`` or ``error``, with ``reply_to``.

Fair use (docs/PROTOCOL.md, "Limits"): one client's messages are handled one at a time,
in order, by its own receiver; the processor time they and its frames take is charged to
the client (`Settings.work_share`): past its share it waits, nobody else does. Steps (whole
epochs on a large network) run on their own thread, not the one that builds everyone's
frames. Messages per client address are rate-limited (an ``error`` with ``retry_after``;
the socket stays open); sockets per session and per address are capped (close 4429); a
client that does not read is dropped (close 4408) and its session pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from app import jsonsafe, ui_table
from app.config import Settings
from app.errors import AppError, SessionNotFound, TooManySessions, error_detail, field_path
from app.frames import Viewer, snapshot
from app.limits import Limiter, TokenBucket, client_address
from app.schemas import parse_client_message
from app.sessions import Session
from app.store import SessionMoved, Sessions, StoreUnavailable
from engine.errors import EngineError

log = logging.getLogger("nnplay.live")

CLOSE_GONE = 4404  # the session does not exist (any more)
CLOSE_MOVED = 4409  # the session moved to another replica: connect again to reach it there
CLOSE_LATER = 1013  # "try again later": the store is out of reach, or the session is moving
CLOSE_STALLED = 4408  # the client did not read for send_timeout_seconds: dropped
CLOSE_EVICTED = 4410  # the session was set aside from memory (the server was full)
CLOSE_TOO_MANY = 4429  # too many sockets on this session or from this address
STALLED_CLOSE_SECONDS = 1.0  # how long a stalled client's close may take before we go
# A client's work budget holds at most this many worker seconds, and one message or frame
# costs at most this much (a first step or frame compiles kernels: not the client's doing).
BUDGET_BURST = 1.0
TURNS_PER_SECOND = 30  # training turns each playing session gets, at the least, when many play
MIN_TURN_SECONDS = 0.0002  # a turn always trains at least one batch, however short
FRAME_WAIT_SECONDS = 0.05  # how long a turn's frame may hold the next turn back, at most
PACE_NAP_SECONDS = 0.1  # a paced trainer's longest sleep before it looks at the speed again


class Live:
    """Every connected client and every training loop of one app."""

    def __init__(self, settings: Settings, store: Sessions) -> None:
        self.settings = settings
        self.store = store
        self.loop: asyncio.AbstractEventLoop | None = None
        self.train_pool: ThreadPoolExecutor | None = None
        self.work_pool: ThreadPoolExecutor | None = None
        self.step_pool: ThreadPoolExecutor | None = None
        self.clients: dict[str, set[Client]] = {}
        self.trainers: dict[str, asyncio.Task] = {}
        self.by_address: dict[str, int] = {}  # open sockets per client address
        self.messages = Limiter(settings.messages_per_second, settings.messages_burst)
        self.dropped = 0  # clients dropped for not reading
        store.listeners.append(self.notify)

    # ---- life cycle ----------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's event loop (threads start lazily, on first use)."""
        self.loop = loop
        _freeze_heap()
        s = self.settings
        if self.train_pool is None:
            self.train_pool = ThreadPoolExecutor(s.train_threads, thread_name_prefix="nnplay-train")
        if self.work_pool is None:
            self.work_pool = ThreadPoolExecutor(s.worker_threads, thread_name_prefix="nnplay-work")
        if self.step_pool is None:  # steps: long on a large network; kept off the frames' threads
            self.step_pool = ThreadPoolExecutor(1, thread_name_prefix="nnplay-step")

    async def stop(self) -> None:
        for task in list(self.trainers.values()):
            task.cancel()
        for pool in (self.train_pool, self.work_pool, self.step_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self.train_pool = self.work_pool = self.step_pool = None
        self.trainers.clear()

    def _ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.work_pool is None:
            self.start(loop)

    def _submit(self, fn, *args) -> None:
        """`fn(*args)` in a worker thread, not awaited (on the calling thread if stopped)."""
        if self.work_pool is None:
            fn(*args)
        else:
            self.work_pool.submit(fn, *args)

    async def run(self, fn, *args, **kwargs):
        """`fn(*args, **kwargs)` in a worker thread (anything that takes a session's lock)."""
        self._ensure_started()
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.work_pool, call)

    async def run_step(self, fn, *args):
        """`fn(*args)` on the step thread: steps queue behind each other, not behind frames."""
        self._ensure_started()
        return await asyncio.get_running_loop().run_in_executor(
            self.step_pool, functools.partial(fn, *args))

    # ---- notifications (any thread) ------------------------------------------------

    def notify(self, session: Session, kind: str) -> None:
        """A session changed: mark its clients, start its trainer if it plays."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            same_thread = asyncio.get_running_loop() is loop
        except RuntimeError:
            same_thread = False
        if same_thread:
            self._dispatch(session, kind)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._dispatch, session, kind)

    def _dispatch(self, session: Session, kind: str) -> None:
        for client in list(self.clients.get(session.id, ())):
            client.mark(kind)
        if kind == "closed":
            task = self.trainers.pop(session.id, None)
            if task is not None:
                task.cancel()
        elif session.playing:
            self._ensure_trainer(session)

    # ---- training --------------------------------------------------------------------

    def _ensure_trainer(self, session: Session) -> None:
        task = self.trainers.get(session.id)
        if task is None or task.done():
            self.trainers[session.id] = asyncio.get_running_loop().create_task(
                self._train(session))

    async def _train(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        s = self.settings
        pace = Pace()
        try:
            while session.playing and not session.closed and self.train_pool is not None:
                # Sessions take turns on the training threads, and every turn ends in a
                # frame: with n playing, a turn lasts at most 1 / (n * TURNS_PER_SECOND)
                # of a thread, so each session still moves (and sends frames) often.
                share = s.train_threads / (max(1, len(self.trainers)) * TURNS_PER_SECOND)
                budget = max(MIN_TURN_SECONDS, min(s.train_chunk_seconds, share))
                due, wait = pace.due(ui_table.SPEEDS[session.training["speed"]], loop.time())
                if wait > 0:  # a paced speed, and the next epoch is not due yet
                    # (in short sleeps: a new speed or a pause is seen within PACE_NAP)
                    await asyncio.sleep(min(wait, PACE_NAP_SECONDS))
                    continue
                epoch = session.training["epoch"]
                done = await loop.run_in_executor(self.train_pool, session.train_chunk,
                                                  budget, due)
                pace.trained(done)
                self.store.metrics.epochs_trained.inc(max(0, session.training["epoch"] - epoch))
                await self._frames_out(session)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let one session's trainer take the server down
            log.exception("training loop of session failed")
            await self.run(session.pause, "error", "training stopped by an internal error")
        finally:
            if self.trainers.get(session.id) is asyncio.current_task():
                del self.trainers[session.id]

    async def _frames_out(self, session: Session) -> None:
        """Wait (briefly) until this turn's frame has gone to every client of `session`.

        The session's lock is not fair: the next turn, asked for first, usually took it
        before the thread building the frame did, so that frame waited a whole turn and
        went out right before the next one. Frames came in pairs and gaps, and a 60 Hz
        display showed the same one twice. (The turn's mark is already on the clients: it
        was queued on the loop before the turn's end was.) With other sessions playing,
        their turns come in between and nothing waits: waiting there cost every session
        frames (bench_server: 50 sessions of 6x8 fell from 7.2 to 5.4 frames/s each)."""
        if len(self.trainers) > 1:
            return
        waiting = [asyncio.ensure_future(c.idle.wait())
                   for c in self.clients.get(session.id, ()) if not c.idle.is_set()]
        if waiting:
            # Tasks cancelled here, not a gather: a gather cut short by a shutdown kept a
            # CancelledError nobody read, and asyncio logged it as an error.
            try:
                await asyncio.wait(waiting, timeout=FRAME_WAIT_SECONDS)
            finally:
                for task in waiting:
                    task.cancel()

    # ---- one connection ------------------------------------------------------------

    async def serve(self, websocket: WebSocket, session_id: str) -> None:
        """Run one client's connection until it closes."""
        self._ensure_started()
        address = client_address(websocket.scope)
        await websocket.accept()
        if self.by_address.get(address, 0) >= self.settings.sockets_per_client:
            await self._refuse(websocket, f"too many connections from this address (at most "
                                          f"{self.settings.sockets_per_client})")
            return
        try:
            session = await self.store.get(session_id)
            if len(self.clients.get(session.id, ())) >= self.settings.sockets_per_session:
                await self._refuse(websocket, f"too many connections to this session (at "
                                              f"most {self.settings.sockets_per_session})")
                return
            await self.store.claim(session)  # a page view's session: its page is here
        except (SessionNotFound, StoreUnavailable, SessionMoved, TooManySessions) as exc:
            await websocket.send_text(jsonsafe.dumps({"type": "error", **exc.detail()}))
            await websocket.close(CLOSE_GONE if isinstance(exc, SessionNotFound) else CLOSE_LATER)
            return
        client = Client(self, session, websocket, address)
        self.clients.setdefault(session.id, set()).add(client)
        self.by_address[address] = self.by_address.get(address, 0) + 1
        session.connections = getattr(session, "connections", 0) + 1
        sender = asyncio.create_task(client.send_forever())
        receiver = asyncio.create_task(client.receive_forever())
        try:
            client.mark("snapshot")
            if session.playing:
                self._ensure_trainer(session)
            # Whichever ends first ends the connection: the client left (receiver), or it
            # stopped reading and its send stalled, or its session closed (sender).
            await asyncio.wait([sender, receiver], return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The bookkeeping comes before any await: this task may be being cancelled
            # (a server shutting down, a test client leaving), and then an await here
            # would raise before the session is let go.
            sender.cancel()
            receiver.cancel()
            self.clients.get(session.id, set()).discard(client)
            if not self.clients.get(session.id):
                self.clients.pop(session.id, None)
            self.by_address[address] -= 1
            if not self.by_address[address]:
                del self.by_address[address]
            session.connections -= 1
            session.touch()
            if session.connections == 0 and session.playing and not session.closed:
                # Nobody watches any more: stop spending CPU on this session. Handed to a
                # worker thread, not awaited (pause waits for the session's lock).
                if client.stalled:
                    self._submit(session.pause, "stalled",
                                 "paused: the page stopped taking frames")
                else:
                    self._submit(session.pause, "disconnected", "paused: no page is connected")
            await asyncio.wait([sender, receiver])
            if client.stalled:
                self.dropped += 1
                # Its send buffer is full: a close frame may never go out; do not wait on it.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(CLOSE_STALLED, "not reading"),
                                           STALLED_CLOSE_SECONDS)

    async def _refuse(self, websocket: WebSocket, message: str) -> None:
        """An `error` naming the limit, then close 4429 with it as the reason."""
        await websocket.send_text(jsonsafe.dumps(
            {"type": "error", "field": "socket", "message": message}))
        await websocket.close(CLOSE_TOO_MANY, message[:120])


class Pace:
    """The epochs due at a paced speed: epoch k of a run at `rate` epochs a second is due
    k / rate seconds after the run (or the last change of speed) began, the first at once.
    A trainer that falls behind by more than MAX_BEHIND_SECONDS starts over from now
    rather than racing to catch up."""

    MAX_BEHIND_SECONDS = 0.25

    def __init__(self) -> None:
        self.rate: float | None = None
        self.t0 = 0.0
        self.done = 0

    def due(self, rate: float | None, now: float) -> tuple[int | None, float]:
        """(epochs to train now, or None for "as many as fit the turn"; seconds to wait
        first, 0 when something is due)."""
        if rate is None:
            self.rate = None
            return None, 0.0
        behind = (now - self.t0) * rate - self.done
        if rate != self.rate or behind > self.MAX_BEHIND_SECONDS * rate + 1:
            self.rate, self.t0, self.done = rate, now, 0
        owed = math.floor((now - self.t0) * rate) + 1 - self.done
        if owed > 0:
            return owed, 0.0
        return 0, self.t0 + self.done / rate - now

    def trained(self, epochs: int) -> None:
        self.done += epochs


class Client:
    """One WebSocket: a receiver (this task) and a sender task, sharing a send lock."""

    def __init__(self, live: Live, session: Session, websocket: WebSocket,
                 address: str = "unknown") -> None:
        self.live = live
        self.session = session
        self.ws = websocket
        self.address = address
        # Worker seconds this client may use: `work_share` a second, a burst of one second.
        self.budget = TokenBucket(live.settings.work_share, BUDGET_BURST)
        self.stalled = False  # a send did not complete within send_timeout_seconds
        self.viewer = Viewer()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while nothing is marked, built or being sent
        self.send_lock = asyncio.Lock()
        self.want_snapshot = False
        self.want_frame = False
        self.want_status = False
        self.gone = False
        # Clear while this client's message is applied, written to the store and answered:
        # its answer goes out before the frame of its own change, and both after the write.
        self.answered = asyncio.Event()
        self.answered.set()

    def mark(self, kind: str) -> None:
        """Note what the next message must carry (event loop only)."""
        if kind == "snapshot":
            self.want_snapshot = True
        elif kind == "status":
            self.want_status = self.want_frame = True
        elif kind == "closed":
            self.gone = True
        else:
            self.want_frame = True
        self.idle.clear()
        self.wake.set()

    async def send(self, message: dict | str) -> None:
        """Send one message; a client that has not taken it within `send_timeout_seconds`
        (it does not read: the send buffer stays full) is marked stalled and the
        connection ends (`Stalled`)."""
        text = message if isinstance(message, str) else jsonsafe.dumps(message)
        async with self.send_lock:
            try:
                await asyncio.wait_for(self.ws.send_text(text),
                                       self.live.settings.send_timeout_seconds)
            except TimeoutError:
                self.stalled = True
                raise Stalled from None

    async def run(self, fn, *args, step: bool = False, **kwargs):
        """`fn(*args, **kwargs)` for this client (a message's work, a frame), on a worker
        thread (the step thread with `step`), the processor time it took charged to this
        client's budget; while that is in debt, wait first (this client only). Processor
        time, not wall time: a busy machine does not make a client's work dearer."""
        await self.wait_turn()
        spent = 0.0

        def timed():
            nonlocal spent
            began = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.thread_time() - began

        try:
            if step:
                return await self.live.run_step(timed)
            return await self.live.run(timed)
        finally:
            self.budget.charge(min(spent, BUDGET_BURST))

    async def wait_turn(self) -> None:
        wait = self.budget.wait()
        if wait > 0:
            await asyncio.sleep(wait)

    # ---- server to client ---------------------------------------------------------------

    async def send_forever(self) -> None:
        try:
            await self._send_forever()
        except (WebSocketDisconnect, RuntimeError, Stalled):
            pass  # the client left between a change and its message, or stopped reading
        finally:
            self.idle.set()  # gone: never hold a trainer back

    async def _send_forever(self) -> None:
        settings = self.live.settings
        while True:
            if not self.wake.is_set():
                self.idle.set()
            await self.wake.wait()
            await self.answered.wait()
            self.wake.clear()
            if self.gone:
                if getattr(self.session, "moved", False):  # another replica holds it now
                    await self.send({"type": "status", **self.session.status})
                    await self.ws.close(CLOSE_MOVED)
                    return
                if getattr(self.session, "evicted", False):  # set aside: the page says so
                    await self.send({"type": "status", **self.session.status})
                    await self.ws.close(CLOSE_EVICTED, "evicted")
                    return
                await self.send({"type": "status", "playing": False, "reason": "closed",
                                 "message": "this session was closed or expired"})
                await self.ws.close(CLOSE_GONE)
                return
            if self.want_status:
                self.want_status = False
                await self.send({"type": "status", **self.session.status})
            if self.want_snapshot:
                self.want_snapshot = self.want_frame = False
                text = await self.run(_dumps, snapshot, self.session, self.viewer, settings)
                await self.send(text)
                self.live.store.metrics.frames_sent.inc()
            elif self.want_frame:
                # Built when the client's budget allows (`run` waits while it is in debt):
                # a flood of edits gets the newest state at that pace.
                await self.wait_turn()
                self.want_frame = False
                text = await self.run(_dumps, self.viewer.frame, self.session,
                                      settings.heatmap_size, settings.boundary_size)
                await self.send(text)
                self.live.store.metrics.frames_sent.inc()

    # ---- client to server ---------------------------------------------------------------

    async def receive_forever(self) -> None:
        limit = self.live.settings.max_message_bytes
        # A client leaving is normal, not an error: whether it goes while we wait for its
        # next message or while we answer the last one, the connection just ends.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, Stalled):
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                wait = self.live.messages.take(self.address)
                if wait:
                    await self.refuse_rate(text, wait)
                elif text is None:
                    await self.error(None, "message", "expected a JSON text message, got binary")
                elif len(text.encode()) > limit:
                    await self.error(None, "message", f"message over the limit of {limit} bytes")
                else:
                    await self.handle_safely(text)

    async def handle_safely(self, text: str) -> None:
        """`handle`, and an `error` for whatever it did not expect: one bad message never
        closes the socket."""
        try:
            await self.handle(text)
        except (WebSocketDisconnect, RuntimeError, Stalled, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("a client message could not be handled")
            await self.error(None, "message", "this message could not be handled")

    async def error(self, reply_to, field, message: str, **extra) -> None:
        body = {"type": "error", "field": field, "message": message, **extra}
        if reply_to is not None:
            body["reply_to"] = reply_to
        await self.send(body)

    async def refuse_rate(self, text: str | None, wait: float) -> None:
        """An `error` with `retry_after` (seconds) for a message over the address's rate;
        the message is not applied and the socket stays open. This client's next message
        is read after `retry_after`: a flood waits in its own socket's buffers, not in
        ours, and costs one answer per wait, not one per message."""
        reply_to = None
        with contextlib.suppress(Exception):
            raw = jsonsafe.loads(text or "", "message")
            reply_to = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(reply_to, bool) or not isinstance(reply_to, str | int | float):
                reply_to = None
        await self.error(reply_to, "rate", f"too many messages from this address; try again "
                                           f"in {wait:.2f} s", retry_after=round(wait, 3))
        await asyncio.sleep(wait)

    async def handle(self, text: str) -> None:
        self.answered.clear()
        try:
            await self._handle(text)
        finally:
            self.answered.set()

    async def _handle(self, text: str) -> None:
        try:
            raw = jsonsafe.loads(text, "message")
        except AppError as exc:
            await self.error(None, exc.field, exc.message)
            return
        reply_to = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(reply_to, bool) or not isinstance(reply_to, str | int | float | None):
            reply_to = None
        try:
            msg = parse_client_message(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = tuple(first["loc"])
            if loc and loc[0] == raw.get("type"):  # the union's tag, not a field
                loc = loc[1:]
            await self.error(reply_to, field_path(loc), first["msg"])
            return
        except AppError as exc:
            await self.error(reply_to, exc.field, exc.message)
            return
        self.session.touch()
        try:
            answer = await self.apply(msg)
            # What a person changed is in the store before the answer goes out; the write
            # (the whole document encoded, then stored) is this client's work too.
            began = time.perf_counter()
            await self.live.store.flush(self.session)
            self.budget.charge(min(time.perf_counter() - began, BUDGET_BURST))
        except (AppError, EngineError) as exc:
            detail = error_detail(exc)
            await self.error(reply_to, detail["field"], detail["message"])
            return
        except Exception:
            log.exception("message %r failed", msg.type)
            await self.error(reply_to, None, "internal error; the session is unchanged")
            return
        if answer is None and reply_to is None:
            return
        answer = answer or {"type": "ack"}
        if reply_to is not None:
            answer["reply_to"] = reply_to
        answer.setdefault("version", self.session.version)
        await self.send(answer)

    async def apply(self, msg) -> dict | None:
        """Apply one validated message; returns the answer (None: a plain ack)."""
        s, run = self.session, self.run
        match msg.type:
            case "ping":
                return {"type": "pong"}
            case "play":
                await run(s.play)
            case "pause":
                await run(s.pause)
            case "train":
                await run(s.train_for, msg.epochs, msg.until_loss)
            case "go_back":
                return {"type": "ack", "epoch": await run(s.go_back)}
            case "step":
                result = await run(s.step, msg.unit, step=True)
                if msg.unit == "epoch":
                    return {"type": "ack", "loss": result}
                return {"type": "trace", "trace": result}
            case "set_weight":
                await self.edit(s.set_weight, msg.layer, msg.from_, msg.to, msg.value)
            case "set_bias":
                await self.edit(s.set_bias, msg.layer, msg.neuron, msg.value)
            case "set":
                await run(s.set_training, **{n: getattr(msg, n) for n in ui_table.LIVE})
            case "select_sample":
                await run(s.select_sample, msg.split, msg.index)
            case "reset":
                await run(s.reset, msg.new_seed)
        return None

    async def edit(self, fn, *args) -> None:
        """A one-number edit (a slider): made right here when the session's lock is free
        (it takes microseconds, and the slider's answer skips a trip through the worker
        threads), else in a worker thread, which waits for the lock."""
        lock = self.session.lock
        await self.wait_turn()
        if lock.acquire(blocking=False):
            began = time.thread_time()
            try:
                fn(*args)
            finally:
                lock.release()
                self.budget.charge(min(time.thread_time() - began, BUDGET_BURST))
        else:
            await self.run(fn, *args)


@functools.cache
def _freeze_heap() -> None:
    """Once a process: everything imported so far (NumPy, numba, FastAPI: most of the heap)
    lives for the whole run; out of the collector's way (after one collection, so no
    garbage is frozen), a full collection scans only what the sessions made.
    bench/bench_abuse.py saw the loop paused 60-125 ms by full collections without."""
    gc.collect()
    gc.freeze()


class Stalled(Exception):
    """A send to a client did not complete in time: it is not reading."""


def _dumps(build, *args) -> str:
    return jsonsafe.dumps(build(*args))
