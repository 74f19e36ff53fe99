"""torch.optim's update rules written out by hand for one parameter in plain floats:
the independent reference that the engine's traces and the page's update equations are
checked against (tests/engine/test_trace_update.py, tests/browser/test_update_equations.py).
"""

from __future__ import annotations

import math


def decay(name: str, hp: dict, p: float, g: float) -> tuple[float, float]:
    """(the value the rule starts from, the gradient it uses): torch.optim adds
    weight_decay p to g; adamw decays p by (1 - lr weight_decay) instead."""
    lr, wd = hp["learning_rate"], hp.get("weight_decay", 0.0)
    if name == "adamw":
        return p * (1.0 - lr * wd), g
    return p, (g + wd * p if wd else g)


def rule(name: str, hp: dict, p: float, g: float, before: dict, t: int):
    """(new value, state after) of step t from p with the gradient g the rule uses (both
    after `decay`) and the state `before` the step."""
    lr = hp["learning_rate"]
    if name == "sgd":
        return p - lr * g, {}
    if name in ("momentum", "nesterov"):
        mu, damp = hp["momentum"], hp.get("dampening", 0.0)
        b = g if t == 1 else mu * before["momentum_buffer"] + (1.0 - damp) * g
        step = b if name == "momentum" else g + mu * b
        return p - lr * step, {"momentum_buffer": b}
    if name == "rmsprop":
        v = hp["alpha"] * before["square_avg"] + (1.0 - hp["alpha"]) * g * g
        return p - lr * g / (math.sqrt(v) + hp["eps"]), {"square_avg": v}
    b1, b2 = hp["betas"]  # adam and adamw
    m = b1 * before["exp_avg"] + (1.0 - b1) * g
    v = b2 * before["exp_avg_sq"] + (1.0 - b2) * g * g
    bc1, bc2 = 1.0 - b1 ** t, 1.0 - b2 ** t
    new = p - (lr / bc1) * m / (math.sqrt(v) / math.sqrt(bc2) + hp["eps"])
    return new, {"exp_avg": m, "exp_avg_sq": v}


def update(name: str, hp: dict, p: float, g: float, before: dict, t: int):
    """(new value, state after) of one whole step from the data gradient g = dL/dp."""
    return rule(name, hp, *decay(name, hp, p, g), before, t)
