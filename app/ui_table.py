"""The playground's settings: ONE declarative table.

Each `Setting` says where a value lives (the model document, the dataset spec,
the live training settings or the page view), its type and allowed values (read
from the engine's registries, never retyped), its default, its URL key, the form
control that edits it and its label. The htmx form rendering, the validation of
posted forms, `app.urlstate` (parse and serialize) and the building of the model
document and the dataset spec all read this table, like TensorFlow Playground's
PROPS table.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from engine.datasets import DATASETS, MAX_CLASSES, MAX_EXTRA_POINTS, MAX_POINTS, MIN_POINTS
from engine.features import DEFAULT_FEATURES, FEATURES
from engine.initializers import INITIALIZERS
from engine.losses import LOSSES, REGULARIZATIONS
from engine.optimizers import OPTIMIZERS
from engine.preprocessing import METHODS

MAX_LAYERS = 8
MAX_NEURONS = 12
MAX_BATCH = 500

# The datasets a user picks from (csv arrives by upload, not from the picker).
DATASET_NAMES = tuple(n for n in DATASETS if n != "csv")
TASK_OF = {n: k.task for n, k in DATASETS.items()}

# Controls a classroom URL (`hide=optimizer,features`) can hide, by group.
GROUPS = ("data", "upload", "features", "architecture", "output", "training",
          "optimizer", "regularization", "share")
# What an exercise (classroom mode: `hide=`, `lock=`) can hide or lock: the control groups,
# and the page's other ways to change the session, each under the name a teacher reads in
# the "Make an exercise" dialog.
PARTS = {
    "data": "the dataset and its settings", "upload": "uploading data or a model",
    "features": "the input features",
    "architecture": "the layers, neurons, activations and initial weights",
    "output": "the output activation and loss", "training": "the learning rate and batch size",
    "optimizer": "the optimizer and its settings", "regularization": "the regularization",
    "weights": "editing weights and biases", "step": "the step-by-step panel",
    "example": "the worked example", "share": "sharing and exporting",
}
NOTE_MOST = 500  # characters of a teacher's note

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# Training paces: epochs a second (None: as fast as the machine goes). "60" is one epoch
# per frame of a 60 Hz display, TensorFlow Playground's pace.
SPEEDS = {"1": 1.0, "10": 10.0, "60": 60.0, "max": None}
SPEED_LABELS = {"1": "1 epoch/s", "10": "10 epochs/s", "60": "60 epochs/s: one per frame",
                "max": "flat out"}
REG_RATES = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


class SettingError(ValueError):
    """A posted or linked value is not allowed; `field` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Setting:
    name: str  # form field name and key in the flat values dict
    home: str  # "model" | "dataset" | "training" | "view"
    path: tuple[str, ...]  # where it sits in its home document
    kind: str  # "choice" | "int" | "float" | "bool" | "names" | "ints" | "points"
    default: object
    url: str  # URL query key
    control: str  # "select" | "range" | "number" | "checkbox" | "toggles" | "datasets" | ...
    label: str
    group: str  # the panel group (classroom mode hides whole groups or single settings)
    choices: tuple = ()
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    most: int | None = None  # "ints": the longest list allowed
    live: bool = False  # changeable while training runs, without a reset
    only_if: Callable[[Mapping], bool] | None = None  # rendered only when this holds
    help: str = ""
    labels: Mapping | None = None  # "choice": the text a choice shows (else the value)


def _hp(name: str) -> Callable[[Mapping], bool]:
    return lambda v: name in OPTIMIZERS[v["optimizer"]].defaults


def _hp_default(name: str):
    for spec in OPTIMIZERS.values():
        if name in spec.defaults:
            return spec.defaults[name]
    raise KeyError(name)


