"""Session and SessionStore, without the web layer: every change validates first and
leaves the session exactly as it was when refused; listeners hear every change."""

import contextlib
import json
import math

import pytest

from app.config import Settings
from app.errors import BadInput, SessionNotFound, TooManySessions
from app.sessions import Session, SessionStore
from engine.errors import DivergenceError, EngineError

# A 2-2-1 linear network whose output can be worked by hand (see hand_output).
HAND_MODEL = {
    "layers": [2, 2, 1], "activation": "linear", "output_activation": "linear",
    "loss": "mse", "optimizer": {"name": "sgd", "learning_rate": 0.01},
    "weights": [[[1.0, 2.0], [3.0, 4.0]], [[0.5], [-1.0]]],
    "biases": [[0.1, 0.2], [0.3]],
}
HAND_DATA = {"name": "csv", "points": [[1.0, 2.0, 0.5], [-1.0, 0.0, 1.5], [2.0, 1.0, -0.5],
                                       [0.0, -2.0, 1.25], [3.0, 3.0, 0.75], [1.5, -1.0, 0.0]]}


@contextlib.contextmanager
def hand_session(client):
    """The id of a new session of HAND_MODEL on HAND_DATA, made through `client` (in-process
    TestClient or httpx against a live server) and deleted afterwards."""
    r = client.post("/api/sessions", json={"model": HAND_MODEL, "dataset": HAND_DATA})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    try:
        yield session_id
    finally:
        client.delete(f"/api/sessions/{session_id}")


def hand_output(weights, biases, x):
    """y = (x W0 + b0) W1 + b1 written out for the 2-2-1 linear network."""
    h = [x[0] * weights[0][0][j] + x[1] * weights[0][1][j] + biases[0][j] for j in range(2)]
    return h[0] * weights[1][0][0] + h[1] * weights[1][1][0] + biases[1][0]


def state(session):
    return json.dumps(session.to_dict(), sort_keys=True)


@pytest.fixture
def store():
    return SessionStore(Settings(max_sessions=5, max_points=1000))


@pytest.fixture
def hand(store):
    return store.create(model=HAND_MODEL, dataset=HAND_DATA)


def test_ids_are_random_with_at_least_128_bits(store):
    ids = {store.create().id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 32 for i in ids)  # 24 random bytes, base64url: 192 bits


def test_defaults_are_the_classic_playground(store):
    s = store.create()
    d = s.to_dict()
    assert d["model"]["layers"] == [2, 4, 2, 1]
    assert d["dataset"]["name"] == "circle"
    assert d["training"]["epoch"] == 0 and d["training"]["playing"] is False
    assert d["initial_model"] == d["model"]
    assert d["history"]["epoch"] == [0]


def test_round_trip_through_json(hand):
    hand.step("batch")
    hand.set_weight(0, 1, 0, -0.75)
    doc = json.loads(json.dumps(hand.to_dict()))
    again = Session.from_dict(doc, hand.settings)
    assert json.dumps(again.to_dict(), sort_keys=True) == state(hand)
    x = [[0.25, -0.5]]
    assert again.forward(inputs=x) == hand.forward(inputs=x)


def test_forward_matches_the_hand_computation(hand):
    out = hand.forward(inputs=[[1.0, 2.0]])
    assert out["activations"][1] == [[7.1, 10.2]]  # 1*1 + 2*3 + 0.1, 1*2 + 2*4 + 0.2
    assert out["outputs"][0][0] == pytest.approx(-6.35, abs=1e-12)


def test_set_weight_changes_outputs_to_the_hand_value(hand):
    hand.set_weight(0, 1, 0, -1.0)  # from input 1 to hidden 0
    doc = hand.to_dict()["model"]
    assert doc["weights"][0][1][0] == -1.0
    sample = hand.sample_values()
    expected = hand_output(doc["weights"], doc["biases"], sample["point"])
    assert sample["a"][-1][0] == pytest.approx(expected, abs=1e-12)
    assert hand.forward(inputs=[[1.0, 2.0]])["outputs"][0][0] == pytest.approx(-10.35)


def test_set_bias(hand):
    hand.set_bias(1, 0, 1.3)
    assert hand.forward(inputs=[[1.0, 2.0]])["outputs"][0][0] == pytest.approx(-5.35)


