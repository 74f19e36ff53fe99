"""The model document: ONE declarative table of its fields, read by both loading and saving.

A model document is a JSON-compatible dict holding the whole model. `parse_document`
validates one against `FIELDS` and fills defaults; `dump_document` writes the parsed
values back out, field by field, with plain Python floats, so
``parse_document(dump_document(values))`` reproduces them bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from engine.errors import ModelDocumentError
from engine.initializers import INITIALIZERS, initial_weights
from engine.losses import LOSSES, REGULARIZATIONS, check_compatible
from engine.optimizers import OPTIMIZERS

FORMAT = "nnplay.model/1"
MAX_HIDDEN_LAYERS = 10
MAX_NEURONS = 64


def _fail(field: str, message: str):
    raise ModelDocumentError(field, message)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str | Real):
        return repr(value)
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"


def finite_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        _fail(field, f"expected a finite number, got {_show(value)}")
    return float(value)


def _bounded(value: Any, field: str, low: float, high: float, high_open: bool) -> float:
    x = finite_number(value, field)
    if x < low or x > high or (high_open and x == high):
        _fail(field, f"expected a number in [{low:g}, {high:g}{')' if high_open else ']'}, "
              f"got {_show(value)}")
    return x


def positive_number(value: Any, field: str) -> float:
    x = finite_number(value, field)
    if x <= 0:
        _fail(field, f"expected a positive number, got {_show(value)}")
    return x


def integer_in(value: Any, field: str, low: int, high: int) -> int:
    if type(value) is int and low <= value <= high:
        return value  # the common case, without the (slow) ABC check below
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        _fail(field, f"expected an integer from {low} to {high}, got {_show(value)}")
    return int(value)


def choice(value: Any, field: str, choices, what: str) -> str:
    if not isinstance(value, str):
        _fail(field, f"expected {what} name, got {_show(value)}")
    if value not in choices:
        _fail(field, f"unknown {what} {value!r} (choose from {', '.join(choices)})")
    return value


def _object(value: Any, field: str, allowed, what: str, owner: str = "") -> dict:
    if not isinstance(value, dict):
        _fail(field, f"expected an object, got {_show(value)}")
    for key in value:
        if key not in allowed:
            choices = f"choose from {', '.join(allowed)}" if allowed else "it takes none"
            of = f" for {owner}" if owner else ""
            _fail(f"{field}.{key}", f"unknown {what} {key!r}{of} ({choices})")
    return value


def _list(value: Any, field: str, n: int, what: str) -> list:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        _fail(field, f"expected a list of {n} {what}, got {_show(value)}")
    if len(value) != n:
        _fail(field, f"expected {n} {what}, got {len(value)}")
    return list(value)


def _vector(value: Any, field: str, n: int) -> np.ndarray:
    items = _list(value, field, n, "values")
    return np.array([finite_number(x, f"{field}[{j}]") for j, x in enumerate(items)])


def _matrices(value: Any, field: str, layers: list[int]) -> list[np.ndarray]:
    """weights-shaped: one (n_l, n_{l+1}) matrix per layer pair."""
    mats = _list(value, field, len(layers) - 1, "matrices (one per layer pair)")
    out = []
    for l, mat in enumerate(mats):
        rows = _list(mat, f"{field}[{l}]", layers[l], "rows")
        out.append(np.array([_vector(r, f"{field}[{l}][{i}]", layers[l + 1])
                             for i, r in enumerate(rows)]).reshape(layers[l], layers[l + 1]))
    return out


def _vectors(value: Any, field: str, layers: list[int]) -> list[np.ndarray]:
    """biases-shaped: one (n_{l+1},) vector per layer pair."""
    vecs = _list(value, field, len(layers) - 1, "vectors (one per layer pair)")
    return [_vector(v, f"{field}[{l}]", layers[l + 1]) for l, v in enumerate(vecs)]


def _parse_layers(value: Any, doc: dict) -> list[int]:
    lo, hi = 2, MAX_HIDDEN_LAYERS + 2
    if not isinstance(value, list | tuple) or not lo <= len(value) <= hi:
        count = len(value) if isinstance(value, list | tuple) else _show(value)
        _fail("layers", f"expected {lo} to {hi} layer sizes (input, 0 to "
              f"{MAX_HIDDEN_LAYERS} hidden, output), got {count}")
    return [integer_in(n, f"layers[{l}]", 1, MAX_NEURONS) for l, n in enumerate(value)]


def _parse_layer_activations(value: Any, doc: dict) -> list | None:
    if value is None:
        return None
    hidden = len(doc["layers"]) - 2
    items = _list(value, "layer_activations", hidden, "entries (one per hidden layer)")
    return [None if a is None else choice(a, f"layer_activations[{l}]", HIDDEN_ACTIVATIONS,
                                         "activation") for l, a in enumerate(items)]


def _parse_loss(value: Any, doc: dict) -> str:
    name = choice(value, "loss", tuple(LOSSES), "loss")
    check_compatible(name, doc["output_activation"], doc["layers"][-1])
    return name


def _parse_loss_params(value: Any, doc: dict) -> dict:
    defaults = LOSSES[doc["loss"]].params
    given = _object(value, "loss_params", tuple(defaults), "parameter", doc["loss"])
    return {k: positive_number(given.get(k, d), f"loss_params.{k}") for k, d in defaults.items()}


def _betas(value: Any, field: str) -> tuple[float, float]:
    items = _list(value, field, 2, "numbers")
    return tuple(_bounded(b, f"{field}[{k}]", 0.0, 1.0, True) for k, b in enumerate(items))


# How each hyperparameter is validated (torch.optim's names).
HYPERPARAMETERS: dict[str, Callable[[Any, str], Any]] = {
    "learning_rate": positive_number,
    "momentum": lambda v, f: _bounded(v, f, 0.0, 1.0, True),
    "dampening": lambda v, f: _bounded(v, f, 0.0, 1.0, False),
    "alpha": lambda v, f: _bounded(v, f, 0.0, 1.0, True),
    "eps": positive_number,
    "weight_decay": lambda v, f: _bounded(v, f, 0.0, math.inf, False),
    "betas": _betas,
}


def _parse_optimizer(value: Any, doc: dict) -> dict:
    if not isinstance(value, dict) or "name" not in value:
        _fail("optimizer.name", "missing (an object with a name, e.g. {\"name\": \"sgd\"})")
    name = choice(value["name"], "optimizer.name", tuple(OPTIMIZERS), "optimizer")
    defaults = OPTIMIZERS[name].defaults
    _object(value, "optimizer", ("name", *defaults), "hyperparameter", name)
    hp = {k: HYPERPARAMETERS[k](value[k], f"optimizer.{k}") if k in value else d
          for k, d in defaults.items()}
    return {"name": name, **hp}


def _parse_regularization(value: Any, doc: dict) -> dict:
    given = _object(value, "regularization", ("name", "rate"), "key")
    name = choice(given.get("name", "none"), "regularization.name", tuple(REGULARIZATIONS),
                 "regularization")
    rate = _bounded(given.get("rate", 0.0), "regularization.rate", 0.0, math.inf, False)
    return {"name": name, "rate": rate}


def _parse_state(value: Any, doc: dict) -> dict | None:
    if value is None:
        return None
    spec = OPTIMIZERS[doc["optimizer"]["name"]]
    given = _object(value, "optimizer_state", ("step", *spec.buffers), "entry", spec.name)
    step = integer_in(given.get("step"), "optimizer_state.step", 0, 2**62)
    buffers = {}
    for b in spec.buffers:
        field = f"optimizer_state.{b}"
        if b not in given:
            if step:
                _fail(field, f"missing (needed after step {step})")
            continue
        _object(given[b], field, ("weights", "biases"), "key")
        for key in ("weights", "biases"):
            if key not in given[b]:
                _fail(f"{field}.{key}", "missing")
        buffers[b] = (_matrices(given[b]["weights"], f"{field}.weights", doc["layers"]),
                      _vectors(given[b]["biases"], f"{field}.biases", doc["layers"]))
    return {"step": step, "buffers": buffers}


def _dump_state(state: dict | None) -> dict | None:
    if state is None:
        return None
    out: dict[str, Any] = {"step": state["step"]}
    for b, (ws, bs) in state["buffers"].items():
        out[b] = {"weights": [w.tolist() for w in ws], "biases": [v.tolist() for v in bs]}
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return [_copy(v) for v in value] if isinstance(value, list | tuple) else value


@dataclass(frozen=True)
class Field:
    name: str
    default: Callable[[dict], Any]  # (values parsed so far) -> default
    parse: Callable[[Any, dict], Any]  # (raw value, values parsed so far) -> value
    dump: Callable[[Any], Any]  # value -> JSON-compatible
    doc: str


def _const(value: Any) -> Callable[[dict], Any]:
    return lambda doc: _copy(value)


def _hidden(field: str) -> Callable[[Any, dict], str]:
    return lambda v, doc: choice(v, field, HIDDEN_ACTIVATIONS, "activation")


FIELDS: tuple[Field, ...] = (
    Field("format", _const(FORMAT),
          lambda v, doc: v if v == FORMAT else _fail("format", f"expected {FORMAT!r}, got "
                                                     f"{_show(v)}"),
          _copy, "document format tag"),
    Field("layers", _const([2, 4, 2, 1]), _parse_layers, _copy,
          "layer sizes: input, 0-10 hidden layers of 1-64, output"),
    Field("activation", _const("tanh"), _hidden("activation"), _copy,
          "hidden activation for the whole network"),
    Field("layer_activations", _const(None), _parse_layer_activations, _copy,
          "per-hidden-layer override (null entries use activation), or null"),
    Field("output_activation", _const("tanh"),
          lambda v, doc: choice(v, "output_activation", OUTPUT_ACTIVATIONS, "output activation"),
          _copy, "activation of the output layer"),
    Field("loss", lambda doc: _parse_loss("mse", doc), _parse_loss, _copy, "loss name"),
    Field("loss_params", lambda doc: dict(LOSSES[doc["loss"]].params), _parse_loss_params,
          _copy, "loss parameters (huber: delta)"),
    Field("optimizer", lambda doc: _parse_optimizer({"name": "sgd"}, doc), _parse_optimizer,
          _copy, "optimizer name and torch.optim hyperparameters"),
    Field("regularization", _const({"name": "none", "rate": 0.0}), _parse_regularization,
          _copy, "none, l1 (rate sum|w|) or l2 (rate 1/2 sum w^2), weights only"),
    Field("init", _const("uniform"),
          lambda v, doc: choice(v, "init", tuple(INITIALIZERS), "init scheme"), _copy,
          "initialization scheme for weights drawn from the seed"),
    Field("seed", _const(0), lambda v, doc: integer_in(v, "seed", 0, 2**63 - 1), _copy,
          "seed of every random draw"),
    Field("weights", lambda doc: initial_weights(doc["init"], doc["layers"], doc["seed"]),
          lambda v, doc: _matrices(v, "weights", doc["layers"]),
          lambda ws: [w.tolist() for w in ws],
          "weights[l][i][j]: from neuron i of layer l to neuron j of layer l+1"),
    Field("biases", lambda doc: [np.zeros(n) for n in doc["layers"][1:]],
          lambda v, doc: _vectors(v, "biases", doc["layers"]),
          lambda bs: [b.tolist() for b in bs], "biases[l][j]: of neuron j of layer l+1"),
    Field("optimizer_state", _const(None), _parse_state, _dump_state,
          "step count and optimizer buffers in weights/biases layout, or null"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)


def parse_document(doc: Any) -> dict:
    """Validate a model document and fill in defaults; raises ModelDocumentError naming the
    field (IncompatibleError for a senseless loss / output pairing)."""
    if not isinstance(doc, dict):
        _fail("document", f"expected an object, got {_show(doc)}")
    for key in doc:
        if key not in FIELD_NAMES:
            _fail(str(key), f"unknown field (choose from {', '.join(FIELD_NAMES)})")
    values: dict[str, Any] = {}
    for f in FIELDS:
        raw = doc.get(f.name)
        values[f.name] = f.default(values) if raw is None else f.parse(raw, values)
    return values


def dump_document(values: dict) -> dict:
    """The JSON-compatible document of parsed values (every field, table order)."""
    return {f.name: f.dump(values[f.name]) for f in FIELDS}