SETTINGS: tuple[Setting, ...] = (
    # ---- data
    Setting("dataset", "dataset", ("name",), "choice", "circle", "data", "datasets", "Dataset",
            "data", DATASET_NAMES,
            help="The points to learn from: each dataset is a different shape for the network to "
                 "separate or fit."),
    Setting("noise", "dataset", ("noise",), "int", 0, "noise", "range", "Noise (%)", "data",
            lo=0, hi=50, step=5,
            help="How much the points are jittered away from the clean shape, in percent."),
    Setting("n_points", "dataset", ("n_points",), "int", 500, "n", "number", "Points", "data",
            lo=MIN_POINTS, hi=MAX_POINTS, step=10,
            help="How many points the dataset has, training and test together."),
    Setting("train_fraction", "dataset", ("train_fraction",), "float", 0.5, "train", "range",
            "Training share", "data", lo=0.1, hi=0.9, step=0.1,
            help="The share of the points the network trains on; the rest test it."),
    Setting("classes", "dataset", ("classes",), "int", 3, "k", "number", "Classes", "data",
            lo=2, hi=MAX_CLASSES, step=1, only_if=lambda v: v["dataset"] == "blobs",
            help="How many clusters (classes) the blobs dataset has."),
    Setting("data_seed", "dataset", ("seed",), "int", 0, "dseed", "number", "Data seed", "data",
            lo=0, hi=2**32 - 1, step=1,
            help="The random seed that draws the points: the same seed, the same data."),
    Setting("preprocessing", "dataset", ("preprocessing",), "choice", "none", "prep", "select",
            "Preprocessing", "data", METHODS,
            help="How the inputs are scaled before they reach the network (fitted on the training "
                 "points)."),
    Setting("extra_points", "dataset", ("extra_points",), "points", (), "pts", "none",
            "Added points", "data", lo=0, hi=MAX_EXTRA_POINTS,
            help="Points added by clicking on the output plot."),
    # ---- features
    Setting("features", "dataset", ("features",), "names", tuple(DEFAULT_FEATURES), "f",
            "toggles", "Features", "features", tuple(FEATURES),
            help="The inputs the network sees: the point's coordinates and functions of them."),
    # ---- architecture
    Setting("hidden", "model", (), "ints", (4, 2), "h", "layers", "Hidden layers",
            "architecture", lo=1, hi=MAX_NEURONS, step=1, most=MAX_LAYERS,
            help="The hidden layers and how many neurons each has."),
    Setting("activation", "model", ("activation",), "choice", "tanh", "act", "select",
            "Activation", "architecture", HIDDEN_ACTIVATIONS,
            help="The function each hidden neuron applies to its weighted sum."),
    Setting("layer_activations", "model", ("layer_activations",), "names", (), "acts", "per_layer",
            "Per-layer activation", "architecture", HIDDEN_ACTIVATIONS,
            help="Empty means every hidden layer uses the network's activation."),
    Setting("output_activation", "model", ("output_activation",), "choice", "auto", "out",
            "select", "Output activation", "output", ("auto", *OUTPUT_ACTIVATIONS),
            help="The function the output neurons apply; auto picks the usual one for the task."),
    Setting("loss", "model", ("loss",), "choice", "auto", "loss", "select", "Loss", "output",
            ("auto", *LOSSES),
            help="How the prediction is compared with the truth; auto picks the usual one for the "
                 "task."),
    Setting("init", "model", ("init",), "choice", "xavier", "init", "select", "Initialization",
            "architecture", tuple(INITIALIZERS),
            help="How the first weights are drawn at random."),
    Setting("seed", "model", ("seed",), "int", 1, "seed", "number", "Seed", "architecture",
            lo=0, hi=2**31 - 1, step=1,
            help="The random seed for the first weights: the same seed, the same starting "
                 "network."),
    # ---- training
    Setting("optimizer", "model", ("optimizer", "name"), "choice", "adam", "opt", "select",
            "Optimizer", "optimizer", tuple(OPTIMIZERS),
            help="The rule that moves every weight against its gradient after each batch."),
    Setting("learning_rate", "model", ("optimizer", "learning_rate"), "float", 0.003, "lr",
            "select", "Learning rate", "training", LEARNING_RATES, lo=1e-6, hi=10.0,
            live=True,
            help="How far each update moves the weights: too small learns slowly, too large "
                 "diverges."),
    Setting("momentum", "model", ("optimizer", "momentum"), "float", _hp_default("momentum"),
            "mom", "number", "Momentum", "optimizer", lo=0.0, hi=0.999, step=0.01,
            only_if=_hp("momentum"),
            help="How much of the previous update carries into the next one."),
    Setting("dampening", "model", ("optimizer", "dampening"), "float",
            _hp_default("dampening"), "damp", "number", "Dampening", "optimizer", lo=0.0,
            hi=1.0, step=0.01, only_if=_hp("dampening"),
            help="How much of the new gradient is held back from the momentum."),
    Setting("alpha", "model", ("optimizer", "alpha"), "float", _hp_default("alpha"), "alpha",
            "number", "Smoothing (alpha)", "optimizer", lo=0.0, hi=0.9999, step=0.001,
            only_if=_hp("alpha"),
            help="How slowly RMSprop's average of squared gradients forgets."),
    Setting("beta1", "model", ("optimizer", "betas", "0"), "float",
            _hp_default("betas")[0], "b1", "number", "beta1", "optimizer", lo=0.0, hi=0.9999,
            step=0.001, only_if=_hp("betas"),
            help="How slowly Adam's average of gradients forgets."),
    Setting("beta2", "model", ("optimizer", "betas", "1"), "float",
            _hp_default("betas")[1], "b2", "number", "beta2", "optimizer", lo=0.0, hi=0.99999,
            step=0.0001, only_if=_hp("betas"),
            help="How slowly Adam's average of squared gradients forgets."),
    Setting("eps", "model", ("optimizer", "eps"), "float", _hp_default("eps"), "eps",
            "number", "epsilon", "optimizer", lo=1e-12, hi=1.0, step=1e-8,
            only_if=_hp("eps"),
            help="A small number added to the denominator so that it is never zero."),
    Setting("weight_decay", "model", ("optimizer", "weight_decay"), "float", 0.0, "wd",
            "number", "Weight decay", "optimizer", lo=0.0, hi=1.0, step=0.001,
            help="Shrinks every weight a little at each update."),
    Setting("regularization", "model", ("regularization", "name"), "choice", "none", "reg",
            "select", "Regularization", "regularization", tuple(REGULARIZATIONS), live=True,
            help="A penalty on large weights added to the loss: L1 on their sizes, L2 on their "
                 "squares."),
    Setting("regularization_rate", "model", ("regularization", "rate"), "float", 0.0, "rr",
            "select", "Regularization rate", "regularization", REG_RATES, lo=0.0, hi=10.0,
            live=True,
            help="How heavy the regularization penalty is."),
    Setting("batch_size", "training", ("batch_size",), "int", 10, "batch", "range",
            "Batch size", "training", lo=1, hi=MAX_BATCH, step=1, live=True,
            help="How many training points each update averages over."),
    Setting("speed", "training", ("speed",), "choice", "10", "speed", "select", "Speed",
            "training", tuple(SPEEDS), live=True, labels=SPEED_LABELS,
            help="How many epochs a second training runs: slow enough to watch the boundary "
                 "form, or as fast as the machine goes."),
    # ---- view (the page only)
    Setting("show_test", "view", ("show_test",), "bool", False, "test", "checkbox",
            "Show test data", "view",
            help="Draw the test points on the output plot too."),
    Setting("discretize", "view", ("discretize",), "bool", False, "disc", "checkbox",
            "Discretize output", "view",
            help="Show the output plot's decision as flat regions instead of a gradient."),
    Setting("projector", "view", ("projector",), "bool", False, "proj", "checkbox",
            "Projector mode", "view",
            help="Larger type and thicker lines, for a room reading the page from afar."),
    Setting("loss_log", "view", ("loss_log",), "bool", False, "logloss", "checkbox",
            "Log scale", "view",
            help="Draw the loss chart's loss axis on a logarithmic scale."),
    Setting("hide", "view", ("hide",), "names", (), "hide", "none", "Hidden controls", "view",
            tuple(PARTS),
            help="What an exercise link hides (and locks), by part of the page."),
    Setting("lock", "view", ("lock",), "names", (), "lock", "none", "Locked controls", "view",
            tuple(PARTS),
            help="What an exercise link shows but locks at its value, by part of the page."),
    Setting("note", "view", ("note",), "text", "", "note", "none", "Exercise note", "view",
            help=f"The teacher's words shown on an exercise's banner (at most {NOTE_MOST} "
                 "characters)."),
)

