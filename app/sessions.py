"""Sessions: one network, its dataset and its training state per browser tab.

A `Session` is driven from three places at once: sync route handlers (thread pool),
the WebSocket handlers (event loop, work pushed to threads) and the training loop
(threads). Every method takes the session's lock, validates first and builds any
new network or problem before swapping it in, so a refused change leaves the
session exactly as it was.

After every change a session calls its listeners with ``(session, kind)``, kind
being ``"snapshot"`` (structural: model, dataset, configure, reset), ``"frame"``
(weights, settings, training progress) or ``"status"`` (play / pause / divergence).
The live stream (app/live.py) subscribes through the store; listeners must be cheap
and thread-safe, since they run on whichever thread made the change.
"""

from __future__ import annotations

import copy
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app import exercise as exercises
from app import ui_table
from app.config import Settings
from app.errors import BadInput, SessionNotFound, TooLarge, TooManySessions
from engine import Network
from engine.activations import OUTPUT_ACTIVATIONS
from engine.csvdata import parse_csv, to_csv
from engine.errors import DivergenceError, EngineError
from engine.gradcheck import gradient_check
from engine.losses import LOSSES
from engine.problem import prepare
from engine.trace import step_trace_numbers
from engine.watch import DivergenceWatch

STRUCTURE_FIELDS = (
    "layers", "activation", "layer_activations", "output_activation", "loss", "loss_params",
    "optimizer", "init", "seed", "regularization",
)
UNITS = ("epoch", "batch", "sample")
SPLITS = ("train", "test")
GRADCHECK_EPS = 1e-6
GRADCHECK_MOST = 2000  # two objective evaluations each, with the session's lock held

Listener = Callable[["Session", str], None]

# The session document's format. A document of an older format is brought up to this one
# by MIGRATIONS (format -> function), in order; one of a format not listed is refused.
SESSION_FORMAT = "nnplay.session/2"
MIGRATIONS: dict[str | None, Callable[[dict], dict]] = {
    # Documents from before the format field (nnplay 0.1 in memory): the same fields,
    # "undo" not yet there.
    None: lambda doc: {**doc, "format": "nnplay.session/1", "undo": doc.get("undo")},
    # Before the speed control: such a session trained as fast as it could ("max"), and
    # had no training goal.
    "nnplay.session/1": lambda doc: {
        **doc, "format": "nnplay.session/2",
        "training": {"speed": "max", "goal": None, **(doc.get("training") or {})}},
}
MAX_GOAL_EPOCHS = 1_000_000


def migrate(doc: dict) -> dict:
    """`doc` in the current SESSION_FORMAT, or BadInput ("format") saying why not."""
    seen = set()
    while doc.get("format") != SESSION_FORMAT:
        fmt = doc.get("format")
        if fmt in seen or fmt not in MIGRATIONS:
            raise BadInput(f"a session saved as {fmt!r} cannot be loaded by this nnplay "
                           f"(it reads {SESSION_FORMAT} and older)", "format")
        seen.add(fmt)
        doc = MIGRATIONS[fmt](doc)
    return doc


def _finite(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"expected a finite number, got {value!r}", field)
    return float(value)


def _index(value, field: str, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"expected an integer, got {value!r}", field)
    if not 0 <= value < size:
        raise BadInput(f"{value} is outside 0..{size - 1}", field)
    return value


def _table(name: str, value):
    """`value` checked against the settings table's rule for `name` (app/ui_table.py)."""
    try:
        return ui_table.check(name, value)
    except ui_table.SettingError as e:
        raise BadInput(e.message, e.field) from None


