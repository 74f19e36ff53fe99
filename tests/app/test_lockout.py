"""No lock-out (issue 13, item 3), against a real server with a small `max_sessions`: at the
limit a newcomer still gets a session (the least recently used idle one is written and
evicted, and a page still on it is told); bare page views do not fill the server; a
closed page's session leaves memory after a grace period but stays in the store."""

from __future__ import annotations

import contextlib
import re
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import free_port, start_server, stop_server
from tests.services import read_until, stream

WAIT = 60.0  # seconds a condition may take to come true on a loaded machine


def wait_until(test, seconds: float = WAIT, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {seconds} s")


@contextlib.contextmanager
def server(tmp_path, **env):
    """A real nnplay on a free port with its own SQLite store and `NNPLAY_<KEY>` settings."""
    port = free_port()
    names = {f"NNPLAY_{k.upper()}": str(v) for k, v in env.items()}
    proc = start_server(port, {"NNPLAY_STORE": f"sqlite:///{tmp_path / 'store.db'}", **names})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as http:
            yield http
    finally:
        log = stop_server(proc)
        assert "Traceback" not in log, log


def new_session(http) -> str:
    r = http.post("/api/sessions")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def page_session(http, path: str = "/") -> str:
    """The session id a page view was given (the page names it on its body)."""
    r = http.get(path)
    assert r.status_code == 200, r.text
    return re.search(r'data-session-id="([^"]+)"', r.text).group(1)


def test_a_newcomer_gets_a_session_at_the_limit_and_the_evicted_page_is_told(tmp_path):
    with server(tmp_path, max_sessions=5) as http:
        ids = [new_session(http) for _ in range(5)]
        base = str(http.base_url)
        with contextlib.ExitStack() as stack:
            sockets = []
            for sid in ids:  # every page open, the first one used longest ago
                ws = stack.enter_context(stream(base, sid))
                read_until(ws, lambda m: m["type"] == "snapshot")
                sockets.append(ws)
            sockets[0].send('{"type": "set_weight", "layer": 0, "from": 0, "to": 0, '
                            '"value": 0.75, "id": 1}')
            read_until(sockets[0], lambda m: m.get("reply_to") == 1)
            for ws, sid in zip(sockets[1:], ids[1:], strict=True):  # the others used since
                ws.send('{"type": "ping", "id": 2}')
                read_until(ws, lambda m: m.get("reply_to") == 2)
                http.get(f"/api/sessions/{sid}")

            newcomer = http.post("/api/sessions")
            assert newcomer.status_code == 201, newcomer.text

            told = read_until(sockets[0], lambda m: m["type"] == "status")
            assert told["reason"] == "evicted" and "full" in told["message"]
            with pytest.raises(ConnectionClosed) as closed:
                for _ in range(100):
                    sockets[0].recv(timeout=WAIT)
            assert closed.value.rcvd.code == 4410
            health = http.get("/healthz").json()
            assert health["claimed"] == 5 and health["full"] is False
        # Written before it left memory: the evicted session comes back whole.
        doc = http.get(f"/api/sessions/{ids[0]}").json()
        assert doc["model"]["weights"][0][0][0] == 0.75


def test_bare_page_views_do_not_fill_the_server(tmp_path):
    # A crawler, or a cross-site <img src="http://host/">: page views whose script never runs.
    with server(tmp_path, max_sessions=5, provisional_per_client=3,
                provisional_seconds=2) as http:
        for _ in range(30):
            page_session(http)
        health = http.get("/healthz").json()
        assert health["claimed"] == 0 and health["sessions"] <= 3
        assert http.post("/api/sessions").status_code == 201
        # Unclaimed, they are dropped after the grace period.
        wait_until(lambda: http.get("/healthz").json()["sessions"] == 1)


def test_a_page_whose_script_connects_claims_its_session(tmp_path):
    with server(tmp_path, max_sessions=5, provisional_seconds=2) as http:
        sid = page_session(http)
        assert http.get("/healthz").json()["claimed"] == 0
        with stream(str(http.base_url), sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            assert http.get("/healthz").json()["claimed"] == 1
            time.sleep(3)  # past the grace period: claimed, it stays
            assert http.get(f"/api/sessions/{sid}").status_code == 200


def test_a_change_posted_by_the_page_claims_its_session(tmp_path):
    with server(tmp_path, max_sessions=5, provisional_seconds=2) as http:
        sid = page_session(http)
        r = http.patch(f"/api/sessions/{sid}/weights",
                       json={"layer": 0, "from": 0, "to": 0, "value": 0.5})
        assert r.status_code == 200, r.text
        assert http.get("/healthz").json()["claimed"] == 1
        time.sleep(3)
        assert http.get(f"/api/sessions/{sid}").json()["model"]["weights"][0][0][0] == 0.5


def test_a_closed_pages_session_leaves_memory_but_not_the_store(tmp_path):
    with server(tmp_path, release_seconds=1) as http:
        sid = new_session(http)
        with stream(str(http.base_url), sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            ws.send('{"type": "set_bias", "layer": 0, "neuron": 0, "value": 0.25, "id": 1}')
            read_until(ws, lambda m: m.get("reply_to") == 1)
        wait_until(lambda: http.get("/healthz").json()["sessions"] == 0)
        assert http.get(f"/api/sessions/{sid}").json()["model"]["biases"][0][0] == 0.25


def test_health_says_when_the_server_is_full(tmp_path):
    # Full: every held session plays with a page open, so none can be evicted.
    with server(tmp_path, max_sessions=2) as http:
        ids = [new_session(http) for _ in range(2)]
        base = str(http.base_url)
        with contextlib.ExitStack() as stack:
            sockets = [stack.enter_context(stream(base, sid)) for sid in ids]
            for ws in sockets:
                read_until(ws, lambda m: m["type"] == "snapshot")
                ws.send('{"type": "play", "id": 1}')
                read_until(ws, lambda m: m.get("reply_to") == 1)
            health = http.get("/healthz")
            assert health.status_code == 200
            assert health.json()["full"] is True and health.json()["claimed"] == 2
            r = http.post("/api/sessions")
            assert r.status_code == 503 and "limit of 2" in r.json()["detail"]["message"]
        wait_until(lambda: http.get("/healthz").json()["full"] is False)


def test_a_page_claiming_the_last_place_evicts_another_not_itself(tmp_path):
    with server(tmp_path, max_sessions=1) as http:
        idle = new_session(http)  # the one place taken, by a session nobody watches
        sid = page_session(http)
        with stream(str(http.base_url), sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            ws.send('{"type": "ping", "id": 1}')
            assert read_until(ws, lambda m: m.get("reply_to") == 1)["type"] == "pong"
            health = http.get("/healthz").json()
            assert health["claimed"] == 1 and health["sessions"] == 1
        assert http.get(f"/api/sessions/{idle}").status_code == 200  # back from the store
