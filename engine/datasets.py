"""2-D datasets: the generators and the dataset spec that names one.

A dataset spec is a plain JSON dict; ``validate_spec`` fills every omitted field
with its default (the ``SPEC_FIELDS`` table) and raises ``DatasetError`` naming the
first bad field. ``generate(spec)`` turns a spec into a ``Dataset``: the same spec
always gives the same points, since every draw comes from
``numpy.random.default_rng(spec["seed"])``.

The generators follow TensorFlow Playground's ``dataset.ts`` (input plane about
[-6, 6]; its ``noise`` is the spec's percentage / 100, so 0 .. 0.5), with its
labels -1/+1 as classes 0/1:

- ``circle``: half the points at radius < 2.5 (class 1), half at radius 3.5..5
  (class 0); a point's label is decided at its position shifted by noise
  uniform(-5, 5) * noise per coordinate, so noise flips labels near the rim.
- ``xor``: x1, x2 uniform in (-5, 5) pushed 0.3 away from the axes; class 1 where
  x1 * x2 >= 0 (decided at the noise-shifted position, as for circle).
- ``gauss``: two Gaussians at (2, 2) (class 1) and (-2, -2) (class 0), variance
  0.5 at noise 0 rising linearly to 4 at noise 50.
- ``spiral``: two arms r = 5 i / m, t = 3.5 pi i / m (+ pi for class 0), plus
  uniform(-1, 1) * noise per coordinate.

Added in the same spirit:

- ``moons``: scikit-learn's two moons (angles uniform in [0, pi]; upper moon
  class 0, lower moon class 1) scaled by 3 about the centre; Gaussian noise of
  standard deviation ``noise`` in moon units (3 * noise on the plane).
- ``spiral3``: the spiral with three arms (offsets 0, 2 pi/3, 4 pi/3 -> classes 0, 1, 2).
- ``blobs``: ``classes`` Gaussians centred on the circle of radius 4 at angles
  2 pi j / k (class j), variance as for ``gauss``.
- ``plane`` (regression): target (x1 + x2) / 10 at the noise-shifted position,
  as the playground's regressPlane; ``multi_gauss``: its regressGaussian (six
  bumps of height +-1).
- ``sine`` (1-D regression): x1 uniform in (-6, 6), **x2 = 0 for every point**
  (the data lies on the x1 axis; plot the target against x1), target
  sin(x1) + uniform(-1, 1) * noise.
- ``csv``: the user's ``points`` ([[x1, x2, label], ...], see ``csvdata.py``).

The points are shuffled with the seed and the first ``round(n * train_fraction)``
(at least 1, at most n - 1) form the training split. ``extra_points`` (points the
user clicked in) are appended to the training split, after the split, so adding
one never reshuffles the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.errors import DatasetError
from engine.features import DEFAULT_FEATURES, check_features
from engine.preprocessing import METHODS

EXTENT = 6.0
MAX_POINTS = 5000
MIN_POINTS = 10
MIN_CSV_ROWS = 4
MAX_EXTRA_POINTS = 1000
MAX_CLASSES = 8
TASKS = ("classification", "regression")

# (rng, n, noise as a fraction 0..0.5, classes) -> (points (n, 2), labels (n,))
GeneratorFn = Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]


def _sizes(n: int, k: int) -> list[int]:
    """n split into k class sizes as evenly as possible, earlier classes first."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # The playground puts sin on x and cos on y.
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def _circle(rng, n, noise, classes):
    radius = 5.0
    parts = []
    for size, (r_lo, r_hi) in zip(
        _sizes(n, 2), [(0.0, radius * 0.5), (radius * 0.7, radius)], strict=True
    ):
        r = rng.uniform(r_lo, r_hi, size)
        angle = rng.uniform(0.0, 2 * math.pi, size)
        parts.append(_polar(r, angle))
    P = np.concatenate(parts)
    shifted = P + rng.uniform(-radius, radius, P.shape) * noise
    labels = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return P, labels


