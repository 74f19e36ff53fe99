"""The URL state (app/urlstate.py) and the settings table behind it (app/ui_table.py)."""

from __future__ import annotations

import pytest

from app import ui_table, urlstate
from app.ui_table import BY_NAME
from engine.activations import HIDDEN_ACTIVATIONS
from engine.datasets import DATASETS, validate_spec
from engine.document import parse_document
from engine.features import FEATURES
from engine.initializers import INITIALIZERS
from engine.losses import LOSSES
from engine.optimizers import OPTIMIZERS


def test_choices_come_from_the_engine_registries():
    assert BY_NAME["optimizer"].choices == tuple(OPTIMIZERS)
    assert BY_NAME["activation"].choices == HIDDEN_ACTIVATIONS
    assert BY_NAME["init"].choices == tuple(INITIALIZERS)
    assert BY_NAME["features"].choices == tuple(FEATURES)
    assert BY_NAME["loss"].choices == ("auto", *LOSSES)
    assert set(BY_NAME["dataset"].choices) == set(DATASETS) - {"csv"}


def test_url_keys_are_unique():
    keys = [s.url for s in ui_table.SETTINGS]
    assert len(keys) == len(set(keys))
    assert urlstate.WEIGHTS_KEY not in keys


def test_empty_query_gives_the_defaults_circle_2_4_2_1_tanh():
    state = urlstate.parse({})
    assert state.model["layers"] == [2, 4, 2, 1]
    assert state.model["activation"] == "tanh"
    assert (state.model["output_activation"], state.model["loss"]) == (
        "sigmoid", "binary_cross_entropy")
    assert state.dataset["name"] == "circle"
    assert state.dataset["features"] == ["x1", "x2"]
    assert state.view["hide"] == set()
    assert state.view["url_errors"] == []


def test_a_full_query_sets_every_home():
    state = urlstate.parse({
        "data": "spiral3", "noise": "10", "n": "300", "train": "0.7", "dseed": "5",
        "prep": "standardize", "f": "x1,x2,x1^2", "h": "6-5-4", "act": "relu",
        "acts": "relu-relu-elu", "init": "he", "seed": "42", "opt": "momentum", "lr": "0.1",
        "mom": "0.5", "reg": "l2", "rr": "0.001", "batch": "25", "hide": "optimizer,features",
        "test": "1", "disc": "1"})
    m, d = state.model, state.dataset
    assert m["layers"] == [3, 6, 5, 4, 3]
    assert m["layer_activations"] == ["relu", "relu", "elu"]
    assert (m["output_activation"], m["loss"]) == ("softmax", "cross_entropy")
    assert m["optimizer"] == {"name": "momentum", "learning_rate": 0.1, "momentum": 0.5,
                              "dampening": 0.0, "weight_decay": 0.0}
    assert m["regularization"] == {"name": "l2", "rate": 0.001}
    assert (m["init"], m["seed"]) == ("he", 42)
    assert d["name"] == "spiral3" and d["noise"] == 10 and d["n_points"] == 300
    assert (d["train_fraction"], d["seed"], d["preprocessing"]) == (0.7, 5, "standardize")
    assert d["features"] == ["x1", "x2", "x1^2"]
    assert state.values["batch_size"] == 25
    assert state.view["hide"] == {"optimizer", "features"}
    assert state.view["show_test"] is True and state.view["discretize"] is True


@pytest.mark.parametrize("name", ui_table.DATASET_NAMES)
def test_every_dataset_gives_documents_the_engine_accepts(name):
    state = urlstate.parse({"data": name, "h": "3", "f": "x1,x2,sin(x1)"})
    parsed = parse_document(state.model)
    spec = validate_spec(state.dataset)
    assert parsed["layers"][0] == 3
    n_classes = DATASETS[name].n_classes(spec)
    assert parsed["layers"][-1] == (n_classes if n_classes > 2 else 1)


def test_bad_values_fall_back_to_defaults_and_are_listed():
    state = urlstate.parse({"noise": "99", "lr": "abc", "data": "nope", "h": "4-99",
                            "opt": "adamax", "f": "x3"})
    assert state.dataset["noise"] == 0
    assert state.model["optimizer"]["learning_rate"] == BY_NAME["learning_rate"].default
    assert state.dataset["name"] == "circle"
    assert state.model["layers"] == [2, 4, 2, 1]
    assert state.model["optimizer"]["name"] == "adam"
    errors = " | ".join(state.view["url_errors"])
    for key in ("noise: 99 is outside 0..50", "learning_rate: expected a number",
                "dataset: unknown value 'nope'", "hidden: 99 neurons",
                "optimizer: unknown value 'adamax'", "features: unknown value 'x3'"):
        assert key in errors


def test_more_than_8_hidden_layers_is_refused():
    state = urlstate.parse({"h": "-".join(["2"] * 9)})
    assert state.model["layers"] == [2, 4, 2, 1]
    assert "at most 8" in state.view["url_errors"][0]


def test_an_invalid_output_and_loss_pair_falls_back_to_auto_and_says_why():
    state = urlstate.parse({"data": "circle", "out": "softmax"})
    assert (state.model["output_activation"], state.model["loss"]) == (
        "sigmoid", "binary_cross_entropy")
    assert "softmax needs at least 2 outputs" in state.view["url_errors"][0]
    state = urlstate.parse({"data": "plane", "loss": "cross_entropy"})
    assert state.model["loss"] == "mse"


def test_a_chosen_loss_picks_an_output_that_fits_it():
    state = urlstate.parse({"loss": "hinge"})
    assert (state.model["output_activation"], state.model["loss"]) == ("linear", "hinge")
    parse_document(state.model)


def test_serialize_then_parse_gives_the_same_values():
    query = {"data": "moons", "noise": "15", "h": "8-8-3", "act": "relu", "seed": "7",
             "opt": "rmsprop", "lr": "0.003", "alpha": "0.9", "reg": "l1", "rr": "0.01",
             "batch": "32", "prep": "minmax", "f": "x1,x2,x1*x2", "hide": "share",
             "pts": "1.5,-2,1;0,0,0", "test": "1"}
    first = urlstate.parse(query)
    text = urlstate.serialize(first.values)
    from urllib.parse import parse_qsl

    again = urlstate.parse(dict(parse_qsl(text)))
    assert again.values == first.values
    assert again.model == first.model
    assert again.dataset == first.dataset
    assert again.dataset["extra_points"] == [[1.5, -2.0, 1], [0.0, 0.0, 0]]


def test_serialize_leaves_defaults_out_but_keeps_the_seeds():
    assert urlstate.serialize(ui_table.defaults()) == "data=circle&dseed=0&seed=1"


def test_weights_ride_along_exactly():
    doc = parse_document({"layers": [2, 3, 1], "seed": 11, "init": "xavier"})
    weights = {"weights": [w.tolist() for w in doc["weights"]],
               "biases": [[0.1, -0.25, 1e-17], [3.0]]}
    text = urlstate.encode_weights(weights)
    state = urlstate.parse({"h": "3", "w": text})
    assert state.model["weights"] == weights["weights"]
    assert state.model["biases"] == weights["biases"]
    parse_document(state.model)


def test_unreadable_weights_are_ignored_with_a_note():
    state = urlstate.parse({"w": "!!!not-base64"})
    assert "weights" not in state.model
    assert state.view["url_errors"][0].startswith("w: not readable weights")
