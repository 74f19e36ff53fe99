"""The model document: defaults, exact round trips through JSON text, malformed documents."""

import json
import math

import numpy as np
import pytest

from engine import IncompatibleError, ModelDocumentError, Network
from engine.document import FIELD_NAMES, FORMAT, parse_document

FULL = {"layers": [2, 4, 3, 2], "activation": "relu", "layer_activations": ["elu", None],
        "output_activation": "softmax", "loss": "cross_entropy",
        "optimizer": {"name": "adam", "learning_rate": 0.01, "betas": [0.8, 0.99]},
        "regularization": {"name": "l2", "rate": 0.001}, "init": "he", "seed": 42}


def _trained(doc):
    net = Network.from_dict(doc)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, net.n_inputs))
    Y = np.eye(net.n_outputs)[rng.integers(0, net.n_outputs, 12)]
    net.train_epoch(X, Y, 4)
    return net


def test_defaults():
    doc = Network.from_dict({}).to_dict()
    assert doc["format"] == FORMAT
    assert doc["layers"] == [2, 4, 2, 1]
    assert (doc["activation"], doc["output_activation"], doc["loss"]) == ("tanh", "tanh", "mse")
    assert doc["layer_activations"] is None and doc["loss_params"] == {}
    assert doc["optimizer"] == {"name": "sgd", "learning_rate": 0.03, "weight_decay": 0.0}
    assert doc["regularization"] == {"name": "none", "rate": 0.0}
    assert (doc["init"], doc["seed"], doc["optimizer_state"]) == ("uniform", 0, None)
    assert doc["biases"] == [[0.0] * 4, [0.0] * 2, [0.0]]
    assert all(-0.5 <= w < 0.5 for m in doc["weights"] for row in m for w in row)
    assert tuple(doc) == FIELD_NAMES


def test_round_trip_through_json_text_is_bit_identical():
    net = _trained(FULL)
    doc = net.to_dict()
    assert doc["optimizer_state"]["step"] == 3
    assert set(doc["optimizer_state"]) == {"step", "exp_avg", "exp_avg_sq"}
    text = json.dumps(doc)
    again = Network.from_dict(json.loads(text))
    assert json.dumps(again.to_dict()) == text
    assert again.params.tobytes() == net.params.tobytes()
    for k, v in net.optimizer.state.items():
        assert again.optimizer.state[k].tobytes() == v.tobytes()


def test_round_trip_continues_training_identically():
    net = _trained(FULL)
    twin = Network.from_dict(json.loads(json.dumps(net.to_dict())))
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(5, 2)), np.eye(2)[rng.integers(0, 2, 5)]
    assert net.train_step(X, Y).to_dict() == twin.train_step(X, Y).to_dict()


def test_every_float_is_a_python_float():
    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert type(value) in (str, int, float, bool, type(None)), type(value)
    walk(_trained(FULL).to_dict())
    walk(_trained(FULL).train_step([[0.1, 0.2]], [[1.0, 0.0]]).to_dict())


def test_huber_delta_and_layer_activations_survive():
    doc = Network.from_dict({"layers": [2, 3, 3, 1], "loss": "huber", "output_activation":
                             "linear", "loss_params": {"delta": 0.5},
                             "layer_activations": [None, "silu"]}).to_dict()
    assert doc["loss_params"] == {"delta": 0.5}
    assert doc["layer_activations"] == [None, "silu"]
    assert Network.from_dict({"loss": "huber", "output_activation": "linear"}).to_dict()[
        "loss_params"] == {"delta": 1.0}


def test_same_seed_same_weights_and_different_seed_different_weights():
    for init in ("uniform", "xavier", "he"):
        a = Network.from_dict({"init": init, "seed": 7})
        b = Network.from_dict({"init": init, "seed": 7})
        c = Network.from_dict({"init": init, "seed": 8})
        assert a.params.tobytes() == b.params.tobytes()
        assert not np.array_equal(a.params, c.params)
    assert not Network.from_dict({"init": "zeros"}).params.any()


