"""Fair sharing (issue 13, item 4) against a real server, with generous margins (the
machine is shared and noisy): beside two abusive clients, from another address, on the
largest sessions the limits allow (one looping whole-epoch steps, one flooding
set_weight), a well-behaved playing session keeps a good share of its frames, a slider on
another of its sessions still gets every frame and /healthz answers. The full figures
(and the targets, 80 % and 50 ms): bench/bench_abuse.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.config import Settings
from app.frames import Viewer, frame_body
from app.sessions import SessionStore
from tests.app.test_lockout import server

ABUSER_ADDRESS = "127.0.0.2"  # other people: the limits are per address
FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
LARGEST = {"model": {"layers": [len(FEATURES), *[12] * 8, 1], "activation": "tanh"},
           "dataset": {"name": "circle", "n_points": 5000, "train_fraction": 0.9,
                       "features": FEATURES}}
SIX_BY_EIGHT = {"model": {"layers": [2, 8, 8, 8, 8, 8, 8, 1], "activation": "tanh"}}
SECONDS = 4.0  # each measured phase
KEEPS = 0.3  # the share of its frames a well-behaved session keeps, at the least


def ws_url(base: str, sid: str) -> str:
    return base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"


def from_elsewhere(base: str) -> socket.socket:
    url = httpx.URL(base)
    sock = socket.socket()
    sock.bind((ABUSER_ADDRESS, 0))
    sock.connect((url.host, url.port))
    return sock


async def frames_per_second(base: str, sid: str) -> float:
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()
        await ws.send('{"type": "set", "speed": "max"}')  # flat out: all the frames it can get
        await ws.send('{"type": "play"}')
        frames, deadline = 0, time.monotonic() + SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            frames += text.startswith('{"type":"frame"')
        await ws.send('{"type": "pause"}')
    return frames / SECONDS


async def drag_slider(base: str, sid: str) -> int:
    """Set a weight 20 times; returns how many got the frame showing their value."""
    shown = 0
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()
        for k in range(1, 21):
            value = k / 100
            await ws.send(json.dumps({"type": "set_weight", "layer": 1, "from": 0, "to": 0,
                                      "value": value}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg["type"] == "frame" and msg["weights"][1][0][0] == value:
                    shown += 1
                    break
            await asyncio.sleep(0.05)
    return shown


async def abuse(base: str, sid: str, message, stop: asyncio.Event, heard: list) -> None:
    """Send `message(k)` as fast as the socket takes it, reading everything that comes."""
    async with connect(ws_url(base, sid), sock=from_elsewhere(base), max_size=2**24) as ws:
        await ws.recv()

        async def read():
            with contextlib.suppress(ConnectionClosed):
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["type"] == "error":
                        heard.append(msg)

        reader = asyncio.create_task(read())
        k = 0
        try:
            while not stop.is_set():
                k += 1
                await ws.send(json.dumps(message(k)))
                await asyncio.sleep(0)
        finally:
            reader.cancel()
            ws.transport.abort()  # no closing handshake behind the messages still queued


async def health_codes(base: str, stop: asyncio.Event) -> list[int]:
    codes = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as h:
        while not stop.is_set():
            codes.append((await h.get("/healthz")).status_code)
            await asyncio.sleep(0.1)
    return codes


async def scenario(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        async def made(body):
            r = await http.post("/api/sessions", json=body)
            assert r.status_code == 201, r.text
            return r.json()["id"]

        playing, paused = await made(SIX_BY_EIGHT), await made(SIX_BY_EIGHT)
        await frames_per_second(base, playing)  # warm-up: the kernels compiled, cached
        alone = await frames_per_second(base, playing)

        stop, heard = asyncio.Event(), []
        step = {"type": "step", "unit": "epoch"}
        abusers = [asyncio.create_task(abuse(base, await made(LARGEST), lambda k: step,
                                             stop, heard)) for _ in range(2)]
        abusers.append(asyncio.create_task(abuse(
            base, await made(LARGEST),
            lambda k: {"type": "set_weight", "layer": 1, "from": 0, "to": 0,
                       "value": (k % 100) / 100}, stop, heard)))
        probes = asyncio.create_task(health_codes(base, stop))
        await asyncio.sleep(2.0)  # the abuse under way
        beside, shown = await asyncio.gather(frames_per_second(base, playing),
                                             drag_slider(base, paused))
        stop.set()
        codes = await probes
        for task in abusers:
            task.cancel()
        await asyncio.gather(*abusers, return_exceptions=True)
        return {"alone": alone, "beside": beside, "shown": shown, "codes": codes,
                "heard": heard}


def test_a_well_behaved_session_keeps_its_share_beside_two_abusers(tmp_path):
    with server(tmp_path, max_sessions=100) as http:
        r = asyncio.run(scenario(str(http.base_url)))
    assert r["alone"] > 5, r  # it did play
    assert r["beside"] >= KEEPS * r["alone"], r
    assert r["shown"] == 20, r  # every slider value reached the screen
    assert r["codes"] and set(r["codes"]) == {200}, r["codes"]
    # Held back, the abusers were still answered (no socket of theirs broke on an error).
    assert not [m for m in r["heard"] if m.get("field") not in ("rate", None)], r["heard"][:3]


# ---- frames without the session's lock (item 4): built from the published state ----------


def test_a_frame_is_built_while_a_training_turn_holds_the_lock():
    session = SessionStore(Settings()).create()
    held, release, built = threading.Event(), threading.Event(), []

    def turn():  # a long training turn, or a step on a large network
        with session.lock:
            held.set()
            release.wait(120)

    def sender():
        built.append(Viewer().frame(session, 20, 60))

    trainer = threading.Thread(target=turn)
    trainer.start()
    held.wait()
    try:
        builder = threading.Thread(target=sender)
        builder.start()
        builder.join(60)
        assert built, "the frame waited for the session's lock"
    finally:
        release.set()
        trainer.join()
    assert built[0]["version"] == session.version


def test_the_published_state_is_the_last_change_and_stays_as_it_was():
    session = SessionStore(Settings()).create()
    session.set_weight(0, 0, 0, 0.625)
    before = session.published
    frame = Viewer().frame(session, 20, 60)
    assert frame["weights"][0][0][0] == 0.625 and frame["version"] == session.version
    with session.lock:  # the same numbers as built from the session itself
        direct = frame_body(session, 20, 60)
    assert frame["weights"] == direct["weights"] and frame["loss"] == direct["loss"]
    assert frame["sample"] == direct["sample"] and frame["boundary"] == direct["boundary"]
    # Training on changes the session, not what was published before.
    weights = [w.copy() for w in before.network.weights]
    session.play()
    session.train_chunk(0.05)
    assert session.published is not before and session.published.version > before.version
    assert all((w == v).all() for w, v in zip(weights, before.network.weights, strict=True))
    assert session.training["step"] > before.training["step"]
