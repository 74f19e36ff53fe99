"""Dataset generators and the dataset spec."""

import json
import math

import numpy as np
import pytest

from engine.datasets import DATASETS, generate, n_train_of, validate_spec
from engine.errors import DatasetError

GENERATED = [name for name in DATASETS if name != "csv"]


def all_points(d):
    return np.concatenate([d.train_points, d.test_points]), np.concatenate(
        [d.train_labels, d.test_labels]
    )


def test_defaults():
    assert validate_spec({}) == {
        "name": "circle",
        "n_points": 500,
        "noise": 0.0,
        "train_fraction": 0.5,
        "seed": 0,
        "classes": 3,
        "features": ["x1", "x2"],
        "preprocessing": "none",
        "extra_points": [],
        "points": [],
        "task": "classification",
    }
    # Normalizing twice changes nothing.
    spec = validate_spec({"name": "blobs", "classes": 5, "noise": 20})
    assert validate_spec(spec) == spec


@pytest.mark.parametrize("name", GENERATED)
def test_shapes_split_and_dtypes(name):
    d = generate({"name": name, "n_points": 301, "train_fraction": 0.7, "noise": 25, "seed": 4})
    assert d.train_points.shape == (211, 2)  # round(301 * 0.7) = 211
    assert d.test_points.shape == (90, 2)
    assert d.train_labels.shape == (211,) and d.test_labels.shape == (90,)
    P, y = all_points(d)
    assert np.all(np.isfinite(P)) and np.all(np.isfinite(y))
    assert np.all(np.abs(P) < 9.0)  # the plane is about [-6, 6]
    if d.task == "classification":
        assert y.dtype == np.int64
        assert set(np.unique(y)) <= set(range(d.n_classes))
    else:
        assert y.dtype == np.float64 and d.n_classes == 0
    json.dumps(d.to_dict())


@pytest.mark.parametrize("name", GENERATED)
def test_same_seed_same_points_other_seed_differs(name):
    a = generate({"name": name, "seed": 7, "noise": 10})
    b = generate({"name": name, "seed": 7, "noise": 10})
    c = generate({"name": name, "seed": 8, "noise": 10})
    assert np.array_equal(a.train_points, b.train_points)
    assert np.array_equal(a.test_labels, b.test_labels)
    assert not np.array_equal(a.train_points, c.train_points)


@pytest.mark.parametrize(
    "spec, counts",
    [
        ({"name": "circle"}, [250, 250]),
        ({"name": "gauss"}, [250, 250]),
        ({"name": "spiral"}, [250, 250]),
        ({"name": "moons"}, [250, 250]),
        ({"name": "spiral3", "n_points": 301}, [101, 100, 100]),
        ({"name": "blobs", "classes": 5, "n_points": 102}, [21, 21, 20, 20, 20]),
    ],
)
def test_label_balance(spec, counts):
    _, y = all_points(generate(spec))
    assert np.bincount(y).tolist() == counts


def test_xor_is_roughly_balanced():
    _, y = all_points(generate({"name": "xor", "n_points": 2000, "seed": 1}))
    assert 0.45 < y.mean() < 0.55


def test_circle_without_noise_is_on_its_classes_side():
    P, y = all_points(generate({"name": "circle", "seed": 3}))
    r = np.hypot(P[:, 0], P[:, 1])
    assert np.all(r[y == 1] < 2.5)
    assert np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5.0))


def test_circle_noise_flips_labels_near_the_rim():
    P, y = all_points(generate({"name": "circle", "noise": 50, "seed": 3}))
    inside = np.hypot(P[:, 0], P[:, 1]) < 2.5
    assert np.any(inside != (y == 1))


def test_xor_without_noise():
    P, y = all_points(generate({"name": "xor", "seed": 2}))
    assert np.all(np.abs(P) >= 0.3) and np.all(np.abs(P) <= 5.3)
    assert np.array_equal(y, (P[:, 0] * P[:, 1] >= 0).astype(int))


def test_spiral_without_noise_lies_on_its_arms():
    # Arm point i of m: r = 5 i / m, t = 3.5 pi i / m (+ pi for class 0), x = r sin t, y = r cos t.
    P, y = all_points(generate({"name": "spiral", "n_points": 20, "train_fraction": 0.5}))
    m = 10
    expected = {(1, round(5 * i / m * math.sin(3.5 * math.pi * i / m), 9)) for i in range(m)}
    expected |= {(0, round(5 * i / m * math.sin(3.5 * math.pi * i / m + math.pi), 9))
                 for i in range(m)}  # fmt: skip
    assert {(int(c), round(float(x), 9)) for c, x in zip(y, P[:, 0], strict=True)} == expected


def test_regression_targets_without_noise():
    P, y = all_points(generate({"name": "plane", "seed": 5}))
    assert y == pytest.approx((P[:, 0] + P[:, 1]) / 10)
    P, y = all_points(generate({"name": "sine", "seed": 5}))
    assert np.all(P[:, 1] == 0.0)
    assert y == pytest.approx(np.sin(P[:, 0]))
    assert np.all(np.abs(P[:, 0]) <= 6.0)


