"""The network: parameters in one flat vector, forward, backward, traced and fast steps."""

from __future__ import annotations

import copy
import math
from itertools import pairwise

import numpy as np

from engine import fastpath
from engine.activations import ACTIVATIONS
from engine.document import (
    REGULARIZATIONS,
    choice,
    dump_document,
    finite_number,
    integer_in,
    parse_document,
    positive_number,
)
from engine.errors import DivergenceError, EngineError, ModelDocumentError
from engine.losses import LOSSES
from engine.optimizers import Optimizer
from engine.trace import ForwardTrace, StepTrace

Array = np.ndarray

# Non-finite numbers are caught by explicit checks, so NumPy's warnings about them are noise.
_QUIET = {"over": "ignore", "invalid": "ignore", "divide": "ignore", "under": "ignore"}


class ParamLayout:
    """Where each layer's weights and biases sit in the flat parameter vector.

    Layer by layer: the (n_l, n_{l+1}) weight matrix, row-major, then the (n_{l+1},) bias
    vector. `offsets[l] = (weight_start, bias_start)` and `sizes` (the layer sizes) are
    int64 arrays for compiled kernels; `weight_mask` is 1.0 on weights, 0.0 on biases.
    """

    def __init__(self, layers) -> None:
        self.layers = tuple(int(n) for n in layers)
        self.weight_shapes = list(pairwise(self.layers))
        self.weight_slices: list[slice] = []
        self.bias_slices: list[slice] = []
        offset = 0
        for n_in, n_out in self.weight_shapes:
            self.weight_slices.append(slice(offset, offset + n_in * n_out))
            offset += n_in * n_out
            self.bias_slices.append(slice(offset, offset + n_out))
            offset += n_out
        self.size = offset
        self.sizes = np.array(self.layers, dtype=np.int64)
        starts = [(w.start, b.start) for w, b in
                  zip(self.weight_slices, self.bias_slices, strict=True)]
        self.offsets = np.array(starts, dtype=np.int64).reshape(-1, 2)
        self.weight_mask = np.zeros(self.size)
        for w in self.weight_slices:
            self.weight_mask[w] = 1.0

    def views(self, flat: Array) -> tuple[list[Array], list[Array]]:
        """Weight matrices and bias vectors as views into `flat` (writes go through)."""
        weights = [flat[s].reshape(shape) for s, shape in zip(self.weight_slices,
                                                               self.weight_shapes, strict=True)]
        return weights, [flat[s] for s in self.bias_slices]

    def flatten(self, weights, biases) -> Array:
        """A new flat vector from per-layer weights and biases."""
        flat = np.empty(self.size)
        for s, w in zip(self.weight_slices, weights, strict=True):
            flat[s] = np.ravel(w)
        for s, b in zip(self.bias_slices, biases, strict=True):
            flat[s] = b
        return flat

    def name(self, k: int) -> str:
        """The parameter at flat index k, e.g. "weights[1][0][2]" or "biases[0][3]"."""
        for l, (ws, bs) in enumerate(zip(self.weight_slices, self.bias_slices, strict=True)):
            if ws.start <= k < ws.stop:
                i, j = divmod(k - ws.start, self.weight_shapes[l][1])
                return f"weights[{l}][{i}][{j}]"
            if bs.start <= k < bs.stop:
                return f"biases[{l}][{k - bs.start}]"
        raise IndexError(k)


