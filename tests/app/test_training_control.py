"""Issue 14's training control without the web layer: the speed setting, train N epochs /
until a test loss, pausing at an epoch, and the divergence watch's way back to the last
good model. References are the engine run on its own, epoch by epoch."""

from __future__ import annotations

import numpy as np
import pytest

from app import ui_table
from app.config import Settings
from app.errors import BadInput
from app.live import Pace
from app.sessions import SESSION_FORMAT, Session, SessionStore, migrate
from engine import Network


@pytest.fixture
def store():
    return SessionStore()


def spiral(store, optimizer="adam", lr=0.003):
    """A session on spiral with its recommended network and `optimizer` at `lr`."""
    values = {**ui_table.defaults(), "dataset": "spiral", **ui_table.recommended("spiral"),
              "optimizer": optimizer, "learning_rate": lr}
    return store.create(model=ui_table.model_document(values),
                        dataset=ui_table.dataset_spec(values))


def run_until_paused(s, most=100_000, **kw):
    for _ in range(most):
        if not s.playing:
            return
        s.train_chunk(0.01, **kw)
    raise AssertionError("still playing")


def reference(doc: dict, problem, epochs: int, batch_size: int) -> Network:
    """The engine alone: `doc` trained `epochs` whole epochs on the session's problem."""
    net = Network.from_dict(doc)
    for _ in range(epochs):
        net.train_epoch(problem.X_train, problem.Y_train, batch_size)
    return net


# ---- speed -------------------------------------------------------------------------


def test_speed_is_a_live_setting_in_the_table_and_the_document(store):
    s = store.create()
    assert s.training["speed"] == ui_table.BY_NAME["speed"].default
    assert {"1", "10", "60", "max"} <= set(ui_table.SPEEDS)
    s.play()
    s.train_chunk(10.0, 2)
    weights, epoch = s.to_dict()["model"]["weights"], s.training["epoch"]
    s.set_training(speed="1")  # live: nothing is reset, training goes on
    assert s.playing and s.training["epoch"] == epoch == 2
    assert s.to_dict()["model"]["weights"] == weights
    doc = s.to_dict()
    assert doc["training"]["speed"] == "1"
    assert Session.from_dict(doc).training["speed"] == "1"
    with pytest.raises(BadInput) as info:
        s.set_training(speed="fast")
    assert info.value.field == "speed"


def test_an_older_document_trains_flat_out_as_it_did():
    doc = Session("a", Settings(), None, None).to_dict()
    old = {**doc, "format": "nnplay.session/1",
           "training": {k: v for k, v in doc["training"].items() if k not in ("speed", "goal")}}
    assert migrate(old)["training"]["speed"] == "max"
    assert Session.from_dict(old).training["speed"] == "max"
    assert Session.from_dict(old).to_dict()["format"] == SESSION_FORMAT


def test_a_paced_turn_trains_whole_epochs(store):
    s = store.create()
    start = s.to_dict()["model"]
    s.play()
    assert s.train_chunk(10.0, 3) == 3
    t = s.training
    assert (t["epoch"], t["cursor"]) == (3, 0)
    want = reference(start, s.problem, 3, t["batch_size"])
    np.testing.assert_array_equal(s.network.params, want.params)
    assert s.history["epoch"][-3:] == [1, 2, 3]  # one history point per paced epoch


def test_pace_counts_epochs_due_and_sleeps_between():
    p = Pace()
    assert p.due(None, 5.0) == (None, 0.0)  # flat out: no pace
    assert p.due(10.0, 0.0) == (1, 0.0)  # the first epoch at once
    p.trained(1)
    due, wait = p.due(10.0, 0.04)
    assert due == 0 and wait == pytest.approx(0.06)
    assert p.due(10.0, 0.1) == (1, 0.0)
    p.trained(1)
    assert p.due(10.0, 0.25) == (1, 0.0)  # epoch 3 (due at 0.2 s), not 4 (at 0.3 s)
    p.trained(1)
    assert p.due(1.0, 0.3) == (1, 0.0)  # a new speed starts a new count
    p.trained(1)
    assert p.due(1.0, 0.9)[0] == 0
    assert p.due(1.0, 30.0) == (1, 0.0)  # far behind: start over, no rush of epochs


# ---- train N epochs, until a loss -----------------------------------------------------


@pytest.mark.parametrize("max_epochs", [None, 1])  # flat out, and paced
def test_train_n_epochs_stops_at_exactly_n(store, max_epochs):
    s = store.create()
    s.play()
    s.train_chunk(10.0, 4)
    s.train_for(37)
    assert s.status["goal"] == {"epochs": 37, "until_loss": None, "start_epoch": 4}
    run_until_paused(s, max_epochs=max_epochs)
    assert s.training["epoch"] == 4 + 37 and s.training["cursor"] == 0
    assert s.status["reason"] == "goal" and "37 epochs trained" in s.status["message"]
    assert s.training["goal"] is None


