"""Against the real server process (the `live_server` fixture): HTTP and the WebSocket."""

import json
import socket

import httpx
import pytest
from websockets.sync.client import connect

from tests.app.test_sessions import HAND_DATA, HAND_MODEL, hand_output, hand_session

pytestmark = pytest.mark.timeout(180)
MAX_MESSAGES = 5000
WAIT = 60  # seconds a single receive may wait before the test fails (not a speed check)


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=WAIT) as c:
        yield c


@pytest.fixture
def sid(http):
    with hand_session(http) as session_id:
        yield session_id


def stream(live_server, sid):
    return connect(live_server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream",
                   max_size=2**22)


def receive(ws) -> dict:
    return json.loads(ws.recv(timeout=WAIT))


def read_until(ws, test):
    seen = []
    for _ in range(MAX_MESSAGES):
        seen.append(receive(ws))
        if test(seen[-1]):
            return seen
    raise AssertionError("message not found")


def test_health_and_home_page(http):
    assert http.get("/healthz").json()["status"] == "ok"
    r = http.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_create_step_and_set_weight_over_http(http, sid):
    trace = http.post(f"/api/sessions/{sid}/step", json={"unit": "batch"}).json()
    assert trace["update"]["weights_before"] == HAND_MODEL["weights"]
    r = http.patch(f"/api/sessions/{sid}/weights",
                   json={"layer": 0, "from": 0, "to": 1, "value": -2.0})
    assert r.status_code == 200
    model = http.get(f"/api/sessions/{sid}/model").json()
    assert model["weights"][0][0][1] == -2.0
    expected = hand_output(model["weights"], model["biases"], r.json()["sample"]["point"])
    assert r.json()["outputs"][0][0] == pytest.approx(expected, abs=1e-12)
    out = http.post(f"/api/sessions/{sid}/forward", json={"inputs": [[1.0, 2.0]]}).json()
    assert out["outputs"][0][0] == pytest.approx(hand_output(model["weights"],
                                                             model["biases"], [1.0, 2.0]))


def test_set_weight_over_the_socket(live_server, sid):
    with stream(live_server, sid) as ws:
        snap = receive(ws)
        assert snap["type"] == "snapshot" and snap["session"]["id"] == sid
        ws.send(json.dumps({"type": "set_weight", "id": 7, "layer": 0, "from": 1, "to": 0,
                            "value": -1.0}))
        ack = read_until(ws, lambda m: m.get("reply_to") == 7)[-1]
        frame = read_until(ws, lambda m: m["type"] == "frame"
                           and m["version"] >= ack["version"])[-1]
    assert frame["weights"][0][1][0] == -1.0
    point = frame["sample"]["point"]
    assert frame["sample"]["a"][-1][0] == pytest.approx(
        hand_output(frame["weights"], frame["biases"], point), abs=1e-12)


def test_play_frames_and_pause(live_server, http):
    sid = http.post("/api/sessions", json={"model": {"layers": [2, 8, 8, 8, 8, 8, 8, 1]}})
    sid = sid.json()["id"]
    with stream(live_server, sid) as ws:
        receive(ws)
        ws.send(json.dumps({"type": "play", "id": "go"}))
        seen = read_until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= 5)
        frames = [m for m in seen if m["type"] == "frame"]
        assert all(len(json.dumps(f)) < 64 * 1024 for f in frames)
        ws.send(json.dumps({"type": "pause", "id": "stop"}))
        read_until(ws, lambda m: m["type"] == "status" and m["playing"] is False)
    body = http.get(f"/api/sessions/{sid}").json()
    assert body["training"]["playing"] is False and body["training"]["epoch"] >= 5
    http.delete(f"/api/sessions/{sid}")


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("POST", "", {"model": {"layers": "deep"}}, 422, "layers"),
    ("PUT", "/model", {"layers": [2, 2, 1], "biases": [[0, 0], [0, 1]]}, 422, "biases[1]"),
    ("PATCH", "/weights", {"layer": 0, "from": 0, "to": 5, "value": 1}, 422, "to"),
    ("POST", "/forward", {"points": [[1, 2, 3]]}, 422, "points[0]"),
    ("PUT", "/dataset", {"name": "circle", "features": ["x3"]}, 422, "features[0]"),
    ("POST", "/step", {"unit": 3}, 422, "unit"),
])
def test_bad_requests_over_http(http, sid, method, path, body, status, field):
    before = http.get(f"/api/sessions/{sid}").json()
    url = "/api/sessions" if method == "POST" and path == "" else f"/api/sessions/{sid}{path}"
    r = http.request(method, url, json=body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]["field"] == field
    assert http.get(f"/api/sessions/{sid}").json() == before


