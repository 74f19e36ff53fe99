"""Optimizers with torch.optim's update rules, hyperparameter names and defaults.

Every update acts on the whole flat parameter vector p with its flat gradient g
(data loss plus regularization) and is pure. It is made of two parts: weight decay
(`decay`), which forms the parameters and gradient the rule starts from, then the
rule proper, `update(p, g, state, step, hp)`, which returns the new vector and new
state buffers without touching its inputs, so a step can be checked for non-finite
numbers before it is committed. `step` is the 1-based number of the update being
made; buffers start at zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
State = dict[str, Array]


def _coupled_decay(p: Array, g: Array, hp: dict) -> tuple[Array, Array]:
    """torch.optim's weight_decay (all but AdamW): the rule uses g + weight_decay p."""
    return p, (g + hp["weight_decay"] * p if hp["weight_decay"] else g)


def _decoupled_decay(p: Array, g: Array, hp: dict) -> tuple[Array, Array]:
    """torch.optim.AdamW's decay: the rule starts from p (1 - lr weight_decay), with g."""
    return p * (1.0 - hp["learning_rate"] * hp["weight_decay"]), g


def _sgd(p: Array, g: Array, state: State, step: int, hp: dict) -> tuple[Array, State]:
    """torch.optim.SGD (no momentum): p <- p - lr g."""
    return p - hp["learning_rate"] * g, {}


def _momentum_buffer(g: Array, state: State, step: int, mu: float, dampening: float) -> Array:
    # torch: the first step copies g into the buffer, undamped.
    if step == 1:
        return g.copy()
    return mu * state["momentum_buffer"] + (1.0 - dampening) * g


def _momentum(p: Array, g: Array, state: State, step: int, hp: dict) -> tuple[Array, State]:
    """torch.optim.SGD with momentum:
    b <- g on step 1, else b <- momentum b + (1 - dampening) g;  p <- p - lr b."""
    b = _momentum_buffer(g, state, step, hp["momentum"], hp["dampening"])
    return p - hp["learning_rate"] * b, {"momentum_buffer": b}


def _nesterov(p: Array, g: Array, state: State, step: int, hp: dict) -> tuple[Array, State]:
    """torch.optim.SGD with nesterov=True (dampening 0):
    b <- g on step 1, else b <- momentum b + g;  p <- p - lr (g + momentum b)."""
    b = _momentum_buffer(g, state, step, hp["momentum"], 0.0)
    return p - hp["learning_rate"] * (g + hp["momentum"] * b), {"momentum_buffer": b}


def _rmsprop(p: Array, g: Array, state: State, step: int, hp: dict) -> tuple[Array, State]:
    """torch.optim.RMSprop (centered=False, momentum=0):
    v <- alpha v + (1 - alpha) g^2;  p <- p - lr g / (sqrt(v) + eps)."""
    v = hp["alpha"] * state["square_avg"] + (1.0 - hp["alpha"]) * (g * g)
    return p - hp["learning_rate"] * (g / (np.sqrt(v) + hp["eps"])), {"square_avg": v}


def _adam(p: Array, g: Array, state: State, step: int, hp: dict) -> tuple[Array, State]:
    """torch.optim.Adam and AdamW: m <- beta1 m + (1 - beta1) g;
    v <- beta2 v + (1 - beta2) g^2;  m^ = m / (1 - beta1^t);  v^ = v / (1 - beta2^t);
    p <- p - lr m^ / (sqrt(v^) + eps)."""
    beta1, beta2 = hp["betas"]
    m = beta1 * state["exp_avg"] + (1.0 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1.0 - beta2) * (g * g)
    # torch's arrangement: lr / (1 - beta1^t) times m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    step_size = hp["learning_rate"] / (1.0 - beta1**step)
    denom = np.sqrt(v) / (1.0 - beta2**step) ** 0.5 + hp["eps"]
    return p - step_size * (m / denom), {"exp_avg": m, "exp_avg_sq": v}


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    update: Callable[[Array, Array, State, int, dict], tuple[Array, State]]
    defaults: dict  # hyperparameter name -> default, in document order
    buffers: tuple[str, ...]  # state buffer names, each a flat vector like the parameters
    decoupled: bool = False  # AdamW's decay of the weights, not torch's g + weight_decay p

    @property
    def decay(self) -> Callable[[Array, Array, dict], tuple[Array, Array]]:
        return _decoupled_decay if self.decoupled else _coupled_decay


# Defaults are torch.optim's, except the SGD family's learning rate: 0.03, the playground's
# (torch's SGD default is 0.001).
OPTIMIZERS: dict[str, OptimizerSpec] = {
    o.name: o
    for o in (
        OptimizerSpec("sgd", _sgd, {"learning_rate": 0.03, "weight_decay": 0.0}, ()),
        OptimizerSpec("momentum", _momentum, {"learning_rate": 0.03, "momentum": 0.9,
                                              "dampening": 0.0, "weight_decay": 0.0},
                      ("momentum_buffer",)),
        OptimizerSpec("nesterov", _nesterov, {"learning_rate": 0.03, "momentum": 0.9,
                                              "weight_decay": 0.0}, ("momentum_buffer",)),
        OptimizerSpec("rmsprop", _rmsprop, {"learning_rate": 0.01, "alpha": 0.99, "eps": 1e-8,
                                            "weight_decay": 0.0}, ("square_avg",)),
        OptimizerSpec("adam", _adam, {"learning_rate": 0.001, "betas": (0.9, 0.999),
                                      "eps": 1e-8, "weight_decay": 0.0},
                      ("exp_avg", "exp_avg_sq")),
        OptimizerSpec("adamw", _adam, {"learning_rate": 0.001, "betas": (0.9, 0.999),
                                       "eps": 1e-8, "weight_decay": 0.01},
                      ("exp_avg", "exp_avg_sq"), decoupled=True),
    )
}


class Optimizer:
    """An optimizer's hyperparameters, step count and flat state buffers."""

    def __init__(self, name: str, hyperparameters: dict, size: int,
                 step: int = 0, buffers: State | None = None) -> None:
        self.spec = OPTIMIZERS[name]
        self.name = name
        self.hyperparameters = {**self.spec.defaults, **hyperparameters}
        self.step = step
        self.state: State = {b: np.zeros(size) for b in self.spec.buffers}
        for key, value in (buffers or {}).items():
            self.state[key] = np.array(value, dtype=np.float64)

    def decay(self, params: Array, grad: Array) -> tuple[Array, Array]:
        """The parameters and gradient the update rule starts from, both flat like params:
        (params, grad + weight_decay params), or for AdamW (params (1 - lr weight_decay),
        grad). Without weight decay, grad itself."""
        return self.spec.decay(params, grad, self.hyperparameters)

    def propose(self, params: Array, grad: Array) -> tuple[Array, State]:
        """The new parameters and state one update would give; nothing is changed."""
        p, g = self.decay(params, grad)
        return self.spec.update(p, g, self.state, self.step + 1, self.hyperparameters)

    def commit(self, state: State) -> None:
        """Adopt the state returned by `propose` and count the step."""
        self.state = state
        self.step += 1
