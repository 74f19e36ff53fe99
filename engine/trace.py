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


def forward_trace_numbers(layers, n_rows: int) -> int:
    """How many numbers `ForwardTrace.to_dict()` holds for `n_rows` rows through a network
    of widths `layers`, known before it is built: activations (input included),
    pre-activations, outputs."""
    return n_rows * (layers[0] + 2 * sum(layers[1:]) + layers[-1])


def step_trace_numbers(layers, n_rows: int, n_buffers: int) -> int:
    """An upper bound (over by at most one parameter vector) on the numbers
    `StepTrace.to_dict()` holds for a batch of `n_rows` through a network of widths
    `layers` whose optimizer keeps `n_buffers` state buffers, known before it is built
    (plus one index per row)."""
    size = sum((a + 1) * b for a, b in zip(layers, layers[1:], strict=False))
    # per row: inputs twice (inputs, layers[0].a), targets, z/a/delta of every layer, the
    # row's loss and its index
    per_row = 2 * layers[0] + layers[-1] + 3 * sum(layers[1:]) + 2
    # per parameter: gradients, regularization gradients, before, after, used, decayed,
    # and every buffer before and after
    return n_rows * per_row + size * (6 + 2 * n_buffers) + 32
