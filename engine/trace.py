"""Traces: the numbers of one forward pass and of one traced optimizer step.

Arrays stay NumPy inside the engine; `to_dict()` turns them into plain lists of Python
floats (JSON-serializable), in the layout of PROTOCOL.md "The step trace".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

Array = np.ndarray


class Layout(Protocol):
    def views(self, flat: Array) -> tuple[list[Array], list[Array]]: ...


@dataclass
class ForwardTrace:
    """`activations[l]` is layer l's output, (n, n_l): [0] is the input, [-1] the network's
    output; `pre_activations[l]` is layer l+1's z = a_l W_l + b_l."""

    activations: list[Array]
    pre_activations: list[Array]

    @property
    def outputs(self) -> Array:
        return self.activations[-1]

    def to_dict(self) -> dict:
        return {"activations": [a.tolist() for a in self.activations],
                "pre_activations": [z.tolist() for z in self.pre_activations],
                "outputs": self.activations[-1].tolist()}


def _params_dict(layout: Layout, flat: Array, suffix: str = "", prefix: str = "") -> dict:
    weights, biases = layout.views(flat)
    return {f"{prefix}weights{suffix}": [w.tolist() for w in weights],
            f"{prefix}biases{suffix}": [b.tolist() for b in biases]}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class StepTrace:
    """Everything one optimizer update did, with its actual numbers.

    Shapes: inputs (n, n_0), targets (n, n_L); per layer l = 1..L: z, a, delta (n, n_l),
    delta = dL/dz of the batch-mean data loss. Flat vectors (parameter layout): gradient
    (data + regularization), regularization_gradient, params_before / params_after, and
    each optimizer buffer in state_before / state_after; gradient_used, the gradient the
    update rule used (gradient + weight_decay params_before, or gradient itself without
    weight decay and for AdamW); decayed_params, AdamW's params_before
    (1 - lr weight_decay) the rule started from (None for the other optimizers).
    """

    layout: Layout
    inputs: Array
    targets: Array
    activation_names: list[str]  # for layers 1..L
    pre_activations: list[Array]
    activations: list[Array]  # [0] is the input
    deltas: list[Array]
    loss_name: str
    per_sample: Array
    data_loss: float
    regularization_loss: float
    regularization: dict
    gradient: Array
    regularization_gradient: Array
    optimizer: str
    hyperparameters: dict
    step: int
    params_before: Array
    params_after: Array
    state_before: dict[str, Array]
    state_after: dict[str, Array]
    gradient_used: Array
    decayed_params: Array | None = None

    @property
    def total_loss(self) -> float:
        return self.data_loss + self.regularization_loss

    def to_dict(self) -> dict:
        layers: list[dict] = [{"a": self.inputs.tolist()}]
        for name, z, a, d in zip(self.activation_names, self.pre_activations,
                                 self.activations[1:], self.deltas, strict=True):
            layers.append({"activation": name, "z": z.tolist(), "a": a.tolist(),
                           "delta": d.tolist()})
        reg_weights, _ = self.layout.views(self.regularization_gradient)
        return {
            "inputs": self.inputs.tolist(),
            "targets": self.targets.tolist(),
            "layers": layers,
            "loss": {"name": self.loss_name, "per_sample": self.per_sample.tolist(),
                     "data": self.data_loss, "regularization": self.regularization_loss,
                     "total": self.total_loss},
            "regularization": dict(self.regularization),
            "gradients": _params_dict(self.layout, self.gradient),
            "regularization_gradients": {"weights": [w.tolist() for w in reg_weights]},
            "update": {
                "optimizer": self.optimizer,
                "hyperparameters": {k: _plain(v) for k, v in self.hyperparameters.items()},
                "step": self.step,
                **_params_dict(self.layout, self.params_before, "_before"),
                **_params_dict(self.layout, self.params_after, "_after"),
                "state_before": {k: _params_dict(self.layout, v)
                                 for k, v in self.state_before.items()},
                "state_after": {k: _params_dict(self.layout, v)
                                for k, v in self.state_after.items()},
                "gradients_used": _params_dict(self.layout, self.gradient_used),
                **({} if self.decayed_params is None else
                   _params_dict(self.layout, self.decayed_params, prefix="decayed_")),
            },
        }