class Network:
    """A fully-connected network built from a model document (see engine.document).

    Parameters live in `params`, one float64 vector; `weights[l]` (n_l, n_{l+1}) and
    `biases[l]` (n_{l+1},) are views into it. X is (n, n_inputs); targets Y are
    (n, n_outputs), already encoded for the loss (engine.losses.encode_targets).
    """

    def __init__(self, values: dict) -> None:
        """Build from parsed document values; use `Network.from_dict(doc)`."""
        self._settings = {k: values[k] for k in ("format", "layers", "activation",
                                                 "layer_activations", "output_activation",
                                                 "loss", "loss_params", "init", "seed")}
        self.layout = ParamLayout(values["layers"])
        self.params = self.layout.flatten(values["weights"], values["biases"])
        self.weights, self.biases = self.layout.views(self.params)
        overrides = values["layer_activations"] or [None] * (len(self.layout.layers) - 2)
        self.layer_activation_names = [o or values["activation"] for o in overrides]
        self.layer_activation_names.append(values["output_activation"])
        self._activations = [ACTIVATIONS[n] for n in self.layer_activation_names]
        self._loss = LOSSES[values["loss"]]
        self.loss_params = dict(values["loss_params"])
        self.regularization = dict(values["regularization"])
        opt, state = values["optimizer"], values["optimizer_state"] or {"step": 0, "buffers": {}}
        buffers = {k: self.layout.flatten(*wb) for k, wb in state["buffers"].items()}
        hp = {k: v for k, v in opt.items() if k != "name"}
        self.optimizer = Optimizer(opt["name"], hp, self.layout.size, state["step"], buffers)

    # --- the document -------------------------------------------------------------

    @classmethod
    def from_dict(cls, doc: dict) -> Network:
        """A network from a model document; raises ModelDocumentError naming the field."""
        return cls(parse_document(doc))

    def to_dict(self) -> dict:
        """The whole model as a JSON-compatible document (floats are Python floats)."""
        opt = self.optimizer
        state = None
        if opt.step or any(v.any() for v in opt.state.values()):
            state = {"step": opt.step,
                     "buffers": {k: self.layout.views(v) for k, v in opt.state.items()}}
        return dump_document({**self._settings,
                              "optimizer": {"name": opt.name, **opt.hyperparameters},
                              "regularization": self.regularization,
                              "weights": self.weights, "biases": self.biases,
                              "optimizer_state": state})

    def copy(self) -> Network:
        return Network.from_dict(self.to_dict())

    def frozen(self) -> Network:
        """A copy for readers (a frame built while the original trains on): its own
        parameters, regularization and hyperparameters; the layout, activations and loss
        shared (they never change). Cheap: one vector copy. Not for training: it shares
        the optimizer's state buffers."""
        clone = copy.copy(self)
        clone.params = self.params.copy()
        clone.weights, clone.biases = self.layout.views(clone.params)
        clone.regularization = dict(self.regularization)
        clone.optimizer = copy.copy(self.optimizer)
        clone.optimizer.hyperparameters = dict(self.optimizer.hyperparameters)
        return clone

    # --- shape and settings -------------------------------------------------------

    @property
    def layers(self) -> tuple[int, ...]:
        return self.layout.layers

    @property
    def n_layers(self) -> int:
        """Number of layers including the input layer."""
        return len(self.layout.layers)

    @property
    def n_inputs(self) -> int:
        return self.layout.layers[0]

    @property
    def n_outputs(self) -> int:
        return self.layout.layers[-1]

    @property
    def loss(self) -> str:
        return self._loss.name

    @property
    def output_activation(self) -> str:
        return self.layer_activation_names[-1]

    @property
    def learning_rate(self) -> float:
        return self.optimizer.hyperparameters["learning_rate"]

    @property
    def step_count(self) -> int:
        """Optimizer updates made so far."""
        return self.optimizer.step

    def set_learning_rate(self, learning_rate: float) -> None:
        """Takes effect at the next step; optimizer state is kept."""
        self.optimizer.hyperparameters["learning_rate"] = positive_number(
            learning_rate, "learning_rate")

    def set_regularization(self, name: str, rate: float) -> None:
        """none, l1 or l2 with rate >= 0; takes effect at the next step."""
        name = choice(name, "regularization", tuple(REGULARIZATIONS), "regularization")
        rate = finite_number(rate, "regularization_rate")
        if rate < 0:
            raise ModelDocumentError("regularization_rate", f"expected a number >= 0, got {rate}")
        self.regularization = {"name": name, "rate": rate}

    def set_weight(self, l: int, i: int, j: int, value: float) -> None:
        """Set the weight from neuron i of layer l to neuron j of layer l+1."""
        l = integer_in(l, "layer", 0, self.n_layers - 2)
        i = integer_in(i, "from", 0, self.layers[l] - 1)
        j = integer_in(j, "to", 0, self.layers[l + 1] - 1)
        self.weights[l][i, j] = finite_number(value, "value")

    def set_bias(self, l: int, j: int, value: float) -> None:
        """Set the bias of neuron j of layer l+1."""
        l = integer_in(l, "layer", 0, self.n_layers - 2)
        j = integer_in(j, "neuron", 0, self.layers[l + 1] - 1)
        self.biases[l][j] = finite_number(value, "value")

    # --- data checks --------------------------------------------------------------

    def _inputs(self, X) -> Array:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise EngineError(f"expected shape (n, {self.n_inputs}), got {X.shape}", "inputs")
        return X

    def _targets(self, Y, n: int) -> Array:
        T = np.asarray(Y, dtype=np.float64)
        if T.ndim == 1:
            T = T[:, None]
        if self.loss == "cross_entropy" and T.shape == (n, 1) and self.n_outputs > 1:
            T = np.eye(self.n_outputs)[T[:, 0].astype(np.int64)]  # class indices
        if T.shape != (n, self.n_outputs):
            raise EngineError(f"expected shape ({n}, {self.n_outputs}), got {T.shape}",
                              "targets")
        return T

    def _data(self, X, Y) -> tuple[Array, Array]:
        X = self._inputs(X)
        return X, self._targets(Y, X.shape[0])

    # --- forward and backward -----------------------------------------------------

    def _forward(self, X: Array) -> tuple[list[Array], list[Array]]:
        zs, acts = [], [X]
        for W, b, act in zip(self.weights, self.biases, self._activations, strict=True):
            z = acts[-1] @ W + b
            zs.append(z)
            acts.append(act.fn(z))
        return zs, acts

    def _backward(self, zs: list[Array], acts: list[Array],
                  T: Array) -> tuple[list[Array], Array]:
        """Deltas dL/dz for layers 1..L and the flat gradient of the data loss."""
        grad = np.empty(self.layout.size)
        gW, gb = self.layout.views(grad)
        last = len(zs) - 1
        delta = self._loss.delta(zs[-1], acts[-1], T, self._activations[-1], self.loss_params)
        deltas = [delta] * len(zs)
        for l in range(last, -1, -1):
            deltas[l] = delta
            np.matmul(acts[l].T, delta, out=gW[l])
            np.add.reduce(delta, axis=0, out=gb[l])
            if l:
                delta = self._activations[l - 1].backward(zs[l - 1], acts[l],
                                                          delta @ self.weights[l].T)
        return deltas, grad

    def _regularization(self) -> tuple[float, Array | None]:
        """The penalty on the weights and its flat gradient (None when there is none)."""
        name, rate = self.regularization["name"], self.regularization["rate"]
        if name == "none":
            return 0.0, None
        reg = REGULARIZATIONS[name]
        w = self.params * self.layout.weight_mask  # biases are never regularized
        return reg.penalty(w, rate), reg.grad(w, rate)

    def _evaluate(self, X: Array, T: Array):
        zs, acts = self._forward(X)
        per_sample = self._loss.value(zs[-1], acts[-1], T, self.loss_params)
        deltas, grad = self._backward(zs, acts, T)
        penalty, reg_grad = self._regularization()
        total = grad if reg_grad is None else grad + reg_grad
        return zs, acts, deltas, per_sample, penalty, reg_grad, total

    def forward(self, X) -> ForwardTrace:
        """Every layer's pre-activations and activations for inputs X (n, n_inputs)."""
        zs, acts = self._forward(self._inputs(X))
        return ForwardTrace(activations=acts, pre_activations=zs)

    def predict(self, X) -> Array:
        """The network's outputs (n, n_outputs)."""
        return self._forward(self._inputs(X))[1][-1]

    def objective(self, X, Y) -> float:
        """Batch-mean data loss plus the regularization term."""
        X, T = self._data(X, Y)
        zs, acts = self._forward(X)
        data = float(self._loss.value(zs[-1], acts[-1], T, self.loss_params).mean())
        return data + self._regularization()[0]

    def evaluate(self, X, Y) -> tuple[float, Array]:
        """(objective, outputs (n, n_outputs)) on a whole split, through the compiled
        kernel: the same numbers as `objective` and `predict` to rounding (~1e-15
        relative), several times faster; for evaluation, not for traces. An empty X
        gives an objective of 0.0."""
        X, T = self._data(X, Y)
        outputs, per_sample = fastpath.evaluate(self, X, T)
        if per_sample.size == 0:
            return 0.0, outputs
        return float(np.add.reduce(per_sample)) / per_sample.size + \
            self._regularization()[0], outputs

    def flat_gradient(self, X, Y) -> tuple[float, Array]:
        """The objective and its gradient as one flat vector (parameter layout)."""
        X, T = self._data(X, Y)
        _, _, _, per_sample, penalty, _, grad = self._evaluate(X, T)
        return float(per_sample.mean()) + penalty, grad

    def loss_and_gradients(self, X, Y) -> tuple[float, dict]:
        """(objective, {"weights": [(n_l, n_{l+1})...], "biases": [(n_{l+1},)...]})."""
        loss, grad = self.flat_gradient(X, Y)
        weights, biases = self.layout.views(grad)
        return loss, {"weights": weights, "biases": biases}

    # --- steps --------------------------------------------------------------------

    def _diverged(self, what: str) -> DivergenceError:
        return DivergenceError(
            f"the step produced non-finite {what}; the model keeps its last finite "
            f"parameters; the learning rate ({self.learning_rate:g}) is probably too high",
            "learning_rate")

    def _apply(self, loss: float, grad: Array) -> tuple[Array, dict]:
        """Check the step's numbers, then commit the update; returns the new params and
        state. Raises DivergenceError with nothing changed when any is not finite."""
        if not math.isfinite(loss):
            raise self._diverged("loss")
        if not np.isfinite(grad).all():
            raise self._diverged("gradients")
        params, state = self.optimizer.propose(self.params, grad)
        if not np.isfinite(params).all():
            raise self._diverged("parameters")
        if not all(np.isfinite(v).all() for v in state.values()):
            raise self._diverged("optimizer state")
        self.params[:] = params
        self.optimizer.commit(state)
        return params, state

    def _step_flat(self, X: Array, T: Array) -> float:
        """One untraced optimizer update on a checked batch; returns the batch objective.
        The fast path (engine.fastpath) mirrors exactly this."""
        _, _, _, per_sample, penalty, _, grad = self._evaluate(X, T)
        loss = float(np.add.reduce(per_sample)) / per_sample.size + penalty
        self._apply(loss, grad)
        return loss

    def train_step(self, X, Y) -> StepTrace:
        """One optimizer update on batch (X, Y), recorded with all its numbers."""
        X, T = self._data(X, Y)
        before = self.params.copy()
        state_before = {k: v.copy() for k, v in self.optimizer.state.items()}
        hyperparameters = dict(self.optimizer.hyperparameters)
        regularization = dict(self.regularization)
        with np.errstate(**_QUIET):
            zs, acts, deltas, per_sample, penalty, reg_grad, grad = self._evaluate(X, T)
            data = float(np.add.reduce(per_sample)) / per_sample.size
            params, state = self._apply(data + penalty, grad)
            decayed, used = self.optimizer.decay(before, grad)
        return StepTrace(
            layout=self.layout, inputs=X, targets=T,
            activation_names=list(self.layer_activation_names),
            pre_activations=zs, activations=acts, deltas=deltas, loss_name=self.loss,
            per_sample=per_sample, data_loss=data, regularization_loss=penalty,
            regularization=regularization, gradient=grad,
            regularization_gradient=np.zeros_like(grad) if reg_grad is None else reg_grad,
            optimizer=self.optimizer.name, hyperparameters=hyperparameters,
            step=self.optimizer.step, params_before=before, params_after=params,
            state_before=state_before, state_after=state, gradient_used=used,
            decayed_params=decayed if self.optimizer.spec.decoupled else None)

    def train_epoch(self, X, Y, batch_size: int) -> float:
        """One pass of mini-batch updates over (X, Y) in order (the last batch may be
        smaller); returns the sample-weighted mean of the batch objectives. On divergence
        the updates before the failing batch are kept and DivergenceError is raised.

        Runs the compiled kernel (engine.fastpath), which agrees with the NumPy
        reference `_train_epoch_numpy` to rounding (~1e-15 relative a step)."""
        X, T = self._data(X, Y)
        batch_size = integer_in(batch_size, "batch_size", 1, 2**31)
        n = X.shape[0]
        _, total, status = fastpath.run_epoch(self, X, T, batch_size)
        if status:
            raise self._diverged(fastpath.STATUS[status])
        return total / n if n else 0.0

    def _train_epoch_numpy(self, X, Y, batch_size: int) -> float:
        """`train_epoch` in plain NumPy, `_step_flat` batch after batch: the readable
        reference the kernel is tested against."""
        X, T = self._data(X, Y)
        batch_size = integer_in(batch_size, "batch_size", 1, 2**31)
        n, total = X.shape[0], 0.0
        with np.errstate(**_QUIET):
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                total += self._step_flat(X[start:stop], T[start:stop]) * (stop - start)
        return total / n if n else 0.0