# A dataset's recommended network: the settings (features, hidden layers) that the table's
# default optimizer trains to a good test score on it (bench/results/defaults.md); the
# data panel offers them with one click. A dataset not listed needs nothing changed.
ALL_FEATURES = tuple(FEATURES)
RECOMMENDED: dict[str, dict] = {
    "spiral": {"features": ALL_FEATURES, "hidden": (8, 8, 8)},
    "spiral3": {"features": ALL_FEATURES, "hidden": (8, 8, 8)},
}


def recommended(dataset: str) -> dict:
    """The settings (name -> value) of `dataset`'s recommended network ({} if none)."""
    return dict(RECOMMENDED.get(dataset, {}))


BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BY_URL: dict[str, Setting] = {s.url: s for s in SETTINGS}
LIVE = tuple(s.name for s in SETTINGS if s.live)
# The page's on/off view options (kept in its URL, posted with its panels' requests).
VIEW_TOGGLES = tuple(s.name for s in SETTINGS if s.home == "view" and s.kind == "bool")


# ---- parsing one value ---------------------------------------------------------


def _number(s: Setting, raw: object) -> float:
    try:
        x = float(raw)
    except (TypeError, ValueError):
        raise SettingError(s.name, f"expected a number, got {raw!r}") from None
    if not math.isfinite(x):
        raise SettingError(s.name, f"expected a finite number, got {raw!r}")
    if s.lo is not None and not s.lo <= x <= s.hi:
        raise SettingError(s.name, f"{raw} is outside {s.lo:g}..{s.hi:g}")
    return x


