"""Central-difference gradient check over the flat parameter vector."""

from __future__ import annotations

import numpy as np


def gradient_check(net, X, Y, eps: float = 1e-6, floor: float = 1e-3,
                   most: int | None = None) -> tuple[float, list]:
    """Compare the analytic gradient of the objective (data loss + regularization) with
    central differences (f(p + eps) - f(p - eps)) / (2 eps), one parameter at a time.

    The relative error of a parameter is |analytic - numeric| / max(|analytic|,
    |numeric|, floor * max(1, |f|)), f the objective: the floor keeps round-off on
    near-zero gradients (about 1e-16 |f| / eps) from reading as a large relative error.
    Returns (the largest relative error, one dict per parameter with "parameter"
    (e.g. "weights[0][1][2]"), "analytic", "numeric", "relative_error").
    With `most`, at most that many parameters are checked, evenly spaced over the flat
    vector (each costs two evaluations of the objective). The network is left unchanged.
    """
    objective, analytic = net.flat_gradient(X, Y)
    params = net.params
    checked = np.arange(params.size)
    if most is not None and params.size > most:
        checked = np.unique(np.linspace(0, params.size - 1, most).round().astype(np.int64))
    numeric = np.empty_like(analytic)
    for k in checked:
        original = params[k]
        params[k] = original + eps
        up = net.objective(X, Y)
        params[k] = original - eps
        down = net.objective(X, Y)
        params[k] = original
        numeric[k] = (up - down) / (2.0 * eps)
    analytic, numeric = analytic[checked], numeric[checked]
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)),
                       floor * max(1.0, abs(objective)))
    errors = np.abs(analytic - numeric) / scale
    details = [{"parameter": net.layout.name(int(k)), "analytic": float(a),
                "numeric": float(n), "relative_error": float(e)}
               for k, a, n, e in zip(checked, analytic, numeric, errors, strict=True)]
    return float(errors.max(initial=0.0)), details
