"""Issue 13 against a real server: bad input never gets a 500 (each a 4xx naming the field,
the session unchanged), a bad socket message gets an `error` on a socket that stays open,
pages of other sites change nothing, unknown Host names are refused, and every answer
carries the security headers."""

from __future__ import annotations

import asyncio
import base64
import json
import zlib

import httpx
import pytest
import websockets

from app import security
from app.config import Settings
from app.jsonsafe import MAX_JSON_DEPTH
from tests.conftest import free_port, running_server, start_server, stop_server

DEEP = "[" * 5000 + "]" * 5000  # 10 KB: Python's parser recursed past its stack on it
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server():
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def sid(api):
    r = api.post("/api/sessions")
    assert r.status_code == 201
    yield r.json()["id"]
    api.delete(f"/api/sessions/{r.json()['id']}")


def held(api) -> int:
    return api.get("/healthz").json()["sessions"]


def assert_refused(r: httpx.Response, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["detail"]["field"] == field, r.text


class Unchanged:
    """The session's whole document is the same after the block as before it."""

    def __init__(self, api, sid):
        self.api, self.sid = api, sid

    def __enter__(self):
        self.before = self.api.get(f"/api/sessions/{self.sid}").json()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.api.get(f"/api/sessions/{self.sid}").json() == self.before


# ---- non-finite numbers where an integer belongs ----------------------------------------


@pytest.mark.parametrize("field", ["n_points", "seed", "classes"])
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_integer_in_a_dataset_is_refused_naming_it(api, field, token):
    before = held(api)
    body = f'{{"dataset": {{"name": "spiral", "{field}": {token}}}}}'
    r = api.post("/api/sessions", content=body, headers=JSON)
    assert_refused(r, 422, field)
    assert held(api) == before  # no session was made


def test_a_non_finite_integer_in_a_dataset_upload_leaves_the_session(api, sid):
    with Unchanged(api, sid):
        r = api.put(f"/api/sessions/{sid}/dataset", content='{"name": "xor", "n_points": NaN}',
                    headers=JSON)
        assert_refused(r, 422, "n_points")


@pytest.mark.parametrize("body,field", [
    ('{"model": {"optimizer": {"name": "adam", "betas": []}}}', "optimizer.betas"),
    ('{"dataset": {"name": "xor", "features": [["x1"]]}}', "features[0]"),
])
def test_a_value_of_the_wrong_shape_is_refused_naming_it(api, body, field):
    before = held(api)
    assert_refused(api.post("/api/sessions", content=body, headers=JSON), 422, field)
    assert held(api) == before


# ---- JSON nested too deep ----------------------------------------------------------------


def test_deeply_nested_json_is_refused_on_every_json_road(api, sid):
    with Unchanged(api, sid):
        for method, path, body in [
            ("PUT", f"/api/sessions/{sid}/dataset", DEEP),
            ("PUT", f"/api/sessions/{sid}/dataset", '{"name": ' + DEEP + "}"),
            ("PUT", f"/api/sessions/{sid}/model", '{"layers": ' + DEEP + "}"),
            ("POST", f"/api/sessions/{sid}/forward", '{"points": ' + DEEP + "}"),
        ]:
            r = api.request(method, path, content=body, headers=JSON)
            assert_refused(r, 422, "body")
            assert f"deeper than {MAX_JSON_DEPTH}" in r.json()["detail"]["message"]
        # a dataset spec sent as text/plain is read as JSON too
        r = api.put(f"/api/sessions/{sid}/dataset", content=DEEP,
                    headers={"content-type": "application/x-anything"})
        assert_refused(r, 422, "body")
    before = held(api)
    r = api.post("/api/sessions", content='{"model": {"a": ' + DEEP + "}}", headers=JSON)
    assert_refused(r, 422, "body")
    assert held(api) == before


def test_json_at_the_depth_limit_is_read(api, sid):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    r = api.put(f"/api/sessions/{sid}/dataset", content='{"name": ' + nested + "}",
                headers=JSON)
    assert_refused(r, 422, "name")  # read, then refused by the engine for what it is


def test_a_deeply_nested_model_file_is_refused_on_the_page(api, sid):
    with Unchanged(api, sid):
        r = api.post(f"/ui/{sid}/model",
                     files={"file": ("model.json", ('{"a": ' + DEEP + "}").encode(),
                                     "application/json")})
        assert r.status_code == 200  # the share box, saying why
        assert "import refused: file: JSON nested deeper than" in r.text


def _link_weights(raw: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


@pytest.mark.parametrize("raw,said", [
    (DEEP, "weights over 2224 bytes once decompressed"),  # 10 KB: more than 25 parameters need
    ("[" * 40 + "]" * 40, "JSON nested deeper than"),
])
def test_a_share_link_with_deeply_nested_weights_starts_the_default_model(api, raw, said):
    r = api.get("/", params={"w": _link_weights(raw.encode())})
    assert r.status_code == 200
    assert f"w: {said}" in r.text  # listed among the link's problems


def test_a_share_links_weights_are_limited_by_its_own_network():
    from app.urlstate import decode_weights, encode_weights, weights_json_limit

    # The default 2-4-2-1 network has 12 + 10 + 3 = 25 parameters.
    assert weights_json_limit([2, 4, 2, 1]) == 48 * 25 + 1024
    assert weights_json_limit([7] + [12] * 8 + [8]) == 48 * 1292 + 1024
    # Real weights of the largest network fit its limit, with every float at full length.
    layers = [7] + [12] * 8 + [8]
    doc = {"weights": [[[-1.2345678901234567e-05] * b for _ in range(a)]
                       for a, b in zip(layers, layers[1:], strict=False)],
           "biases": [[-1.2345678901234567e-05] * b for b in layers[1:]]}
    assert decode_weights(encode_weights(doc), weights_json_limit(layers)) == doc
    # 3,000 bytes of JSON are more than 25 parameters need: refused while inflating.
    with pytest.raises(ValueError, match="weights over 2224 bytes once decompressed"):
        decode_weights(_link_weights(b"[" + b"0," * 1500 + b"0]"), weights_json_limit(
            [2, 4, 2, 1]))


def test_a_share_link_that_inflates_past_its_limit_is_not_inflated(api):
    bomb = _link_weights(b" " * 20_000_000)  # 20 MB of JSON whitespace in 20 KB of link
    assert len(bomb) < 40_000
    r = api.get("/", params={"w": bomb})
    assert r.status_code == 200
    assert "bytes once decompressed" in r.text


# ---- a CSV field over the csv module's 128 KB ------------------------------------------

BIG_FIELD_CSV = "x1,x2,label\n0,0,0\n1,1,1\n" + '"' + "1" * 140_000 + '",1,0\n2,2,1\n'


def test_a_csv_field_over_128_kb_is_refused_naming_the_line(api, sid):
    with Unchanged(api, sid):
        r = api.put(f"/api/sessions/{sid}/dataset", content=BIG_FIELD_CSV,
                    headers={"content-type": "text/csv"})
        assert_refused(r, 422, "line 4")
        r = api.put(f"/api/sessions/{sid}/dataset",
                    files={"file": ("big.csv", BIG_FIELD_CSV.encode(), "text/csv")})
        assert_refused(r, 422, "line 4")
        r = api.post(f"/ui/{sid}/csv",
                     files={"file": ("big.csv", BIG_FIELD_CSV.encode(), "text/csv")})
        assert r.status_code == 200  # the data panel, saying why
        assert "line 4: not readable as CSV" in r.text


# ---- the page's form ---------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add_neuron:x", "remove_neuron:", "add_neuron:-1",
                                "add_neuron:１"])
