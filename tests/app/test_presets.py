"""The worked example preset (app/presets.py) against the seed document's numbers,
corrected: z = (0.6, -0.65), h = (0.6, 0), prediction (0.6, 0), sse (1 - 0.6)^2 = 0.16."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app import presets
from app.main import create_app


@pytest.fixture
def client():
    app = create_app()
    if not any(getattr(r, "path", "").endswith("/preset/worked-example") for r in app.routes):
        app.include_router(presets.router)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def test_the_route_loads_the_worked_example_into_a_session(client):
    sid = client.post("/api/sessions").json()["id"]
    r = client.post(f"/ui/sessions/{sid}/preset/worked-example")
    assert r.status_code == 204
    doc = client.get(f"/api/sessions/{sid}/model").json()
    assert doc["layers"] == [2, 2, 2]
    assert doc["weights"] == presets.WORKED_EXAMPLE_MODEL["weights"]
    assert doc["biases"] == presets.WORKED_EXAMPLE_MODEL["biases"]
    assert (doc["activation"], doc["output_activation"], doc["loss"]) == ("relu", "linear", "sse")
    assert doc["optimizer"]["name"] == "sgd" and doc["optimizer"]["learning_rate"] == 0.1
    session = client.get(f"/api/sessions/{sid}").json()
    assert session["training"]["sample"] == {"split": "train", "index": 0}
    data = client.get(f"/api/sessions/{sid}/dataset").json()
    assert data["train"]["points"] == [[0.5, -1.0]]
    assert data["train"]["labels"] == [0]


def test_the_forward_pass_and_one_step_give_the_seed_numbers(client):
    sid = client.post("/api/sessions").json()["id"]
    client.post(f"/ui/sessions/{sid}/preset/worked-example")
    fwd = client.post(f"/api/sessions/{sid}/forward", json={"inputs": [[0.5, -1.0]]}).json()
    assert fwd["pre_activations"][0][0] == pytest.approx([0.6, -0.65], abs=1e-12)
    assert fwd["activations"][1][0] == pytest.approx([0.6, 0.0], abs=1e-12)
    assert fwd["outputs"][0] == pytest.approx([0.6, 0.0], abs=1e-12)
    trace = client.post(f"/api/sessions/{sid}/step", json={"unit": "sample"}).json()
    assert trace["targets"] == [[1.0, 0.0]]
    assert trace["loss"]["total"] == pytest.approx(0.16, abs=1e-12)
    # sse: delta_out = 2 (y - t) / n = (-0.8, 0); hidden delta = relu'(z) * W2 delta = (-0.8, 0)
    assert trace["layers"][2]["delta"][0] == pytest.approx([-0.8, 0.0], abs=1e-12)
    assert trace["layers"][1]["delta"][0] == pytest.approx([-0.8, 0.0], abs=1e-12)
    g = trace["gradients"]["weights"][0]
    assert g[0] == pytest.approx([-0.4, 0.0], abs=1e-12)
    assert g[1] == pytest.approx([0.8, 0.0], abs=1e-12)
    after = trace["update"]["weights_after"][0]
    assert after[0] == pytest.approx([0.24, -0.7], abs=1e-12)
    assert after[1] == pytest.approx([-0.88, 0.4], abs=1e-12)
    assert trace["update"]["biases_after"][0] == pytest.approx([-0.22, 0.1], abs=1e-12)


def test_worked_example_returns_fresh_copies():
    model, dataset = presets.worked_example()
    model["weights"][0][0][0] = 99.0
    dataset["points"].clear()
    assert presets.WORKED_EXAMPLE_MODEL["weights"][0][0][0] == 0.2
    assert len(presets.WORKED_EXAMPLE_DATASET["points"]) == 4


def test_unknown_session_is_404(client):
    assert client.post("/ui/sessions/nope/preset/worked-example").status_code == 404
