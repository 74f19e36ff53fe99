"""The live WebSocket in-process: snapshot, messages, answers, errors, frames, pacing."""

import base64
import json
import threading
import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.main import create_app
from tests.app.test_sessions import HAND_DATA, HAND_MODEL, hand_output, hand_session

pytestmark = pytest.mark.timeout(120)
MAX_MESSAGES = 2000  # reading loops are bounded: a missing message fails, never hangs long


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings(max_message_bytes=2000)), base_url="http://localhost") as c:
        yield c


@pytest.fixture
def sid(client):
    with hand_session(client) as session_id:
        yield session_id


def state(client, sid):
    return client.get(f"/api/sessions/{sid}").json()


def read_until(ws, test):
    """Messages up to and including the first for which `test` holds."""
    seen = []
    for _ in range(MAX_MESSAGES):
        message = ws.receive_json()
        seen.append(message)
        if test(message):
            return seen
    raise AssertionError(f"not found in {len(seen)} messages: {[m['type'] for m in seen]}")


def answer(ws, reply_to):
    return read_until(ws, lambda m: m.get("reply_to") == reply_to)[-1]


def frame_at(ws, version):
    """The first frame that reflects every change up to `version`."""
    return read_until(ws, lambda m: m["type"] == "frame" and m["version"] >= version)[-1]


def test_snapshot_on_connect(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        snap = ws.receive_json()
    assert snap["type"] == "snapshot"
    assert snap["session"]["id"] == sid
    assert snap["session"]["model"]["weights"] == HAND_MODEL["weights"]
    assert snap["dataset"]["task"] == "regression"
    assert snap["limits"]["max_message_bytes"] == 2000
    frame = snap["frame"]
    assert frame["type"] == "frame" and frame["seq"] == 1
    assert frame["weights"] == HAND_MODEL["weights"]
    assert frame["sample"]["a"][-1][0] == pytest.approx(
        hand_output(HAND_MODEL["weights"], HAND_MODEL["biases"], frame["sample"]["point"]))
    assert frame["loss"]["train"] >= 0 and "r2" in frame["metrics"]
    heat = frame["heatmaps"]
    assert heat["nodes"] == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]]
    assert len(base64.b64decode(heat["data"])) == 5 * heat["size"] ** 2


def test_set_weight_answers_and_the_next_frame_reflects_it(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "set_weight", "id": "w1", "layer": 0, "from": 1, "to": 0,
                      "value": -1.0})
        ack = answer(ws, "w1")
        assert ack["type"] == "ack"
        frame = frame_at(ws, ack["version"])
    assert frame["weights"][0][1][0] == -1.0
    expected = hand_output(frame["weights"], frame["biases"], frame["sample"]["point"])
    assert frame["sample"]["a"][-1][0] == pytest.approx(expected, abs=1e-12)


def test_set_weight_waits_for_a_busy_session(client, sid):
    """While another thread holds the session (a training turn), an edit waits for it in a
    worker thread instead of being made on the event loop, and is not lost."""
    session = client.app.state.store.held(sid)
    held, release = threading.Event(), threading.Event()

    def busy():
        with session.lock:
            held.set()
            release.wait(10)

    worker = threading.Thread(target=busy)
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()  # the snapshot is built under the session's lock: take it first
        worker.start()
        try:
            assert held.wait(10)
            ws.send_json({"type": "ping", "id": "p"})
            assert answer(ws, "p")["type"] == "pong"  # the loop still answers meanwhile
            ws.send_json({"type": "set_weight", "id": "w", "layer": 0, "from": 0, "to": 0,
                          "value": 0.25})
            time.sleep(0.3)  # ample time for an edit that ignored the lock to land
            assert session.network.weights[0][0, 0] != 0.25  # not made under the holder
            # the event loop is not stuck waiting for the lock: it answers while the
            # holder still holds (an edit blocking the loop would answer only after)
            assert client.get("/healthz").status_code == 200
            assert worker.is_alive()
            release.set()
            frame = frame_at(ws, answer(ws, "w")["version"])
        finally:
            release.set()
            worker.join(10)
    assert frame["weights"][0][0][0] == 0.25


def test_set_bias_select_sample_and_live_settings(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "set_bias", "id": 1, "layer": 1, "neuron": 0, "value": 2.5})
        ws.send_json({"type": "select_sample", "id": 2, "split": "test", "index": 2})
        ws.send_json({"type": "set", "id": 3, "learning_rate": 0.5, "batch_size": 2,
                      "regularization": "l1", "regularization_rate": 0.001})
        version = answer(ws, 3)["version"]
        frame = frame_at(ws, version)
    assert frame["biases"][1] == [2.5]
    assert frame["sample"]["split"] == "test" and frame["sample"]["index"] == 2
    assert frame["learning_rate"] == 0.5 and frame["batch_size"] == 2
    assert frame["regularization"] == {"name": "l1", "rate": 0.001}


