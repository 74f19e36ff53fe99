"""Issue 13: SIGTERM ends the server within 5 s whatever it is doing: gradient checks, step
traces and forward answers as large as the limits allow in flight, sessions playing with
their sockets open. (A limit on behaviour, with a wide margin, not a benchmark.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time

import httpx
import websockets

from app.config import Settings
from tests.app.test_bounded_work import largest_session
from tests.conftest import free_port, start_server, stop_server

EXIT_SECONDS = 5.0


def _play(server: str, sid: str, playing: threading.Event, stop: threading.Event) -> None:
    """A page's socket on `sid`: press play, then read frames until the server goes."""
    async def run():
        url = server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "play", "id": "p"}))
            while not stop.is_set():
                message = json.loads(await ws.recv())
                if message.get("type") == "frame" and message.get("playing"):
                    playing.set()

    # The server going away is what this test is for.
    with contextlib.suppress(OSError, websockets.ConnectionClosed):
        asyncio.run(run())


def _request(server: str, method: str, path: str, started: threading.Event, **kw) -> None:
    started.set()
    with contextlib.suppress(httpx.HTTPError), httpx.Client(base_url=server, timeout=60) as c:
        c.request(method, path, **kw)


def test_sigterm_ends_the_server_within_5_s_whatever_runs():
    port = free_port()
    # Gradient checks with a long budget: only the shutdown can end them early.
    proc = start_server(port, env={"NNPLAY_GRADCHECK_SECONDS": "120"})
    server = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    threads = []
    try:
        with httpx.Client(base_url=server, timeout=60) as api:
            big = [largest_session(api, server) for _ in range(3)]
            small = api.post("/api/sessions").json()["id"]
        playing = []
        for sid in (big[0], small):
            flag = threading.Event()
            playing.append(flag)
            threads.append(threading.Thread(target=_play, args=(server, sid, flag, stop)))
        limit = Settings().max_answer_values
        per_row = 7 + 2 * (8 * 12 + 8) + 8
        work = [("GET", f"/api/sessions/{big[1]}/gradient-check", {})] * 12 + [
            ("POST", f"/api/sessions/{big[2]}/step", {"json": {"unit": "batch"}}),
            ("POST", f"/api/sessions/{big[2]}/forward",
             {"json": {"points": [[0.5, -1.0]] * (limit // per_row)}}),
        ]
        started = []
        for method, path, kw in work:
            flag = threading.Event()
            started.append(flag)
            threads.append(threading.Thread(target=_request,
                                            args=(server, method, path, flag), kwargs=kw))
        for t in threads:
            t.daemon = True
            t.start()
        for flag in playing + started:
            assert flag.wait(60)
        # The requests reach the server and their work starts: six checks of 1,292
        # parameters on batches of LARGEST_BATCH rows, one after the other (each takes the
        # session's lock), seconds of work in all.
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        took = time.monotonic() - sent
        assert took < EXIT_SECONDS, f"the server took {took:.1f} s to exit after SIGTERM"
    finally:
        stop.set()
        log = stop_server(proc)
    # uvicorn shut down (the lifespan's end: every session written) and, as it does,
    # raised the signal again on its way out.
    assert "Application shutdown complete" in log, log
    assert proc.returncode == -signal.SIGTERM
    assert "Traceback" not in log, log