BAD_CALLS = [
    ("set_weight", (5, 0, 0, 1.0), "layer"),
    ("set_weight", (0, 2, 0, 1.0), "from"),
    ("set_weight", (0, 0, 7, 1.0), "to"),
    ("set_weight", (0, 0, 0, math.nan), "value"),
    ("set_weight", (0, 0, 0, "1"), "value"),
    ("set_weight", (0, True, 0, 1.0), "from"),
    ("set_bias", (1, 3, 0.0), "neuron"),
    ("set_bias", (0, 0, math.inf), "value"),
    ("select_sample", ("valid", 0), "split"),
    ("select_sample", ("test", 99), "index"),
    ("step", ("fortnight",), "unit"),
    ("replace_model", ({"layers": [2, 3, 1], "weights": [[[1, 2, 3]]]},), "weights"),
    ("replace_model", ({"layers": [3, 1]},), "layers[0]"),
    ("replace_model", ({"activation": "swish"},), "activation"),
    ("replace_model", ({"layers": [2, *[4] * 9, 1]},), "layers"),
    ("replace_model", ("nope",), "model"),
    ("replace_dataset", ({"name": "circle", "noise": 70},), "noise"),
    ("replace_dataset", ({"name": "circle", "n_points": 5000},), "n_points"),
    ("replace_dataset", ({"shape": "circle"},), "shape"),
    ("replace_dataset_csv", ("x1,x2,label\n1,2,0\n1,2,zero\n",), "line 3, column 3 (label)"),
    ("configure", ({"weights": []},), "weights"),
    ("configure", ({"hidden": [4, 100]},), "layers[2]"),
    ("configure", ({"loss": "cross_entropy"},), "loss"),
    ("configure", ({"optimizer": {"name": "adam", "learning_rate": -1}},),
     "optimizer.learning_rate"),
]


@pytest.mark.parametrize(("method", "args", "field"), BAD_CALLS)
def test_a_refused_change_leaves_the_session_as_it_was(hand, method, args, field):
    hand.step("batch")
    before = state(hand)
    heard = []
    hand.subscribe(lambda s, kind: heard.append(kind))
    with pytest.raises((BadInput, EngineError)) as info:
        getattr(hand, method)(*args)
    assert info.value.field == field
    assert state(hand) == before
    assert heard == []


@pytest.mark.parametrize("settings", [
    {"batch_size": 0}, {"batch_size": 2.5}, {"learning_rate": 0}, {"learning_rate": "x"},
    {"regularization": "l3"}, {"regularization_rate": -1}, {"learning_rate": 0.5,
                                                           "regularization": "dropout"},
])
def test_refused_live_settings_change_nothing(hand, settings):
    before = state(hand)
    with pytest.raises(BadInput) as info:
        hand.set_training(**settings)
    assert info.value.field in settings
    assert state(hand) == before


def test_live_settings_apply_without_reset(hand):
    hand.step("batch")
    weights = hand.to_dict()["model"]["weights"]
    hand.set_training(batch_size=2, learning_rate=0.2, regularization="l2",
                      regularization_rate=0.01)
    d = hand.to_dict()
    assert d["model"]["weights"] == weights
    assert d["model"]["optimizer"]["learning_rate"] == 0.2
    assert d["model"]["regularization"] == {"name": "l2", "rate": 0.01}
    assert d["training"]["batch_size"] == 2 and d["training"]["step"] == 1


def test_configure_draws_fresh_weights_and_becomes_the_initial_model(hand):
    hand.step("batch")
    hand.configure({"hidden": [3, 2], "activation": "tanh", "init": "xavier", "seed": 7})
    d = hand.to_dict()
    assert d["model"]["layers"] == [2, 3, 2, 1]
    assert d["model"]["activation"] == "tanh"
    assert d["initial_model"] == d["model"]
    assert d["training"]["step"] == 0 and d["training"]["epoch"] == 0


def test_reset_returns_to_the_same_weights(hand):
    initial = hand.to_dict()["model"]
    for _ in range(3):
        hand.step("epoch")
    hand.set_weight(0, 0, 0, 9.0)
    assert hand.to_dict()["model"]["weights"] != initial["weights"]
    hand.reset()
    assert hand.to_dict()["model"] == initial
    assert hand.to_dict()["training"]["epoch"] == 0