def _split(raw: object) -> list[str]:
    if isinstance(raw, list | tuple):
        return [str(x) for x in raw]
    text = str(raw).strip()
    return [p for p in text.replace(",", "-").split("-") if p] if text else []


def coerce(name: str, raw: object) -> object:
    """The value of setting `name` from `raw` (a URL or form string, or a Python value);
    raises SettingError naming the setting."""
    s = BY_NAME[name]
    if s.kind == "choice":
        value = str(raw)
        if value not in s.choices:
            raise SettingError(name, f"unknown value {value!r} (known: {', '.join(s.choices)})")
        return value
    if s.kind == "bool":
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "on", "yes")
    if s.kind == "int":
        x = _number(s, raw)
        if x != int(x):
            raise SettingError(name, f"expected a whole number, got {raw!r}")
        return int(x)
    if s.kind == "float":
        return _number(s, raw)
    if s.kind == "names":
        text = None if isinstance(raw, list | tuple) else str(raw).replace("-", ",")
        names = [n for n in (raw if text is None else text.split(",")) if n]
        for n in names:
            if n not in s.choices:
                raise SettingError(name, f"unknown value {n!r} (known: {', '.join(s.choices)})")
        # A set of names (features, hidden groups) is deduplicated; a per-layer list is not.
        return tuple(names) if name == "layer_activations" else tuple(dict.fromkeys(names))
    if s.kind == "ints":
        parts = _split(raw)
        if any(isinstance(p, bool) for p in (raw if isinstance(raw, list | tuple) else ())):
            raise SettingError(name, f"expected whole numbers, got {raw!r}")
        if len(parts) > s.most:
            raise SettingError(name, f"{len(parts)} hidden layers, at most {s.most}")
        out = []
        for p in parts:
            try:
                n = int(p)
            except ValueError:
                raise SettingError(name, f"expected whole numbers, got {p!r}") from None
            if not s.lo <= n <= s.hi:
                raise SettingError(name, f"{n} neurons is outside {s.lo:g}..{s.hi:g}")
            out.append(n)
        return tuple(out)
    if s.kind == "points":
        return _points(raw)
    if s.kind == "text":
        text = str(raw).strip()
        if len(text) > NOTE_MOST:
            raise SettingError(name, f"{len(text)} characters, at most {NOTE_MOST}")
        return text
    raise AssertionError(s.kind)


_KINDS = {"int": (int,), "float": (int, float), "choice": (str,), "bool": (bool,)}


def check(name: str, value: object) -> object:
    """A typed value of setting `name` (from JSON: the API, the socket, a document) checked
    against the same rules as `coerce`, but without reading text: ``"0.1"`` is refused
    where a number is expected. Raises SettingError naming the setting."""
    s = BY_NAME[name]
    kinds = _KINDS.get(s.kind)
    if kinds is not None and (isinstance(value, bool) != (s.kind == "bool")
                              or not isinstance(value, kinds)):
        want = {"int": "a whole number", "float": "a number", "choice": "a name",
                "bool": "true or false"}[s.kind]
        raise SettingError(name, f"expected {want}, got {value!r}")
    return coerce(name, value)