def test_step_by_phase(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "step", "unit": "batch", "id": "b"})
        trace = answer(ws, "b")
        assert trace["type"] == "trace"
        assert trace["trace"]["batch"]["split"] == "train"
        frame = frame_at(ws, 0)
        assert frame["weights"] == trace["trace"]["update"]["weights_after"]
        assert frame["gradients"]["source"] == "last_step"
        assert frame["gradients"]["weights"] == trace["trace"]["gradients"]["weights"]
        ws.send_json({"type": "step", "unit": "sample", "id": "s"})
        assert answer(ws, "s")["trace"]["batch"]["indices"] == [0]
        ws.send_json({"type": "step", "id": "e"})
        ack = answer(ws, "e")
        assert ack["type"] == "ack" and isinstance(ack["loss"], float)
    assert state(client, sid)["training"]["step"] == 3


def test_play_sends_frames_and_pause_stops(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "play", "id": "p"})
        seen = read_until(ws, lambda m: m["type"] == "frame" and m["epoch"] >= 20)
        statuses = [m for m in seen if m["type"] == "status"]
        assert statuses and statuses[0]["playing"] is True
        frames = [m for m in seen if m["type"] == "frame"]
        assert [f["seq"] for f in frames] == sorted({f["seq"] for f in frames})
        got = sum(len(f["history"]["epoch"]) for f in frames)
        assert got >= 1
        ws.send_json({"type": "pause", "id": "q"})
        read_until(ws, lambda m: m["type"] == "status" and m["playing"] is False)
        ws.send_json({"type": "ping", "id": "after"})
        rest = read_until(ws, lambda m: m.get("reply_to") == "after")
    epoch = state(client, sid)["training"]["epoch"]
    assert not state(client, sid)["training"]["playing"]
    assert all(m["epoch"] <= epoch for m in rest if m["type"] == "frame")
    assert state(client, sid)["training"]["epoch"] == epoch  # it stays paused


def test_each_training_turn_sends_its_own_frame(client, sid):
    """A turn's frame goes out before the next turn starts: each turn changes the session
    once (its version), so consecutive frames are one version apart. (The session's lock
    is not fair: before app.live waited, the next turn often took it first, and two turns
    went out as one frame.)"""
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "set", "speed": "max", "id": "s"})  # turns back to back
        ws.send_json({"type": "play", "id": "p"})
        read_until(ws, lambda m: m["type"] == "frame" and m["playing"])
        seen = []
        for _ in range(100):
            seen.append(read_until(ws, lambda m: m["type"] == "frame")[-1])
        ws.send_json({"type": "pause", "id": "q"})
        read_until(ws, lambda m: m["type"] == "status" and m["playing"] is False)
    versions = [f["version"] for f in seen]
    gaps = [b - a for a, b in zip(versions, versions[1:], strict=False)]
    assert all(f["playing"] for f in seen)
    assert gaps.count(1) >= len(gaps) - 2, gaps


def test_history_is_sent_once(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        snap = ws.receive_json()
        history = list(snap["session"]["history"]["epoch"])
        for k in range(5):
            ws.send_json({"type": "step", "id": k})
            version = answer(ws, k)["version"]
            frame = frame_at(ws, version)
            h = frame["history"]
            assert h["start"] == len(history)
            history += h["epoch"]
    assert history == state(client, sid)["history"]["epoch"]


BAD_MESSAGES = [
    ("not json", "message"),
    ('["a list"]', "message"),
    ('{"type": "dance", "id": 1}', "type"),
    ('{"id": 1}', "type"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 0, "value": 1}', "to"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0, "value": "big"}', "value"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0, "value": 1e999}', "value"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0, "value": NaN}', "value"),
    ('{"type": "set_weight", "id": 1, "layer": 7, "from": 0, "to": 0, "value": 1}', "layer"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 9, "value": 1}', "to"),
    ('{"type": "set_weight", "id": 1, "layer": 0, "from": 1.5, "to": 0, "value": 1}', "from"),
    ('{"type": "set_bias", "id": 1, "layer": 0, "neuron": -1, "value": 1}', "neuron"),
    ('{"type": "set", "id": 1, "learning_rate": -3}', "learning_rate"),
    ('{"type": "set", "id": 1, "batch_size": "ten"}', "batch_size"),
    ('{"type": "set", "id": 1, "regularization": "l9"}', "regularization"),
    ('{"type": "set", "id": 1, "momentum": 0.9}', "momentum"),
    ('{"type": "step", "id": 1, "unit": "week"}', "unit"),
    ('{"type": "select_sample", "id": 1, "split": "train", "index": 999}', "index"),
    ('{"type": "select_sample", "id": 1, "split": "all", "index": 0}', "split"),
    ('{"type": "reset", "id": 1, "new_seed": "yes"}', "new_seed"),
    ('{"type": "ping", "id": 1, "extra": true}', "extra"),
    ('{"type": "ping", "pad": "' + "x" * 3000 + '"}', "message"),
]


