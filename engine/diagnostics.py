"""Warnings a person can act on while a network trains: saturated units, dead ReLUs,
vanishing or exploding gradients. Pure functions of a network and its training data.

- A tanh unit is saturated on a sample when |a| > SATURATED (0.97: tanh'(z) < 0.06); a
  sigmoid unit when a < 1 - SATURATED or a > SATURATED (sigmoid'(z) < 0.03). A unit is
  reported when it is saturated on more than MOST (90 %) of the samples: its gradient is
  nearly zero there, and it hardly learns.
- A ReLU unit is dead when its output is 0 for every sample: no gradient reaches its
  weights, and it never comes back by itself.
- Gradients: the L2 norm of each layer's weight gradient (the objective's, on the given
  samples). They vanish when the first layer's norm is below VANISHING (1e-3) times the
  last layer's; they explode when any layer's norm is above EXPLODING (1e3).
"""

from __future__ import annotations

import numpy as np

SATURATED = 0.97
MOST = 0.9
VANISHING = 1e-3
EXPLODING = 1e3


def saturated_units(name: str, a: np.ndarray) -> list[int]:
    """Units (columns of a layer's activations `a`, (n, units)) of activation `name` that
    are saturated on more than MOST of the samples; [] for an activation that cannot
    saturate at both ends."""
    if name == "tanh":
        hit = np.abs(a) > SATURATED
    elif name == "sigmoid":
        hit = (a > SATURATED) | (a < 1 - SATURATED)
    else:
        return []
    return [int(j) for j in np.flatnonzero(hit.mean(axis=0) > MOST)] if len(a) else []


def dead_units(name: str, a: np.ndarray) -> list[int]:
    """ReLU units (columns of `a`) whose output is 0 for every sample."""
    if name != "relu" or not len(a):
        return []
    return [int(j) for j in np.flatnonzero((a <= 0).all(axis=0))]


def gradient_norms(net, X, Y) -> list[float]:
    """The L2 norm of each layer's weight gradient of the objective on (X, Y)."""
    _, grads = net.loss_and_gradients(X, Y)
    return [float(np.sqrt(np.sum(np.square(g)))) for g in grads["weights"]]


def gradient_problem(norms: list[float]) -> str | None:
    """"exploding", "vanishing" or None for per-layer gradient norms (input side first)."""
    if any(not np.isfinite(n) or n > EXPLODING for n in norms):
        return "exploding"
    if len(norms) >= 3 and norms[-1] > 0 and norms[0] < VANISHING * norms[-1]:
        return "vanishing"
    return None


def diagnose(net, X, Y) -> dict:
    """{"grad_norms": [per layer], "warnings": [{"kind", "layer", "units", "message"}]}
    for `net` on samples (X, Y); layers are numbered as in the network (1 = first
    hidden). Call with a few hundred samples: one forward and backward pass."""
    with np.errstate(over="ignore", invalid="ignore"):
        acts = net.forward(X).activations
        norms = gradient_norms(net, X, Y)
    out = []
    names = net.layer_activation_names
    for l in range(1, len(acts) - 1):  # hidden layers only
        a, name = np.asarray(acts[l]), names[l - 1]
        units = saturated_units(name, a)
        if units:
            who, be, it = _who(units)
            out.append({"kind": "saturated", "layer": l, "units": units, "message": (
                f"{who} of hidden layer {l} {be} saturated ({name} near its limits for most "
                f"points): {it} hardly learning. Try a lower learning rate, scaled features "
                f"(preprocessing), or relu.")})
        units = dead_units(name, a)
        if units:
            who, be, it = _who(units)
            out.append({"kind": "dead", "layer": l, "units": units, "message": (
                f"{who} of hidden layer {l} {be} dead (relu gives 0 for every point): {it} "
                f"not learning any more. Try a lower learning rate, leaky_relu, or a new "
                f"seed.")})
    problem = gradient_problem(norms)
    if problem == "vanishing":
        out.append({"kind": "vanishing", "layer": 1, "units": [], "message": (
            f"Vanishing gradients: the first layer's gradient is {norms[0]:.2g}, the last "
            f"layer's {norms[-1]:.2g}. The early layers barely learn: try fewer layers, "
            f"relu, or xavier/he initialization.")})
    elif problem == "exploding":
        out.append({"kind": "exploding", "layer": 0, "units": [], "message": (
            f"Exploding gradients (largest {max(norms):.2g}): try a lower learning rate or "
            f"L2 regularization.")})
    return {"grad_norms": norms, "warnings": out}


def _who(units: list[int]) -> tuple[str, str, str]:
    """("Unit 3" or "Units 1, 2", "is" or "are", "it is" or "they are"); units by their
    number on the page (1 = the layer's top neuron)."""
    names = ", ".join(str(j + 1) for j in units)
    if len(units) == 1:
        return f"Unit {names}", "is", "it is"
    return f"Units {names}", "are", "they are"