def test_reset_with_a_new_seed(store):
    s = store.create(model={"seed": 3})
    before = s.to_dict()["model"]
    s.reset(new_seed=True)
    after = s.to_dict()
    assert after["model"]["seed"] != 3
    assert after["model"]["weights"] != before["weights"]
    assert after["initial_model"] == after["model"]


def test_steps_and_traces(hand):
    trace = hand.step("batch")  # 3 training points, batch size 10: the whole epoch
    assert trace["batch"] == {"split": "train", "indices": [0, 1, 2]}
    assert hand.to_dict()["training"]["epoch"] == 1
    assert set(trace) >= {"inputs", "targets", "layers", "loss", "gradients", "update"}
    hand.select_sample("test", 1)
    trace = hand.step("sample")
    assert trace["batch"] == {"split": "test", "indices": [1]}
    loss = hand.step("epoch")
    assert isinstance(loss, float)
    t = hand.to_dict()["training"]
    assert t["epoch"] == 2 and t["cursor"] == 0 and t["step"] == 3


def test_replace_dataset_adapts_the_output_layer(store):
    s = store.create()
    s.replace_dataset({"name": "spiral3"})
    d = s.to_dict()["model"]
    assert d["layers"][-1] == 3
    assert (d["output_activation"], d["loss"]) == ("softmax", "cross_entropy")
    s.replace_dataset({"name": "circle", "features": ["x1", "x2", "x1*x2"]})
    d = s.to_dict()["model"]
    assert d["layers"][0] == 3 and d["layers"][-1] == 1


def test_replace_dataset_keeps_a_fitting_model(hand):
    weights = hand.to_dict()["model"]["weights"]
    hand.replace_dataset({"name": "plane", "n_points": 50})
    assert hand.to_dict()["model"]["weights"] == weights


def test_listeners_hear_structural_and_live_changes(hand):
    heard = []
    hand.subscribe(lambda s, kind: heard.append(kind))
    hand.set_weight(0, 0, 0, 1.5)
    hand.set_training(learning_rate=0.02)
    hand.step("batch")
    hand.play()
    hand.pause()
    hand.configure({"seed": 4})
    hand.reset()
    hand.replace_dataset(HAND_DATA)
    hand.replace_model(HAND_MODEL)
    assert heard == ["frame", "frame", "frame", "status", "status",
                     "snapshot", "snapshot", "snapshot", "snapshot"]


def test_train_chunk_only_while_playing(hand):
    assert hand.train_chunk(0.005) == 0
    hand.play()
    assert hand.train_chunk(0.005) > 0
    assert hand.to_dict()["training"]["step"] > 0


def test_divergence_pauses_and_keeps_finite_weights(store):
    s = store.create(model={"activation": "linear", "output_activation": "linear",
                            "optimizer": {"name": "sgd", "learning_rate": 10.0}},
                     dataset={"name": "plane"})
    s.play()
    for _ in range(50):
        if not s.playing:
            break
        s.train_chunk(0.01)
    assert not s.playing
    assert s.status["reason"] == "diverged"
    assert "learning rate" in s.status["message"]
    d = s.to_dict()["model"]
    assert all(math.isfinite(w) for layer in d["weights"] for row in layer for w in row)


def test_a_diverging_epoch_step_changes_nothing(store):
    s = store.create(model={"activation": "linear", "output_activation": "linear",
                            "optimizer": {"name": "sgd", "learning_rate": 10.0}},
                     dataset={"name": "plane"})
    while True:
        before = state(s)
        try:
            s.step("epoch")
        except DivergenceError as exc:
            assert exc.field == "learning_rate"
            break
    assert state(s) == before


def test_store_limits_and_lookup(store):
    sessions = [store.create() for _ in range(5)]
    assert len(store) == 5
    with pytest.raises(TooManySessions):
        store.create()
    store.delete(sessions[0].id)
    assert len(store) == 4
    with pytest.raises(SessionNotFound):
        store.get(sessions[0].id)
    with pytest.raises(SessionNotFound):
        store.delete(sessions[0].id)
    assert store.get(sessions[1].id) is sessions[1]


