"""Per-client limits (issue 13, items 3 and 6): token buckets by client address (429 with
Retry-After; a socket `error` with `retry_after`), sockets per session and per address,
and a client that never reads dropped with its session paused. Against a real server."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.limits import TokenBucket, creates_session
from tests.app.test_lockout import WAIT, new_session, server, wait_until
from tests.services import read_until, stream


def test_token_bucket_by_hand():
    # Burst 3, 2 tokens a second, clock given: three at once, then one every 0.5 s.
    b = TokenBucket(rate=2.0, burst=3)
    b.stamp = 100.0
    assert [b.take(now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take(now=100.0) == pytest.approx(0.5)  # empty: the next token in 0.5 s
    assert b.take(now=100.25) == pytest.approx(0.25)  # half a token there, nothing taken
    assert b.take(now=100.5) == 0.0
    assert b.take(now=110.0, cost=3) == 0.0  # refilled to the burst, not beyond
    assert b.take(now=110.0) == pytest.approx(0.5)
    # A debt (work measured after the fact) is paid back at the rate.
    b.charge(2.0, now=110.0)
    assert b.wait(now=110.0) == pytest.approx(1.0) and b.wait(now=111.0) == 0.0


def test_which_requests_create_sessions():
    assert creates_session("POST", "/api/sessions") and creates_session("GET", "/")
    assert creates_session("POST", "/ui/abc/fork")
    assert not creates_session("GET", "/api/sessions/abc")
    assert not creates_session("POST", "/api/sessions/abc/step")


def test_new_sessions_over_the_rate_get_429_with_retry_after(tmp_path):
    with server(tmp_path, sessions_burst=3, sessions_per_minute=1) as http:
        made = [http.post("/api/sessions").status_code for _ in range(3)]
        assert made == [201, 201, 201]
        r = http.post("/api/sessions")
        assert r.status_code == 429
        assert r.json()["detail"]["field"] == "rate"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert http.get("/").status_code == 429  # a page view makes a session too
        assert http.get("/healthz").status_code == 200  # reading is not limited


def test_changes_over_the_rate_get_429_and_change_nothing(tmp_path):
    with server(tmp_path, changes_burst=4, changes_per_second=0.1) as http:
        sid = new_session(http)  # one change
        for value in (0.1, 0.2, 0.3):
            r = http.patch(f"/api/sessions/{sid}/weights",
                           json={"layer": 0, "from": 0, "to": 0, "value": value})
            assert r.status_code == 200, r.text
        r = http.patch(f"/api/sessions/{sid}/weights",
                       json={"layer": 0, "from": 0, "to": 0, "value": 9.0})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert http.get(f"/api/sessions/{sid}").json()["model"]["weights"][0][0][0] == 0.3


def test_socket_messages_over_the_rate_get_an_error_and_the_socket_stays_open(tmp_path):
    with server(tmp_path, messages_burst=5, messages_per_second=1) as http:
        sid = new_session(http)
        with stream(str(http.base_url), sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            for k in range(8):
                ws.send(json.dumps({"type": "ping", "id": k}))
            answers = [read_until(ws, lambda m, k=k: m.get("reply_to") == k) for k in range(8)]
            assert [a["type"] for a in answers[:5]] == ["pong"] * 5  # the burst
            over = answers[5]  # then one a second: the next is refused, saying when to retry
            assert over["type"] == "error" and over["field"] == "rate"
            assert 0 < over["retry_after"] <= 1.0
            # Every message got its answer (a pong, or the same error after each wait).
            assert {a["type"] for a in answers[6:]} <= {"pong", "error"}
            time.sleep(1.1)
            ws.send('{"type": "ping", "id": "again"}')
            assert read_until(ws, lambda m: m.get("reply_to") == "again")["type"] == "pong"


def refused(ws) -> tuple[dict, int, str]:
    """The error an over-the-limit socket gets, and its close code and reason."""
    msg = json.loads(ws.recv(timeout=WAIT))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT)
    return msg, closed.value.rcvd.code, closed.value.rcvd.reason


def test_sockets_per_session_are_capped(tmp_path):
    with server(tmp_path, sockets_per_session=2) as http:
        sid = new_session(http)
        base = str(http.base_url)
        with contextlib.ExitStack() as stack:
            for _ in range(2):
                ws = stack.enter_context(stream(base, sid))
                read_until(ws, lambda m: m["type"] == "snapshot")
            with stream(base, sid) as extra:
                msg, code, reason = refused(extra)
            assert msg["type"] == "error" and msg["field"] == "socket"
            assert code == 4429 and "at most 2" in reason and "session" in reason
        with stream(base, sid) as ws:  # one left: room again
            assert read_until(ws, lambda m: m["type"] == "snapshot")["session"]["id"] == sid


def test_sockets_per_client_address_are_capped(tmp_path):
    with server(tmp_path, sockets_per_client=3) as http:
        base = str(http.base_url)
        with contextlib.ExitStack() as stack:
            for _ in range(3):
                ws = stack.enter_context(stream(base, new_session(http)))
                read_until(ws, lambda m: m["type"] == "snapshot")
            with stream(base, new_session(http)) as extra:
                msg, code, reason = refused(extra)
            assert code == 4429 and "address" in reason and msg["field"] == "socket"


def test_a_client_that_never_reads_is_dropped_and_its_session_pauses(tmp_path):
    with server(tmp_path, send_timeout_seconds=2) as http:
        sid = new_session(http)
        url = str(http.base_url).replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
        host, port = http.base_url.host, http.base_url.port
        # A tiny receive buffer and a one-message queue: once they are full this client
        # takes nothing more, like a browser tab frozen in the background.
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect((host, port))
        with connect(url, sock=raw, max_size=2**23, max_queue=1, open_timeout=WAIT) as ws:
            ws.send('{"type": "set", "speed": "max", "id": 0}')  # frames as fast as they go
            ws.send('{"type": "play", "id": 1}')
            # ... and never reads again: frames pile up until the server's send stalls.
            wait_until(lambda: http.get(f"/api/sessions/{sid}").json()["training"]["playing"])
            wait_until(lambda: not http.get(f"/api/sessions/{sid}").json()["training"]["playing"],
                       seconds=120)
            # This client never closed its end: only the server can have dropped it.
        with stream(str(http.base_url), sid) as fresh:  # the session itself is fine
            assert read_until(fresh, lambda m: m["type"] == "snapshot")["session"]["id"] == sid


def test_the_limits_come_from_the_settings():
    # Each limit is a setting (NNPLAY_*), read from the environment like every other one.
    from app.config import Settings

    s = Settings.from_env({"NNPLAY_SESSIONS_BURST": "7", "NNPLAY_SOCKETS_PER_SESSION": "3",
                           "NNPLAY_SEND_TIMEOUT_SECONDS": "1.5"})
    assert (s.sessions_burst, s.sockets_per_session, s.send_timeout_seconds) == (7, 3, 1.5)
