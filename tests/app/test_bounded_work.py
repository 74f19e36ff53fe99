"""Issue 13, bounded work per request, against real servers: a gradient check ends after its
time budget or when its client leaves, answering what it checked; a step trace or a forward
answer over `max_answer_values` is refused with 413 naming the field and the limit, before
the work is done (the session unchanged)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import httpx
import orjson
import pytest
import websockets

from app import ui_table
from app.config import Settings
from app.main import create_app
from tests.conftest import running_server

# The largest network and batch the settings table allows: 7 features, 8 hidden layers of
# 12, 8 classes (1,292 parameters); 5000 points, 90 % of them for training, batches of 500.
LARGEST = {**ui_table.defaults(), "hidden": [12] * 8, "dataset": "blobs", "classes": 8,
           "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
           "n_points": 5000, "train_fraction": 0.9}
LARGEST_BATCH = int(ui_table.BY_NAME["batch_size"].hi)
LARGEST_PARAMETERS = 7 * 12 + 12 + 7 * (12 * 12 + 12) + 12 * 8 + 8


def largest_session(api: httpx.Client, server: str) -> str:
    """A new session with the largest network, data and batch the limits allow; its id."""
    r = api.post("/api/sessions", json={"model": ui_table.model_document(LARGEST),
                                        "dataset": ui_table.dataset_spec(LARGEST)})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    set_batch_size(server, sid, LARGEST_BATCH)
    return sid


def set_batch_size(server: str, sid: str, size: int) -> None:
    """Through the socket, as the page's batch-size control does."""
    async def run():
        url = server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "set", "batch_size": size, "id": "b"}))
            while (message := json.loads(await asyncio.wait_for(ws.recv(), 30)))\
                    .get("reply_to") != "b":
                pass
            assert message["type"] == "ack", message

    asyncio.run(run())


@pytest.fixture(scope="module")
def server():
    """A server with the default limits."""
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def tight():
    """A server with small limits: 20,000 numbers an answer, gradient checks of 20 ms."""
    with running_server({"NNPLAY_MAX_ANSWER_VALUES": "20000",
                                   "NNPLAY_GRADCHECK_SECONDS": "0.02"}) as url:
        yield url


@pytest.fixture(scope="module")
def patient():
    """A server whose gradient checks may run two minutes: only their clients stop them."""
    with running_server({"NNPLAY_GRADCHECK_SECONDS": "120"}) as url:
        yield url


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=120)


def test_the_largest_gradient_check_within_the_budget_checks_every_parameter(server):
    with _client(server) as api:
        sid = largest_session(api, server)
        body = api.get(f"/api/sessions/{sid}/gradient-check").json()
        assert body["batch"]["indices"] == [0, LARGEST_BATCH]
        assert body["checked"] == body["total"] == LARGEST_PARAMETERS
        assert body["stopped"] is None
        assert body["max_relative_error"] < 1e-4
        api.delete(f"/api/sessions/{sid}")


def test_a_gradient_check_stops_after_its_time_budget_with_what_it_checked(tight):
    with _client(tight) as api:
        sid = largest_session(api, tight)
        full = None
        body = api.get(f"/api/sessions/{sid}/gradient-check").json()
        assert body["total"] == LARGEST_PARAMETERS
        assert 0 <= body["checked"] < body["total"]
        assert len(body["parameters"]) == body["checked"]
        assert body["stopped"] == "stopped after the time budget of 0.02 s (gradcheck_seconds)"
        # What it checked is right: the same numbers as the engine's check of the same
        # parameters (a fresh check in this process, from the session's own model and data).
        if body["checked"]:
            full = _full_check(api, sid)
            for p in body["parameters"]:
                assert p == full[p["parameter"]]
            assert body["max_relative_error"] == max(
                p["relative_error"] for p in body["parameters"])
        api.delete(f"/api/sessions/{sid}")


def _full_check(api: httpx.Client, sid: str) -> dict:
    """Every parameter's check, by the engine in this process, on the session's batch."""
    from engine import Network
    from engine.gradcheck import gradient_check
    from engine.problem import prepare

    doc = api.get(f"/api/sessions/{sid}").json()
    net = Network.from_dict(doc["model"])
    model = net.to_dict()
    problem = prepare(doc["dataset"], model["loss"], model["output_activation"], net.layers[-1])
    bs = doc["training"]["batch_size"]
    _, details = gradient_check(net, problem.X_train[:bs], problem.Y_train[:bs], eps=1e-6,
                                most=2000)
    return {p["parameter"]: p for p in details}


def test_a_gradient_check_stops_when_its_client_leaves():
    """Driven at the ASGI level, as uvicorn drives it: the client's disconnect arrives while
    the check runs; the check ends (its answer, which nobody reads, says so) instead of
    running all 1,292 parameters with the session's lock held."""
    settings = Settings(store="memory://", gradcheck_seconds=60.0)
    app = create_app(settings)

    async def run():
        async with app.router.lifespan_context(app):
            session = await app.state.store.create(model=ui_table.model_document(LARGEST),
                                                   dataset=ui_table.dataset_spec(LARGEST))
            session.training["batch_size"] = LARGEST_BATCH
            messages = [{"type": "http.request", "body": b"", "more_body": False},
                        {"type": "http.disconnect"}]
            sent = []

            async def receive():
                return messages.pop(0) if messages else await asyncio.Event().wait()

            async def send(message):
                sent.append(message)

            path = f"/api/sessions/{session.id}/gradient-check"
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                     "query_string": b"", "root_path": "",
                     "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 1),
                     "server": ("localhost", 80)}
            await asyncio.wait_for(app(scope, receive, send), 60)
            return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 200
    body = orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["stopped"] == "stopped: the request ended (the client left, or the server " \
                              "is stopping)"
    assert body["checked"] < body["total"] == LARGEST_PARAMETERS