class Session:
    """One user's playground. Build with `SessionStore.create` or `Session.from_dict`."""

    def __init__(self, session_id: str, settings: Settings, model: dict, dataset: dict,
                 initial_model: dict | None = None, training: dict | None = None,
                 history: dict | None = None, undo: dict | None = None,
                 exercise: dict | None = None) -> None:
        self.id = session_id
        # a classroom exercise: parts of the page hidden or locked (app/exercise.py)
        self.exercise = exercises.checked(exercise)
        self.settings = settings
        self.lock = threading.RLock()
        self.listeners: list[Listener] = []
        self.closed = False
        self.connections = 0  # live streams open on this session (set by app.live)
        self.last_seen = time.monotonic()
        self.version = 0  # bumped on every change: frames are built once per version
        net, problem = self._build(model, dataset)
        self._net = net
        self._problem = problem
        self.initial_model = copy.deepcopy(initial_model) if initial_model else net.to_dict()
        t = training or {}
        self.training = {
            "batch_size": ui_table.BY_NAME["batch_size"].default, "epoch": 0, "step": 0,
            "cursor": 0, "playing": False,
            "sample": {"split": "train", "index": 0},
            "speed": ui_table.BY_NAME["speed"].default, "goal": None,
        }
        self.training.update({k: copy.deepcopy(v) for k, v in t.items() if k in self.training})
        self._check_training(self.training)
        h = history or {}
        self.history = {
            "offset": int(h.get("offset", 0)), "generation": int(h.get("generation", 0)),
            "epoch": list(h.get("epoch", [])), "train_loss": list(h.get("train_loss", [])),
            "test_loss": list(h.get("test_loss", [])),
        }
        self.undo = copy.deepcopy(undo) if isinstance(undo, dict) else None  # see undo_data
        self.last_trace_gradients: dict | None = None
        self._evaluation: tuple | None = None  # see evaluation()
        self.watch = DivergenceWatch()  # kept in memory only: see go_back
        self.status = {"playing": self.training["playing"], "reason": "created", "message": "",
                       "goal": self.training["goal"], "back_to": None}
        if not self.history["epoch"]:
            self._record_history()
        self.published: Published = self._publish()

    # ---- reading ----------------------------------------------------------------

    @property
    def network(self) -> Network:
        return self._net

    @property
    def problem(self):
        return self._problem

    @property
    def playing(self) -> bool:
        return self.training["playing"]

    def to_dict(self) -> dict:
        """The whole session as one JSON-compatible document (PROTOCOL.md "Session state")."""
        with self.lock:
            return {
                "format": SESSION_FORMAT,
                "id": self.id,
                "version": self.version,
                "model": self._net.to_dict(),
                "initial_model": copy.deepcopy(self.initial_model),
                "dataset": copy.deepcopy(self._problem.spec),
                "training": copy.deepcopy(self.training),
                "history": copy.deepcopy(self.history),
                "undo": copy.deepcopy(self.undo),
                "exercise": copy.deepcopy(self.exercise),
            }

    @classmethod
    def from_dict(cls, doc: dict, settings: Settings | None = None) -> Session:
        """Rebuild a session from `to_dict()`'s document."""
        if not isinstance(doc, dict):
            raise BadInput("expected an object", "session")
        doc = migrate(doc)
        for key in ("id", "model", "dataset"):
            if key not in doc:
                raise BadInput("missing", key)
        session = cls(doc["id"], settings or Settings(), doc["model"], doc["dataset"],
                      initial_model=doc.get("initial_model"), training=doc.get("training"),
                      history=doc.get("history"), undo=doc.get("undo"),
                      exercise=doc.get("exercise"))
        version = doc.get("version", 0)
        session.version = version if type(version) is int and version >= 0 else 0
        session.published = session._publish()
        return session

    def _check_training(self, t: dict) -> None:
        try:
            ui_table.check("batch_size", t["batch_size"])
        except ui_table.SettingError as e:
            raise BadInput(e.message, "training.batch_size") from None
        for key in ("epoch", "step", "cursor"):
            if isinstance(t[key], bool) or not isinstance(t[key], int) or t[key] < 0:
                raise BadInput("expected an integer >= 0", f"training.{key}")
        if not isinstance(t["playing"], bool):
            raise BadInput("expected true or false", "training.playing")
        try:
            ui_table.check("speed", t["speed"])
        except ui_table.SettingError as e:
            raise BadInput(e.message, "training.speed") from None
        if t["goal"] is not None:
            t["goal"] = _goal(t["goal"].get("epochs") if isinstance(t["goal"], dict) else None,
                              (t["goal"] or {}).get("until_loss"),
                              (t["goal"] or {}).get("start_epoch", t["epoch"]), "training.goal")
        sample = t["sample"]
        if not isinstance(sample, dict) or sample.get("split") not in SPLITS:
            raise BadInput("expected {split: train|test, index}", "training.sample")
        _index(sample.get("index"), "training.sample.index", self._split_size(sample["split"]))
        t["cursor"] = min(t["cursor"], self._n_batches() - 1)

    def dataset_dict(self) -> dict:
        """The dataset as PROTOCOL.md's ``GET .../dataset`` gives it (JSON form)."""
        p = self._problem
        return {
            "spec": copy.deepcopy(p.spec), "task": p.task, "n_classes": p.n_classes,
            "train": {"points": p.train_points.tolist(), "labels": p.train_labels.tolist()},
            "test": {"points": p.test_points.tolist(), "labels": p.test_labels.tolist()},
        }

    def dataset_csv(self) -> str:
        """The dataset as CSV ``x1,x2,label``: the training points, then the test points."""
        p = self._problem
        return to_csv(np.concatenate([p.train_points, p.test_points]),
                      np.concatenate([p.train_labels, p.test_labels]))

    def batch_rows(self) -> tuple[int, int]:
        """Rows [lo, hi) of the training split in the current batch."""
        return self._batch_rows(self.training["cursor"])

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    # ---- building (pure: nothing here changes the session) ---------------------

    def _check_limits(self, model: dict, dataset: dict | None) -> None:
        """The settings table's bounds (layers, learning rate, ...) and the server's size
        limits; the engine then checks the documents themselves."""
        s = self.settings
        if isinstance(model, dict):
            try:
                ui_table.check_model(model)
            except ui_table.SettingError as e:
                raise BadInput(e.message, "layers" if e.field == "hidden" else e.field) from None
        if isinstance(dataset, dict):
            n = dataset.get("n_points")
            if isinstance(n, int) and n > s.max_points:
                raise BadInput(f"{n} points, at most {s.max_points}", "n_points")
            for key in ("points", "extra_points"):
                pts = dataset.get(key)
                if isinstance(pts, list) and len(pts) > s.max_points:
                    raise BadInput(f"{len(pts)} points, at most {s.max_points}", key)

    def _build(self, model: dict | None, dataset: dict | None, adapt: bool = False,
               keep_pair: bool = False):
        """A new (network, problem) pair for these documents, or a 4xx error naming the field.

        With `adapt`, a model whose input or output size does not fit the dataset is
        reshaped to fit (fresh weights); otherwise the mismatch is refused.
        """
        if model is None:  # every entry point starts from the settings table's model
            model, adapt = ui_table.default_model(), True
        if not isinstance(model, dict):
            raise BadInput("expected an object", "model")
        if dataset is not None and not isinstance(dataset, dict):
            raise BadInput("expected an object", "dataset")
        self._check_limits(model, dataset)
        from engine.datasets import validate_spec

        spec = validate_spec(ui_table.default_dataset() if dataset is None else dataset)
        n_inputs = len(spec["features"])
        if adapt:
            model = self._adapted(model, spec, keep_pair)
        elif "layers" not in model:
            model = {**model, "layers": [n_inputs, 4, 2, 1]}
            model = self._adapted(model, spec, keep_pair=True)
        net = Network.from_dict(model)
        layers = net.layers
        if layers[0] != n_inputs:
            raise BadInput(
                f"the network has {layers[0]} inputs but the dataset has {n_inputs} features",
                "layers[0]")
        doc = net.to_dict()
        problem = prepare(spec, doc["loss"], doc["output_activation"], layers[-1])
        return net, problem

    def _adapted(self, model: dict, spec: dict, keep_pair: bool = False) -> dict:
        """`model` with its input layer sized to the features and its output to the task.
        An output activation and loss that cannot work for the task become the task's
        usual pair, unless `keep_pair` (they were asked for): then BadInput names the one
        at fault, by the settings table's rule (`ui_table.pair_problem`), as the page
        greys it out. A missing one is the task's usual.

        Changing a size drops the weights (they are drawn fresh from the init scheme).
        """
        from engine.datasets import DATASETS

        model = dict(model)
        layers = list(model.get("layers") or [2, 4, 2, 1])
        n_in = len(spec["features"])
        task = spec["task"]
        kind = DATASETS[spec["name"]]
        n_classes = kind.n_classes(spec) if task == "classification" else 0
        n_out = ui_table.n_outputs_for(task, n_classes)
        changed = layers[0] != n_in or layers[-1] != n_out
        layers[0], layers[-1] = n_in, n_out
        model["layers"] = layers
        # What is missing, or cannot work for this task, becomes the task's usual pair, as
        # "auto" picks it on the page.
        auto = ui_table.auto_output(task, n_out)
        given = (model.get("output_activation"), model.get("loss"))
        pair = tuple(a if g is None else g for g, a in zip(given, auto, strict=True))
        known = pair[0] in OUTPUT_ACTIVATIONS and pair[1] in LOSSES  # else the engine says so
        problem = known and ui_table.pair_problem(task, n_out, *pair)
        if problem and keep_pair:
            field = "output_activation" if ui_table.pair_problem(task, n_out, pair[0],
                                                                 auto[1]) == problem else "loss"
            raise BadInput(f"{problem} ({pair[0]} with {pair[1]} loss cannot work for "
                           f"this dataset)", field)
        if problem:
            pair = auto
        model["output_activation"], model["loss"] = pair
        changed = changed or None not in given and pair != given
        if changed:
            for key in ("weights", "biases", "optimizer_state"):
                model.pop(key, None)
        return model

    # ---- notification ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(session, kind)` after every change; returns the unsubscribe."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def _changed(self, kind: str) -> None:
        self.version += 1
        self.published = self._publish()  # under the lock: every change ends here
        self.touch()
        for listener in list(self.listeners):
            listener(self, kind)

    def _swap(self, net, problem, *, initial: bool, reset_training: bool) -> None:
        self._net, self._problem = net, problem
        if initial:
            self.initial_model = net.to_dict()
        self.last_trace_gradients = None
        self.watch = DivergenceWatch()
        t = self.training
        if reset_training:
            t["epoch"], t["step"], t["cursor"] = 0, 0, 0
            h = self.history
            h["offset"], h["generation"] = 0, h["generation"] + 1
            h["epoch"], h["train_loss"], h["test_loss"] = [], [], []
            self._record_history()
        self._fit_training()

    def _fit_training(self) -> None:
        """The selected sample and the batch cursor kept inside the current data."""
        t = self.training
        split, index = t["sample"]["split"], t["sample"]["index"]
        if index >= self._split_size(split):
            t["sample"] = {"split": "train", "index": 0}
        t["cursor"] = min(t["cursor"], self._n_batches() - 1)

    # ---- structural changes (listeners get "snapshot") --------------------------

    def replace_model(self, doc: dict, dataset: dict | None = None, part: str = "upload") -> None:
        """Import a model document (weights included); it becomes the model reset returns to.

        With `dataset`, the dataset is replaced in the same change (one check, one snapshot):
        the model must then fit that dataset as it is. `part`: what an exercise must leave
        open for it ("upload": an import; "example": the worked example)."""
        with self.lock:
            exercises.check(self.exercise, [(part, "model")])
            net, problem = self._build(doc, self._problem.spec if dataset is None else dataset)
            self.undo = None
            self._swap(net, problem, initial=True, reset_training=True)
            self._changed("snapshot")

    def replace_dataset(self, spec: dict, part: str | None = None) -> None:
        """A new dataset. A model that fits it keeps its weights; one whose input or output
        size does not fit is reshaped (fresh weights). Training counters restart. `part`:
        what an exercise must leave open for it (default: the parts of the spec that change)."""
        with self.lock:
            exercises.check(self.exercise, [(part, "file")] if part else
                            exercises.dataset_parts(self._problem.spec, spec))
            model = self._net.to_dict()
            net, problem = self._build(model, spec, adapt=True)
            fresh = list(net.layers) != list(model["layers"])
            self._remember("new data", whole=True)
            self._swap(net, problem, initial=fresh, reset_training=True)
            self._changed("snapshot")

    def replace_dataset_csv(self, text: str) -> None:
        """A dataset from a CSV file ``x1,x2,label``; features, preprocessing, split and seed
        stay as they were. A bad file is refused naming the line and column."""
        with self.lock:
            exercises.check(self.exercise, [("upload", "file")])
            spec = parse_csv(text, max_rows=self.settings.max_points, base=self._problem.spec)
            self.replace_dataset(spec, part="upload")

    def configure(self, changes: dict, dataset: dict | None = None) -> None:
        """Change structural fields of the model (see STRUCTURE_FIELDS; ``hidden`` as a
        shortcut for the hidden layer sizes). Weights are drawn fresh from the init scheme;
        the result becomes the new initial model.

        With `dataset`, the dataset is replaced in the same change (one check, one
        snapshot), the input and output layers sized to fit it."""
        with self.lock:
            if not isinstance(changes, dict):
                raise BadInput("expected an object", "changes")
            exercises.check(self.exercise, exercises.model_parts(changes, self._net.to_dict()))
            if dataset is not None:
                exercises.check(self.exercise,
                                exercises.dataset_parts(self._problem.spec, dataset))
            for key in changes:
                if key not in STRUCTURE_FIELDS and key != "hidden":
                    raise BadInput(f"not a structural field (choose from "
                                   f"{', '.join(STRUCTURE_FIELDS + ('hidden',))})", key)
            model = {k: v for k, v in self._net.to_dict().items()
                     if k not in ("weights", "biases", "optimizer_state")}
            model.update({k: v for k, v in changes.items() if k != "hidden"})
            if "hidden" in changes:
                hidden = changes["hidden"]
                if not isinstance(hidden, list):
                    raise BadInput("expected a list of layer sizes", "hidden")
                layers = model["layers"]
                model["layers"] = [layers[0], *hidden, layers[-1]]
            if dataset is None:
                net, problem = self._build(model, self._problem.spec)
                self.undo = None  # an undo would bring back the network this one replaces
            else:
                asked = "output_activation" in changes or "loss" in changes
                net, problem = self._build(model, dataset, adapt=True, keep_pair=asked)
                self._remember("new data", whole=True)
            self._swap(net, problem, initial=True, reset_training=True)
            self._changed("snapshot")

    # ---- data edits that keep the model, and undo ----------------------------------

    def _remember(self, label: str, whole: bool) -> None:
        """Keep what the coming data change replaces, for `undo_data`: the dataset, and
        with `whole` (the change replaces the network too) the model and its training."""
        entry = {"label": label, "dataset": copy.deepcopy(self._problem.spec)}
        if whole:
            entry.update(model=self._net.to_dict(), initial_model=copy.deepcopy(self.initial_model),
                         training=copy.deepcopy(self.training), history=copy.deepcopy(self.history))
        self.undo = entry

    def _problem_for(self, spec: dict):
        """The current network's problem on dataset `spec` (same features), or a 4xx."""
        from engine.datasets import validate_spec

        self._check_limits({}, spec)
        spec = validate_spec(spec)
        if len(spec["features"]) != self._net.layers[0]:
            raise BadInput("a data edit cannot change the features", "features")
        net = self._net
        return prepare(spec, net.loss, net.output_activation, net.layers[-1])

    def edit_points(self, points: list) -> None:
        """Replace the points added by hand (`extra_points`, [x1, x2, label] rows). The
        model, its optimizer state, the epoch and the history stay: the network goes on
        learning on the edited data. Undoable (`undo_data`)."""
        with self.lock:
            exercises.check(self.exercise, [("data", "extra_points")])
            before = len(self._problem.spec.get("extra_points") or ())
            problem = self._problem_for({**self._problem.spec, "extra_points": points})
            added = len(points) - before
            self._remember(f"{'added' if added > 0 else 'removed'} "
                           f"{abs(added) or 'the'} point{'' if abs(added) == 1 else 's'}",
                           whole=False)
            self._problem = problem
            self.last_trace_gradients = None
            self.watch = DivergenceWatch()
            self._fit_training()
            self._changed("snapshot")

    def undo_data(self) -> None:
        """Undo the last data change: its dataset back, and the network it replaced (if it
        replaced one) with that network's training state. Once only; a structural change
        since (a new network) drops the undo."""
        with self.lock:
            exercises.check(self.exercise, [("data", "undo")])
            entry = self.undo
            if entry is None:
                raise BadInput("there is no data change to undo", "undo")
            if "model" in entry:
                net, problem = self._build(entry["model"], entry["dataset"])
                generation = self.history["generation"]
                playing = self.training["playing"]
                self._net, self._problem = net, problem
                self.initial_model = copy.deepcopy(entry["initial_model"])
                self.training = {**copy.deepcopy(entry["training"]), "playing": playing}
                self.history = copy.deepcopy(entry["history"])
                self.history["generation"] = generation + 1  # clients take it whole
            else:
                self._problem = self._problem_for(entry["dataset"])
            self.undo = None
            self.last_trace_gradients = None
            self.watch = DivergenceWatch()
            self._fit_training()
            self._changed("snapshot")

    def reset(self, new_seed: bool = False) -> None:
        """Back to the initial model (same weights), keeping the live settings (learning
        rate, regularization, batch size); with `new_seed`, fresh weights from a new seed."""
        with self.lock:
            if new_seed:
                exercises.check(self.exercise, [("architecture", "seed")])
            doc = copy.deepcopy(self.initial_model)
            live = self._net.to_dict()
            doc["optimizer"] = {**doc["optimizer"],
                                "learning_rate": live["optimizer"]["learning_rate"]}
            doc["regularization"] = live["regularization"]
            if new_seed:
                doc["seed"] = secrets.randbits(31)
                for key in ("weights", "biases"):
                    doc.pop(key, None)
            doc.pop("optimizer_state", None)
            net, problem = self._build(doc, self._problem.spec)
            if new_seed:
                self.initial_model = net.to_dict()
            self._swap(net, problem, initial=False, reset_training=True)
            self._changed("snapshot")

    # ---- live changes (listeners get "frame") ------------------------------------

    def set_training(self, **live) -> None:
        """Live settings (`ui_table.LIVE`: learning rate, regularization and its rate, batch
        size), applied between steps: weights, epoch, optimizer state and history stay.
        Each value is checked against the settings table; None means unchanged."""
        with self.lock:
            for name in live:
                if name not in ui_table.LIVE:
                    raise BadInput(f"not a live setting (choose from "
                                   f"{', '.join(ui_table.LIVE)})", name)
            live = {k: _table(k, v) for k, v in live.items() if v is not None}
            model = self._net.to_dict()
            now = {"learning_rate": model["optimizer"]["learning_rate"],
                   "regularization": model["regularization"]["name"],
                   "regularization_rate": model["regularization"]["rate"],
                   "batch_size": self.training["batch_size"],
                   "speed": self.training.get("speed")}
            exercises.check(self.exercise, exercises.live_parts(
                k for k, v in live.items() if v != now.get(k)))
            if "learning_rate" in live:
                self._net.set_learning_rate(live["learning_rate"])
            if "regularization" in live or "regularization_rate" in live:
                reg = self._net.to_dict()["regularization"]
                self._net.set_regularization(live.get("regularization", reg["name"]),
                                             live.get("regularization_rate", reg["rate"]))
            if "speed" in live:
                self.training["speed"] = live["speed"]
            if "batch_size" in live:
                self.training["batch_size"] = live["batch_size"]
                self.training["cursor"] = min(self.training["cursor"], self._n_batches() - 1)
            self._changed("frame")

    def set_weight(self, layer, source, target, value) -> None:
        """Set ``weights[layer][source][target]`` (from neuron `source` of layer `layer`
        to neuron `target` of layer `layer`+1)."""
        with self.lock:
            exercises.check(self.exercise, [("weights", "value")])
            layers = self._net.layers
            layer = _index(layer, "layer", len(layers) - 1)
            source = _index(source, "from", layers[layer])
            target = _index(target, "to", layers[layer + 1])
            value = _finite(value, "value")
            self._net.set_weight(layer, source, target, value)
            self.watch = DivergenceWatch()  # a hand-made change is not a blow-up
            self._changed("frame")

    def set_bias(self, layer, neuron, value) -> None:
        """Set ``biases[layer][neuron]``, the bias of neuron `neuron` of layer `layer`+1."""
        with self.lock:
            exercises.check(self.exercise, [("weights", "value")])
            layers = self._net.layers
            layer = _index(layer, "layer", len(layers) - 1)
            neuron = _index(neuron, "neuron", layers[layer + 1])
            value = _finite(value, "value")
            self._net.set_bias(layer, neuron, value)
            self.watch = DivergenceWatch()
            self._changed("frame")

    def set_exercise(self, exercise: dict | None) -> None:
        """Make this session an exercise (app/exercise.py), or an open one with None; the
        page a teacher's link opens calls it once, when the session starts."""
        with self.lock:
            self.exercise = exercises.checked(exercise)
            self._changed("snapshot")

    def select_sample(self, split, index) -> None:
        """Choose the sample whose values frames show (and that ``step("sample")`` trains on)."""
        with self.lock:
            if split not in SPLITS:
                raise BadInput(f"unknown value {split!r} (choose from train, test)", "split")
            index = _index(index, "index", self._split_size(split))
            self.training["sample"] = {"split": split, "index": index}
            self._changed("frame")

    def _set_status(self, playing: bool, reason: str, message: str, back_to=None) -> None:
        self.training["playing"] = playing
        self.status = {"playing": playing, "reason": reason, "message": message,
                       "goal": copy.deepcopy(self.training["goal"]), "back_to": back_to}
        self._changed("status")

    def play(self) -> None:
        """Train continuously at the session's speed (no goal)."""
        with self.lock:
            if not self.training["playing"] or self.training["goal"] is not None:
                self.training["goal"] = None
                self._prime_watch()
                self._set_status(True, "playing", "training")

    def train_for(self, epochs, until_loss=None) -> None:
        """Train `epochs` epochs at the session's speed, or until the test loss goes below
        `until_loss` (checked after every epoch), whichever comes first; then pause by
        itself (reason ``"goal"``). The goal is ``training.goal``: ``{epochs, until_loss,
        start_epoch}``; pausing cancels it."""
        with self.lock:
            self.training["goal"] = _goal(epochs, until_loss, self.training["epoch"])
            self._prime_watch()
            self._set_status(True, "playing", f"training {epochs} epochs" + (
                f" or until the test loss is below {until_loss:g}" if until_loss else ""))

    def pause(self, reason: str = "paused", message: str = "training paused") -> None:
        """Stop training. A person's pause (or a page leaving) while the trainer is inside
        an epoch finishes that epoch first: the model shown is the model at an epoch."""
        with self.lock:
            if not (self.training["playing"] or reason != "paused"):
                return
            if self.training["playing"] and reason in ("paused", "disconnected") \
                    and self.training["cursor"]:
                try:
                    self._finish_epoch()
                except DivergenceError as exc:
                    reason, message = "diverged", _divergence_message(exc)
            self.training["goal"] = None
            self._set_status(False, reason, message)

    def _prime_watch(self) -> None:
        """The divergence watch's first check is the model training starts from: its loss
        is the reference, and it is the first good model to go back to. Playing on from a
        blow-up (not going back) starts a new run: its recovery is not a new blow-up."""
        if self.status.get("reason") == "diverged":
            self.watch = DivergenceWatch()
        if self.watch.reference is None:
            t = self.training
            train, test = self.losses()
            self.watch.check(self._net, t["epoch"], t["step"], train, test,
                             boundary=t["cursor"] == 0)

    def _finish_epoch(self) -> None:
        p, t = self._problem, self.training
        start = self._batch_rows(t["cursor"])[0]
        self._net.train_epoch(p.X_train[start:], p.Y_train[start:], t["batch_size"])
        t["step"] += self._n_batches() - t["cursor"]
        t["cursor"] = 0
        t["epoch"] += 1
        self._record_history()

    def go_back(self) -> int:
        """After a blow-up: back to the last good model (parameters and optimizer state at
        the epoch the watch kept); the history after that epoch is dropped. Returns the
        epoch. The copy lives in this process's memory: a session reloaded from the store
        has none (BadInput, field ``"go_back"``)."""
        with self.lock:
            if self.watch.good is None:
                raise BadInput("there is no earlier good epoch to go back to", "go_back")
            good = self.watch.restore(self._net)
            t, h = self.training, self.history
            t["epoch"], t["step"], t["cursor"] = good.epoch, good.step, 0
            keep = [k for k, e in enumerate(h["epoch"]) if e <= good.epoch]
            for key in ("epoch", "train_loss", "test_loss"):
                h[key] = [h[key][k] for k in keep]
            if not h["epoch"] or h["epoch"][-1] != good.epoch:
                h["epoch"].append(good.epoch)
                h["train_loss"].append(good.train_loss)
                h["test_loss"].append(good.test_loss)
            h["generation"] += 1  # clients take the history whole
            self.last_trace_gradients = None
            t["goal"] = None
            self._set_status(False, "went_back",
                             f"Back at epoch {good.epoch}, the last good model. The learning "
                             f"rate is still {self._net.learning_rate:g}: lower it before "
                             "playing again.")
            return good.epoch

    # ---- training ----------------------------------------------------------------

    def _split_size(self, split: str) -> int:
        return len(self._problem.X_train if split == "train" else self._problem.X_test)

    def _n_batches(self) -> int:
        return max(1, math.ceil(len(self._problem.X_train) / self.training["batch_size"]))

    def _batch_rows(self, cursor: int) -> tuple[int, int]:
        bs = self.training["batch_size"]
        return cursor * bs, min((cursor + 1) * bs, len(self._problem.X_train))

    def step(self, unit: str = "epoch"):
        """One epoch (returns its mean loss; from a mid-epoch batch, the rest of the epoch)
        or one traced optimizer update on the current batch / the selected sample
        (returns the trace dict with ``"batch"`` added). Divergence raises
        `DivergenceError` and leaves the model as it was. A playing session pauses first
        (listeners hear the status)."""
        if unit not in UNITS:
            raise BadInput(f"unknown value {unit!r} (choose from {', '.join(UNITS)})", "unit")
        if unit != "epoch":  # a traced step is the step panel's
            exercises.check(self.exercise, [("step", "unit")])
        with self.lock:
            if unit != "epoch":
                self.check_trace_size(unit)  # before anything changes
            if self.training["playing"]:
                # Under the same lock: no training turn runs between the pause and the step,
                # so the step (and its trace) starts from the paused model.
                self.pause("paused", "training paused for one step")
            p, t = self._problem, self.training
            if unit == "epoch":
                start = self._batch_rows(t["cursor"])[0]
                # The engine keeps the updates before a diverging batch; a refused step must
                # leave the session as it was, so keep a copy to put back.
                saved = self._net.to_dict()
                try:
                    loss = self._net.train_epoch(p.X_train[start:], p.Y_train[start:],
                                                 t["batch_size"])
                except DivergenceError:
                    self._net = Network.from_dict(saved)
                    raise
                t["step"] += self._n_batches() - t["cursor"]
                t["cursor"] = 0
                t["epoch"] += 1
                self.last_trace_gradients = None
                self._record_history()
                self._changed("frame")
                return float(loss)
            if unit == "batch":
                lo, hi = self._batch_rows(t["cursor"])
                X, Y, split, indices = p.X_train[lo:hi], p.Y_train[lo:hi], "train", range(lo, hi)
            else:
                split, index = t["sample"]["split"], t["sample"]["index"]
                X_all, Y_all = (p.X_train, p.Y_train) if split == "train" else (p.X_test, p.Y_test)
                X, Y, indices = X_all[index:index + 1], Y_all[index:index + 1], [index]
            trace = self._net.train_step(X, Y).to_dict()
            trace["batch"] = {"split": split, "indices": list(indices)}
            t["step"] += 1
            if unit == "batch":
                t["cursor"] += 1
                if t["cursor"] >= self._n_batches():
                    t["cursor"] = 0
                    t["epoch"] += 1
                    self._record_history()
            self.last_trace_gradients = trace.get("gradients")
            self._changed("frame")
            return trace

    def train_chunk(self, budget_seconds: float, max_epochs: int | None = None) -> int:
        """Train (fast path) for about `budget_seconds`, in runs of whole batches, stopping
        at an epoch boundary (an epoch longer than several budgets may stop inside it, and
        the next turn goes on); with `max_epochs`, after that many epochs at most (the
        paced speeds). Returns the number of epochs completed. A goal (`train_for`) is
        checked after every epoch and pauses the session when met. A blow-up (engine/
        watch.py) or a non-finite step pauses it with a plain message; the model keeps
        its last finite weights, and `go_back` offers the last good ones."""
        began = time.perf_counter()
        deadline, hard = began + budget_seconds, began + 4 * budget_seconds
        with self.lock:
            if not self.training["playing"] or self.closed:
                return 0
            p, t = self._problem, self.training
            goal = t["goal"]
            limit = max_epochs
            if goal is not None:
                left = goal["start_epoch"] + goal["epochs"] - t["epoch"]
                limit = left if limit is None else min(limit, left)
            bs = t["batch_size"]
            n_batches = self._n_batches()
            run, epochs, reached = 1, 0, None
            each_epoch = max_epochs is not None or (goal or {}).get("until_loss") is not None
            try:
                while limit is None or epochs < limit:
                    began = time.perf_counter()
                    end = min(t["cursor"] + run, n_batches)
                    lo, hi = t["cursor"] * bs, min(end * bs, len(p.X_train))
                    self._net.train_epoch(p.X_train[lo:hi], p.Y_train[lo:hi], bs)
                    t["step"] += end - t["cursor"]
                    t["cursor"] = end
                    now = time.perf_counter()
                    if end >= n_batches:
                        t["cursor"] = 0
                        t["epoch"] += 1
                        epochs += 1
                        if each_epoch:
                            self._record_history()
                            reached = self._goal_reached()
                            if reached or self._blew_up():
                                break
                        if now >= deadline:
                            break
                    elif now >= hard:
                        break
                    # Grow the run while a run is cheap, so short epochs go in few calls.
                    if now - began < budget_seconds / 8:
                        run = min(run * 2, n_batches)
            except DivergenceError as exc:
                self.last_trace_gradients = None
                self._record_history()
                self._diverged(_divergence_message(exc))
                return epochs
            self.last_trace_gradients = None
            if not each_epoch:
                self._record_history()
                if self._blew_up():
                    return epochs
            if not t["playing"]:  # blew up (paused with its message)
                return epochs
            if goal is not None and (reached or t["epoch"] >= goal["start_epoch"] + goal["epochs"]):
                self._goal_met(goal, reached)
                return epochs
            self._changed("trained")  # a frame; saved with the training, not at once
        return epochs

    def _goal_reached(self) -> str | None:
        goal = self.training["goal"]
        if goal is None or goal.get("until_loss") is None:
            return None
        test = self.history["test_loss"][-1]
        if test < goal["until_loss"]:
            return f"the test loss {test:.4g} is below {goal['until_loss']:g}"
        return None

    def _goal_met(self, goal: dict, reached: str | None) -> None:
        t = self.training
        done = t["epoch"] - goal["start_epoch"]
        why = reached or f"{done} epoch{'' if done == 1 else 's'} trained"
        self.training["goal"] = None
        self._set_status(False, "goal", f"Done at epoch {t['epoch']}: {why}.")

    def _blew_up(self) -> bool:
        """The watch's check of the newest history point; on a blow-up, pauses (reason
        ``"diverged"``, with the epoch to go back to) and returns True."""
        t, h = self.training, self.history
        if not h["epoch"] or h["epoch"][-1] != t["epoch"]:
            return False
        if not self.watch.check(self._net, t["epoch"], t["step"], h["train_loss"][-1],
                                h["test_loss"][-1], boundary=t["cursor"] == 0):
            return False
        lr = self._net.learning_rate
        # A tenth of the rate, and no more than 0.03 (where every built-in dataset trains).
        lower = [r for r in ui_table.LEARNING_RATES if r <= min(lr / 10, 0.03)] \
            or [ui_table.LEARNING_RATES[0]]
        self._diverged(f"The loss blew up at learning rate {lr:g} (training loss "
                       f"{h['train_loss'][-1]:.3g}, its best {self.watch.best:.3g}): try "
                       f"{lower[-1]:g} or lower, then go back to the last good epoch.")
        return True

    def _diverged(self, message: str) -> None:
        good = self.watch.good
        self.training["goal"] = None
        self._set_status(False, "diverged", message, back_to=good.epoch if good else None)

    # ---- evaluation --------------------------------------------------------------

    def losses(self) -> tuple[float, float]:
        """(train loss, test loss): the objective (data loss plus regularization) of the
        current model on each split."""
        return self.evaluation()[:2]

    def _publish(self) -> Published:
        """The state frames are built from, frozen now (call with the lock held)."""
        net, p = self._net, self._problem
        key = (net.params.tobytes(), tuple(net.regularization.values()))
        cached = self._evaluation
        known = (cached[3] if cached is not None and cached[0] is net and cached[1] is p
                 and cached[2] == key else None)
        h = self.history
        return Published(
            version=self.version, network=net.frozen(), problem=p,
            training=copy.deepcopy(self.training),
            history={"generation": h["generation"], "n": len(h["epoch"]),
                     "epoch": h["epoch"], "train_loss": h["train_loss"],
                     "test_loss": h["test_loss"]},
            last_trace_gradients=self.last_trace_gradients,
            _cache={"evaluation": known} if known is not None else {})

    def evaluation(self) -> tuple[float, float, np.ndarray]:
        """(train objective, test objective, test outputs) of the current model.

        Training turns (for the loss history) and frames both need these; they are
        computed once and kept while the network, the data, the parameters and the
        regularization stay the same (the key holds the network and problem objects
        themselves, so a new one never matches an old entry)."""
        with self.lock:
            net, p = self._net, self._problem
            key = (net.params.tobytes(), tuple(net.regularization.values()))
            cached = self._evaluation
            if cached is not None and cached[0] is net and cached[1] is p and cached[2] == key:
                return cached[3]
            train = net.evaluate(p.X_train, p.Y_train)[0]
            test, outputs = net.evaluate(p.X_test, p.Y_test)
            self._evaluation = (net, p, key, (train, test, outputs))
            return train, test, outputs

    def _loss(self, X, Y) -> float:
        return self._net.evaluate(X, Y)[0]

    def _record_history(self) -> None:
        h = self.history
        if h["epoch"] and h["epoch"][-1] == self.training["epoch"]:
            return
        train, test = self.losses()
        h["epoch"].append(self.training["epoch"])
        h["train_loss"].append(train)
        h["test_loss"].append(test)
        limit = self.settings.frame_history_max
        if len(h["epoch"]) > limit:
            # Thin out: keep every other point; clients get the whole history anew.
            for key in ("epoch", "train_loss", "test_loss"):
                h[key] = h[key][::2]
            h["generation"] += 1

    def sample_values(self) -> dict:
        """The selected sample: point, target, every layer's z and a, and its loss."""
        with self.lock:
            return _sample_values(self._net, self._problem, self.training["sample"])

    def check_trace_size(self, unit: str) -> None:
        """Refuse (413, field "unit") a traced step by `unit` whose trace would hold more
        numbers than the settings' `max_answer_values`, from the shapes, before it is made."""
        with self.lock:
            lo, hi = self.batch_rows() if unit == "batch" else (0, 1)
            net, limit = self._net, self.settings.max_answer_values
            numbers = step_trace_numbers(net.layers, hi - lo, len(net.optimizer.state))
            if numbers > limit:
                raise TooLarge(f"a step by {unit} ({hi - lo} rows) answers a trace of about "
                               f"{numbers:,} numbers, over the server's limit of {limit:,} "
                               "(max_answer_values): step by sample or use a smaller batch "
                               "size", "unit")

    def gradient_check(self, deadline: float | None = None,
                       cancelled: Callable[[], bool] | None = None) -> dict:
        """Backpropagation's gradient on the current batch against central differences
        (engine.gradcheck), for at most GRADCHECK_MOST evenly spaced parameters. It ends
        early at `deadline` (``time.monotonic()``) or once `cancelled()` is true, answering the
        parameters checked so far; ``stopped`` says why (null when all were checked)."""
        stopped = None

        def should_stop() -> bool:
            nonlocal stopped
            if cancelled is not None and cancelled():
                stopped = "stopped: the request ended (the client left, or the server is stopping)"
            elif deadline is not None and time.monotonic() >= deadline:
                stopped = (f"stopped after the time budget of "
                           f"{self.settings.gradcheck_seconds:g} s (gradcheck_seconds)")
            return stopped is not None

        with self.lock:
            lo, hi = self.batch_rows()
            p = self._problem
            worst, details = gradient_check(self._net, p.X_train[lo:hi], p.Y_train[lo:hi],
                                            eps=GRADCHECK_EPS, most=GRADCHECK_MOST,
                                            should_stop=should_stop)
            return {"batch": {"split": "train", "indices": [lo, hi]}, "eps": GRADCHECK_EPS,
                    "max_relative_error": worst, "checked": len(details),
                    "total": int(self._net.params.size), "stopped": stopped,
                    "parameters": details}

    def forward(self, inputs=None, points=None) -> dict:
        """Every layer's activations for feature-space `inputs` or raw-plane `points`."""
        with self.lock:
            if (inputs is None) == (points is None):
                raise BadInput("give either inputs or points", "inputs")
            n_in = self._net.layers[0]
            field = "inputs" if points is None else "points"
            rows = inputs if points is None else points
            width = n_in if points is None else 2
            X = _matrix(rows, field, width, self.settings.max_points)
            if points is not None:
                X = self._problem.transform_points(X)
            trace = self._net.forward(X)
            return {
                "activations": [np.asarray(a).tolist() for a in trace.activations],
                "pre_activations": [np.asarray(z).tolist() for z in trace.pre_activations],
                "outputs": np.asarray(trace.activations[-1]).tolist(),
            }


