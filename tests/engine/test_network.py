"""Network: flat parameter layout, forward, traced steps against their own equations, edits."""

import json

import numpy as np
import pytest

from engine import EngineError, ModelDocumentError, Network
from engine.losses import encode_targets

DOC = {"layers": [3, 4, 2, 2], "activation": "tanh", "output_activation": "softmax",
       "loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.05},
       "regularization": {"name": "l2", "rate": 0.01}, "init": "xavier", "seed": 9}
RNG = np.random.default_rng(11)
X = RNG.normal(size=(6, 3))
Y = encode_targets("cross_entropy", "softmax", RNG.integers(0, 2, 6), 2)

TRACE_KEYS = {"inputs", "targets", "layers", "loss", "regularization", "gradients",
              "regularization_gradients", "update"}
UPDATE_KEYS = {"optimizer", "hyperparameters", "step", "weights_before", "biases_before",
               "weights_after", "biases_after", "state_before", "state_after",
               "gradients_used"}


def test_parameters_are_views_of_one_flat_vector():
    net = Network.from_dict(DOC)
    layout = net.layout
    assert net.params.dtype == np.float64 and net.params.flags.c_contiguous
    assert layout.size == 3 * 4 + 4 + 4 * 2 + 2 + 2 * 2 + 2 == net.params.size
    assert layout.offsets.tolist() == [[0, 12], [16, 24], [26, 30]]
    assert layout.sizes.tolist() == [3, 4, 2, 2]
    assert layout.weight_mask.tolist() == [1.0] * 12 + [0.0] * 4 + [1.0] * 8 + [0.0] * 2 + \
        [1.0] * 4 + [0.0] * 2
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        assert np.shares_memory(W, net.params) and np.shares_memory(b, net.params)
        w0, b0 = layout.offsets[l]
        assert W[1, 0] == net.params[w0 + W.shape[1]] and b[-1] == net.params[b0 + b.size - 1]
    assert layout.name(13) == "biases[0][1]" and layout.name(19) == "weights[1][1][1]"


def test_forward_computes_each_layer():
    net = Network.from_dict(DOC)
    trace = net.forward(X)
    assert len(trace.activations) == 4 and len(trace.pre_activations) == 3
    assert trace.activations[0] is not None and np.array_equal(trace.activations[0], X)
    a = X
    for W, b, z, out, name in zip(net.weights, net.biases, trace.pre_activations,
                                  trace.activations[1:], net.layer_activation_names,
                                  strict=True):
        np.testing.assert_allclose(z, a @ W + b, rtol=1e-15)
        a = np.tanh(z) if name == "tanh" else np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(out, a, rtol=1e-14)
    np.testing.assert_array_equal(net.predict(X), trace.activations[-1])
    json.dumps(trace.to_dict())


def test_trace_holds_every_equation():
    net = Network.from_dict(DOC)
    trace = net.train_step(X, Y)
    doc = json.loads(json.dumps(trace.to_dict()))
    assert set(doc) == TRACE_KEYS and set(doc["update"]) == UPDATE_KEYS
    assert set(doc["loss"]) == {"name", "per_sample", "data", "regularization", "total"}
    assert doc["regularization"] == {"name": "l2", "rate": 0.01}
    assert doc["update"]["optimizer"] == "adam" and doc["update"]["step"] == 1
    assert doc["update"]["hyperparameters"]["betas"] == [0.9, 0.999]
    assert set(doc["update"]["state_after"]) == {"exp_avg", "exp_avg_sq"}
    layers = doc["layers"]
    assert [layer.get("activation") for layer in layers] == [None, "tanh", "tanh", "softmax"]
    for l in range(3):
        a_prev, W = np.array(layers[l]["a"]), np.array(doc["update"]["weights_before"][l])
        b = np.array(doc["update"]["biases_before"][l])
        np.testing.assert_allclose(layers[l + 1]["z"], a_prev @ W + b, rtol=1e-14)
        # dL/dw = sum_s a_prev * delta + regularization gradient (l2: rate * w)
        delta = np.array(layers[l + 1]["delta"])
        reg = np.array(doc["regularization_gradients"]["weights"][l])
        np.testing.assert_allclose(reg, 0.01 * W, rtol=1e-15)
        np.testing.assert_allclose(doc["gradients"]["weights"][l], a_prev.T @ delta + reg,
                                   rtol=1e-13, atol=1e-17)
        np.testing.assert_allclose(doc["gradients"]["biases"][l], delta.sum(axis=0),
                                   rtol=1e-13, atol=1e-17)
    loss = doc["loss"]
    assert loss["data"] == pytest.approx(np.mean(loss["per_sample"]), rel=1e-15)
    penalty = 0.5 * 0.01 * sum((np.array(w) ** 2).sum() for w in doc["update"]["weights_before"])
    assert loss["regularization"] == pytest.approx(penalty, rel=1e-14)
    assert loss["total"] == loss["data"] + loss["regularization"]
    np.testing.assert_array_equal(np.array(doc["update"]["weights_after"][1]), net.weights[1])


def test_sgd_trace_update_rule():
    net = Network.from_dict({**DOC, "optimizer": {"name": "sgd", "learning_rate": 0.2}})
    doc = net.train_step(X, Y).to_dict()
    update, grads = doc["update"], doc["gradients"]
    for key in ("weights", "biases"):
        for before, grad, after in zip(update[f"{key}_before"], grads[key],
                                       update[f"{key}_after"], strict=True):
            # new = old - learning_rate * gradient, parameter by parameter
            np.testing.assert_array_equal(after, np.array(before) - 0.2 * np.array(grad))
    assert update["state_before"] == {} and update["state_after"] == {}
    assert update["hyperparameters"] == {"learning_rate": 0.2, "weight_decay": 0.0}


