"""Central-difference gradient check over the flat parameter vector."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def spread_order(m: int) -> np.ndarray:
    """0..m-1 reordered so that every prefix is spread evenly over the range (ranks by
    their bit-reversed value: 0, m/2, m/4, 3m/4, ...): a check cut short still samples
    every layer."""
    if m <= 1:
        return np.arange(m)
    bits = int(m - 1).bit_length()
    ranks = np.arange(m)
    reversed_ranks = np.zeros(m, dtype=np.int64)
    for b in range(bits):
        reversed_ranks |= ((ranks >> b) & 1) << (bits - 1 - b)
    return np.argsort(reversed_ranks, kind="stable")


def gradient_check(net, X, Y, eps: float = 1e-6, floor: float = 1e-3,
                   most: int | None = None,
                   should_stop: Callable[[], bool] | None = None) -> tuple[float, list]:
    """Compare the analytic gradient of the objective (data loss + regularization) with
    central differences (f(p + eps) - f(p - eps)) / (2 eps), one parameter at a time.

    The relative error of a parameter is |analytic - numeric| / max(|analytic|,
    |numeric|, floor * max(1, |f|)), f the objective: the floor keeps round-off on
    near-zero gradients (about 1e-16 |f| / eps) from reading as a large relative error.
    Returns (the largest relative error, one dict per parameter with "parameter"
    (e.g. "weights[0][1][2]"), "analytic", "numeric", "relative_error"), in the flat
    vector's order.
    With `most`, at most that many parameters are checked, evenly spaced over the flat
    vector (each costs two evaluations of the objective). `should_stop` is asked before
    each parameter; once it answers True the check ends with the parameters done so far
    (taken in `spread_order`, so they still cover the whole vector). The network is left
    unchanged.
    """
    objective, analytic = net.flat_gradient(X, Y)
    params = net.params
    checked = np.arange(params.size)
    if most is not None and params.size > most:
        checked = np.unique(np.linspace(0, params.size - 1, most).round().astype(np.int64))
    numeric = np.empty_like(analytic)
    done = []
    for k in checked[spread_order(len(checked))]:
        if should_stop is not None and should_stop():
            break
        original = params[k]
        params[k] = original + eps
        up = net.objective(X, Y)
        params[k] = original - eps
        down = net.objective(X, Y)
        params[k] = original
        numeric[k] = (up - down) / (2.0 * eps)
        done.append(k)
    checked = np.sort(np.asarray(done, dtype=np.int64))
    analytic, numeric = analytic[checked], numeric[checked]
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)),
                       floor * max(1.0, abs(objective)))
    errors = np.abs(analytic - numeric) / scale
    details = [{"parameter": net.layout.name(int(k)), "analytic": float(a),
                "numeric": float(n), "relative_error": float(e)}
               for k, a, n, e in zip(checked, analytic, numeric, errors, strict=True)]
    return float(errors.max(initial=0.0)), details