def test_init_schemes_draw_from_their_distributions():
    layers = [64, 64, 64]
    xavier = Network.from_dict({"layers": layers, "init": "xavier"}).weights[0]
    assert np.abs(xavier).max() <= math.sqrt(6 / 128)
    assert np.abs(xavier).max() > 0.9 * math.sqrt(6 / 128)
    he = Network.from_dict({"layers": layers, "init": "he", "seed": 3}).weights[0]
    assert he.std() == pytest.approx(math.sqrt(2 / 64), rel=0.05)
    uniform = Network.from_dict({"layers": layers, "seed": 3}).weights[1]
    assert uniform.min() >= -0.5 and uniform.max() < 0.5 and uniform.std() > 0.27
    assert not Network.from_dict({"layers": layers, "init": "he"}).biases[0].any()


def test_the_issue_example_loads():
    doc = {"layers": [2, 4, 2, 1], "activation": "tanh", "output_activation": "tanh",
           "loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.01},
           "regularization": {"name": "l2", "rate": 0.001}, "init": "xavier", "seed": 42}
    net = Network.from_dict(doc)
    assert net.to_dict()["optimizer"] == {"name": "adam", "learning_rate": 0.01,
                                          "betas": [0.9, 0.999], "eps": 1e-8,
                                          "weight_decay": 0.0}


W_SHORT = [[[1, 2, 3, 4], [1, 2, 3, 4]], [[1, 2], [1], [1, 2], [1, 2]], [[1]] * 2]
BAD = [
    ({"layers": [2, 4, 0, 1]}, "layers[2]: expected an integer from 1 to 64, got 0"),
    ({"layers": [2, 65, 1]}, "layers[1]: expected an integer from 1 to 64, got 65"),
    ({"layers": [2, 4.5, 1]}, "layers[1]: expected an integer from 1 to 64, got 4.5"),
    ({"layers": [2, True, 1]}, "layers[1]: expected an integer from 1 to 64, got true"),
    ({"layers": [2]}, "layers: expected 2 to 12 layer sizes (input, 0 to 10 hidden, output), "
                      "got 1"),
    ({"layers": [2] + [3] * 12}, "layers: expected 2 to 12 layer sizes (input, 0 to 10 "
                                 "hidden, output), got 13"),
    ({"activation": "foo"}, "activation: unknown activation 'foo' (choose from linear, relu, "
                            "leaky_relu, elu, tanh, sigmoid, softplus, silu)"),
    ({"activation": 3}, "activation: expected activation name, got 3"),
    ({"output_activation": "relu"}, "output_activation: unknown output activation 'relu' "
                                    "(choose from linear, tanh, sigmoid, softmax)"),
    ({"layer_activations": ["relu"]}, "layer_activations: expected 2 entries (one per hidden "
                                      "layer), got 1"),
    ({"layer_activations": ["relu", "softmax"]}, "layer_activations[1]: unknown activation "
     "'softmax' (choose from linear, relu, leaky_relu, elu, tanh, sigmoid, softplus, silu)"),
    ({"loss": "l3"}, "loss: unknown loss 'l3' (choose from mse, sse, mae, huber, "
                     "binary_cross_entropy, cross_entropy, hinge)"),
    ({"loss_params": {"delta": 2}}, "loss_params.delta: unknown parameter 'delta' for mse "
                                    "(it takes none)"),
    ({"loss": "huber", "loss_params": {"delta": 0}},
     "loss_params.delta: expected a positive number, got 0"),
    ({"optimizer": {"learning_rate": 0.1}},
     'optimizer.name: missing (an object with a name, e.g. {"name": "sgd"})'),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name: unknown optimizer 'lbfgs' (choose from "
                                       "sgd, momentum, nesterov, rmsprop, adam, adamw)"),
    ({"optimizer": {"name": "sgd", "betas": [0.9, 0.99]}}, "optimizer.betas: unknown "
     "hyperparameter 'betas' for sgd (choose from name, learning_rate, weight_decay)"),
    ({"optimizer": {"name": "sgd", "learning_rate": -1}},
     "optimizer.learning_rate: expected a positive number, got -1"),
    ({"optimizer": {"name": "adam", "betas": [0.9, 1.0]}},
     "optimizer.betas[1]: expected a number in [0, 1), got 1.0"),
    ({"optimizer": {"name": "adam", "betas": [0.9]}},
     "optimizer.betas: expected 2 numbers, got 1"),
    ({"optimizer": {"name": "momentum", "momentum": 1.5}},
     "optimizer.momentum: expected a number in [0, 1), got 1.5"),
    ({"regularization": {"name": "l3"}}, "regularization.name: unknown regularization 'l3' "
                                         "(choose from none, l1, l2)"),
    ({"regularization": {"name": "l1", "rate": -0.1}},
     "regularization.rate: expected a number in [0, inf], got -0.1"),
    ({"regularization": {"name": "l1", "strength": 1}}, "regularization.strength: unknown key "
     "'strength' (choose from name, rate)"),
    ({"init": "glorot"}, "init: unknown init scheme 'glorot' (choose from uniform, xavier, "
                         "he, zeros)"),
    ({"seed": -1}, "seed: expected an integer from 0 to 9223372036854775807, got -1"),
    ({"seed": "1"}, "seed: expected an integer from 0 to 9223372036854775807, got '1'"),
    ({"weights": W_SHORT}, "weights[1][1]: expected 2 values, got 1"),
    ({"weights": W_SHORT[:2]}, "weights: expected 3 matrices (one per layer pair), got 2"),
    ({"weights": [W_SHORT[0][:1]] + W_SHORT[1:]}, "weights[0]: expected 2 rows, got 1"),
    ({"weights": [[[1, 2, 3, float("nan")], [1, 2, 3, 4]]] + W_SHORT[1:]},
     "weights[0][0][3]: expected a finite number, got nan"),
    ({"weights": [[[1, 2, 3, "4"], [1, 2, 3, 4]]] + W_SHORT[1:]},
     "weights[0][0][3]: expected a finite number, got '4'"),
    ({"biases": [[0] * 4, [0, float("inf")], [0]]},
     "biases[1][1]: expected a finite number, got inf"),
    ({"biases": [[0] * 4, [0, 0], 5]}, "biases[2]: expected a list of 1 values, got 5"),
    ({"format": "nnplay.model/2"}, "format: expected 'nnplay.model/1', got 'nnplay.model/2'"),
    ({"optimizer": {"name": "adam"}, "optimizer_state": {"step": 2}},
     "optimizer_state.exp_avg: missing (needed after step 2)"),
    ({"optimizer_state": {"step": 1, "momentum_buffer": {}}},
     "optimizer_state.momentum_buffer: unknown entry 'momentum_buffer' for sgd "
     "(choose from step)"),
    ({"colour": "red"}, "colour: unknown field (choose from format, layers, activation, "
                        "layer_activations, output_activation, loss, loss_params, optimizer, "
                        "regularization, init, seed, weights, biases, optimizer_state)"),
]