def test_idle_sessions_expire(store):
    idle, busy, watched = store.create(), store.create(), store.create()
    watched.connections = 1
    later = idle.last_seen + store.settings.session_idle_seconds + 1
    busy.last_seen = later - 1
    heard = []
    idle.subscribe(lambda s, kind: heard.append(kind))
    assert store.sweep(now=later) == [idle.id]
    assert heard == ["closed"] and idle.closed
    with pytest.raises(SessionNotFound):
        store.get(idle.id)
    assert store.get(busy.id) is busy and store.get(watched.id) is watched


def test_sessions_are_isolated(store):
    a, b = store.create(model=HAND_MODEL, dataset=HAND_DATA), store.create(
        model=HAND_MODEL, dataset=HAND_DATA)
    before = state(b)
    a.set_weight(0, 0, 0, 42.0)
    a.step("epoch")
    a.configure({"hidden": [5]})
    assert state(b) == before


def test_bad_create_names_the_field(store):
    with pytest.raises(EngineError) as info:
        store.create(model={"loss": "nope"})
    assert info.value.field == "loss"
    with pytest.raises(BadInput) as info:
        store.create(model={"layers": [2, 65, 1]})
    assert info.value.field == "layers[1]"
    assert len(store) == 0


def hand_mse(session, split="train"):
    """The data loss written out: mean of (y - t)^2 over the split's rows."""
    doc = session.to_dict()["model"]
    p = session.problem
    points, targets = (p.train_points, p.Y_train) if split == "train" else (p.test_points,
                                                                             p.Y_test)
    errors = [(hand_output(doc["weights"], doc["biases"], x) - t[0]) ** 2
              for x, t in zip(points.tolist(), targets.tolist(), strict=True)]
    return sum(errors) / len(errors)


def test_losses_follow_every_change_to_the_model(hand):
    # The evaluation is cached; each change below must be seen, never a stale number.
    assert hand.losses()[0] == pytest.approx(hand_mse(hand), rel=1e-12)
    hand.set_weight(0, 0, 1, -0.75)
    assert hand.losses()[0] == pytest.approx(hand_mse(hand), rel=1e-12)
    hand.set_bias(1, 0, 2.5)
    assert hand.losses()[1] == pytest.approx(hand_mse(hand, "test"), rel=1e-12)
    hand.step("batch")
    assert hand.losses()[0] == pytest.approx(hand_mse(hand), rel=1e-12)
    # L2 adds rate * 1/2 * sum w^2 over the weights (not the biases).
    hand.set_training(regularization="l2", regularization_rate=0.1)
    w = hand.to_dict()["model"]["weights"]
    penalty = 0.05 * sum(v * v for layer in w for row in layer for v in row)
    assert hand.losses()[0] == pytest.approx(hand_mse(hand) + penalty, rel=1e-12)
    hand.reset()
    assert hand.losses()[0] == pytest.approx(hand_mse(hand) + penalty_of(hand), rel=1e-12)


def penalty_of(session):
    doc = session.to_dict()["model"]
    rate = doc["regularization"]["rate"] if doc["regularization"]["name"] == "l2" else 0.0
    return rate / 2 * sum(v * v for layer in doc["weights"] for row in layer for v in row)


def test_configure_with_a_dataset_is_one_change(hand):
    heard = []
    hand.subscribe(lambda s, kind: heard.append(kind))
    hand.configure({"hidden": [3], "activation": "tanh", "output_activation": "softmax",
                    "loss": "cross_entropy"}, dataset={"name": "blobs", "classes": 3})
    doc = hand.to_dict()
    assert doc["model"]["layers"] == [2, 3, 3]
    assert doc["dataset"]["name"] == "blobs"
    assert heard == ["snapshot"]


def test_a_refused_configure_with_a_dataset_changes_nothing(hand):
    before = state(hand)
    # sigmoid + binary cross-entropy cannot fit a regression dataset: nothing may change,
    # neither the model nor the dataset.
    with pytest.raises((BadInput, EngineError)):
        hand.configure({"output_activation": "sigmoid", "loss": "binary_cross_entropy"},
                       dataset={"name": "plane"})
    assert state(hand) == before


def test_replace_model_with_a_dataset_takes_the_model_as_written(store):
    session = store.create()
    model = dict(HAND_MODEL)
    session.replace_model(model, dataset=HAND_DATA)
    doc = session.to_dict()
    assert doc["model"]["weights"] == HAND_MODEL["weights"]
    assert doc["dataset"]["name"] == "csv"
