"""Pictures: a hand-built network's grid values against hand computation, node order."""

import math

import numpy as np
import pytest

from engine.activations import HIDDEN_ACTIVATIONS
from engine.network import Network
from engine.pictures import boundary, grid_points, node_maps, quantize
from engine.preprocessing import Preprocessor

# 2 inputs -> 2 tanh -> 1 sigmoid; weights[l][i][j] from neuron i of layer l to j of l+1.
TINY = {
    "layers": [2, 2, 1],
    "activation": "tanh",
    "output_activation": "sigmoid",
    "loss": "mse",
    "weights": [[[0.1, -0.2], [0.3, 0.4]], [[0.5], [-0.6]]],
    "biases": [[0.05, -0.1], [0.2]],
}
NONE = Preprocessor("none").fit(np.zeros((1, 2)))


def by_hand(x1, x2):
    h0 = math.tanh(0.1 * x1 + 0.3 * x2 + 0.05)
    h1 = math.tanh(-0.2 * x1 + 0.4 * x2 - 0.1)
    return h0, h1, 1 / (1 + math.exp(-(0.5 * h0 - 0.6 * h1 + 0.2)))


def test_grid_is_pixel_centres_top_row_first():
    P = grid_points(3)
    # Centres of 3 pixels over [-6, 6]: -4, 0, 4; row 0 has the largest x2.
    assert P.tolist() == [[-4, 4], [0, 4], [4, 4], [-4, 0], [0, 0], [4, 0],
                          [-4, -4], [0, -4], [4, -4]]  # fmt: skip
    assert grid_points(2, extent=1.0).tolist() == [[-0.5, 0.5], [0.5, 0.5], [-0.5, -0.5],
                                                   [0.5, -0.5]]  # fmt: skip


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-15), (np.float32, 1e-6)])
def test_tiny_network_by_hand(dtype, tol):
    pic = node_maps(Network.from_dict(TINY), ["x1", "x2"], NONE, n=3, dtype=dtype)
    assert pic.nodes == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]
    assert pic.maps.shape == (5, 3, 3) and pic.maps.dtype == dtype
    centres = [-4.0, 0.0, 4.0]
    for r in range(3):
        for c in range(3):
            x1, x2 = centres[c], centres[2 - r]
            expected = [x1, x2, *by_hand(x1, x2)]
            assert pic.maps[:, r, c] == pytest.approx(expected, abs=tol), (r, c)
    # (x1, x2) = (4, -4) is row 2, column 2: z = -0.75 and -2.5 in the hidden layer.
    assert pic.maps[2, 2, 2] == pytest.approx(math.tanh(-0.75), abs=tol)
    assert pic.maps[3, 2, 2] == pytest.approx(math.tanh(-2.5), abs=tol)
    assert pic.outputs.shape == (1, 3, 3)
    assert np.array_equal(pic.outputs[0], pic.maps[4])


def test_feature_maps_are_the_preprocessed_inputs():
    pre = Preprocessor("standardize").fit(np.array([[1.0, 2.0, 0.0], [3.0, 6.0, 0.0]]))
    net = Network.from_dict({"layers": [3, 2, 1], "activation": "relu", "seed": 3})
    pic = node_maps(net, ["x1", "x2^2", "sin(x1)"], pre, n=4, dtype=np.float64)
    P = grid_points(4)
    assert pic.maps[0].ravel() == pytest.approx((P[:, 0] - 2.0) / 1.0)
    assert pic.maps[1].ravel() == pytest.approx((P[:, 1] ** 2 - 4.0) / 2.0)
    assert pic.maps[2].ravel() == pytest.approx(np.sin(P[:, 0]))  # constant column: scale 1
    with pytest.raises(ValueError, match="the network takes 3 inputs, got 2"):
        node_maps(net, ["x1", "x2"], pre)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_float32_kernel_agrees_with_the_engine(activation):
    doc = {"layers": [3, 6, 5, 1], "activation": activation, "output_activation": "tanh"}
    net = Network.from_dict({**doc, "init": "xavier", "seed": 11})
    pre = Preprocessor("minmax").fit(np.array([[-6.0, -6.0, 0.0], [6.0, 6.0, 36.0]]))
    feats = ["x1", "x2", "x1^2"]
    exact = node_maps(net, feats, pre, n=20, dtype=np.float64).maps
    fast = node_maps(net, feats, pre, n=20).maps
    assert fast.dtype == np.float32
    assert np.max(np.abs(fast - exact)) < 2e-6
    # The float64 pass gives the engine's forward (up to summation order in the product).
    X = pre.transform(np.column_stack([grid_points(20), grid_points(20)[:, 0] ** 2]))
    acts = net.forward(X).activations
    assert exact[-1].ravel() == pytest.approx(acts[-1][:, 0], rel=1e-12, abs=1e-14)
    assert exact[3:9].reshape(6, -1) == pytest.approx(acts[1].T, rel=1e-12, abs=1e-14)
    # Large weights (pre-activations in the hundreds: saturation, the tanh clamp): float32
    # keeps about 7 digits, so allow 1e-3 of max(1, |value|), still far below one 8-bit
    # display step (1/255 of the range).
    net.params *= 20.0
    exact = node_maps(net, feats, pre, n=20, dtype=np.float64).maps
    fast = node_maps(net, feats, pre, n=20).maps
    assert np.all(np.abs(fast - exact) <= 1e-3 * np.maximum(1.0, np.abs(exact)))


def test_softmax_outputs_and_class_boundary():
    net = Network.from_dict({"layers": [2, 4, 3], "activation": "tanh",
                             "output_activation": "softmax", "loss": "cross_entropy",
                             "seed": 5})  # fmt: skip
    pic = node_maps(net, ["x1", "x2"], NONE, n=8)
    assert pic.outputs.sum(axis=0) == pytest.approx(np.ones((8, 8)), abs=1e-6)
    b = boundary(pic.outputs, "classification", "cross_entropy", "softmax")
    assert b["kind"] == "classes"
    assert np.array_equal(b["values"], pic.outputs.argmax(axis=0))
    assert np.array_equal(b["confidence"], pic.outputs.max(axis=0))


def test_binary_and_regression_boundary():
    y = np.array([[[0.0, 0.25, 1.0]]])
    sig = boundary(y, "classification", "binary_cross_entropy", "sigmoid")
    assert sig["kind"] == "binary" and sig["range"] == [-1.0, 1.0]
    assert sig["values"].tolist() == [[-1.0, -0.5, 1.0]]
    assert boundary(y, "classification", "mse", "tanh")["values"].tolist() == [[0.0, 0.25, 1.0]]
    reg = boundary(y, "regression", "mse", "linear")
    assert reg["kind"] == "regression" and reg["values"].tolist() == [[0.0, 0.25, 1.0]]


def test_quantize_per_protocol():
    # byte b stands for lo + b / 255 * (hi - lo); clipped; nearest byte (127.5 -> 128, even).
    q = quantize(np.array([-1.0, 0.0, 1.0, 2.0, -3.0, 0.5, np.nan]), -1.0, 1.0)
    assert q.dtype == np.uint8
    assert q.tolist() == [0, 128, 255, 255, 0, 191, 0]
    assert quantize(np.array([[2.0, 4.0]]), 0.0, 10.0).tolist() == [[51, 102]]
    with pytest.raises(ValueError, match="expected lo < hi"):
        quantize(np.zeros(2), 1.0, 1.0)
