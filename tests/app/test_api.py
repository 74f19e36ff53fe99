"""The JSON API in-process (TestClient): answers, errors naming the field, sessions unharmed."""

import json

import pytest
from fastapi.testclient import TestClient

import app.main as main
from app.config import Settings
from app.main import create_app
from app.templating import static_url
from tests.app.test_sessions import HAND_DATA, HAND_MODEL, hand_output, hand_session


@pytest.fixture(scope="module")
def client():
    settings = Settings(max_sessions=100, max_upload_bytes=20_000)
    with TestClient(create_app(settings), base_url="http://localhost") as c:
        yield c


@pytest.fixture
def sid(client):
    with hand_session(client) as session_id:
        yield session_id


def snapshot(client, sid):
    r = client.get(f"/api/sessions/{sid}")
    assert r.status_code == 200
    return r.json()


def test_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and isinstance(r.json()["sessions"], int)


def test_create_with_defaults(client):
    r = client.post("/api/sessions")
    assert r.status_code == 201
    body = r.json()
    assert len(body["id"]) >= 32
    assert body["model"]["layers"] == [2, 4, 2, 1]
    assert set(body) == {"format", "id", "version", "model", "initial_model", "dataset",
                         "training", "history", "undo", "exercise"}
    assert client.get(f"/api/sessions/{body['id']}").json() == body
    assert client.delete(f"/api/sessions/{body['id']}").status_code == 204


@pytest.mark.parametrize(("body", "field"), [
    ({"model": {"layers": [2, "x", 1]}}, "layers[1]"),
    ({"model": {"optimizer": {"name": "lbfgs"}}}, "optimizer.name"),
    ({"model": {"layers": [2, *[4] * 9, 1]}}, "layers"),
    ({"dataset": {"name": "circle", "noise": 99}}, "noise"),
    ({"dataset": {"name": "circle", "n_points": 3}}, "n_points"),
    ({"dataset": "circle"}, "dataset"),
    ({"modle": {}}, "modle"),
])
def test_create_refuses_bad_documents_naming_the_field(client, body, field):
    before = client.get("/healthz").json()["sessions"]
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == field
    assert r.json()["detail"]["message"]
    assert client.get("/healthz").json()["sessions"] == before


def test_unknown_session_is_404(client):
    for method, path in [("get", ""), ("get", "/model"), ("post", "/step"),
                         ("get", "/dataset"), ("delete", "")]:
        r = client.request(method.upper(), f"/api/sessions/nope{path}")
        assert r.status_code == 404
        assert r.json()["detail"]["field"] == "id"


def test_model_export_and_import(client, sid):
    doc = client.get(f"/api/sessions/{sid}/model").json()
    assert doc["weights"] == HAND_MODEL["weights"]
    other = client.post("/api/sessions", json={"dataset": HAND_DATA}).json()["id"]
    r = client.put(f"/api/sessions/{other}/model", json=doc)
    assert r.status_code == 200
    assert r.json()["model"] == doc and r.json()["initial_model"] == doc
    assert client.get(f"/api/sessions/{other}/model").json() == doc


def test_step_returns_the_trace(client, sid):
    r = client.post(f"/api/sessions/{sid}/step")
    assert r.status_code == 200
    trace = r.json()
    assert trace["batch"] == {"split": "train", "indices": [0, 1, 2]}
    assert trace["loss"]["name"] == "mse"
    assert trace["update"]["weights_before"] == HAND_MODEL["weights"]
    after = client.get(f"/api/sessions/{sid}/model").json()
    assert trace["update"]["weights_after"] == after["weights"]
    r = client.post(f"/api/sessions/{sid}/step", json={"unit": "sample"})
    assert r.json()["batch"] == {"split": "train", "indices": [0]}


def test_forward_by_hand(client, sid):
    r = client.post(f"/api/sessions/{sid}/forward", json={"inputs": [[1.0, 2.0], [0.0, 0.0]]})
    assert r.status_code == 200
    body = r.json()
    assert body["activations"][0] == [[1.0, 2.0], [0.0, 0.0]]
    assert body["activations"][1][0] == [7.1, 10.2]
    assert body["outputs"][0][0] == pytest.approx(-6.35, abs=1e-12)
    assert body["outputs"][1][0] == pytest.approx(0.1 * 0.5 - 0.2 + 0.3, abs=1e-12)
    points = client.post(f"/api/sessions/{sid}/forward", json={"points": [[1.0, 2.0]]}).json()
    assert points["outputs"] == [body["outputs"][0]]  # features x1, x2 with no preprocessing