def check_model(model: Mapping) -> None:
    """A model document's fields that the table bounds (hidden layers and their sizes,
    learning rate, hyperparameters, regularization rate), checked where present; raises
    SettingError naming the document's field (``layers[2]``, ``optimizer.learning_rate``).
    The engine checks the rest (engine/document.py)."""
    layers = model.get("layers")
    if isinstance(layers, list | tuple) and len(layers) >= 2:
        hidden = BY_NAME["hidden"]
        if len(layers) - 2 > hidden.most:
            raise SettingError("layers", f"{len(layers) - 2} hidden layers, at most "
                                         f"{hidden.most}")
        for k, n in enumerate(layers[1:-1], start=1):
            if type(n) is int and not hidden.lo <= n <= hidden.hi:
                raise SettingError(f"layers[{k}]", f"{n} neurons is outside "
                                                   f"{hidden.lo:g}..{hidden.hi:g}")
    for s in SETTINGS:
        if s.home == "model" and s.path and s.kind in ("int", "float"):
            v = _get(model, s.path)
            if v is not None:
                try:
                    check(s.name, v)
                except SettingError as e:
                    field = ".".join(s.path[:-1]) + f"[{s.path[-1]}]" if s.path[-1].isdigit() \
                        else ".".join(s.path)
                    raise SettingError(field, e.message) from None


def _points(raw: object) -> tuple:
    if isinstance(raw, list | tuple):
        rows = [list(r) for r in raw]
    else:
        rows = [r.split(",") for r in str(raw).split(";") if r]
    if len(rows) > MAX_EXTRA_POINTS:
        raise SettingError("extra_points", f"{len(rows)} points, at most {MAX_EXTRA_POINTS}")
    out = []
    for k, r in enumerate(rows):
        try:
            x1, x2, label = (float(v) for v in r)
        except (TypeError, ValueError):
            raise SettingError("extra_points", f"point {k}: expected x1,x2,label") from None
        if not all(math.isfinite(v) for v in (x1, x2, label)):
            raise SettingError("extra_points", f"point {k}: expected finite numbers")
        out.append((x1, x2, int(label) if label.is_integer() else label))
    return tuple(out)


def format_value(name: str, value: object) -> str:
    """The URL text of a value (the inverse of `coerce`)."""
    s = BY_NAME[name]
    if s.kind == "bool":
        return "1" if value else "0"
    if s.kind == "names":
        return ",".join(value)
    if s.kind == "ints":
        return "-".join(str(n) for n in value)
    if s.kind == "points":
        return ";".join(",".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in p)
                        for p in value)
    if s.kind == "float":
        return f"{value:.10g}"
    return str(value)


def setting_of_field(field: str | None) -> str | None:
    """The setting an error's field names: a setting's own name, or its place in the model
    document or the dataset spec (``optimizer.eps``, ``optimizer.betas[1]``, ``layers[2]``)."""
    if not field:
        return None
    if field in BY_NAME:
        return field
    if field == "layers" or field.startswith("layers["):
        return "hidden"
    path = tuple(field.replace("[", ".").replace("]", "").split("."))
    return next((s.name for s in SETTINGS if s.path == path or s.path == path[1:]), None)


def defaults() -> dict:
    return {s.name: s.default for s in SETTINGS}


def default_dataset() -> dict:
    """The dataset spec every entry point starts from (the page, the API, the socket)."""
    return dataset_spec(defaults())


def default_model() -> dict:
    """The model document every entry point starts from, for the default dataset."""
    return model_document(defaults())


def check_combination(values: dict) -> None:
    """Cross-setting rules: a per-layer activation list matches the layers, and the
    output activation and loss (when chosen) work together for the task."""
    acts = values["layer_activations"]
    if acts and len(acts) != len(values["hidden"]):
        values["layer_activations"] = ()
    out, loss = resolved_output(values)
    reason = combination_problem(values, out, loss)
    if reason:
        raise SettingError("loss", reason)


def settings_markdown() -> str:
    """The table as Markdown, for docs/SETTINGS.md (a test keeps that file equal to this)."""
    rows = ["| setting | label | kind | default | bounds or choices | URL key | where | live "
            "| help |", "|---|---|---|---|---|---|---|---|---|"]
    for s in SETTINGS:
        if s.choices:
            allowed = ", ".join(format_value(s.name, c) if s.kind == "float" else
                                f"{c} ({s.labels[c]})" if s.labels else str(c)
                                for c in s.choices)
        elif s.kind == "ints":
            allowed = f"at most {s.most} layers of {s.lo:g}..{s.hi:g}"
        elif s.lo is not None:
            allowed = f"{s.lo:g}..{s.hi:g}"
        else:
            allowed = ""
        default = format_value(s.name, s.default) if s.default != () else ""
        where = s.home + (f" `{'.'.join(s.path)}`" if s.path else "")
        rows.append(f"| `{s.name}` | {s.label} | {s.kind} | {default} | {allowed} | "
                    f"`{s.url}` | {where} | {'yes' if s.live else ''} | {s.help} |")
    return "\n".join(rows) + "\n"