def test_a_junk_layer_number_in_a_form_op_is_refused(api, sid, op):
    with Unchanged(api, sid):
        r = api.post(f"/ui/{sid}/controls", data={"op": op})
        assert r.status_code == 200  # the controls partial, saying why
        assert "expected a layer number" in r.text


# ---- bodies that cannot be read (found by tests/app/test_fuzz.py) --------------------------


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/sessions"), ("POST", "/api/sessions/{sid}/step"),
    ("POST", "/api/sessions/{sid}/forward"), ("PATCH", "/api/sessions/{sid}/weights"),
])
def test_a_json_body_that_is_not_utf8_is_refused_naming_the_body(api, sid, method, path):
    before = held(api)
    with Unchanged(api, sid):
        r = api.request(method, path.format(sid=sid), content=b"\xff\xfeS6O\x10\x8e", headers=JSON)
        assert_refused(r, 422, "body")  # was a bare 400 "There was an error parsing the body"
    assert held(api) == before


def test_a_form_that_cannot_be_read_is_refused_naming_the_file(api, sid):
    with Unchanged(api, sid):
        r = api.put(f"/api/sessions/{sid}/dataset", content=b"--B\r\n[]--B--\r\n",
                    headers={"content-type": "multipart/form-data; boundary=B"})
        assert_refused(r, 422, "file")  # was a bare 400 "Invalid multipart data."
        assert "not a readable form" in r.json()["detail"]["message"]


