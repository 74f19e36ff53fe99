"""Analytic gradients against central differences for every activation x loss pairing.

Points are chosen away from kinks (relu/leaky at z = 0, |w| = 0 for L1, y = t for mae,
|y - t| = delta for huber, t y = 1 for hinge): a seed is kept only when every such
distance exceeds MARGIN, far more than the 1e-6 perturbation can move it.
"""

import numpy as np
import pytest

from engine import Network
from engine.activations import HIDDEN_ACTIVATIONS
from engine.gradcheck import gradient_check
from engine.losses import LOSSES

MARGIN = 1e-3
PAIRS = [(act, loss) for loss, spec in LOSSES.items() for act in spec.accepts]
KINKED = {"relu", "leaky_relu"}


def _targets(loss, output, rng, n, k):
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "binary_cross_entropy" or output == "sigmoid":
        return rng.integers(0, 2, (n, k)).astype(float)
    if loss == "hinge":
        return rng.choice([-1.0, 1.0], (n, k))
    return rng.normal(0.0, 0.8, (n, k))


def _far_from_kinks(net, X, T, hidden, loss, reg):
    trace = net.forward(X)
    y = trace.activations[-1]
    gaps = [np.inf]
    if hidden in KINKED:
        gaps += [np.abs(z).min() for z in trace.pre_activations[:-1]]
    if reg == "l1":
        gaps.append(min(np.abs(w).min() for w in net.weights))
    if loss == "mae":
        gaps.append(np.abs(y - T).min())
    if loss == "huber":
        gaps.append(np.abs(np.abs(y - T) - 1.0).min())
    if loss == "hinge":
        gaps.append(np.abs(1.0 - T * y).min())
    return min(gaps) > MARGIN


def _case(hidden, output, loss, reg):
    n_out = 3 if output == "softmax" else 2
    layers = [3, 4, 3, n_out]
    for seed in range(200):
        rng = np.random.default_rng(seed)
        doc = {"layers": layers, "activation": hidden, "output_activation": output,
               "loss": loss, "regularization": {"name": reg, "rate": 0.05},
               "weights": [rng.normal(0, 0.9, (a, b)).tolist() for a, b in
                           zip(layers, layers[1:], strict=False)],
               "biases": [rng.normal(0, 0.5, b).tolist() for b in layers[1:]]}
        net = Network.from_dict(doc)
        X = rng.normal(0, 1.0, (5, 3))
        T = _targets(loss, output, rng, 5, n_out)
        if _far_from_kinks(net, X, T, hidden, loss, reg):
            return net, X, T
    raise AssertionError("no seed gave a point away from the kinks")


@pytest.mark.parametrize("reg", ["none", "l1", "l2"])
@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_gradient_matches_central_differences(hidden, output, loss, reg):
    net, X, T = _case(hidden, output, loss, reg)
    before = net.params.copy()
    worst, details = gradient_check(net, X, T)
    assert worst <= 1e-6, max(details, key=lambda d: d["relative_error"])
    assert len(details) == net.params.size
    np.testing.assert_array_equal(net.params, before)


def test_pairs_cover_every_output_and_loss():
    assert {o for o, _ in PAIRS} == {"linear", "sigmoid", "tanh", "softmax"}
    assert {loss for _, loss in PAIRS} == set(LOSSES)
    assert len(PAIRS) == 20


def test_per_layer_activations_and_huber_delta():
    rng = np.random.default_rng(3)
    net = Network.from_dict({"layers": [2, 3, 3, 3, 1], "activation": "tanh",
                             "layer_activations": ["silu", None, "softplus"],
                             "output_activation": "linear", "loss": "huber",
                             "loss_params": {"delta": 0.25}, "init": "xavier", "seed": 5,
                             "biases": [rng.normal(size=3).tolist(), rng.normal(size=3).tolist(),
                                        rng.normal(size=3).tolist(), [0.1]]})
    assert net.layer_activation_names == ["silu", "tanh", "softplus", "linear"]
    X, T = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    worst, _ = gradient_check(net, X, T)
    assert worst <= 1e-6


def test_cross_entropy_accepts_class_indices():
    net, X, T = _case("tanh", "softmax", "cross_entropy", "none")
    labels = T.argmax(axis=1)[:, None]
    loss_a, grads_a = net.loss_and_gradients(X, T)
    loss_b, grads_b = net.loss_and_gradients(X, labels)
    assert loss_a == loss_b
    for ga, gb in zip(grads_a["weights"], grads_b["weights"], strict=True):
        np.testing.assert_array_equal(ga, gb)


def test_gradient_check_reports_a_wrong_gradient():
    net, X, T = _case("tanh", "linear", "mse", "none")
    true_gradient = net.flat_gradient

    def broken(X, Y):
        loss, grad = true_gradient(X, Y)
        grad = grad.copy()
        grad[0] *= 1.01
        return loss, grad

    net.flat_gradient = broken
    worst, details = gradient_check(net, X, T)
    assert worst > 1e-3 and details[0]["parameter"] == "weights[0][0][0]"


def test_gradient_check_can_sample_evenly_spaced_parameters():
    net = Network.from_dict({"layers": [2, 16, 16, 1], "activation": "tanh", "seed": 4})
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = np.random.default_rng(1).normal(size=(8, 1))
    worst, details = gradient_check(net, X, Y, most=10)
    assert len(details) == 10
    assert details[0]["parameter"] == "weights[0][0][0]"
    assert details[-1]["parameter"] == "biases[2][0]"  # the last parameter of the vector
    assert worst < 1e-6
    full_worst, full = gradient_check(net, X, Y)
    assert len(full) == net.params.size == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert worst <= full_worst


def test_gradient_check_stops_when_asked_with_what_it_checked():
    net = Network.from_dict({"layers": [2, 16, 16, 1], "activation": "tanh", "seed": 4})
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = np.random.default_rng(1).normal(size=(8, 1))
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 12  # asked once before each parameter: 12 are checked

    before = net.params.copy()
    worst, details = gradient_check(net, X, Y, should_stop=should_stop)
    assert len(details) == 12 and len(asked) == 13
    np.testing.assert_array_equal(net.params, before)  # left unchanged
    _, full = gradient_check(net, X, Y)
    by_name = {d["parameter"]: d for d in full}
    for d in details:  # the same numbers as a whole check gives for those parameters
        assert d == by_name[d["parameter"]]
    assert worst == max(d["relative_error"] for d in details)
    # The 12 are spread over the vector, not its first 12 (all of weights[0]).
    names = [d["parameter"] for d in details]
    assert names == sorted(names, key=[d["parameter"] for d in full].index)
    assert any(n.startswith("weights[1]") for n in names)
    assert any(n.startswith("weights[2]") or n.startswith("biases[2]") for n in names)


def test_gradient_check_stopped_at_once_checks_nothing():
    net = Network.from_dict({"layers": [2, 3, 1], "seed": 1})
    X, Y = np.ones((2, 2)), np.ones((2, 1))
    worst, details = gradient_check(net, X, Y, should_stop=lambda: True)
    assert (worst, details) == (0.0, [])


def test_spread_order_is_a_permutation_whose_prefixes_spread():
    from engine.gradcheck import spread_order

    assert spread_order(8).tolist() == [0, 4, 2, 6, 1, 5, 3, 7]
    for m in (0, 1, 2, 5, 13, 1292):
        assert sorted(spread_order(m).tolist()) == list(range(m))
    first = spread_order(1292)[:16]
    assert first.min() == 0 and first.max() > 1292 * 0.9  # both ends of the vector early