def test_loss_and_gradients_agree_with_the_step():
    net = Network.from_dict(DOC)
    loss, grads = net.loss_and_gradients(X, Y)
    trace = net.train_step(X, Y)
    assert loss == trace.total_loss
    g = trace.to_dict()["gradients"]
    for l in range(3):
        assert grads["weights"][l].shape == net.weights[l].shape
        assert grads["weights"][l].tolist() == g["weights"][l]
        assert grads["biases"][l].tolist() == g["biases"][l]


def test_train_epoch_equals_its_steps_in_order():
    net, twin = Network.from_dict(DOC), Network.from_dict(DOC)
    X_all = np.random.default_rng(5).normal(size=(23, 3))
    Y_all = encode_targets("cross_entropy", "softmax", np.arange(23) % 2, 2)
    mean = net.train_epoch(X_all, Y_all, 5)
    losses = [twin.train_step(X_all[s:s + 5], Y_all[s:s + 5]).total_loss * len(X_all[s:s + 5])
              for s in range(0, 23, 5)]
    # train_epoch runs the compiled kernel: equal to rounding, not bit for bit (BLAS and
    # NumPy's SIMD tanh round differently; tests/engine/test_fastpath.py has the details).
    np.testing.assert_allclose(net.params, twin.params, rtol=1e-12, atol=0)
    assert net.optimizer.step == twin.optimizer.step == 5
    assert mean == pytest.approx(sum(losses) / 23, rel=1e-15)


def test_same_document_same_run():
    runs = []
    for _ in range(2):
        net = Network.from_dict(DOC)
        net.train_epoch(X, Y, 2)
        runs.append(json.dumps(net.train_step(X, Y).to_dict()))
    assert runs[0] == runs[1]


def test_training_reduces_the_loss():
    net = Network.from_dict(DOC)
    first = net.train_epoch(X, Y, 6)
    for _ in range(100):
        last = net.train_epoch(X, Y, 6)
    assert last < 0.5 * first


def test_set_weight_and_bias():
    net = Network.from_dict(DOC)
    net.set_weight(1, 3, 0, 0.75)
    net.set_bias(2, 1, -0.25)
    assert net.weights[1][3, 0] == 0.75 and net.params[net.layout.offsets[1][0] + 6] == 0.75
    assert net.biases[2][1] == -0.25
    assert net.to_dict()["weights"][1][3][0] == 0.75


@pytest.mark.parametrize(("call", "message"), [
    (lambda n: n.set_weight(3, 0, 0, 1.0), "layer: expected an integer from 0 to 2, got 3"),
    (lambda n: n.set_weight(0, 3, 0, 1.0), "from: expected an integer from 0 to 2, got 3"),
    (lambda n: n.set_weight(0, 0, 4, 1.0), "to: expected an integer from 0 to 3, got 4"),
    (lambda n: n.set_weight(0, 0, 0, float("nan")), "value: expected a finite number, got nan"),
    (lambda n: n.set_weight(0, 0, 0, "1"), "value: expected a finite number, got '1'"),
    (lambda n: n.set_bias(1, 2, 0.0), "neuron: expected an integer from 0 to 1, got 2"),
    (lambda n: n.set_bias(-1, 0, 0.0), "layer: expected an integer from 0 to 2, got -1"),
    (lambda n: n.set_bias(0, 0, float("inf")), "value: expected a finite number, got inf"),
    (lambda n: n.set_learning_rate(0), "learning_rate: expected a positive number, got 0"),
    (lambda n: n.set_regularization("l3", 0.1), "regularization: unknown regularization 'l3' "
                                                "(choose from none, l1, l2)"),
    (lambda n: n.set_regularization("l1", -1), "regularization_rate: expected a number >= 0, "
                                               "got -1.0"),
])
def test_edits_are_validated(call, message):
    net = Network.from_dict(DOC)
    before = net.to_dict()
    with pytest.raises(ModelDocumentError) as info:
        call(net)
    assert str(info.value) == message
    assert net.to_dict() == before


def test_bad_data_shapes():
    net = Network.from_dict(DOC)
    with pytest.raises(EngineError, match=r"inputs: expected shape \(n, 3\), got \(6, 2\)"):
        net.forward(X[:, :2])
    with pytest.raises(EngineError, match=r"targets: expected shape \(6, 2\), got \(6, 3\)"):
        net.train_step(X, np.zeros((6, 3)))


def test_settings_are_reported():
    net = Network.from_dict({**DOC, "layer_activations": [None, "relu"]})
    assert net.layer_activation_names == ["tanh", "relu", "softmax"]
    assert (net.n_layers, net.n_inputs, net.n_outputs) == (4, 3, 2)
    assert (net.loss, net.output_activation, net.learning_rate) == ("cross_entropy", "softmax",
                                                                    0.05)
    net.set_learning_rate(0.5)
    net.set_regularization("l1", 0.2)
    doc = net.to_dict()
    assert doc["optimizer"]["learning_rate"] == 0.5
    assert doc["regularization"] == {"name": "l1", "rate": 0.2}
    assert net.copy().to_dict() == doc


def test_no_hidden_layer_and_many_layers():
    linear = Network.from_dict({"layers": [2, 1], "output_activation": "linear"})
    assert linear.train_step([[1.0, 2.0]], [[0.5]]).to_dict()["layers"][1]["activation"] == \
        "linear"
    deep = Network.from_dict({"layers": [7] + [64] * 10 + [5], "output_activation": "softmax",
                              "loss": "cross_entropy", "init": "he"})
    trace = deep.train_step(np.ones((3, 7)), np.eye(5)[[0, 1, 2]])
    assert len(trace.to_dict()["layers"]) == 12