# ---- bodies over the limit, declared or chunked ------------------------------------------


def _chunks(total: int, first: bytes = b"", last: bytes = b""):
    yield first
    for _ in range(total // 100_000):
        yield b"1" * 100_000
    yield last


@pytest.mark.parametrize("method,path,kind", [
    ("POST", "/api/sessions", "application/json"),
    ("PUT", "/api/sessions/{sid}/model", "application/json"),
    ("PUT", "/api/sessions/{sid}/dataset", "application/json"),
    ("PUT", "/api/sessions/{sid}/dataset", "text/csv"),
    ("PUT", "/api/sessions/{sid}/dataset", "multipart/form-data; boundary=B"),
    ("POST", "/ui/{sid}/csv", "multipart/form-data; boundary=B"),
    ("POST", "/ui/{sid}/controls", "application/x-www-form-urlencoded"),
])
def test_a_chunked_body_over_the_limit_gets_413(api, sid, method, path, kind):
    first = last = b""
    if kind.startswith("multipart"):  # a well-formed form whose file is too large
        first = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
                 b"Content-Type: text/csv\r\n\r\nx1,x2,label\n")
        last = b"\r\n--B--\r\n"
    elif kind == "application/json":
        first, last = b'{"model": {"a": "', b'"}}'
    with Unchanged(api, sid):
        r = api.request(method, path.format(sid=sid), headers={"content-type": kind},
                        content=_chunks(1_500_000, first, last))  # no Content-Length
        assert_refused(r, 413, "body")


# ---- the WebSocket -------------------------------------------------------------------------

BAD_MESSAGES = [
    ("[" * 5000 + "]" * 5000, "message"),  # 10 KB, nested
    ('{"type": "set_weight", "layer": ' + DEEP + "}", "message"),
    ('{"type": "ping", "id": ' + "[" * 40 + "]" * 40 + "}", "message"),  # over the depth
    ('{"type": "ping", "id": [1]}', "id"),
    ('{"type": "set_weight", "layer": 0, "from": 0, "to": 0, "value": NaN}', "value"),
    ('{"type": "set", "batch_size": Infinity}', "batch_size"),
    ('{"type": "select_sample", "split": "train", "index": 1e400}', "index"),
    ("[]", "message"),
    ('"text"', "message"),
    ("{", "message"),
    ('{"type": "nope"}', "type"),
    ('{"type": 5}', "type"),
    ("{}", "type"),
    ("null", "message"),
    ("1", "message"),
    (b"\x00\x01binary", "message"),
    ('{"type": "ping"}' + " " * 70_000, "message"),  # over max_message_bytes (64 KiB)
    ('{"type": "set_weight", "layer": "a", "from": 0, "to": 0, "value": 1}', "layer"),
    ('{"type": "set_weight", "layer": 9, "from": 0, "to": 0, "value": 1}', "layer"),
    ('{"type": "set_weight", "layer": 0, "from": 0, "to": 99, "value": 1}', "to"),
    ('{"type": "set_weight", "layer": 0, "from": 0, "to": 0, "value": 1e400}', "value"),
    ('{"type": "set_weight", "layer": 0, "from": 0, "to": 0, "value": "1"}', "value"),
    ('{"type": "set_weight", "layer": 0, "from": 0, "to": 0}', "value"),
    ('{"type": "set_bias", "layer": 0, "neuron": 99, "value": 1}', "neuron"),
    ('{"type": "set_bias", "layer": 0, "neuron": true, "value": 1}', "neuron"),
    ('{"type": "step", "unit": "year"}', "unit"),
    ('{"type": "select_sample", "split": "nope", "index": 0}', "split"),
    ('{"type": "select_sample", "split": "train", "index": 100000}', "index"),
    ('{"type": "select_sample", "split": "train", "index": -1}', "index"),
    ('{"type": "set", "learning_rate": -1}', "learning_rate"),
    ('{"type": "set", "regularization": "l3"}', "regularization"),
    ('{"type": "set", "batch_size": 0}', "batch_size"),
    ('{"type": "set", "batch_size": "10"}', "batch_size"),
    ('{"type": "set", "optimizer": "adam"}', "optimizer"),  # structural: not over the socket
    ('{"type": "reset", "new_seed": "yes"}', "new_seed"),
    ('{"type": "play", "extra": 1}', "extra"),
    ('{"type": "ping", "id": {"a": 1}}', "id"),
]


