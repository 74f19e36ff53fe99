"""Pictures: every feature's and every neuron's value over an n x n grid of the plane.

The grid covers the square [-extent, extent]^2 of the raw input plane with pixel
centres: pixel (r, c) is the point x1 = -extent + (c + 1/2) * 2 extent / n,
x2 = extent - (r + 1/2) * 2 extent / n, so row 0 is the top (largest x2) and
column 0 the left (smallest x1), as PROTOCOL.md's heatmaps.

One vectorized pass: the features of all n*n points, the preprocessing, then one
forward pass on the whole grid (one fused kernel call per layer, no loop over
points). By default it runs in float32 through a compiled kernel: the values are
for display only (quantized to 8 bits). Pass ``dtype=np.float64`` for the
engine's exact numbers (NumPy, the engine's own activation functions; slower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from engine.activations import ACTIVATIONS, LEAKY_SLOPE
from engine.datasets import EXTENT
from engine.features import feature_matrix
from engine.losses import encode_targets
from engine.preprocessing import Preprocessor


@lru_cache(maxsize=16)
def _grid(n: int, extent: float, dtype: str) -> np.ndarray:
    step = 2.0 * extent / n
    centres = -extent + (np.arange(n) + 0.5) * step
    x1 = np.tile(centres, n)
    x2 = np.repeat(centres[::-1], n)
    P = np.column_stack([x1, x2]).astype(dtype)
    P.flags.writeable = False
    return P


def grid_points(n: int, extent: float = EXTENT, dtype=np.float64) -> np.ndarray:
    """The n*n pixel centres, shape ``(n*n, 2)``, row-major (row 0 = top = largest x2).

    Read-only (cached)."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"size: expected a positive integer, got {n!r}")
    return _grid(n, float(extent), np.dtype(dtype).name)


# ---- the float32 display kernel ------------------------------------------------
# NumPy's float32 tanh runs at about 4 ns a value here (no SIMD path on this CPU), which
# alone costs ~2 ms for a 100 x 100 grid through six tanh layers of 8. This kernel fuses
# z = W^T a + b and the activation per neuron row, and computes tanh with a rational
# approximation (Eigen's fast float tanh: max error 3.5e-7) that the compiler vectorizes.

_KERNEL_ACTIVATIONS = {"linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4,
                       "sigmoid": 5, "softplus": 6, "silu": 7}  # fmt: skip

_f = np.float32
_TANH_CLAMP = _f(7.90531110763549805)
_A1, _A3, _A5, _A7 = _f(4.89352455891786e-03), _f(6.37261928875436e-04), \
    _f(1.48572235717979e-05), _f(5.12229709037114e-08)  # fmt: skip
_A9, _A11, _A13 = _f(-8.60467152213735e-11), _f(2.00018790482477e-13), _f(-2.76076847742355e-16)
_B0, _B2, _B4, _B6 = _f(4.89352518554385e-03), _f(2.26843463243900e-03), \
    _f(1.18534705686654e-04), _f(1.19825839466702e-06)  # fmt: skip
_HALF, _ONE, _ZERO, _SLOPE = _f(0.5), _f(1.0), _f(0.0), _f(LEAKY_SLOPE)


@numba.njit(inline="always", error_model="numpy")
def _tanh(x):
    x = min(max(x, -_TANH_CLAMP), _TANH_CLAMP)
    x2 = x * x
    p = x * (_A1 + x2 * (_A3 + x2 * (_A5 + x2 * (_A7 + x2 * (_A9 + x2 * (_A11 + x2 * _A13))))))
    return p / (_B0 + x2 * (_B2 + x2 * (_B4 + x2 * _B6)))


@numba.njit(fastmath={"contract"}, error_model="numpy", nogil=True)
def _dense(WT, b, A, Z, act):
    """Z[j] = act(sum_i WT[j, i] A[i] + b[j]) for every row j; all float32, C order."""
    m, k = WT.shape
    N = A.shape[1]
    for j in range(m):
        z = Z[j]
        z[:] = b[j]
        for i in range(k):
            w = WT[j, i]
            a = A[i]
            for c in range(N):
                z[c] += w * a[c]
        if act == 1:
            for c in range(N):
                z[c] = max(z[c], _ZERO)
        elif act == 2:
            for c in range(N):
                z[c] = z[c] if z[c] > _ZERO else _SLOPE * z[c]
        elif act == 3:
            for c in range(N):
                z[c] = z[c] if z[c] > _ZERO else np.float32(math.expm1(z[c]))
        elif act == 4:
            for c in range(N):
                z[c] = _tanh(z[c])
        elif act == 5:
            for c in range(N):
                z[c] = _HALF * (_ONE + _tanh(_HALF * z[c]))
        elif act == 6:
            for c in range(N):
                x = z[c]
                z[c] = max(x, _ZERO) + np.float32(math.log1p(math.exp(-abs(x))))
        elif act == 7:
            for c in range(N):
                x = z[c]
                z[c] = x * _HALF * (_ONE + _tanh(_HALF * x))


