"""Weight initialization schemes; each draws a (fan_in, fan_out) matrix from a Generator.

Biases always start at 0. Layers are drawn in order from one
``numpy.random.default_rng(seed)``, so the same document gives the same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

Init = Callable[[np.random.Generator, int, int], np.ndarray]


def _uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """Uniform on [-0.5, 0.5), the classic playground default."""
    return rng.uniform(-0.5, 0.5, size=(fan_in, fan_out))


def _xavier(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def _he(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """Kaiming normal (fan_in mode, ReLU gain): N(0, std^2), std = sqrt(2 / fan_in),
    as torch.nn.init.kaiming_normal_."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _zeros(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """All zeros (a network that cannot break its symmetry; there to show why)."""
    return np.zeros((fan_in, fan_out))


INITIALIZERS: dict[str, Init] = {
    "uniform": _uniform,
    "xavier": _xavier,
    "he": _he,
    "zeros": _zeros,
}


def initial_weights(name: str, layers: list[int], seed: int) -> list[np.ndarray]:
    """One (n_l, n_{l+1}) matrix per layer pair, drawn in order from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    return [INITIALIZERS[name](rng, n_in, n_out) for n_in, n_out in pairwise(layers)]