def test_a_bad_socket_message_gets_an_error_and_the_socket_stays_open(api, server, sid):
    async def run():
        url = server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
        async with websockets.connect(url, max_size=None) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            for k, (text, field) in enumerate(BAD_MESSAGES):
                await ws.send(text)
                error = await _next(ws, "error")
                # (a union's member may follow: "id.str")
                assert error["field"].split(".")[0] == field, (text[:60], error)
                assert error["message"], error
                await ws.send(json.dumps({"type": "ping", "id": k}))
                assert (await _next(ws, "pong"))["reply_to"] == k

    with Unchanged(api, sid):  # every one of them was refused
        asyncio.run(run())


async def _next(ws, kind: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] == kind:
            return message


# ---- explicit output activation and loss on a new session --------------------------------


def test_an_explicit_output_and_loss_that_work_are_kept(api):
    model = {"output_activation": "tanh", "loss": "mse", "activation": "relu"}
    r = api.post("/api/sessions", json={"model": model, "dataset": {"name": "xor"}})
    assert r.status_code == 201, r.text
    doc = r.json()["model"]
    assert (doc["output_activation"], doc["loss"]) == ("tanh", "mse")
    api.delete(f"/api/sessions/{r.json()['id']}")


@pytest.mark.parametrize("model,field", [
    ({"output_activation": "tanh", "loss": "mse"}, "output_activation"),  # 3 outputs
    ({"output_activation": "sigmoid"}, "output_activation"),
    ({"loss": "binary_cross_entropy"}, "loss"),  # with the task's softmax output
])
def test_an_explicit_output_or_loss_that_cannot_work_is_refused_not_replaced(api, model, field):
    before = held(api)
    r = api.post("/api/sessions", json={"model": model, "dataset": {"name": "blobs",
                                                                   "classes": 3}})
    assert_refused(r, 422, field)
    assert held(api) == before


# ---- origins -------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example",
                                   "http://localhost:1"])
def test_a_page_of_another_site_changes_nothing(api, server, sid, origin):
    evil = {"origin": origin}
    before = held(api)
    assert_refused(api.post("/api/sessions", headers=evil), 403, "origin")
    assert held(api) == before
    with Unchanged(api, sid):
        for method, path, body in [
            ("PATCH", f"/api/sessions/{sid}/weights", {"layer": 0, "from": 0, "to": 0,
                                                       "value": 3.0}),
            ("PUT", f"/api/sessions/{sid}/dataset", {"name": "xor"}),
            ("POST", f"/api/sessions/{sid}/step", {}),
            ("DELETE", f"/api/sessions/{sid}", None),
        ]:
            r = api.request(method, path, json=body, headers=evil)
            assert_refused(r, 403, "origin")
        r = api.post(f"/ui/{sid}/controls", data={"learning_rate": "1"}, headers=evil)
        assert_refused(r, 403, "origin")
    assert api.get(f"/api/sessions/{sid}", headers=evil).status_code == 200  # reading is not