def test_train_until_a_test_loss_stops_at_the_first_epoch_below_it(store):
    s = store.create()
    start, p, bs = s.to_dict()["model"], s.problem, s.training["batch_size"]
    # The engine alone: the test loss after each epoch; x between epoch 20's and 21's.
    net, losses = Network.from_dict(start), []
    for _ in range(60):
        net.train_epoch(p.X_train, p.Y_train, bs)
        losses.append(net.evaluate(p.X_test, p.Y_test)[0])
    first = next(k for k in range(20, 60) if losses[k] < losses[19]) + 1
    x = losses[first - 1] + (min(losses[:first - 1]) - losses[first - 1]) / 2
    assert all(v >= x for v in losses[:first - 1]) and losses[first - 1] < x
    s.train_for(1000, until_loss=x)
    run_until_paused(s)
    assert s.training["epoch"] == first
    assert s.status["reason"] == "goal" and "below" in s.status["message"]
    assert s.history["test_loss"][-1] == pytest.approx(losses[first - 1], rel=1e-12)


@pytest.mark.parametrize("epochs, until, field", [(0, None, "epochs"), (True, None, "epochs"),
                                                  (10**7, None, "epochs"), (5, -1.0, "until_loss"),
                                                  (5, float("nan"), "until_loss")])
def test_a_bad_goal_is_refused_naming_the_field(store, epochs, until, field):
    s = store.create()
    with pytest.raises(BadInput) as info:
        s.train_for(epochs, until)
    assert info.value.field == field
    assert not s.playing and s.training["goal"] is None


def test_pause_inside_an_epoch_lands_on_the_epoch_boundary(store):
    s = store.create()
    # A playing session whose trainer stopped inside an epoch (cursor 7 of 25): built from
    # its document, as the store would load it, since a turn ends at a boundary by itself.
    s.play()
    s.train_chunk(10.0, 2)
    s.pause()
    partial = s.to_dict()
    start = s.problem.X_train[7 * 10:]
    net = Network.from_dict(partial["model"])
    net.train_epoch(s.problem.X_train[:70], s.problem.Y_train[:70], 10)
    doc = {**partial, "model": net.to_dict(),
           "training": {**partial["training"], "cursor": 7, "playing": True}}
    again = Session.from_dict(doc)
    again.pause()
    t = again.training
    assert (t["epoch"], t["cursor"], t["playing"]) == (3, 0, False)
    net.train_epoch(start, s.problem.Y_train[70:], 10)
    np.testing.assert_array_equal(again.network.params, net.params)


# ---- divergence: the last good model ---------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("max_epochs", [None, 1])
def test_learning_rate_10_on_spiral_pauses_and_goes_back_to_the_last_good_epoch(
        store, optimizer, max_epochs):
    s = spiral(store, optimizer)
    s.play()
    docs = {}
    for _ in range(12):  # twelve good epochs at the table's default rate, one at a time
        docs[s.training["epoch"]] = s.to_dict()
        s.train_chunk(10.0, 1)
    docs[s.training["epoch"]] = s.to_dict()
    s.set_training(learning_rate=10.0)
    run_until_paused(s, max_epochs=max_epochs)
    assert s.status["reason"] == "diverged"
    assert "learning rate 10" in s.status["message"] and "try 0.03 or lower" in s.status["message"]
    e = s.status["back_to"]
    before = dict(zip(s.history["epoch"], s.history["train_loss"], strict=True))
    assert s.go_back() == e
    # E is the run's best epoch: its loss, recorded then, is the lowest of the history
    assert s.training["epoch"] == e and s.history["epoch"][-1] == e
    assert s.history["train_loss"][-1] == before[e] == min(before.values())
    assert s.losses()[0] == before[e]
    assert s.status["reason"] == "went_back" and not s.playing
    if e in docs:  # one of the epochs kept above (always, at a paced speed)
        good = docs[e]
        assert s.training["step"] == good["training"]["step"]
        np.testing.assert_array_equal(s.network.params,
                                      Network.from_dict(good["model"]).params)
        assert s.to_dict()["model"]["optimizer_state"] == good["model"]["optimizer_state"]
    else:  # flat out, a turn after the change of rate ended below the best so far
        assert max_epochs is None and e > 12


def test_a_fresh_network_at_learning_rate_10_goes_back_to_epoch_0(store):
    s = spiral(store, "adam", 10.0)
    first = s.to_dict()
    s.play()
    run_until_paused(s, max_epochs=1)  # checked every epoch: none is below the start
    assert s.status["back_to"] == 0
    s.go_back()
    assert s.training["epoch"] == 0
    assert s.to_dict()["model"]["weights"] == first["model"]["weights"]


def test_go_back_without_a_blow_up_is_refused(store):
    s = store.create()
    with pytest.raises(BadInput) as info:
        s.go_back()
    assert info.value.field == "go_back"


def test_ordinary_training_never_counts_as_a_blow_up(store):
    # The defaults on circle (and spiral with its network), 300 epochs flat out.
    for s in (store.create(), spiral(store)):
        s.train_for(300)
        run_until_paused(s)
        assert s.status["reason"] == "goal", s.status


def test_playing_on_after_a_blow_up_at_a_lower_rate_is_a_new_run(store):
    s = spiral(store, "adam", 10.0)
    s.play()
    run_until_paused(s, max_epochs=1)
    assert s.status["reason"] == "diverged"
    s.set_training(learning_rate=0.003)  # no go back: the model recovers from where it is
    s.train_for(40)
    run_until_paused(s, max_epochs=1)
    assert s.status["reason"] == "goal", s.status
