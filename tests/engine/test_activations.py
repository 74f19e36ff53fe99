"""Activations against scalar references from the math module and central differences."""

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: max(x, 0.0),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "elu": lambda x: x if x > 0 else math.exp(x) - 1.0,
    "tanh": math.tanh,
    "sigmoid": _sig,
    "softplus": lambda x: math.log(1.0 + math.exp(x)),
    "silu": lambda x: x * _sig(x),
}

Z = np.array([[-3.1, -0.7, -0.01], [0.02, 0.9, 2.6]])


def test_registry_names():
    assert HIDDEN_ACTIVATIONS == ("linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid",
                                  "softplus", "silu")
    assert set(OUTPUT_ACTIVATIONS) == {"linear", "sigmoid", "tanh", "softmax"}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_value_matches_scalar_reference(name):
    got = ACTIVATIONS[name].fn(Z)
    want = np.vectorize(REFERENCE[name])(Z)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_derivative_matches_central_difference(name):
    act, h = ACTIVATIONS[name], 1e-6
    numeric = np.vectorize(lambda x: (REFERENCE[name](x + h) - REFERENCE[name](x - h)) / (2 * h))
    got = act.grad(Z, act.fn(Z))
    np.testing.assert_allclose(got, numeric(Z), rtol=1e-8, atol=1e-9)


def test_stable_at_extremes():
    z = np.array([[-1000.0, 1000.0]])
    assert ACTIVATIONS["sigmoid"].fn(z).tolist() == [[0.0, 1.0]]
    assert ACTIVATIONS["softplus"].fn(z).tolist() == [[0.0, 1000.0]]
    assert ACTIVATIONS["elu"].fn(z).tolist() == [[-1.0, 1000.0]]
    assert np.allclose(ACTIVATIONS["softmax"].fn(z), [[0.0, 1.0]])


def test_softmax_rows_are_distributions():
    a = ACTIVATIONS["softmax"].fn(Z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-15)
    e = np.exp(Z[0])
    np.testing.assert_allclose(a[0], e / e.sum(), rtol=1e-14)


def test_softmax_backward_is_jacobian_transpose():
    act, h = ACTIVATIONS["softmax"], 1e-6
    z, g = Z[:1], np.array([[0.3, -1.2, 0.5]])
    numeric = np.empty(3)
    for k in range(3):
        up, down = z.copy(), z.copy()
        up[0, k] += h
        down[0, k] -= h
        numeric[k] = ((act.fn(up) - act.fn(down)) @ g[0])[0] / (2 * h)
    np.testing.assert_allclose(act.backward(z, act.fn(z), g)[0], numeric, rtol=1e-8)


def test_elementwise_backward_is_grad_times_upstream():
    act = ACTIVATIONS["tanh"]
    a = act.fn(Z)
    np.testing.assert_array_equal(act.backward(Z, a, 2.0 * np.ones_like(Z)), 2.0 * (1 - a * a))