def test_a_page_of_this_site_or_no_origin_changes_things(api, server, sid):
    for headers in ({"origin": server}, {}):
        r = api.patch(f"/api/sessions/{sid}/weights", headers=headers,
                      json={"layer": 0, "from": 0, "to": 0, "value": 0.5})
        assert r.status_code == 200, r.text


def test_a_socket_from_another_site_is_refused(server, sid):
    url = server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"

    async def run():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, origin="http://evil.example"):
                pass
        response = refused.value.response
        assert response.status_code == 403
        assert json.loads(response.body)["detail"]["field"] == "origin"
        async with websockets.connect(url, origin=server) as ws:  # this site's page
            assert json.loads(await ws.recv())["type"] == "snapshot"

    asyncio.run(run())


def test_listed_origins_and_hosts_are_accepted_and_others_refused():
    port = free_port()
    proc = start_server(port, env={"NNPLAY_ALLOWED_ORIGINS": "https://nnplay.example.org",
                                   "NNPLAY_ALLOWED_HOSTS": "nnplay.example.org"})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
            ok = api.post("/api/sessions", headers={"origin": "https://nnplay.example.org"})
            assert ok.status_code == 201
            refused = api.post("/api/sessions", headers={"origin": "https://other.example.org"})
            assert_refused(refused, 403, "origin")
            for host, status in [("nnplay.example.org", 200), ("nnplay.example.org:8080", 200),
                                 ("NNPLAY.example.org", 200), ("localhost", 200),
                                 ("127.0.0.1:9", 200), ("[::1]:80", 200),
                                 ("other.example.org", 400), ("example.org", 400)]:
                assert api.get("/healthz", headers={"host": host}).status_code == status, host
    finally:
        stop_server(proc)


# ---- hosts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host,status", [
    ("127.0.0.1", 200), ("localhost:8000", 200), ("[::1]:1234", 200), ("LOCALHOST", 200),
    ("evil.example", 400), ("evil.example:80", 400), ("127.0.0.1.nip.io", 400),
    ("localhost.evil.example", 400),
])
def test_a_loopback_server_answers_only_loopback_names(api, host, status):
    assert api.get("/healthz", headers={"host": host}).status_code == status


def test_allowed_hosts_by_default_and_as_set():
    loop = ["localhost", "127.0.0.1", "[::1]"]
    assert security.allowed_hosts(Settings()) == loop
    assert security.allowed_hosts(Settings(host="127.0.0.2")) == [*loop, "127.0.0.2"]
    assert security.allowed_hosts(Settings(host="::1")) == loop
    assert security.allowed_hosts(Settings(host="0.0.0.0")) == ["*"]
    assert security.allowed_hosts(Settings(host="0.0.0.0", allowed_hosts="a.org, *.b.org")) \
        == [*loop, "a.org", "*.b.org"]
    assert security.allowed_hosts(Settings(allowed_hosts="*")) == ["*"]
    assert security.allowed_hosts(Settings(allowed_hosts="::2,[::3]:80,A.org:8080")) \
        == [*loop, "[::2]", "[::3]", "a.org"]


def test_an_allowed_origin_that_is_not_one_stops_the_start():
    with pytest.raises(ValueError, match="NNPLAY_ALLOWED_ORIGINS"):
        security.allowed_origins(Settings(allowed_origins="example.org"))


# ---- headers ---------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(api, sid):
    answers = [
        api.get("/"), api.get(f"/s/{sid}"), api.get("/healthz"), api.get("/docs"),
        api.get("/static/vendor/htmx.min.js"), api.get("/nowhere"),
        api.get(f"/api/sessions/{sid}/dataset?format=csv"),
        api.post("/api/sessions", json={"model": "x"}),  # 422
        api.post("/api/sessions", headers={"origin": "http://evil.example"}),  # 403
        api.post(f"/ui/{sid}/controls", data={"batch_size": "12"}),
    ]
    for r in answers:
        h = r.headers
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, r.url
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "unsafe" not in script
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "same-origin"


def test_the_page_has_no_inline_script_or_handler(api):
    html = api.get("/").text
    assert " oninput=" not in html and " onclick=" not in html and " onchange=" not in html
    for tag in html.split("<script")[1:]:
        assert 'src="' in tag.split(">")[0]  # every script is a file