def _sample_values(net: Network, p, sample: dict) -> dict:
    split, index = sample["split"], sample["index"]
    X = p.X_train if split == "train" else p.X_test
    Y = p.Y_train if split == "train" else p.Y_test
    P = p.train_points if split == "train" else p.test_points
    trace = net.forward(X[index:index + 1])
    return {
        "split": split, "index": index,
        "point": [float(v) for v in P[index]],
        "target": [float(v) for v in Y[index]],
        "z": [np.asarray(z)[0].tolist() for z in trace.pre_activations],
        "a": [np.asarray(a)[0].tolist() for a in trace.activations],
        "loss": net.evaluate(X[index:index + 1], Y[index:index + 1])[0],
    }


@dataclass(frozen=True, slots=True)
class Published:
    """A session's state as of one change (version), frozen: what frames are built from,
    without the session's lock (app/frames.py). Set by every change at its end, under the
    lock, in one assignment (`Session.published`); never changed after. The network is a
    frozen copy; the problem is shared (a change swaps in a new one, never edits it); the
    history lists are shared but read only up to `history["n"]` (they only grow at the end,
    or are replaced). Reads the same as a Session for `app.frames.frame_body`."""

    version: int
    network: Network
    problem: object
    training: dict
    history: dict
    last_trace_gradients: dict | None
    _cache: dict = field(default_factory=dict)  # the evaluation, computed once

    @property
    def playing(self) -> bool:
        return self.training["playing"]

    def batch_rows(self) -> tuple[int, int]:
        bs, cursor = self.training["batch_size"], self.training["cursor"]
        return cursor * bs, min((cursor + 1) * bs, len(self.problem.X_train))

    def evaluation(self) -> tuple[float, float, np.ndarray]:
        """(train objective, test objective, test outputs), as `Session.evaluation`."""
        found = self._cache.get("evaluation")
        if found is None:
            net, p = self.network, self.problem
            train = net.evaluate(p.X_train, p.Y_train)[0]
            test, outputs = net.evaluate(p.X_test, p.Y_test)
            found = self._cache["evaluation"] = (train, test, outputs)
        return found

    def sample_values(self) -> dict:
        return _sample_values(self.network, self.problem, self.training["sample"])