def _xor(rng, n, noise, classes):
    P = rng.uniform(-5.0, 5.0, (n, 2))
    P += np.where(P > 0, 0.3, -0.3)
    shifted = P + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    return P, (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)


def _gauss_sd(noise: float) -> float:
    # The playground's variance scale: noise 0 -> variance 0.5, noise 0.5 -> 4.
    return math.sqrt(0.5 + noise / 0.5 * 3.5)


def _gauss(rng, n, noise, classes):
    sd = _gauss_sd(noise)
    sizes = _sizes(n, 2)
    centres = [(2.0, 2.0), (-2.0, -2.0)]
    P = np.concatenate([rng.normal(c, sd, (m, 2)) for c, m in zip(centres, sizes, strict=True)])
    return P, np.repeat([1, 0], sizes).astype(np.int64)


def _spiral_arms(rng, n, noise, offsets, labels):
    parts = []
    sizes = _sizes(n, len(offsets))
    for size, offset in zip(sizes, offsets, strict=True):
        i = np.arange(size)
        r = i / size * 5.0
        t = 1.75 * i / size * 2 * math.pi + offset
        parts.append(_polar(r, t) + rng.uniform(-1.0, 1.0, (size, 2)) * noise)
    return np.concatenate(parts), np.repeat(labels, sizes).astype(np.int64)


def _spiral(rng, n, noise, classes):
    return _spiral_arms(rng, n, noise, [0.0, math.pi], [1, 0])


def _spiral3(rng, n, noise, classes):
    return _spiral_arms(rng, n, noise, [0.0, 2 * math.pi / 3, 4 * math.pi / 3], [0, 1, 2])


def _moons(rng, n, noise, classes):
    sizes = _sizes(n, 2)
    t0 = rng.uniform(0.0, math.pi, sizes[0])
    t1 = rng.uniform(0.0, math.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    M = np.concatenate([upper, lower]) + rng.normal(0.0, 1.0, (n, 2)) * noise
    P = 3.0 * (M - [0.5, 0.25])
    return P, np.repeat([0, 1], sizes).astype(np.int64)


def _blobs(rng, n, noise, classes):
    sd = _gauss_sd(noise)
    sizes = _sizes(n, classes)
    parts = []
    for j, m in enumerate(sizes):
        a = 2 * math.pi * j / classes
        parts.append(rng.normal((4.0 * math.cos(a), 4.0 * math.sin(a)), sd, (m, 2)))
    return np.concatenate(parts), np.repeat(np.arange(classes), sizes).astype(np.int64)


def _plane(rng, n, noise, classes):
    P = rng.uniform(-EXTENT, EXTENT, (n, 2))
    shifted = P + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    return P, (shifted[:, 0] + shifted[:, 1]) / 10.0


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1],
                   [4, -2.5, -1]], dtype=np.float64)  # fmt: skip


