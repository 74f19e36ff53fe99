"""Preprocessing: numbers worked out by hand, fitted on the training rows only."""

import numpy as np
import pytest

from engine.errors import DatasetError
from engine.preprocessing import Preprocessor

# Column 0: 1, 3, 5 -> mean 3, population std sqrt(8/3), min 1, max 5.
# Column 1: constant 7.
TRAIN = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
TEST = np.array([[9.0, 8.0]])


def test_standardize_by_hand():
    p = Preprocessor("standardize").fit(TRAIN)
    sd = np.sqrt(8 / 3)
    assert p.shift.tolist() == [3.0, 7.0]
    assert p.scale[0] == pytest.approx(sd)
    assert p.scale[1] == 1.0  # constant column: no division by zero
    X = p.transform(TRAIN)
    assert X[:, 0] == pytest.approx([-2 / sd, 0.0, 2 / sd])
    assert X[:, 1].tolist() == [0.0, 0.0, 0.0]
    # Test rows use the training numbers: not centred.
    assert p.transform(TEST)[0].tolist() == pytest.approx([6 / sd, 1.0])


def test_minmax_maps_training_range_to_minus_one_one():
    p = Preprocessor("minmax").fit(TRAIN)
    assert p.shift.tolist() == [3.0, 7.0]
    assert p.scale.tolist() == [2.0, 1.0]
    assert p.transform(TRAIN).tolist() == [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]
    assert p.transform(TEST).tolist() == [[3.0, 1.0]]


def test_none_is_identity():
    p = Preprocessor().fit(TRAIN)
    assert p.transform(TEST).tolist() == TEST.tolist()
    assert p.to_dict() == {"method": "none", "shift": [0.0, 0.0], "scale": [1.0, 1.0]}


def test_round_trip_and_dtype():
    p = Preprocessor("standardize").fit(TRAIN)
    q = Preprocessor.from_dict(p.to_dict())
    assert q.transform(TEST).tolist() == p.transform(TEST).tolist()
    assert p.transform(TEST.astype(np.float32)).dtype == np.float32
    assert Preprocessor.from_dict({"method": "minmax"}).fitted is False


def test_errors():
    with pytest.raises(DatasetError, match="preprocessing: unknown method 'scale'"):
        Preprocessor("scale")
    with pytest.raises(DatasetError, match="preprocessing.scale: every scale must be positive"):
        Preprocessor.from_dict({"method": "minmax", "shift": [0.0], "scale": [0.0]})
    with pytest.raises(ValueError, match="transform before fit"):
        Preprocessor("minmax").transform(TEST)