def test_oversized_upload_is_413(http, sid):
    before = http.get(f"/api/sessions/{sid}").json()
    r = http.put(f"/api/sessions/{sid}/dataset", content=b"x1,x2,label\n" + b"1,1,1\n" * 300_000,
                 headers={"content-type": "text/csv"})
    assert r.status_code == 413
    assert http.get(f"/api/sessions/{sid}").json() == before


def test_bad_messages_over_the_socket(live_server, http, sid):
    before = http.get(f"/api/sessions/{sid}").json()
    with stream(live_server, sid) as ws:
        receive(ws)
        for text, field in [("{", "message"), ('{"type": "fly", "id": 1}', "type"),
                            ('{"type": "set_bias", "id": 1, "layer": 0, "value": 1}', "neuron"),
                            ('{"type": "ping", "x": "' + "y" * 70_000 + '"}', "message")]:
            ws.send(text)
            error = read_until(ws, lambda m: m["type"] == "error")[-1]
            assert error["field"] == field
        ws.send(json.dumps({"type": "ping", "id": "ok"}))
        assert read_until(ws, lambda m: m.get("reply_to") == "ok")[-1]["type"] == "pong"
    assert http.get(f"/api/sessions/{sid}").json() == before


def test_snapshot_after_a_structural_change(live_server, http, sid):
    with stream(live_server, sid) as ws:
        receive(ws)
        r = http.put(f"/api/sessions/{sid}/dataset", json={"name": "spiral3", "n_points": 90})
        assert r.status_code == 200
        snap = read_until(ws, lambda m: m["type"] == "snapshot")[-1]
    assert snap["session"]["model"]["layers"][-1] == 3
    assert snap["frame"]["boundary"]["kind"] == "classes"


def test_sessions_are_isolated(live_server, http, sid):
    other = http.post("/api/sessions", json={"model": HAND_MODEL, "dataset": HAND_DATA})
    other = other.json()["id"]
    before = http.get(f"/api/sessions/{other}").json()
    with stream(live_server, sid) as ws:
        receive(ws)
        ws.send(json.dumps({"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0,
                            "value": 4.0}))
        ws.send(json.dumps({"type": "step", "unit": "batch", "id": 2}))
        read_until(ws, lambda m: m.get("reply_to") == 2)
    assert http.get(f"/api/sessions/{other}").json() == before
    with stream(live_server, other) as ws:
        assert receive(ws)["session"]["model"]["weights"] == HAND_MODEL["weights"]
    http.delete(f"/api/sessions/{other}")


def test_a_client_leaving_right_after_a_message_logs_no_error():
    # A tab closed right after a pause: the server's answer finds the socket gone. That is
    # a client leaving, not an error: the server's log must hold no traceback for it.
    from tests.conftest import free_port, start_server, stop_server

    port = free_port()
    proc = start_server(port)
    log = ""
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=WAIT) as c:
            sid = c.post("/api/sessions").json()["id"]
            for k in range(30):
                with connect(base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream") as ws:
                    receive(ws)  # the snapshot
                    ws.send(json.dumps({"type": "play"}))
                    ws.send(json.dumps({"type": "pause", "id": k}))
                    ws.socket.shutdown(socket.SHUT_RDWR)  # gone at once, no closing handshake
            assert c.get("/healthz").status_code == 200
            c.delete(f"/api/sessions/{sid}")
    finally:
        log = stop_server(proc)
    assert "Traceback" not in log and "WebSocketDisconnect" not in log, log