def _matrix(rows, field: str, width: int, max_rows: int) -> np.ndarray:
    if not isinstance(rows, list) or not rows:
        raise BadInput("expected a non-empty list of rows", field)
    if len(rows) > max_rows:
        raise BadInput(f"{len(rows)} rows, at most {max_rows}", field)
    for k, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise BadInput(f"expected {width} numbers", f"{field}[{k}]")
        for c, v in enumerate(row):
            _finite(v, f"{field}[{k}][{c}]")
    return np.asarray(rows, dtype=np.float64)


def _divergence_message(exc: EngineError) -> str:
    text = getattr(exc, "message", str(exc))
    return (f"Training stopped: {text}. The network keeps its last finite weights; "
            "try a lower learning rate, and go back to the last good epoch.")


def _goal(epochs, until_loss, start_epoch, field: str = "epochs") -> dict:
    """A checked training goal (see `Session.train_for`), or BadInput naming the field."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) \
            or not 1 <= epochs <= MAX_GOAL_EPOCHS:
        raise BadInput(f"expected a whole number of epochs in 1..{MAX_GOAL_EPOCHS}, "
                       f"got {epochs!r}", field)
    if until_loss is not None:
        until_loss = _finite(until_loss, "until_loss")
        if until_loss <= 0:
            raise BadInput(f"expected a loss above 0, got {until_loss:g}", "until_loss")
    if isinstance(start_epoch, bool) or not isinstance(start_epoch, int) or start_epoch < 0:
        raise BadInput("expected an integer >= 0", f"{field}.start_epoch")
    return {"epochs": epochs, "until_loss": until_loss, "start_epoch": start_epoch}


class SessionStore:
    """Every live session, by id; thread-safe. Idle sessions expire (`sweep`)."""

    def __init__(self, settings: Settings | None = None, bounded: bool = True) -> None:
        self.settings = settings or Settings()
        # Unbounded: the owner keeps the bound itself (app/store.py evicts at the limit).
        self.bound = self.settings.max_sessions if bounded else None
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.listeners: list[Listener] = []  # subscribed to every session (the live stream)

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._sessions

    def create(self, model: dict | None = None, dataset: dict | None = None) -> Session:
        """A new session (defaults: the engine's model document and the circle dataset).

        Raises `BadInput` naming the field for a bad document, `TooManySessions` at the limit.
        """
        self.sweep()
        if self.bound is not None and len(self._sessions) >= self.bound:
            raise TooManySessions(self.bound)
        try:
            session = Session(secrets.token_urlsafe(24), self.settings, model, dataset)
        except (EngineError, BadInput):
            raise
        return self.add(session)

    def sessions(self) -> list[Session]:
        """Every session held."""
        with self._lock:
            return list(self._sessions.values())

    def fork(self, doc: dict) -> Session:
        """A copy of session document `doc` under a new id (not playing)."""
        copied = {**copy.deepcopy(doc), "id": secrets.token_urlsafe(24)}
        copied["training"] = {**copied.get("training", {}), "playing": False}
        return self.add(Session.from_dict(copied, self.settings))

    def add(self, session: Session) -> Session:
        """Hold `session` (e.g. one rebuilt by `Session.from_dict`)."""
        with self._lock:
            if self.bound is not None and len(self._sessions) >= self.bound:
                raise TooManySessions(self.bound)
            self._sessions[session.id] = session
        for listener in self.listeners:
            session.subscribe(listener)
        return session

    def get(self, session_id: str) -> Session:
        """The session (marked as used now); unknown or expired ids raise `SessionNotFound`."""
        session = self._sessions.get(session_id)
        if session is None or session.closed:
            raise SessionNotFound(session_id)
        session.touch()
        return session

    def delete(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionNotFound(session_id)
        self._close(session)

    def _close(self, session: Session) -> None:
        with session.lock:
            session.closed = True
            session.training["playing"] = False
        for listener in list(session.listeners):
            listener(session, "closed")

    def sweep(self, now: float | None = None) -> list[str]:
        """Drop sessions idle for longer than the settings allow; returns their ids.

        A session with a connected live stream counts as in use (see `Session.touch`).
        """
        now = time.monotonic() if now is None else now
        limit = self.settings.session_idle_seconds
        with self._lock:
            expired = [s for s in self._sessions.values()
                       if now - s.last_seen > limit and not getattr(s, "connections", 0)]
            for s in expired:
                del self._sessions[s.id]
        for s in expired:
            self._close(s)
        return [s.id for s in expired]
