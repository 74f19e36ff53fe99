"""Features against values computed by hand at (0.5, -2) and (3, 1)."""

import math

import numpy as np
import pytest

from engine.errors import DatasetError
from engine.features import FEATURES, check_features, feature_matrix

P = np.array([[0.5, -2.0], [3.0, 1.0]])


def test_every_feature_by_hand():
    expected = {
        "x1": [0.5, 3.0],
        "x2": [-2.0, 1.0],
        "x1^2": [0.25, 9.0],
        "x2^2": [4.0, 1.0],
        "x1*x2": [-1.0, 3.0],
        "sin(x1)": [math.sin(0.5), math.sin(3.0)],
        "sin(x2)": [math.sin(-2.0), math.sin(1.0)],
    }
    assert list(FEATURES) == list(expected)
    for name, values in expected.items():
        assert feature_matrix([name], P)[:, 0].tolist() == values, name


def test_matrix_keeps_the_order_given():
    X = feature_matrix(["x1*x2", "x1"], P)
    assert X.shape == (2, 2)
    assert X.tolist() == [[-1.0, 0.5], [3.0, 3.0]]
    assert feature_matrix(["x1"], P.astype(np.float32)).dtype == np.float32
    assert feature_matrix(["x1"], np.array([[1, 2]])).dtype == np.float64


def test_check_features_names_the_field():
    assert check_features(["x2", "x1"]) == ("x2", "x1")
    with pytest.raises(DatasetError) as e:
        check_features(["x1", "x3"])
    assert e.value.field == "features[1]"
    assert str(e.value).startswith("features[1]: unknown feature 'x3'")
    with pytest.raises(DatasetError, match="features: choose at least one feature"):
        check_features([])
    with pytest.raises(DatasetError, match=r"features\[1\]: feature 'x1' is listed twice"):
        check_features(["x1", "x1"])
    with pytest.raises(DatasetError, match="features: expected a list"):
        check_features("x1")
