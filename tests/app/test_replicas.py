"""Several nnplay replicas sharing one real Redis (Debian's `redis-server`), on loopback.

Each session is held by one replica at a time (a lease in Redis); any replica answers for
any session, taking it over from its holder (docs/ARCHITECTURE.md, "The session store").
Leases last 2 s here (5 s by default) to keep the tests short.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import free_port, start_server, stop_server
from tests.services import (
    WAIT,
    RedisServer,
    read_until,
    start_replicas,
    stop_replicas,
    stream,
)

pytestmark = pytest.mark.timeout(120)
LEASE = 2.0
MODEL = {"layers": [2, 8, 8, 1], "activation": "tanh"}
MOVED_IN = 'nnplay_lease_moves_total{direction="in"}'


def replica_env(redis: RedisServer) -> dict:
    return {"NNPLAY_STORE": redis.url, "NNPLAY_LEASE_SECONDS": str(LEASE)}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replicas(redis_server):
    """Three replicas' base URLs."""
    started = start_replicas(3, replica_env(redis_server))
    yield [url for url, _ in started]
    stop_replicas(started)


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=WAIT)


def held(base: str) -> int:
    with client(base) as http:
        return http.get("/healthz").json()["sessions"]


def metric(base: str, name: str) -> float:
    with client(base) as http:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def patch_weight(http: httpx.Client, sid: str, layer: int, i: int, j: int, value: float,
                 tries: int = 40) -> httpx.Response:
    """Set one weight, trying again (as the page does) while the session is on its way from
    another replica (503)."""
    for _ in range(tries):
        r = http.patch(f"/api/sessions/{sid}/weights",
                       json={"layer": layer, "from": i, "to": j, "value": value})
        if r.status_code != 503:
            return r
        time.sleep(0.05)
    return r


def test_created_on_one_edited_through_another_played_on_a_third(replicas):
    one, two, three = replicas
    with client(one) as a, client(two) as b:
        sid = a.post("/api/sessions", json={"model": MODEL}).json()["id"]
        assert a.post(f"/api/sessions/{sid}/step", json={"unit": "batch"}).status_code == 200
        moved_in = metric(two, MOVED_IN)

        r = patch_weight(b, sid, 1, 2, 3, -0.625)  # through another replica: the lease moves
        assert r.status_code == 200, r.text
        assert metric(two, MOVED_IN) == moved_in + 1
        doc = b.get(f"/api/sessions/{sid}").json()
        assert doc["training"]["step"] == 1  # nothing lost on the way
        assert doc["model"]["weights"][1][2][3] == -0.625

        with stream(three, sid) as ws:  # played on a third
            snap = read_until(ws, lambda m: m["type"] == "snapshot")
            assert snap["frame"]["weights"][1][2][3] == -0.625
            ws.send(json.dumps({"type": "play"}))
            frame = read_until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= 3)
            ws.send(json.dumps({"type": "pause", "id": 1}))
            read_until(ws, lambda m: m.get("reply_to") == 1)
        doc = a.get(f"/api/sessions/{sid}").json()  # back on the first, trained
        assert doc["training"]["epoch"] >= frame["epoch"]
        assert doc["training"]["playing"] is False
        assert doc["model"]["weights"] != snap["session"]["model"]["weights"]
        a.delete(f"/api/sessions/{sid}")


