"""A real nnplay process with the default store (SQLite), stopped and started again on the
same file: the page's address brings back the same session (issue 12's restart rules)."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import httpx
import pytest

from tests.conftest import free_port, start_server, stop_server
from tests.services import WAIT, read_until, stream

pytestmark = pytest.mark.timeout(120)
MODEL_QUERY = "?h=8,8"


@pytest.fixture
def server(tmp_path):
    """start() a server on one data folder, as often as the test likes; all stopped at the end."""
    env = {"NNPLAY_DATA_DIR": str(tmp_path), "NNPLAY_STORE": ""}
    running = []

    def start(**settings):
        port = free_port()
        running.append(start_server(port, env={**env, **settings}))
        return f"http://127.0.0.1:{port}", running[-1]

    yield start
    for proc in running:
        if proc.poll() is None:
            stop_server(proc)
        else:
            proc.log.close()


def open_page(base: str, path: str) -> tuple[str, str]:
    """The page at `path`: (the session id it names, its HTML)."""
    html = httpx.get(base + path, timeout=WAIT).text
    return re.search(r'data-session-id="([^"]+)"', html).group(1), html


def answer(ws, msg_id: int, **msg) -> dict:
    ws.send(json.dumps({**msg, "id": msg_id}))
    return read_until(ws, lambda m: m.get("reply_to") == msg_id)


def session_doc(base: str, sid: str) -> dict:
    return httpx.get(f"{base}/api/sessions/{sid}", timeout=WAIT).json()


def test_sigterm_then_restart_gives_back_the_same_session(server):
    base, proc = server()
    sid, _ = open_page(base, "/" + MODEL_QUERY)
    with stream(base, sid) as ws:
        read_until(ws, lambda m: m["type"] == "snapshot")
        answer(ws, 1, type="play")
        read_until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= 5)
        answer(ws, 2, type="pause")
        answer(ws, 3, type="set_weight", layer=1, **{"from": 2}, to=3, value=-0.875)
        answer(ws, 4, type="select_sample", split="test", index=7)
    before = session_doc(base, sid)
    before_epoch = before["training"]["epoch"]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    proc.log.seek(0)
    assert "Application shutdown complete" in proc.log.read()  # the lifespan's end ran

    base, _ = server()
    again, html = open_page(base, f"/s/{sid}{MODEL_QUERY}")
    assert again == sid and "no longer exists" not in html
    after = session_doc(base, sid)
    for key in ("model", "training", "history", "dataset", "initial_model"):
        assert after[key] == before[key], key  # weights, optimizer state, epoch, sample...
    assert after["model"]["weights"][1][2][3] == -0.875
    assert after["training"]["epoch"] >= 5
    assert len(after["model"]["weights"]) == 3  # the address's architecture, two hidden layers

    # Stopped while it plays, with nothing written by the saver (its interval is 10 minutes):
    # the shutdown writes the last state.
    base, proc = server(NNPLAY_SAVE_INTERVAL_SECONDS="600")
    with stream(base, sid) as ws:
        read_until(ws, lambda m: m["type"] == "snapshot")
        answer(ws, 1, type="play")
        last = read_until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= before_epoch + 5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    base, _ = server()
    after = session_doc(base, sid)
    assert after["training"]["epoch"] >= last["epoch"]
    # (Paused: the server closed the page's socket first, and a session nobody watches pauses.)
    assert after["training"]["sample"] == {"split": "test", "index": 7}


def test_sigkill_loses_at_most_two_seconds_of_training_and_no_edit(server):
    base, proc = server()
    sid, _ = open_page(base, "/" + MODEL_QUERY)
    seen = []  # (time, epoch) of each frame
    with stream(base, sid) as ws:
        read_until(ws, lambda m: m["type"] == "snapshot")
        answer(ws, 1, type="play")
        began = time.monotonic()
        edited = False
        while time.monotonic() - began < 3.0:
            msg = json.loads(ws.recv(timeout=WAIT))
            if msg["type"] == "frame":
                seen.append((time.monotonic(), msg["epoch"]))
            if not edited and time.monotonic() - began > 1.5:
                edited = True  # an edit while it plays: written before its answer
                ws.send(json.dumps({"type": "set", "learning_rate": 0.1, "batch_size": 5,
                                    "id": 2}))
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.monotonic()
    proc.wait(timeout=10)

    base, _ = server()
    again, html = open_page(base, f"/s/{sid}{MODEL_QUERY}")
    assert again == sid and "no longer exists" not in html
    after = session_doc(base, sid)
    assert after["model"]["optimizer"]["learning_rate"] == 0.1
    assert after["training"]["batch_size"] == 5
    trained = max(e for t, e in seen if t <= killed - 2.0)
    assert after["training"]["epoch"] >= trained > 0