def test_multi_gauss_matches_the_playground_rule():
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]

    def label(x, y):  # regressGaussian, point by point
        best = 0.0
        for cx, cy, sign in bumps:
            v = sign * min(max(1 - math.hypot(x - cx, y - cy) / 2, 0.0), 1.0)
            if abs(v) > abs(best):
                best = v
        return best

    P, y = all_points(generate({"name": "multi_gauss", "n_points": 300, "seed": 9}))
    assert y.tolist() == pytest.approx([label(a, b) for a, b in P.tolist()])
    assert -1 <= y.min() < 0 < y.max() <= 1


def test_blobs_centres():
    P, y = all_points(generate({"name": "blobs", "classes": 4, "n_points": 4000}))
    means = np.array([P[y == j].mean(axis=0) for j in range(4)])
    assert means == pytest.approx(np.array([[4, 0], [0, 4], [-4, 0], [0, -4]]), abs=0.1)


def test_extra_points_join_the_training_split():
    base = generate({"name": "circle", "seed": 1})
    d = generate({"name": "circle", "seed": 1, "extra_points": [[1.5, -2.0, 1], [0.0, 5.0, 0]]})
    assert np.array_equal(d.train_points[:-2], base.train_points)
    assert d.train_points[-2:].tolist() == [[1.5, -2.0], [0.0, 5.0]]
    assert d.train_labels[-2:].tolist() == [1, 0]
    assert np.array_equal(d.test_points, base.test_points)


def test_split_size_bounds():
    assert n_train_of(10, 0.9) == 9
    assert n_train_of(10, 0.1) == 1
    assert n_train_of(4, 0.1) == 1
    assert n_train_of(4, 0.9) == 3


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"name": "rings"}, "name: unknown value 'rings' (known: circle, xor, gauss, spiral, "
                            "moons, spiral3, blobs, plane, multi_gauss, sine, csv)"),
        ({"n_points": 5}, "n_points: 5 is outside 10..5000"),
        ({"n_points": 10.5}, "n_points: expected an integer, got 10.5"),
        ({"n_points": True}, "n_points: expected an integer, got True"),
        ({"noise": 70}, "noise: 70 is outside 0..50"),
        ({"noise": "x"}, "noise: expected a number, got 'x'"),
        ({"train_fraction": 0.95}, "train_fraction: 0.95 is outside 0.1..0.9"),
        ({"seed": -1}, "seed: -1 is outside 0..4294967295"),
        ({"classes": 9}, "classes: 9 is outside 2..8"),
        ({"preprocessing": "scale"}, "preprocessing: unknown value 'scale' "
                                     "(known: none, standardize, minmax)"),
        ({"features": []}, "features: choose at least one feature"),
        ({"extra_points": [[1, 2]]}, "extra_points[0]: expected [x1, x2, label]"),
        ({"extra_points": [[1, float("nan"), 0]]},
         "extra_points[0][1]: expected a finite number, got nan"),
        ({"extra_points": [[1, 2, 2]]}, "extra_points[0][2]: class label 2 is not an integer 0..1"),
        ({"points": [[1, 2, 0]] * 4}, "points: only a 'csv' dataset carries its points"),
        ({"name": "sine", "task": "classification"}, "task: sine is a regression dataset"),
        ({"name": "csv", "points": [[0, 0, 0]] * 3},
         "points: 3 points, a csv dataset needs at least 4"),
        ({"colour": "red"}, "colour: unknown dataset field (known: name, n_points, noise, "
                            "train_fraction, seed, classes, features, preprocessing, "
                            "extra_points, points, task)"),
    ],
)  # fmt: skip
def test_bad_specs_name_the_field(spec, message):
    with pytest.raises(DatasetError) as e:
        validate_spec(spec)
    assert str(e.value) == message
    assert e.value.field == message.split(":")[0]


def test_csv_spec_task_and_classes():
    pts = [[0, 0, 0], [1, 1, 2], [2, 2, 1], [3, 3, 0]]
    d = generate({"name": "csv", "points": pts, "seed": 1})
    assert (d.task, d.n_classes, d.spec["n_points"]) == ("classification", 3, 4)
    assert d.train_points.shape == (2, 2) and d.test_points.shape == (2, 2)
    P, y = all_points(d)
    assert sorted(zip(P[:, 0].tolist(), y.tolist(), strict=True)) == [
        (0.0, 0), (1.0, 2), (2.0, 1), (3.0, 0)]  # fmt: skip
    r = generate({"name": "csv", "points": pts, "task": "regression"})
    assert (r.task, r.n_classes, r.train_labels.dtype) == ("regression", 0, np.float64)
    f = generate({"name": "csv", "points": [[0, 0, 0.5]] + pts[1:]})
    assert f.task == "regression"
