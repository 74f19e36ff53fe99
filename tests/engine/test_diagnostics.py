"""engine/diagnostics.py: saturated units, dead ReLUs and gradient norms, on hand-made
activations and networks (the numbers worked out in the comments), and the gradient norms
against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Network
from engine.diagnostics import (
    dead_units,
    diagnose,
    gradient_norms,
    gradient_problem,
    saturated_units,
)

X = np.array([[0.5, -1.0], [1.0, 2.0], [-2.0, 0.3], [0.1, 0.1]])
Y = np.array([[1.0], [0.0], [1.0], [0.0]])


def test_a_tanh_unit_saturated_on_more_than_90_percent_of_the_points():
    a = np.zeros((10, 3))
    a[:, 0] = [0.99, -0.98] * 5          # 10 of 10 beyond 0.97: saturated
    a[:9, 1] = 0.975                     # 9 of 10 (90 %, not more): not reported
    a[:, 2] = 0.97                       # at 0.97 exactly, not beyond: not saturated
    assert saturated_units("tanh", a) == [0]
    assert saturated_units("relu", a) == []  # relu does not saturate at both ends


def test_a_sigmoid_unit_saturates_near_0_and_near_1():
    a = np.array([[0.01, 0.5], [0.995, 0.5], [0.02, 0.99]])
    assert saturated_units("sigmoid", a) == [0]


def test_a_dead_relu_is_zero_for_every_point():
    a = np.array([[0.0, 0.0, 1.0], [0.0, 0.3, 0.0]])
    assert dead_units("relu", a) == [0]
    assert dead_units("tanh", a) == []


@pytest.mark.parametrize("norms, problem", [
    ([1e-5, 1e-2, 1.0], "vanishing"),   # 1e-5 < 1e-3 * 1.0
    ([2e-3, 1e-2, 1.0], None),
    ([1e-5, 1.0], None),                 # two layers: too shallow to say
    ([1.0, 2000.0], "exploding"),
    ([float("nan"), 1.0], "exploding"),
])
def test_gradient_problems(norms, problem):
    assert gradient_problem(norms) == problem


def test_gradient_norms_match_central_differences():
    net = Network.from_dict({"layers": [2, 3, 2, 1], "activation": "tanh",
                             "output_activation": "sigmoid", "loss": "binary_cross_entropy",
                             "seed": 4})
    eps = 1e-6
    want = []
    for W in net.weights:
        g = np.zeros_like(W)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                w = W[i, j]
                W[i, j] = w + eps
                up = net.objective(X, Y)
                W[i, j] = w - eps
                down = net.objective(X, Y)
                W[i, j] = w
                g[i, j] = (up - down) / (2 * eps)
        want.append(np.sqrt((g ** 2).sum()))
    np.testing.assert_allclose(gradient_norms(net, X, Y), want, rtol=1e-6)


def test_diagnose_names_the_saturated_and_dead_units():
    # Hidden unit 1 of a tanh layer gets weights of 50: |z| >= 50 * 0.2 = 10 on every
    # point (|x1 + x2| >= 0.2 for X), tanh(10) = 0.99999999: saturated; unit 2 does not.
    net = Network.from_dict({"layers": [2, 2, 1], "activation": "tanh",
                             "output_activation": "sigmoid", "loss": "binary_cross_entropy",
                             "weights": [[[50.0, 0.1], [50.0, 0.1]], [[1.0], [1.0]]],
                             "biases": [[0.0, 0.0], [0.0]]})
    d = diagnose(net, X, Y)
    assert [(w["kind"], w["layer"], w["units"]) for w in d["warnings"]] == [
        ("saturated", 1, [0])]
    assert d["warnings"][0]["message"].startswith("Unit 1 of hidden layer 1 is saturated")
    assert len(d["grad_norms"]) == 2
    # A relu layer whose second unit has a bias of -100: z <= 2 * 2 - 100 < 0 everywhere.
    net = Network.from_dict({"layers": [2, 2, 1], "activation": "relu",
                             "output_activation": "sigmoid", "loss": "binary_cross_entropy",
                             "weights": [[[1.0, 1.0], [1.0, 1.0]], [[1.0], [1.0]]],
                             "biases": [[0.0, -100.0], [0.0]]})
    kinds = [(w["kind"], w["units"]) for w in diagnose(net, X, Y)["warnings"]]
    assert kinds == [("dead", [1])]


def test_a_healthy_network_has_no_warnings():
    net = Network.from_dict({"layers": [2, 4, 2, 1], "activation": "tanh",
                             "output_activation": "sigmoid", "loss": "binary_cross_entropy",
                             "seed": 1})
    assert diagnose(net, X, Y)["warnings"] == []
