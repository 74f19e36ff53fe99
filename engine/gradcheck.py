"""Central-difference gradient check over the flat parameter vector."""

from __future__ import annotations

import numpy as np


def gradient_check(net, X, Y, eps: float = 1e-6, floor: float = 1e-3) -> tuple[float, list]:
    """Compare the analytic gradient of the objective (data loss + regularization) with
    central differences (f(p + eps) - f(p - eps)) / (2 eps), one parameter at a time.

    The relative error of a parameter is |analytic - numeric| / max(|analytic|,
    |numeric|, floor * max(1, |f|)), f the objective: the floor keeps round-off on
    near-zero gradients (about 1e-16 |f| / eps) from reading as a large relative error.
    Returns (the largest relative error, one dict per parameter with "parameter"
    (e.g. "weights[0][1][2]"), "analytic", "numeric", "relative_error").
    The network is left unchanged.
    """
    objective, analytic = net.flat_gradient(X, Y)
    params = net.params
    numeric = np.empty_like(analytic)
    for k in range(params.size):
        original = params[k]
        params[k] = original + eps
        up = net.objective(X, Y)
        params[k] = original - eps
        down = net.objective(X, Y)
        params[k] = original
        numeric[k] = (up - down) / (2.0 * eps)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)),
                       floor * max(1.0, abs(objective)))
    errors = np.abs(analytic - numeric) / scale
    details = [{"parameter": net.layout.name(k), "analytic": float(analytic[k]),
                "numeric": float(numeric[k]), "relative_error": float(errors[k])}
               for k in range(params.size)]
    return float(errors.max(initial=0.0)), details