# ---- output activation and loss: only valid combinations ------------------------


def task_of(values: Mapping) -> str:
    return TASK_OF.get(values["dataset"]) or values.get("task") or "classification"


def n_classes_of(values: Mapping) -> int:
    name = values["dataset"]
    if name == "csv":
        return int(values.get("n_classes") or 2)
    kind = DATASETS[name]
    return kind.n_classes({"classes": values["classes"]})


def n_outputs_of(values: Mapping) -> int:
    return n_outputs_for(task_of(values), n_classes_of(values))


AUTO_OUTPUT = {  # (task, several outputs) -> (output activation, loss)
    ("classification", False): ("sigmoid", "binary_cross_entropy"),
    ("classification", True): ("softmax", "cross_entropy"),
    ("regression", False): ("linear", "mse"),
}


def n_outputs_for(task: str, n_classes: int) -> int:
    """Output neurons for a task: one per class when there are more than two, else one."""
    return n_classes if task == "classification" and n_classes > 2 else 1


def auto_output(task: str, n_outputs: int) -> tuple[str, str]:
    """The task's usual (output activation, loss): what "auto" means, everywhere."""
    return AUTO_OUTPUT[(task, n_outputs > 1)]


def resolved_output(values: Mapping) -> tuple[str, str]:
    """The (output activation, loss) the model uses: "auto" picks the task's usual pair."""
    auto_out, auto_loss = auto_output(task_of(values), n_outputs_of(values))
    out = values["output_activation"]
    loss = values["loss"]
    if out == "auto":
        out = auto_out if loss == "auto" or out_fits(loss, auto_out) else LOSSES[loss].accepts[0]
    if loss == "auto":
        loss = auto_loss if out_fits(auto_loss, out) else next(
            (n for n in LOSSES if out_fits(n, out) and loss_fits_task(n, values)), auto_loss)
    return out, loss


def out_fits(loss: str, out: str) -> bool:
    return out in LOSSES[loss].accepts


def loss_fits_task(loss: str, values: Mapping) -> bool:
    return not _loss_problem(task_of(values), "", loss, check_output=False)


def _output_problem(task: str, n_out: int, name: str) -> str:
    if name == "softmax" and n_out < 2:
        return "softmax needs at least 2 outputs; this problem has one"
    if task == "regression" and name in ("sigmoid", "tanh", "softmax"):
        return f"{name} bounds the output, a regression target is unbounded"
    if task == "classification" and n_out > 1 and name != "softmax":
        return "several classes: softmax turns the outputs into probabilities"
    return ""


def _loss_problem(task: str, out: str, name: str, check_output: bool = True) -> str:
    if task == "regression" and name not in ("mse", "sse", "mae", "huber"):
        return f"{name} compares classes, this is a regression problem"
    accepts = LOSSES[name].accepts
    if check_output and out not in accepts:
        return f"{name} needs a {' or '.join(accepts)} output"
    return ""


def pair_problem(task: str, n_out: int, out: str, loss: str) -> str:
    """Why (output activation, loss) cannot work for this task and output count ("" if it
    can): the one rule behind the page's greyed-out choices and the server's reshaping."""
    return _output_problem(task, n_out, out) or _loss_problem(task, out, loss)


def output_choices(values: Mapping) -> list[tuple[str, bool, str]]:
    """Every output activation with whether it is offered and why not."""
    task, n_out = task_of(values), n_outputs_of(values)
    return [(name, not why, why) for name in OUTPUT_ACTIVATIONS
            for why in (_output_problem(task, n_out, name),)]


def loss_choices(values: Mapping, out: str) -> list[tuple[str, bool, str]]:
    """Every loss with whether it works with output activation `out` for this task."""
    task = task_of(values)
    return [(name, not why, why) for name in LOSSES for why in (_loss_problem(task, out, name),)]


def combination_problem(values: Mapping, out: str, loss: str) -> str:
    return pair_problem(task_of(values), n_outputs_of(values), out, loss)