@pytest.mark.parametrize(("text", "field"), BAD_MESSAGES)
def test_bad_messages_get_an_error_and_change_nothing(client, sid, text, field):
    before = state(client, sid)
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_text(text)
        error = read_until(ws, lambda m: m["type"] == "error")[-1]
        assert error["field"] == field, error
        assert error["message"]
        if '"id": 1' in text:
            assert error["reply_to"] == 1
        ws.send_json({"type": "ping", "id": "alive"})
        assert answer(ws, "alive")["type"] == "pong"
    after = state(client, sid)
    assert after == before


def test_binary_messages_are_refused(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_bytes(b"\x00\x01")
        error = read_until(ws, lambda m: m["type"] == "error")[-1]
        assert error["field"] == "message"
        ws.send_json({"type": "ping", "id": 2})
        assert answer(ws, 2)["type"] == "pong"


def test_structural_changes_send_a_snapshot(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        # From a plain (sync) route handler, on another thread than the socket's.
        model = {**HAND_MODEL, "layers": [2, 3, 1], "weights": None, "biases": None}
        model = {k: v for k, v in model.items() if v is not None}
        assert client.put(f"/api/sessions/{sid}/model", json=model).status_code == 200
        snap = read_until(ws, lambda m: m["type"] == "snapshot")[-1]
        assert snap["session"]["model"]["layers"] == [2, 3, 1]
        assert client.put(f"/api/sessions/{sid}/dataset", json={"name": "xor"}).status_code == 200
        snap = read_until(ws, lambda m: m["type"] == "snapshot")[-1]
        assert snap["dataset"]["spec"]["name"] == "xor"
        assert snap["frame"]["boundary"]["kind"] == "binary"
        ws.send_json({"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0,
                      "value": 3.0})
        answer(ws, 1)
        ws.send_json({"type": "reset", "id": 2})
        snap = read_until(ws, lambda m: m["type"] == "snapshot")[-1]
        assert snap["session"]["model"] == snap["session"]["initial_model"]


def test_two_clients_of_one_session_both_see_changes(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as a, \
            client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as b:
        a.receive_json()
        b.receive_json()
        a.send_json({"type": "set_weight", "id": 1, "layer": 1, "from": 0, "to": 0,
                     "value": 0.125})
        version = answer(a, 1)["version"]
        assert frame_at(b, version)["weights"][1][0][0] == 0.125


def test_sessions_are_isolated_on_the_stream(client, sid):
    other = client.post("/api/sessions", json={"model": HAND_MODEL, "dataset": HAND_DATA})
    other = other.json()["id"]
    before = state(client, other)
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "set_weight", "id": 1, "layer": 0, "from": 0, "to": 0,
                      "value": 9.0})
        ws.send_json({"type": "step", "id": 2})
        answer(ws, 2)
    assert state(client, other) == before


def test_frame_for_six_hidden_layers_of_eight_stays_under_64_kb(client):
    model = {"layers": [2, 8, 8, 8, 8, 8, 8, 1], "activation": "tanh"}
    sid = client.post("/api/sessions", json={"model": model}).json()["id"]
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        sizes = []
        for _ in range(MAX_MESSAGES):
            text = ws.receive_text()
            if json.loads(text)["type"] == "frame":
                sizes.append(len(text.encode()))
                if len(sizes) == 5:
                    break
        ws.send_json({"type": "pause"})
    frame = json.loads(text)
    assert len(frame["heatmaps"]["nodes"]) == 2 + 6 * 8 + 1
    assert len(base64.b64decode(frame["heatmaps"]["data"])) == 51 * frame["heatmaps"]["size"] ** 2
    assert max(sizes) < 64 * 1024


def test_divergence_pauses_with_a_plain_message(client):
    model = {"activation": "linear", "output_activation": "linear",
             "optimizer": {"name": "sgd", "learning_rate": 10.0}}
    sid = client.post("/api/sessions", json={"model": model, "dataset": {"name": "plane"}})
    sid = sid.json()["id"]
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        status = read_until(ws, lambda m: m["type"] == "status" and not m["playing"])[-1]
    assert status["reason"] == "diverged"
    assert "learning rate" in status["message"]
    weights = state(client, sid)["model"]["weights"]
    assert all(abs(w) < 1e300 for layer in weights for row in layer for w in row)


def test_unknown_session_is_refused(client):
    with client.websocket_connect("ws://localhost/api/sessions/nope/stream") as ws:
        error = ws.receive_json()
        assert error == {"type": "error", "field": "id",
                         "message": "no such session (it may have expired)"}
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 4404


def test_deleting_the_session_closes_its_stream(client):
    sid = client.post("/api/sessions").json()["id"]
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        assert client.delete(f"/api/sessions/{sid}").status_code == 204
        status = read_until(ws, lambda m: m["type"] == "status" and m["reason"] == "closed")
        assert status[-1]["playing"] is False
        with pytest.raises(WebSocketDisconnect):
            for _ in range(MAX_MESSAGES):
                ws.receive_json()


def test_the_last_client_leaving_pauses_training(client, sid):
    with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        ws.send_json({"type": "play", "id": 1})
        answer(ws, 1)
    for _ in range(MAX_MESSAGES):
        if not state(client, sid)["training"]["playing"]:
            break
    assert not state(client, sid)["training"]["playing"]
