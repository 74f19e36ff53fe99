"""Losses (each a mean over the batch) and the regularization terms of the objective.

A loss gives per-sample values and the output delta dL/dz, where L is the batch
mean. Shapes: z, a (the output activations), t (targets) are (n, k); per-sample
values are (n,). Sigmoid + binary_cross_entropy and softmax + cross_entropy use
fused, numerically stable forms computed from the logits z; every other pairing
goes through dL/da and the output activation's derivative (softmax: its Jacobian).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.activations import Activation
from engine.errors import EngineError, IncompatibleError

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    formula: str
    accepts: tuple[str, ...]  # output activations this loss makes sense with
    per_sample: Callable[[Array, Array, Array, dict], Array]  # (z, a, t, params) -> (n,)
    grad_output: Callable[[Array, Array, dict], Array] | None  # (a, t, params) -> dL/da
    fused: dict[str, Callable[[Array, Array, Array], Array]] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)  # settable, with defaults

    def value(self, z: Array, a: Array, t: Array, params: dict) -> Array:
        """Per-sample loss values, shape (n,)."""
        return self.per_sample(z, a, t, params)

    def delta(self, z: Array, a: Array, t: Array, act: Activation, params: dict) -> Array:
        """dL/dz of the batch-mean loss, shape (n, k)."""
        fused = self.fused.get(act.name)
        if fused is not None:
            return fused(z, a, t)
        return act.backward(z, a, self.grad_output(a, t, params))


def _mse(z, a, t, p):
    """mse: mean over samples and outputs of (y - t)^2 (torch.nn.MSELoss)."""
    return ((a - t) ** 2).mean(axis=1)


def _sse(z, a, t, p):
    """sse: sum over outputs of (t - y)^2, mean over samples."""
    return ((t - a) ** 2).sum(axis=1)


def _mae(z, a, t, p):
    """mae: mean over samples and outputs of |y - t| (torch.nn.L1Loss)."""
    return np.abs(a - t).mean(axis=1)


def _huber(z, a, t, p):
    """huber: mean over samples and outputs of 0.5 d^2 if |d| < delta, else
    delta (|d| - delta / 2), with d = y - t (torch.nn.HuberLoss)."""
    d, delta = np.abs(a - t), p["delta"]
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)).mean(axis=1)


def _bce(z, a, t, p):
    """binary_cross_entropy: mean over samples and outputs of
    -(t log y + (1 - t) log(1 - y)), y = sigmoid(z), computed stably as
    softplus(z) - t z = max(z, 0) - t z + log(1 + e^-|z|) (torch.nn.BCEWithLogitsLoss)."""
    return (np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z)))).mean(axis=1)


def _cross_entropy(z, a, t, p):
    """cross_entropy: mean over samples of -sum_j t_j log softmax(z)_j, with the stable
    log-softmax z_j - logsumexp(z) (torch.nn.CrossEntropyLoss on one-hot targets)."""
    m = z.max(axis=1, keepdims=True)
    log_softmax = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -(t * log_softmax).sum(axis=1)


def _hinge(z, a, t, p):
    """hinge: mean over samples and outputs of max(0, 1 - t y), targets -1/+1."""
    return np.maximum(0.0, 1.0 - t * a).mean(axis=1)


def _huber_grad(a, t, p):
    return np.clip(a - t, -p["delta"], p["delta"]) / a.size


_REGRESSION = ("linear", "sigmoid", "tanh", "softmax")

LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", "mean over samples and outputs of (y - t)^2", _REGRESSION, _mse,
             lambda a, t, p: 2.0 * (a - t) / a.size),
        Loss("sse", "mean over samples of sum over outputs of (t - y)^2", _REGRESSION, _sse,
             lambda a, t, p: 2.0 * (a - t) / a.shape[0]),
        Loss("mae", "mean over samples and outputs of |y - t|", _REGRESSION, _mae,
             lambda a, t, p: np.sign(a - t) / a.size),
        Loss("huber", "mean over samples and outputs of 0.5 d^2 if |d| < delta, "
             "else delta (|d| - delta/2), d = y - t", _REGRESSION, _huber, _huber_grad,
             params={"delta": 1.0}),
        Loss("binary_cross_entropy", "mean over samples and outputs of "
             "-(t log y + (1 - t) log(1 - y)), y = sigmoid(z)", ("sigmoid",), _bce, None,
             fused={"sigmoid": lambda z, a, t: (a - t) / a.size}),
        Loss("cross_entropy", "mean over samples of -sum_j t_j log softmax(z)_j",
             ("softmax",), _cross_entropy, None,
             fused={"softmax": lambda z, a, t: (a * t.sum(axis=1, keepdims=True) - t)
                    / a.shape[0]}),
        Loss("hinge", "mean over samples and outputs of max(0, 1 - t y), t in {-1, +1}",
             ("linear", "tanh"), _hinge,
             lambda a, t, p: np.where(t * a < 1.0, -t, 0.0) / a.size),
    )
}


def check_compatible(loss: str, output_activation: str, n_outputs: int) -> None:
    """Raise IncompatibleError (field "loss" or "output_activation") if the pairing is senseless."""
    if output_activation == "softmax" and n_outputs < 2:
        raise IncompatibleError(
            "softmax needs at least 2 outputs (with one output it is always 1)",
            "output_activation")
    spec = LOSSES[loss]
    if output_activation not in spec.accepts:
        why = {
            "binary_cross_entropy": "it needs probabilities from a sigmoid output",
            "cross_entropy": "it needs a probability distribution from a softmax output",
            "hinge": "it needs unbounded or -1..+1 scores from a linear or tanh output",
        }.get(loss, "")
        raise IncompatibleError(
            f"{loss} does not work with a {output_activation} output: {why} "
            f"(choose from {', '.join(spec.accepts)})", "loss")


def _plus_minus(loss: str, output_activation: str, n_outputs: int) -> bool:
    """Whether class targets are -1/+1 (else 0/1) for this pairing."""
    if loss == "hinge" or output_activation == "tanh":
        return True
    return output_activation == "linear" and n_outputs == 1


def encode_targets(loss: str, output_activation: str, labels, n_outputs: int,
                   task: str = "classification") -> Array:
    """Turn labels into the (n, n_outputs) float64 target matrix the loss expects.

    Classification (integer labels 0..k-1): one output gives 0/1 targets for sigmoid and
    -1/+1 for tanh, linear or hinge; several outputs give one-hot rows, 0/1 (or -1/+1 for
    tanh and hinge). Regression: the values pass through as floats, shape (n, 1).
    """
    values = np.asarray(labels)
    if task == "regression":
        return values.astype(np.float64).reshape(values.shape[0], -1)
    classes = values.astype(np.int64).ravel()
    if not np.array_equal(classes, values.ravel()) or (classes < 0).any():
        raise EngineError("class labels must be integers from 0", "labels")
    n_classes = max(int(classes.max(initial=0)) + 1, 2)
    if n_outputs == 1:
        if n_classes > 2:
            raise IncompatibleError(
                f"{n_classes} classes need {n_classes} outputs, the network has 1", "layers")
        positive = classes[:, None].astype(np.float64)
        if _plus_minus(loss, output_activation, 1):
            return 2.0 * positive - 1.0
        return positive
    if n_classes > n_outputs:
        raise IncompatibleError(
            f"{n_classes} classes need {n_classes} outputs, the network has {n_outputs}",
            "layers")
    one_hot = np.zeros((classes.size, n_outputs))
    one_hot[np.arange(classes.size), classes] = 1.0
    return 2.0 * one_hot - 1.0 if _plus_minus(loss, output_activation, n_outputs) else one_hot


def decode_predictions(loss: str, output_activation: str, outputs) -> Array:
    """Class labels (n,) from outputs (n, k): threshold at the targets' midpoint (0.5 for
    0/1 targets, 0 for -1/+1) when k == 1, argmax otherwise."""
    y = np.asarray(outputs, dtype=np.float64)
    if y.shape[1] > 1:
        return y.argmax(axis=1)
    midpoint = 0.0 if _plus_minus(loss, output_activation, 1) else 0.5
    return (y[:, 0] > midpoint).astype(np.int64)


@dataclass(frozen=True)
class Regularization:
    """A penalty on the weights (never the biases): `penalty(w)` and its gradient."""

    name: str
    formula: str
    penalty: Callable[[Array, float], float]
    grad: Callable[[Array, float], Array]


REGULARIZATIONS: dict[str, Regularization] = {
    r.name: r
    for r in (
        Regularization("none", "0", lambda w, rate: 0.0, lambda w, rate: np.zeros_like(w)),
        Regularization("l1", "rate * sum |w|", lambda w, rate: rate * float(np.abs(w).sum()),
                       lambda w, rate: rate * np.sign(w)),
        Regularization("l2", "rate * 1/2 * sum w^2",
                       lambda w, rate: 0.5 * rate * float(np.dot(w, w)), lambda w, rate: rate * w),
    )
}