@dataclass(frozen=True)
class Pictures:
    """``maps[k]`` (n x n) is the value of node ``nodes[k] = (layer, index)`` over the grid;
    layer 0 is the features (after preprocessing: the network's inputs), then each hidden
    layer, then the outputs. ``outputs`` is the last ``n_outputs`` maps."""

    size: int
    extent: float
    nodes: list[tuple[int, int]]
    maps: np.ndarray  # (n_nodes, size, size)
    n_outputs: int

    @property
    def outputs(self) -> np.ndarray:
        return self.maps[-self.n_outputs :]


def node_maps(
    net,
    features,
    preprocessor: Preprocessor,
    n: int = 100,
    extent: float = EXTENT,
    dtype=np.float32,
) -> Pictures:
    """Every feature's and every neuron's value over the n x n grid, in one pass.

    ``net``: an ``engine.network.Network`` whose inputs are ``features`` (names, in
    order) transformed by the fitted ``preprocessor``. Returns ``Pictures`` with
    ``maps`` of shape ``(n_features + hidden neurons + outputs, n, n)`` in ``dtype``.
    float32 runs the compiled display kernel (activations within 1e-6 of the
    engine's); float64 runs the engine's own activation functions exactly.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    sizes = net.layers
    if len(features) != sizes[0]:
        raise ValueError(f"features: the network takes {sizes[0]} inputs, got {len(features)}")
    N = n * n
    X = preprocessor.transform(feature_matrix(features, grid_points(n, extent, dtype)))
    # One row per node: each layer's values land as contiguous rows of `out`.
    out = np.empty((sum(sizes), N), dtype=dtype)
    out[: sizes[0]] = X.T
    row = sizes[0]
    for l, (W, b, name) in enumerate(
        zip(net.weights, net.biases, net.layer_activation_names, strict=True)
    ):
        A, Z = out[row - sizes[l] : row], out[row : row + sizes[l + 1]]
        if dtype == np.float32 and name in _KERNEL_ACTIVATIONS:
            _dense(np.ascontiguousarray(W.T, dtype=np.float32), b.astype(np.float32), A, Z,
                   _KERNEL_ACTIVATIONS[name])  # fmt: skip
        else:
            # The registry's functions take (samples, units), as softmax needs.
            Z[:] = ACTIVATIONS[name].fn((W.T.astype(dtype) @ A + b.astype(dtype)[:, None]).T).T
        row += sizes[l + 1]
    nodes = [(l, i) for l, k in enumerate(sizes) for i in range(k)]
    return Pictures(n, float(extent), nodes, out.reshape(-1, n, n), sizes[-1])


def output_map(net, features, preprocessor, n: int = 100, extent: float = EXTENT,
               dtype=np.float32) -> np.ndarray:  # fmt: skip
    """Only the network's outputs over the grid: ``(n_outputs, n, n)``."""
    return node_maps(net, features, preprocessor, n, extent, dtype).outputs


def quantize(maps, lo: float, hi: float) -> np.ndarray:
    """uint8 bytes b with value ``lo + b / 255 * (hi - lo)`` (PROTOCOL.md heatmaps):
    values clipped to [lo, hi], rounded to the nearest byte; NaN becomes lo."""
    if not hi > lo:
        raise ValueError(f"range: expected lo < hi, got [{lo}, {hi}]")
    # fmax ignores a NaN operand, so NaN becomes lo here; the rest works in place.
    v = np.fmax(np.asarray(maps, dtype=np.float32), np.float32(lo))
    np.fmin(v, np.float32(hi), out=v)
    v -= np.float32(lo)
    v *= np.float32(255.0 / (hi - lo))
    return np.rint(v, out=v).astype(np.uint8)


def boundary(outputs: np.ndarray, task: str, loss: str, output_activation: str) -> dict:
    """The decision picture from the output maps ``(n_outputs, n, n)``.

    - classification with one output: ``{"kind": "binary", "range": [-1, 1], "values"}``,
      the output mapped linearly so that the class-0 target is -1 and class 1's +1
      (sigmoid: 2 y - 1; tanh, linear: y);
    - classification with several outputs: ``{"kind": "classes", "values"}`` the winning
      class per pixel (int) and ``"confidence"``, the winning output clipped to [0, 1]
      (its probability for softmax);
    - regression: ``{"kind": "regression", "values"}``, the first output.
    """
    if task == "regression":
        return {"kind": "regression", "values": outputs[0]}
    if outputs.shape[0] == 1:
        t0, t1 = encode_targets(loss, output_activation, np.array([0, 1]), 1)[:, 0]
        mid, half = (t0 + t1) / 2, (t1 - t0) / 2
        return {"kind": "binary", "range": [-1.0, 1.0], "values": (outputs[0] - mid) / half}
    return {
        "kind": "classes",
        "values": outputs.argmax(axis=0),
        "confidence": np.clip(outputs.max(axis=0), 0.0, 1.0),
    }