def test_a_page_on_a_replica_that_lets_the_session_go_hears_that_it_moved(replicas):
    one, two, _ = replicas
    with client(one) as a, client(two) as b:
        sid = a.post("/api/sessions", json={"model": MODEL}).json()["id"]
        with stream(one, sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            assert patch_weight(b, sid, 0, 0, 0, 0.25).status_code == 200
            status = read_until(ws, lambda m: m["type"] == "status")
            assert status["reason"] == "moved" and "moved to another server" in status["message"]
            with pytest.raises(Exception) as closed:
                ws.recv(timeout=WAIT)
            assert closed.value.rcvd.code == 4409
        with stream(one, sid) as ws:  # the page connects again: the session comes back
            snap = read_until(ws, lambda m: m["type"] == "snapshot")
            assert snap["frame"]["weights"][0][0][0] == 0.25
        a.delete(f"/api/sessions/{sid}")


def test_concurrent_edits_through_two_replicas_are_all_kept(replicas):
    one, two, three = replicas
    with client(one) as a:
        sid = a.post("/api/sessions", json={"model": MODEL}).json()["id"]
    moves = metric(one, MOVED_IN) + metric(two, MOVED_IN)
    edits = {0: [], 1: []}  # weights[1][i][j] set through each replica (i even, i odd)
    failures = []
    together = threading.Barrier(2, timeout=60)  # each round's two edits leave at once

    def edit(base: str, parity: int) -> None:
        with client(base) as http:
            for k in range(6):
                together.wait()
                i, j, value = 2 * (k % 4) + parity, k // 4, round(0.01 * (k + 1) + parity, 3)
                r = patch_weight(http, sid, 1, i, j, value)
                if r.status_code == 200:
                    edits[parity].append((i, j, value))
                else:
                    failures.append(r.text)

    threads = [threading.Thread(target=edit, args=(base, p))
               for base, p in ((one, 0), (two, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not failures
    assert len(edits[0]) == len(edits[1]) == 6
    assert metric(one, MOVED_IN) + metric(two, MOVED_IN) - moves >= 6  # back and forth
    with client(three) as c:
        weights = c.get(f"/api/sessions/{sid}/model").json()["weights"]
        for i, j, value in edits[0] + edits[1]:
            assert weights[1][i][j] == value, (i, j)
        c.delete(f"/api/sessions/{sid}")


def test_a_killed_replica_s_playing_session_moves_within_the_lease(redis_server, replicas):
    port = free_port()
    doomed = start_server(port, env=replica_env(redis_server))
    base = f"http://127.0.0.1:{port}"
    try:
        with client(base) as http:
            sid = http.post("/api/sessions", json={"model": MODEL}).json()["id"]
        seen = []  # (time, epoch) of the frames received
        with stream(base, sid) as ws:
            read_until(ws, lambda m: m["type"] == "snapshot")
            ws.send(json.dumps({"type": "play"}))
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv(timeout=WAIT))
                if msg["type"] == "frame":
                    seen.append((time.monotonic(), msg["epoch"]))
            os.kill(doomed.pid, signal.SIGKILL)
            killed = time.monotonic()
        doomed.wait(timeout=10)
    finally:
        stop_server(doomed)
    with client(replicas[1]) as b:
        r = b.get(f"/api/sessions/{sid}")
        served = time.monotonic() - killed
    assert r.status_code == 200, r.text
    assert served <= LEASE + 1.0
    # What it had trained is there, but for (at most) the last two seconds.
    before = max(e for t, e in seen if t <= killed - 2.0)
    assert r.json()["training"]["epoch"] >= before > 0
    assert r.json()["training"]["playing"] is True
    with stream(replicas[1], sid) as ws:  # and it trains on where it is now
        snap = read_until(ws, lambda m: m["type"] == "snapshot")
        read_until(ws, lambda m: m["type"] == "frame"
                   and m["epoch"] > snap["session"]["training"]["epoch"])
        ws.send(json.dumps({"type": "pause", "id": 1}))
        read_until(ws, lambda m: m.get("reply_to") == 1)
    with client(replicas[1]) as b:
        b.delete(f"/api/sessions/{sid}")


def test_with_redis_stopped_held_sessions_serve_and_the_rest_answer_503(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    started = start_replicas(2, replica_env(redis))
    (one, _), (two, _) = started
    try:
        with client(one) as a, client(two) as b:
            mine = a.post("/api/sessions", json={"model": MODEL}).json()["id"]
            theirs = b.post("/api/sessions", json={"model": MODEL}).json()["id"]
            redis.stop()

            r = a.get("/healthz")
            assert r.status_code == 503
            assert "session store is unavailable" in r.json()["detail"]["message"]
            assert f"127.0.0.1:{redis.port}" in r.json()["detail"]["message"]
            r = a.post("/api/sessions")  # a new session needs the store
            assert r.status_code == 503
            assert "session store is unavailable" in r.json()["detail"]["message"]
            assert a.get(f"/api/sessions/{theirs}").status_code == 503  # so does a move
            # The session held here carries on, edits included.
            assert a.patch(f"/api/sessions/{mine}/weights", json={
                "layer": 0, "from": 1, "to": 2, "value": 1.5}).status_code == 200
            with stream(one, mine) as ws:
                snap = read_until(ws, lambda m: m["type"] == "snapshot")
                assert snap["frame"]["weights"][0][1][2] == 1.5
                ws.send(json.dumps({"type": "step", "unit": "epoch", "id": 1}))
                assert "loss" in read_until(ws, lambda m: m.get("reply_to") == 1)

            redis.start()  # the same port and data
            for _ in range(100):
                if a.get("/healthz").status_code == 200:
                    break
                time.sleep(0.1)
            assert a.get("/healthz").status_code == 200
            assert a.post("/api/sessions").status_code == 201
            # What changed while Redis was away (an edit, an epoch) reaches the other replica.
            here = a.get(f"/api/sessions/{mine}").json()
            assert here["training"]["epoch"] == 1
            doc = b.get(f"/api/sessions/{mine}").json()
            assert doc["model"] == here["model"] and doc["training"] == here["training"]
            assert a.get(f"/api/sessions/{theirs}").status_code == 200
    finally:
        stop_replicas(started)
        redis.stop()
