"""prepare(): features, preprocessing fitted on the training split only, targets."""

import numpy as np
import pytest

from engine.errors import DatasetError, IncompatibleError
from engine.network import Network
from engine.problem import prepare


def test_standardize_is_fitted_on_train_only():
    spec = {"name": "gauss", "noise": 30, "seed": 4, "features": ["x1", "x1*x2"],
            "preprocessing": "standardize"}  # fmt: skip
    p = prepare(spec, "binary_cross_entropy", "sigmoid", 1)
    assert p.X_train.mean(axis=0) == pytest.approx([0.0, 0.0], abs=1e-12)
    assert p.X_train.std(axis=0) == pytest.approx([1.0, 1.0])
    # Test inputs use the training mean and std, computed here independently.
    P = p.train_points
    F = np.column_stack([P[:, 0], P[:, 0] * P[:, 1]])
    mean, sd = F.mean(axis=0), F.std(axis=0)
    Q = p.test_points
    expected = (np.column_stack([Q[:, 0], Q[:, 0] * Q[:, 1]]) - mean) / sd
    assert p.X_test == pytest.approx(expected)
    assert np.all(np.abs(p.X_test.mean(axis=0)) > 1e-3)  # not re-centred on test


def test_constant_feature_column_is_zero_not_nan():
    # sine puts every point on x2 = 0: the x2 column is constant.
    p = prepare({"name": "sine", "features": ["x1", "x2"], "preprocessing": "minmax"},
                "mse", "linear", 1)  # fmt: skip
    assert np.all(p.X_train[:, 1] == 0.0) and np.all(p.X_test[:, 1] == 0.0)
    assert p.X_train[:, 0].min() == -1.0 and p.X_train[:, 0].max() == 1.0
    assert p.Y_train[:, 0].tolist() == p.train_labels.tolist()
    assert (p.task, p.n_classes, p.Y_train.shape) == ("regression", 0, (250, 1))


def test_targets_follow_the_loss():
    sig = prepare({"name": "xor", "seed": 1}, "binary_cross_entropy", "sigmoid", 1)
    assert sig.Y_train[:, 0].tolist() == sig.train_labels.astype(float).tolist()
    tanh = prepare({"name": "xor", "seed": 1}, "mse", "tanh", 1)
    assert tanh.Y_train[:, 0].tolist() == (2.0 * sig.train_labels - 1).tolist()
    three = prepare({"name": "spiral3", "seed": 1}, "cross_entropy", "softmax", 3)
    assert three.n_classes == 3 and three.Y_test.shape == (250, 3)
    assert np.array_equal(three.Y_test.argmax(axis=1), three.test_labels)
    assert three.Y_test.sum(axis=1).tolist() == [1.0] * 250


def test_transform_points_matches_the_inputs():
    p = prepare({"name": "circle", "features": ["x1^2", "sin(x2)", "x2"],
                 "preprocessing": "minmax"}, "mse", "tanh", 1)  # fmt: skip
    assert np.array_equal(p.transform_points(p.train_points), p.X_train)
    assert np.array_equal(p.transform_points(p.test_points), p.X_test)
    assert p.features == ("x1^2", "sin(x2)", "x2")
    assert p.preprocessor.to_dict()["method"] == "minmax"


def test_same_spec_same_problem():
    spec = {"name": "moons", "noise": 15, "seed": 9, "preprocessing": "standardize"}
    a, b = prepare(spec, "mse", "tanh", 1), prepare(dict(spec), "mse", "tanh", 1)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.Y_test, b.Y_test)
    assert a.preprocessor.to_dict() == b.preprocessor.to_dict()


def test_incompatible_outputs():
    with pytest.raises(IncompatibleError) as e:
        prepare({"name": "plane"}, "mse", "linear", 2)
    assert e.value.field == "layers"
    assert str(e.value) == "layers: a regression dataset has one target, the network has 2 outputs"
    with pytest.raises(IncompatibleError, match="5 classes need 5 outputs, the network has 3"):
        prepare({"name": "blobs", "classes": 5}, "cross_entropy", "softmax", 3)
    with pytest.raises(IncompatibleError, match="^loss: binary_cross_entropy does not work"):
        prepare({"name": "xor"}, "binary_cross_entropy", "tanh", 1)
    with pytest.raises(DatasetError, match="noise: 60 is outside 0..50"):
        prepare({"noise": 60}, "mse", "tanh", 1)


def test_evaluate_reports():
    p = prepare({"name": "gauss", "seed": 2}, "mse", "tanh", 1)
    # A hand-set network whose output is tanh(x1 + x2): class 1 where x1 + x2 > 0, the
    # right boundary for two Gaussians at (2, 2) and (-2, -2).
    net = Network.from_dict({"layers": [2, 1], "output_activation": "tanh",
                             "weights": [[[1.0], [1.0]]], "biases": [[0.0]]})  # fmt: skip
    report = p.evaluate(net)
    predicted = (p.test_points.sum(axis=1) > 0).astype(int)
    assert report["accuracy"] == np.mean(predicted == p.test_labels)
    assert sum(map(sum, report["confusion"])) == 250
    r = prepare({"name": "plane", "seed": 2}, "mse", "linear", 1)
    exact = Network.from_dict({"layers": [2, 1], "output_activation": "linear",
                               "weights": [[[0.1], [0.1]]], "biases": [[0.0]]})  # fmt: skip
    assert r.evaluate(exact, "train") == {"mse": pytest.approx(0.0, abs=1e-30),
                                          "mae": pytest.approx(0.0, abs=1e-15),
                                          "r2": pytest.approx(1.0, abs=1e-12)}  # fmt: skip


@pytest.mark.parametrize(("loss", "output"), [("binary_cross_entropy", "sigmoid"),
                                              ("hinge", "linear")])
def test_class_losses_are_refused_for_regression(loss, output):
    with pytest.raises(IncompatibleError) as e:
        prepare({"name": "plane"}, loss, output, 1)
    assert e.value.field == "loss"
    assert str(e.value) == (f"loss: {loss} compares class labels, but a regression dataset "
                            "has real-valued targets (choose from mse, sse, mae, huber)")
