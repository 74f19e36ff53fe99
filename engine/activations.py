"""Activation functions: each one's value and derivative side by side, in one registry.

`fn(z)` maps pre-activations to activations; `grad(z, a)` is the elementwise
derivative da/dz given both z and a = fn(z) (whichever is cheaper). Softmax is not
elementwise: it has no `grad`, and `backward` applies its Jacobian instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable[[Array], Array]
    grad: Callable[[Array, Array], Array] | None
    hidden: bool  # usable in hidden layers
    output: bool  # usable in the output layer

    def backward(self, z: Array, a: Array, g: Array) -> Array:
        """dL/dz from dL/da = g (shapes (n, k)), through this activation."""
        if self.grad is None:
            return _softmax_backward(a, g)
        return g * self.grad(z, a)


def _sigmoid(z: Array) -> Array:
    # tanh form: no overflow for any z, exact 0.5 at 0.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_backward(a: Array, g: Array) -> Array:
    # J^T g with J = diag(a) - a a^T, row by row.
    return a * (g - (g * a).sum(axis=1, keepdims=True))


def _silu_grad(z: Array, a: Array) -> Array:
    s = _sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", lambda z: z, lambda z, a: np.ones_like(z), True, True),
        Activation("relu", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype),
                   True, False),
        Activation("leaky_relu", lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
                   lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE), True, False),
        # elu: z for z > 0, alpha (e^z - 1) otherwise; derivative 1 or a + alpha.
        Activation("elu", lambda z: np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
                   lambda z, a: np.where(z > 0, 1.0, a + ELU_ALPHA), True, False),
        Activation("tanh", np.tanh, lambda z, a: 1.0 - a * a, True, True),
        Activation("sigmoid", _sigmoid, lambda z, a: a * (1.0 - a), True, True),
        # softplus: log(1 + e^z), derivative sigmoid(z).
        Activation("softplus", lambda z: np.logaddexp(0.0, z), lambda z, a: _sigmoid(z),
                   True, False),
        # silu: z sigmoid(z), derivative s (1 + z (1 - s)).
        Activation("silu", lambda z: z * _sigmoid(z), _silu_grad, True, False),
        # softmax: e^z_j / sum_k e^z_k over each row (sample).
        Activation("softmax", _softmax, None, False, True),
    )
}

HIDDEN_ACTIVATIONS = tuple(n for n, a in ACTIVATIONS.items() if a.hidden)
OUTPUT_ACTIVATIONS = tuple(n for n, a in ACTIVATIONS.items() if a.output)