def test_patch_weight_returns_the_recomputed_output(client, sid):
    r = client.patch(f"/api/sessions/{sid}/weights",
                     json={"layer": 0, "from": 1, "to": 0, "value": -1.0})
    assert r.status_code == 200, r.text
    body = r.json()
    model = client.get(f"/api/sessions/{sid}/model").json()
    assert model["weights"][0][1][0] == -1.0
    expected = hand_output(model["weights"], model["biases"], body["sample"]["point"])
    assert body["outputs"][0][0] == pytest.approx(expected, abs=1e-12)
    r = client.patch(f"/api/sessions/{sid}/weights", json={"layer": 1, "neuron": 0, "value": 2})
    assert r.status_code == 200
    expected = hand_output(model["weights"], [[0.1, 0.2], [2.0]], body["sample"]["point"])
    assert r.json()["outputs"][0][0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("path", "method", "body", "field"), [
    ("/weights", "PATCH", {"layer": 0, "from": 5, "to": 0, "value": 1}, "from"),
    ("/weights", "PATCH", {"layer": 9, "from": 0, "to": 0, "value": 1}, "layer"),
    ("/weights", "PATCH", {"layer": 0, "from": 0, "value": 1}, "to"),
    ("/weights", "PATCH", {"layer": 0, "from": 0, "to": 0, "value": "1"}, "value"),
    ("/weights", "PATCH", {"layer": 0, "from": 0, "to": 0}, "value"),
    ("/weights", "PATCH", {"layer": 0, "neuron": 0, "from": 0, "value": 1}, "neuron"),
    ("/weights", "PATCH", {"layer": 0.5, "from": 0, "to": 0, "value": 1}, "layer"),
    ("/weights", "PATCH", [1, 2], "body"),
    ("/step", "POST", {"unit": "epochs"}, "unit"),
    ("/forward", "POST", {"inputs": [[1.0]]}, "inputs[0]"),
    ("/forward", "POST", {"inputs": [[1.0, "a"]]}, "inputs[0][1]"),
    ("/forward", "POST", {}, "inputs"),
    ("/model", "PUT", {"layers": [2, 2, 1], "weights": [[[1, 2]], [[1], [2]]]}, "weights[0]"),
    ("/model", "PUT", {"layers": [2, 2, 1], "loss": "cross_entropy"}, "loss"),
    ("/model", "PUT", {"seed": -1}, "seed"),
    ("/dataset", "PUT", {"name": "circle", "train_fraction": 2}, "train_fraction"),
    ("/dataset", "PUT", {"name": "nope"}, "name"),
])
def test_bad_requests_leave_the_session_as_it_was(client, sid, path, method, body, field):
    before = snapshot(client, sid)
    r = client.request(method, f"/api/sessions/{sid}{path}", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == field
    assert snapshot(client, sid) == before


def test_non_finite_json_numbers_are_refused(client, sid):
    before = snapshot(client, sid)
    r = client.patch(f"/api/sessions/{sid}/weights", content=b'{"layer": 0, "from": 0, '
                     b'"to": 0, "value": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert snapshot(client, sid) == before


def test_dataset_json_and_csv(client, sid):
    body = client.get(f"/api/sessions/{sid}/dataset").json()
    assert body["task"] == "regression" and body["n_classes"] == 0
    assert len(body["train"]["points"]) + len(body["test"]["points"]) == 6
    csv = client.get(f"/api/sessions/{sid}/dataset", headers={"accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().splitlines()
    assert rows[0] == "x1,x2,label" and len(rows) == 7
    assert client.get(f"/api/sessions/{sid}/dataset?format=csv").text == csv.text
    # What was exported imports again, as the same points.
    r = client.put(f"/api/sessions/{sid}/dataset", content=csv.text,
                   headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["dataset"]["points"]) == sorted(p for p in HAND_DATA["points"])


def test_dataset_upload_as_a_form_file(client, sid):
    text = "x1,x2,label\n1,1,1\n-1,-1,0\n2,2,1\n-2,-2,0\n1,-1,1\n"
    r = client.put(f"/api/sessions/{sid}/dataset", files={"file": ("mine.csv", text)})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["dataset"]["name"] == "csv" and d["dataset"]["task"] == "classification"
    assert d["model"]["layers"] == [2, 2, 1]


def test_dataset_spec_replaces_and_adapts(client, sid):
    r = client.put(f"/api/sessions/{sid}/dataset", json={"name": "blobs", "classes": 4})
    assert r.status_code == 200
    assert r.json()["model"]["layers"][-1] == 4


@pytest.mark.parametrize(("content", "kind", "field"), [
    ("x1,x2,label\n1,2,0\n3,4,1\n5,six,0\n7,8,1\n", "text/csv", "line 4, column 2 (x2)"),
    ("a,b,c\n1,2,0\n", "text/csv", "line 1"),
    ("", "text/csv", "line 1"),
    ("{not json", "application/json", "body"),
])
def test_bad_dataset_uploads(client, sid, content, kind, field):
    before = snapshot(client, sid)
    r = client.put(f"/api/sessions/{sid}/dataset", content=content,
                   headers={"content-type": kind})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == field
    assert snapshot(client, sid) == before


def test_bodies_over_the_limit_are_413(client, sid):
    before = snapshot(client, sid)
    big = "x1,x2,label\n" + "1,2,0\n" * 5000
    r = client.put(f"/api/sessions/{sid}/dataset", content=big,
                   headers={"content-type": "text/csv"})
    assert r.status_code == 413
    assert r.json()["detail"]["field"] == "body"

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b"1,2,0\n" * 100

    r = client.put(f"/api/sessions/{sid}/dataset", content=chunks(),
                   headers={"content-type": "text/csv"})
    assert r.status_code == 413
    r = client.put(f"/api/sessions/{sid}/model", content=json.dumps({"x": "y" * 30_000}),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert snapshot(client, sid) == before


def test_at_the_session_limit_a_newcomer_still_gets_a_session(client):
    # No lock-out (issue 13): past max_sessions (100 here) the least recently used idle
    # session leaves memory, written first: it still answers, loaded back from the store.
    made = []
    try:
        for _ in range(101):
            r = client.post("/api/sessions")
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        health = client.get("/healthz").json()
        assert health["claimed"] <= 100 and health["full"] is False
        assert client.get(f"/api/sessions/{made[0]}").json()["id"] == made[0]
    finally:
        for sid in made:
            client.delete(f"/api/sessions/{sid}")


def test_sessions_are_isolated(client, sid):
    other = client.post("/api/sessions", json={"model": HAND_MODEL, "dataset": HAND_DATA})
    other = other.json()["id"]
    before = snapshot(client, other)
    client.patch(f"/api/sessions/{sid}/weights", json={"layer": 0, "from": 0, "to": 0,
                                                        "value": 5})
    client.post(f"/api/sessions/{sid}/step")
    client.put(f"/api/sessions/{sid}/dataset", json={"name": "xor"})
    assert snapshot(client, other) == before


def test_openapi_documents_the_api_with_examples(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in ["/api/sessions", "/api/sessions/{session_id}",
                 "/api/sessions/{session_id}/model", "/api/sessions/{session_id}/step",
                 "/api/sessions/{session_id}/forward", "/api/sessions/{session_id}/weights",
                 "/api/sessions/{session_id}/dataset", "/healthz"]:
        assert path in paths
    schemas = doc["components"]["schemas"]
    for name in ("SessionCreate", "SessionPublic", "WeightUpdate", "ForwardCreate"):
        assert name in schemas
    assert schemas["WeightUpdate"]["examples"][0]["from"] == 1
    dataset_put = paths["/api/sessions/{session_id}/dataset"]["put"]["requestBody"]["content"]
    assert {"application/json", "text/csv", "multipart/form-data"} <= set(dataset_put)
    for page in ("/docs", "/redoc"):  # no CDN: a pointer to the document instead
        r = client.get(page)
        assert r.status_code == 200 and 'href="/openapi.json"' in r.text
        assert "<script" not in r.text


def test_static_files_are_revalidated(client):
    r = client.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    again = client.get("/static/vendor/htmx.min.js", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert "htmx" in r.text[:2000]


def test_static_url_carries_a_content_hash():
    url = static_url("vendor/htmx.min.js")
    assert url.startswith("/static/vendor/htmx.min.js?v=") and len(url.split("v=")[1]) == 8
    assert static_url("no/such/file.js") == "/static/no/such/file.js"


def test_missing_node_modules_is_a_clear_start_up_error(monkeypatch, tmp_path):
    monkeypatch.setattr(main, "VENDOR_FILES", {"vendor/htmx.min.js": tmp_path / "htmx.min.js"})
    with pytest.raises(RuntimeError, match="make setup"):
        create_app(Settings())


def test_importing_the_app_is_cheap():
    assert len(main.app.state.store) == 0
    assert main.app.state.live.train_pool is None


def test_an_overflowing_loss_is_sent_as_null_not_as_invalid_json(client, sid):
    # 1e200 is finite, but the squared error it causes is not: the answer must still be
    # JSON (no bare Infinity), and the session keeps working.
    r = client.patch(f"/api/sessions/{sid}/weights",
                     json={"layer": 1, "from": 0, "to": 0, "value": 1e200})
    assert r.status_code == 200, r.text
    assert b"Infinity" not in r.content and b"NaN" not in r.content
    body = r.json()
    assert body["train_loss"] is None
    r = client.patch(f"/api/sessions/{sid}/weights",
                     json={"layer": 1, "from": 0, "to": 0, "value": 0.5})
    assert r.status_code == 200
    assert isinstance(r.json()["train_loss"], float)


def test_gradient_check_agrees_with_the_hand_gradient(client, sid):
    r = client.get(f"/api/sessions/{sid}/gradient-check")
    assert r.status_code == 200, r.text
    body = r.json()
    lo, hi = body["batch"]["indices"]
    model = client.get(f"/api/sessions/{sid}/model").json()
    data = client.get(f"/api/sessions/{sid}/dataset").json()["train"]
    points, targets = data["points"][lo:hi], data["labels"][lo:hi]
    # mse on one linear output: dL/db1 = (2 / n) * sum (y - t), y worked by hand
    errors = [hand_output(model["weights"], model["biases"], x) - t
              for x, t in zip(points, targets, strict=True)]
    by_name = {p["parameter"]: p for p in body["parameters"]}
    bias = by_name["biases[1][0]"]
    assert bias["analytic"] == pytest.approx(2 * sum(errors) / len(errors), rel=1e-12)
    assert bias["numeric"] == pytest.approx(bias["analytic"], rel=1e-6)
    assert body["checked"] == body["total"] == 9
    assert body["max_relative_error"] < 1e-6