def _multi_gauss(rng, n, noise, classes):
    P = rng.uniform(-EXTENT, EXTENT, (n, 2))
    shifted = P + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    d = np.hypot(shifted[:, None, 0] - _BUMPS[:, 0], shifted[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)  # (n, 6)
    # The playground keeps the bump largest in absolute value (the first on a tie).
    pick = np.argmax(np.abs(values), axis=1)
    return P, values[np.arange(n), pick]


def _sine(rng, n, noise, classes):
    x1 = rng.uniform(-EXTENT, EXTENT, n)
    P = np.column_stack([x1, np.zeros(n)])
    return P, np.sin(x1) + rng.uniform(-1.0, 1.0, n) * noise


@dataclass(frozen=True)
class DatasetKind:
    task: str | None  # None for csv: the labels (or the spec's task) decide
    generate: GeneratorFn | None  # None for csv: the points are in the spec
    n_classes: Callable[[dict], int]


def _two(spec):
    return 2


DATASETS: dict[str, DatasetKind] = {
    "circle": DatasetKind("classification", _circle, _two),
    "xor": DatasetKind("classification", _xor, _two),
    "gauss": DatasetKind("classification", _gauss, _two),
    "spiral": DatasetKind("classification", _spiral, _two),
    "moons": DatasetKind("classification", _moons, _two),
    "spiral3": DatasetKind("classification", _spiral3, lambda spec: 3),
    "blobs": DatasetKind("classification", _blobs, lambda spec: spec["classes"]),
    "plane": DatasetKind("regression", _plane, lambda spec: 0),
    "multi_gauss": DatasetKind("regression", _multi_gauss, lambda spec: 0),
    "sine": DatasetKind("regression", _sine, lambda spec: 0),
    "csv": DatasetKind(None, None, lambda spec: _csv_classes(spec)),
}


# ---- the spec ---------------------------------------------------------------


def _int_in(lo: int, hi: int):
    def check(field, v):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                or v != int(v):
            raise DatasetError(f"expected an integer, got {v!r}", field)
        if not lo <= v <= hi:
            raise DatasetError(f"{int(v)} is outside {lo}..{hi}", field)
        return int(v)

    return check


def _number_in(lo: float, hi: float):
    def check(field, v):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise DatasetError(f"expected a number, got {v!r}", field)
        if not lo <= v <= hi:
            raise DatasetError(f"{v:g} is outside {lo:g}..{hi:g}", field)
        return float(v)

    return check


def _one_of(choices):
    def check(field, v):
        if v not in choices:
            raise DatasetError(f"unknown value {v!r} (known: {', '.join(choices)})", field)
        return v

    return check


def _task(field, v):
    if v is None:
        return None
    return _one_of(TASKS)(field, v)


def _point_list(limit: int):
    def check(field, v):
        if not isinstance(v, list | tuple):
            raise DatasetError("expected a list of [x1, x2, label]", field)
        if len(v) > limit:
            raise DatasetError(f"{len(v)} points, at most {limit} allowed", field)
        out = []
        for k, row in enumerate(v):
            if not isinstance(row, list | tuple) or len(row) != 3:
                raise DatasetError("expected [x1, x2, label]", f"{field}[{k}]")
            for c, x in enumerate(row):
                if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                    raise DatasetError(f"expected a finite number, got {x!r}", f"{field}[{k}][{c}]")
            out.append([float(row[0]), float(row[1]), row[2]])
        return out

    return check


# One table drives defaults and validation: field -> (default, check(field, value)).
SPEC_FIELDS: dict[str, tuple[object, Callable]] = {
    "name": ("circle", _one_of(tuple(DATASETS))),
    "n_points": (500, _int_in(MIN_POINTS, MAX_POINTS)),
    "noise": (0.0, _number_in(0.0, 50.0)),
    "train_fraction": (0.5, _number_in(0.1, 0.9)),
    "seed": (0, _int_in(0, 2**32 - 1)),
    "classes": (3, _int_in(2, MAX_CLASSES)),
    "features": (list(DEFAULT_FEATURES), lambda f, v: list(check_features(v, f))),
    "preprocessing": ("none", _one_of(METHODS)),
    "extra_points": ([], _point_list(MAX_EXTRA_POINTS)),
    "points": ([], _point_list(MAX_POINTS)),
    "task": (None, _task),
}


def _is_class(label) -> bool:
    return float(label).is_integer() and 0 <= label < MAX_CLASSES


def _csv_task(points) -> str:
    """Classification when every label is an integer 0..7, else regression."""
    return "classification" if all(_is_class(p[2]) for p in points) else "regression"


def _csv_classes(spec) -> int:
    if spec["task"] != "classification":
        return 0
    return max(2, int(max(p[2] for p in spec["points"])) + 1)


def _check_labels(field, points, task, n_classes) -> None:
    for k, p in enumerate(points):
        label = p[2]
        if task == "classification":
            if not float(label).is_integer() or not 0 <= label < n_classes:
                raise DatasetError(
                    f"class label {label!r} is not an integer 0..{n_classes - 1}",
                    f"{field}[{k}][2]",
                )
            p[2] = int(label)
        else:
            p[2] = float(label)


def validate_spec(spec: dict | None) -> dict:
    """The spec with every field checked and defaulted (a new dict; lists copied).

    Raises ``DatasetError`` naming the field, e.g. ``noise: 70.0 is outside 0.0..50.0``.
    """
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise DatasetError("expected an object", "dataset")
    for key in spec:
        if key not in SPEC_FIELDS:
            raise DatasetError(f"unknown dataset field (known: {', '.join(SPEC_FIELDS)})", key)
    out = {}
    for field, (default, check) in SPEC_FIELDS.items():
        if field == "n_points" and out["name"] == "csv":
            continue  # a csv dataset's size is its number of points (set below)
        out[field] = check(field, spec[field]) if field in spec else _copy(default)
    kind = DATASETS[out["name"]]
    if out["name"] == "csv":
        if len(out["points"]) < MIN_CSV_ROWS:
            raise DatasetError(
                f"{len(out['points'])} points, a csv dataset needs at least {MIN_CSV_ROWS}",
                "points",
            )
        out["n_points"] = len(out["points"])
        out["task"] = out["task"] or _csv_task(out["points"])
    else:
        if out["points"]:
            raise DatasetError("only a 'csv' dataset carries its points", "points")
        if out["task"] not in (None, kind.task):
            raise DatasetError(f"{out['name']} is a {kind.task} dataset", "task")
        out["task"] = kind.task
    n_classes = MAX_CLASSES if out["name"] == "csv" else kind.n_classes(out)
    _check_labels("points", out["points"], out["task"], n_classes)
    _check_labels("extra_points", out["extra_points"], out["task"], kind.n_classes(out) or 1)
    return out


def _copy(v):
    return [list(x) if isinstance(x, list) else x for x in v] if isinstance(v, list) else v


# ---- the dataset ------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A generated dataset: raw plane points and labels, split in train and test.

    ``*_points`` have shape ``(n, 2)`` (x1, x2); ``*_labels`` shape ``(n,)``, int64
    class labels for classification, float64 targets for regression.
    ``n_classes`` is 0 for regression.
    """

    spec: dict
    task: str
    n_classes: int
    train_points: np.ndarray
    train_labels: np.ndarray
    test_points: np.ndarray
    test_labels: np.ndarray

    def to_dict(self) -> dict:
        """JSON form: ``{"spec", "task", "n_classes", "train": {"points", "labels"}, "test"}``."""

        def part(P, y):
            return {"points": P.tolist(), "labels": y.tolist()}

        return {
            "spec": self.spec,
            "task": self.task,
            "n_classes": self.n_classes,
            "train": part(self.train_points, self.train_labels),
            "test": part(self.test_points, self.test_labels),
        }


def n_train_of(n: int, train_fraction: float) -> int:
    """Training-split size: round(n * fraction), kept within 1 .. n - 1."""
    return min(max(round(n * train_fraction), 1), n - 1)


def generate(spec: dict | None) -> Dataset:
    """Validate ``spec`` and build its dataset (deterministic in the spec)."""
    spec = validate_spec(spec)
    kind = DATASETS[spec["name"]]
    rng = np.random.default_rng(spec["seed"])
    label_dtype = np.int64 if spec["task"] == "classification" else np.float64
    if kind.generate is None:
        rows = spec["points"]
        P = np.array([r[:2] for r in rows], dtype=np.float64).reshape(-1, 2)
        labels = np.array([r[2] for r in rows], dtype=label_dtype)
    else:
        P, labels = kind.generate(rng, spec["n_points"], spec["noise"] / 100.0, spec["classes"])
    order = rng.permutation(len(P))
    k = n_train_of(len(P), spec["train_fraction"])
    train, test = order[:k], order[k:]
    extra = spec["extra_points"]
    E = np.array([r[:2] for r in extra], dtype=np.float64).reshape(-1, 2)
    e_labels = np.array([r[2] for r in extra], dtype=label_dtype)
    return Dataset(
        spec=spec,
        task=spec["task"],
        n_classes=kind.n_classes(spec),
        train_points=np.concatenate([P[train], E]),
        train_labels=np.concatenate([labels[train].astype(label_dtype), e_labels]),
        test_points=P[test],
        test_labels=labels[test].astype(label_dtype),
    )
