"""Issue 14's socket messages against the real server process: `set` of the speed, `train`
(N epochs, until a test loss) stopping by itself, `go_back` after a blow-up, and bad values
refused naming the field."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from app import ui_table
from tests.app.test_live_server import WAIT, read_until, receive, stream

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=WAIT) as c:
        yield c


def new_session(http, **changes) -> str:
    values = {**ui_table.defaults(), **changes}
    r = http.post("/api/sessions", json={"model": ui_table.model_document(values),
                                         "dataset": ui_table.dataset_spec(values)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def answer(ws, message: dict) -> dict:
    ws.send(json.dumps({**message, "id": 7}))
    return read_until(ws, lambda m: m.get("reply_to") == 7)[-1]


def test_train_n_epochs_flat_out_stops_at_exactly_n(live_server, http):
    sid = new_session(http)
    with stream(live_server, sid) as ws:
        receive(ws)
        assert answer(ws, {"type": "set", "speed": "max"})["type"] == "ack"
        assert answer(ws, {"type": "train", "epochs": 250})["type"] == "ack"
        status = read_until(ws, lambda m: m["type"] == "status" and not m["playing"])[-1]
    assert status["reason"] == "goal" and status["message"].startswith("Done at epoch 250")
    doc = http.get(f"/api/sessions/{sid}").json()
    t = doc["training"]
    assert (t["epoch"], t["cursor"], t["playing"], t["goal"], t["speed"]) == (
        250, 0, False, None, "max")


def test_train_until_a_test_loss(live_server, http):
    sid = new_session(http)
    with stream(live_server, sid) as ws:
        receive(ws)
        answer(ws, {"type": "set", "speed": "max"})
        answer(ws, {"type": "train", "epochs": 100000, "until_loss": 0.25})
        status = read_until(ws, lambda m: m["type"] == "status" and not m["playing"])[-1]
    assert "is below 0.25" in status["message"]
    h = http.get(f"/api/sessions/{sid}").json()["history"]
    assert h["test_loss"][-1] < 0.25 <= min(h["test_loss"][:-1])


@pytest.mark.parametrize("message, field", [
    ({"type": "train", "epochs": 0}, "epochs"),
    ({"type": "train", "epochs": 5, "until_loss": -1.0}, "until_loss"),
    ({"type": "train", "epochs": "5"}, "epochs"),
    ({"type": "set", "speed": "warp"}, "speed"),
    ({"type": "go_back"}, "go_back"),
])
def test_bad_training_messages_are_refused_naming_the_field(live_server, http, message, field):
    sid = new_session(http)
    with stream(live_server, sid) as ws:
        receive(ws)
        reply = answer(ws, message)
    assert reply["type"] == "error" and reply["field"] == field, reply
    doc = http.get(f"/api/sessions/{sid}").json()
    assert not doc["training"]["playing"] and doc["training"]["epoch"] == 0


def test_a_blow_up_and_go_back_over_the_socket(live_server, http):
    sid = new_session(http, dataset="spiral", learning_rate=10.0,
                      **ui_table.recommended("spiral"))
    with stream(live_server, sid) as ws:
        receive(ws)
        answer(ws, {"type": "play"})
        status = read_until(ws, lambda m: m["type"] == "status" and not m["playing"])[-1]
        assert status["reason"] == "diverged" and status["back_to"] == 0
        assert "try 0.03 or lower" in status["message"]
        first = http.get(f"/api/sessions/{sid}").json()["initial_model"]["weights"]
        reply = answer(ws, {"type": "go_back"})
        assert reply == {"type": "ack", "epoch": 0, "reply_to": 7, "version": reply["version"]}
    doc = http.get(f"/api/sessions/{sid}").json()
    assert doc["training"]["epoch"] == 0 and doc["model"]["weights"] == first
    assert all(math.isfinite(w) for layer in first for row in layer for w in row)