def test_gradient_checks_whose_clients_left_let_the_session_go(patient):
    """Thirty checks of the largest network, each client gone after 0.3 s: run in full they
    would hold the session's lock one after the other for 20 s or more (0.7-1.5 s each on
    this machine); stopped, the session answers again at once. The wait allowed is wide."""
    with _client(patient) as api:
        sid = largest_session(api, patient)

        def leave():
            with httpx.Client(base_url=patient, timeout=0.3) as c, \
                    contextlib.suppress(httpx.TimeoutException):
                c.get(f"/api/sessions/{sid}/gradient-check")

        threads = [threading.Thread(target=leave) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with httpx.Client(base_url=patient, timeout=10) as c:
            assert c.get(f"/api/sessions/{sid}").json()["training"]["batch_size"] \
                == LARGEST_BATCH
        # and a check whose client stays runs in full
        body = api.get(f"/api/sessions/{sid}/gradient-check").json()
        assert body["checked"] == body["total"] and body["stopped"] is None
        api.delete(f"/api/sessions/{sid}")


def test_a_step_trace_over_the_limit_is_refused_before_it_is_made(tight):
    with _client(tight) as api:
        sid = largest_session(api, tight)
        before = api.get(f"/api/sessions/{sid}").json()
        r = api.post(f"/api/sessions/{sid}/step", json={"unit": "batch"})
        assert r.status_code == 413, r.text
        detail = r.json()["detail"]
        assert detail["field"] == "unit"
        assert "max_answer_values" in detail["message"] and "20,000" in detail["message"]
        assert api.get(f"/api/sessions/{sid}").json() == before  # no step was made
        # One sample's trace fits: the same session steps by sample.
        r = api.post(f"/api/sessions/{sid}/step", json={"unit": "sample"})
        assert r.status_code == 200, r.text
        assert r.json()["batch"]["indices"] == [0]
        assert api.get(f"/api/sessions/{sid}").json()["training"]["step"] == 1
        api.delete(f"/api/sessions/{sid}")


def test_a_step_trace_over_the_limit_is_refused_on_the_socket_too(tight):
    """The socket's `step` takes the same road: an `error` naming the field, the socket open,
    and a playing session still playing (nothing changed)."""
    with _client(tight) as api:
        sid = largest_session(api, tight)

        async def run():
            url = tight.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
            async with websockets.connect(url, max_size=None) as ws:
                await ws.send(json.dumps({"type": "play", "id": "p"}))
                await _reply(ws, "p")
                await ws.send(json.dumps({"type": "step", "unit": "batch", "id": "s"}))
                error = await _reply(ws, "s")
                await ws.send(json.dumps({"type": "ping", "id": "q"}))
                assert (await _reply(ws, "q"))["type"] == "pong"
                playing = api.get(f"/api/sessions/{sid}").json()["training"]["playing"]
                await ws.send(json.dumps({"type": "pause", "id": "z"}))
                await _reply(ws, "z")
                return error, playing

        error, playing = asyncio.run(run())
        assert error["type"] == "error" and error["field"] == "unit", error
        assert "max_answer_values" in error["message"]
        assert playing is True
        api.delete(f"/api/sessions/{sid}")


async def _reply(ws, message_id: str) -> dict:
    while (message := json.loads(await asyncio.wait_for(ws.recv(), 30))) \
            .get("reply_to") != message_id:
        pass
    return message


def test_the_largest_step_trace_the_defaults_allow_is_answered(server):
    with _client(server) as api:
        sid = largest_session(api, server)
        r = api.post(f"/api/sessions/{sid}/step", json={"unit": "batch"})
        assert r.status_code == 200, r.text
        trace = r.json()
        assert len(trace["inputs"]) == LARGEST_BATCH
        assert len(trace["layers"]) == 10
        api.delete(f"/api/sessions/{sid}")


def test_a_forward_answer_over_the_limit_is_refused_naming_the_field(server):
    limit = Settings().max_answer_values
    with _client(server) as api:
        sid = largest_session(api, server)
        # per row: 7 inputs, z and a of 8 x 12 hidden and 8 outputs, 8 outputs again
        per_row = 7 + 2 * (8 * 12 + 8) + 8
        most = limit // per_row
        r = api.post(f"/api/sessions/{sid}/forward", json={"points": [[0.5, -1]] * (most + 1)})
        assert r.status_code == 413, r.text
        assert r.json()["detail"]["field"] == "points"
        assert f"{limit:,}" in r.json()["detail"]["message"]
        r = api.post(f"/api/sessions/{sid}/forward", json={"inputs": [[0.1] * 7] * (most + 1)})
        assert r.status_code == 413 and r.json()["detail"]["field"] == "inputs"
        r = api.post(f"/api/sessions/{sid}/forward", json={"points": [[0.5, -1]] * most})
        assert r.status_code == 200, r.text
        assert len(r.json()["outputs"]) == most
        api.delete(f"/api/sessions/{sid}")