# ---- documents from values, and values from documents -----------------------------


def _put(doc: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value


def _get(doc: Mapping, path: tuple[str, ...]):
    for key in path:
        if isinstance(doc, list | tuple):
            if int(key) >= len(doc):
                return None  # (too short: the engine names it)
            doc = doc[int(key)]
        elif isinstance(doc, Mapping) and key in doc:
            doc = doc[key]
        else:
            return None
    return doc


def dataset_spec(values: Mapping) -> dict:
    """The engine's dataset spec for these values (csv points passed through)."""
    spec = {}
    for s in SETTINGS:
        if s.home == "dataset":
            v = values[s.name]
            if s.kind in ("names",):
                v = list(v)
            elif s.kind == "points":
                v = [list(p) for p in v]
            _put(spec, s.path, v)
    if values["dataset"] == "csv":
        spec["points"] = [list(p) for p in values.get("points", ())]
        spec.pop("n_points", None)
    return spec


def model_document(values: Mapping) -> dict:
    """The model document (without weights: the engine draws them from init and seed)."""
    out, loss = resolved_output(values)
    n_in = len(values["features"])
    hidden = list(values["hidden"])
    doc: dict = {"layers": [n_in, *hidden, n_outputs_of(values)]}
    opt = values["optimizer"]
    hp_names = OPTIMIZERS[opt].defaults
    for s in SETTINGS:
        if s.home != "model" or not s.path:
            continue
        if s.path[0] == "optimizer" and s.path[1] not in hp_names and s.path[1] != "name":
            continue
        v = values[s.name]
        if s.name == "layer_activations":
            if not v or all(a == values["activation"] for a in v):
                continue
            v = list(v)
        if s.path[-1] in ("0", "1"):  # betas is a pair
            pair = doc.setdefault("optimizer", {}).setdefault("betas", [0.0, 0.0])
            pair[int(s.path[-1])] = v
            continue
        _put(doc, s.path, v)
    doc["output_activation"], doc["loss"] = out, loss
    return doc


def training_settings(values: Mapping) -> dict:
    return {s.path[-1]: values[s.name] for s in SETTINGS if s.home == "training"}


def values_from_session(session: Mapping, view: Mapping | None = None) -> dict:
    """Flat values read back from a session document (`Session.to_dict()`)."""
    values = defaults()
    model = session.get("model") or {}
    spec = session.get("dataset") or {}
    training = session.get("training") or {}
    for s in SETTINGS:
        src = {"model": model, "dataset": spec, "training": training,
               "view": view or {}}[s.home]
        if s.name == "hidden":
            layers = model.get("layers")
            v = tuple(layers[1:-1]) if layers else None
        elif s.name == "layer_activations":
            acts = model.get("layer_activations")
            act = model.get("activation", "tanh")
            v = tuple(a or act for a in acts) if acts else None
        else:
            v = _get(src, s.path)
        if v is None:
            continue
        with contextlib.suppress(SettingError):
            values[s.name] = coerce(s.name, v)
    if values["layer_activations"] and len(values["layer_activations"]) != len(values["hidden"]):
        values["layer_activations"] = ()
    if spec.get("name") == "csv":
        values["dataset"] = "csv"
        values["points"] = tuple(tuple(p) for p in spec.get("points", ()))
        values["task"] = spec.get("task")
        values["n_classes"] = max((int(p[2]) for p in values["points"]), default=1) + 1
    # The task's usual pair reads back as "auto", so a change of dataset re-picks it.
    auto = auto_output(task_of(values), n_outputs_of(values))
    if (values["output_activation"], values["loss"]) == auto:
        values["output_activation"] = values["loss"] = "auto"
    return values


DOC_START = "<!-- settings table: generated by `python -m app.ui_table --write` -->\n"
DOC_END = "<!-- end of settings table -->"


def settings_doc(text: str) -> str:
    """`text` (docs/SETTINGS.md) with its generated table replaced by the current one."""
    head, rest = text.split(DOC_START, 1)
    return head + DOC_START + settings_markdown() + DOC_END + rest.split(DOC_END, 1)[1]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] == ["--write"]:
        doc = Path(__file__).resolve().parent.parent / "docs" / "SETTINGS.md"
        doc.write_text(settings_doc(doc.read_text()))
    else:
        print(settings_markdown(), end="")