@pytest.mark.parametrize(("doc", "message"), BAD)
def test_malformed_documents_name_the_field(doc, message):
    with pytest.raises(ModelDocumentError) as info:
        Network.from_dict(doc)
    assert str(info.value) == message
    assert message.startswith(info.value.field + ": ")
    assert isinstance(info.value, ValueError)


def test_malformed_optimizer_state_buffer():
    doc = _trained(FULL).to_dict()
    doc["optimizer_state"]["exp_avg"]["biases"][1] = [0.0]
    with pytest.raises(ModelDocumentError) as info:
        Network.from_dict(doc)
    assert str(info.value) == "optimizer_state.exp_avg.biases[1]: expected 3 values, got 1"


def test_senseless_pairings_are_incompatible():
    with pytest.raises(IncompatibleError) as info:
        Network.from_dict({"loss": "cross_entropy"})
    assert info.value.field == "loss" and "softmax" in info.value.message
    with pytest.raises(IncompatibleError, match="softmax needs at least 2 outputs"):
        Network.from_dict({"output_activation": "softmax"})
    with pytest.raises(IncompatibleError, match="sigmoid"):
        Network.from_dict({"loss": "binary_cross_entropy", "output_activation": "tanh"})


def test_document_must_be_an_object():
    with pytest.raises(ModelDocumentError, match="document: expected an object, got a list"):
        parse_document([1, 2])
