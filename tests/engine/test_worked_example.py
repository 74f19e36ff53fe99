"""The worked example of ../shared/seed/how-neural-networks-work.md ("Backward Propagation
Example"), recomputed by hand, and where the seed's own arithmetic slips.

Network [2, 2, 2]: ReLU hidden layer, linear output, squared error summed over outputs
(sse). x = (0.5, -1), target (1, 0). First layer: from x1, 0.2 to h1 and -0.7 to h2; from
x2, -0.8 to h1 and 0.4 to h2; biases b = (-0.3, 0.1). The seed reads the hidden outputs as
the prediction, so the second layer is the identity with zero biases.
"""

import json

import numpy as np
import pytest

from engine import Network

X = [[0.5, -1.0]]
TARGET = [[1.0, 0.0]]

# What the seed writes, each number wrong.
SEED_SUM_1 = 1.1  # "0.5*0.2 + (-1)*(-0.8) = 1.1": 0.1 + 0.8 is 0.9
SEED_Y1 = 0.8  # "max(0, 1.1 - 0.3) = 0.8": with the right sum, max(0, 0.9 - 0.3) = 0.6
SEED_SUM_2 = -0.85  # "0.5*(-0.7) + (-1)*0.4 = -0.85": -0.35 - 0.4 is -0.75
SEED_Z2 = -0.75  # "-0.85 + 0.1" (which is itself -0.75); the right one is -0.75 + 0.1 = -0.65
SEED_PREDICTION = [0.0, 0.0]  # "[0, 0]", though its own y1 was 0.8; right: (0.6, 0)
SEED_LOSS = 1.0  # "(1-0)^2 + (0-0)^2 = 1", from the wrong prediction; right: 0.16


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def _net(learning_rate=0.1):
    return Network.from_dict({
        "layers": [2, 2, 2], "activation": "relu", "output_activation": "linear",
        "loss": "sse", "optimizer": {"name": "sgd", "learning_rate": learning_rate},
        "weights": [[[0.2, -0.7], [-0.8, 0.4]], [[1.0, 0.0], [0.0, 1.0]]],
        "biases": [[-0.3, 0.1], [0.0, 0.0]],
    })


def test_forward_pass_gives_the_correct_numbers():
    trace = _net().forward(X)
    z = trace.pre_activations[0][0]
    # Weighted sums without the bias: 0.1 + 0.8 = 0.9 and -0.35 - 0.4 = -0.75.
    sums = np.array(X[0]) @ _net().weights[0]
    assert sums.tolist() == pytest.approx([0.9, -0.75], abs=1e-15)
    assert z.tolist() == pytest.approx([0.6, -0.65], abs=1e-15)
    assert trace.activations[1][0].tolist() == pytest.approx([0.6, 0.0], abs=1e-15)
    assert trace.activations[-1][0].tolist() == pytest.approx([0.6, 0.0], abs=1e-15)


def test_the_seeds_slips():
    trace = _net().forward(X)
    sums = np.array(X[0]) @ _net().weights[0]
    z, y = trace.pre_activations[0][0], trace.activations[-1][0]
    assert sums[0] != pytest.approx(SEED_SUM_1)  # seed: 1.1, correct 0.9
    assert y[0] != pytest.approx(SEED_Y1)  # seed: 0.8, correct 0.6
    assert sums[1] != pytest.approx(SEED_SUM_2)  # seed: -0.85, correct -0.75
    assert z[1] != pytest.approx(SEED_Z2)  # seed: -0.75, correct -0.65
    assert y.tolist() != pytest.approx(SEED_PREDICTION)  # seed: [0, 0], correct [0.6, 0]
    loss, _ = _net().loss_and_gradients(X, TARGET)
    assert loss != pytest.approx(SEED_LOSS)  # seed: 1, correct 0.16
    # Where the seed agrees: relu(z2) = 0 whichever of its sums is used.
    assert y[1] == 0.0


def test_loss_is_016():
    loss, _ = _net().loss_and_gradients(X, TARGET)
    assert loss == pytest.approx((1 - 0.6) ** 2 + (0 - 0) ** 2, abs=1e-15)
    assert loss == pytest.approx(0.16, abs=1e-15)


def test_gradients_by_hand():
    # delta2 = dL/dz2 = 2 (y - t) = (2 (0.6 - 1), 2 (0 - 0)) = (-0.8, 0)
    # dW2[i][j] = h_i delta2_j with h = (0.6, 0): [[-0.48, 0], [0, 0]]; db2 = delta2
    # delta1 = (W2 delta2) * relu'(z1) = (-0.8, 0) * (1, 0) = (-0.8, 0)
    # dW1[i][j] = x_i delta1_j with x = (0.5, -1): [[-0.4, 0], [0.8, 0]]; db1 = delta1
    _, grads = _net().loss_and_gradients(X, TARGET)
    _close(grads["weights"][1], [[-0.48, 0.0], [0.0, 0.0]])
    assert grads["biases"][1].tolist() == pytest.approx([-0.8, 0.0], abs=1e-15)
    _close(grads["weights"][0], [[-0.4, 0.0], [0.8, 0.0]])
    assert grads["biases"][0].tolist() == pytest.approx([-0.8, 0.0], abs=1e-15)


def test_one_sgd_update_by_hand():
    # new = old - 0.1 * gradient
    net = _net(0.1)
    trace = net.train_step(X, TARGET)
    _close(net.weights[0], [[0.24, -0.7], [-0.88, 0.4]])
    assert net.biases[0].tolist() == pytest.approx([-0.22, 0.1], abs=1e-15)
    _close(net.weights[1], [[1.048, 0.0], [0.0, 1.0]])
    assert net.biases[1].tolist() == pytest.approx([0.08, 0.0], abs=1e-15)
    # The loss after the step: hidden z = (0.12 + 0.88 - 0.22, ...) = (0.78, ...),
    # y1 = 1.048 * 0.78 + 0.08 = 0.89744, loss = (1 - 0.89744)^2.
    loss, _ = net.loss_and_gradients(X, TARGET)
    assert loss == pytest.approx((1 - 0.89744) ** 2, abs=1e-14)
    assert trace.data_loss == pytest.approx(0.16, abs=1e-15)


def test_trace_of_the_example_reads_like_protocol_md():
    doc = json.loads(json.dumps(_net().train_step(X, TARGET).to_dict()))
    hidden, output = doc["layers"][1], doc["layers"][2]
    assert doc["layers"][0] == {"a": [[0.5, -1.0]]}
    assert hidden["activation"] == "relu" and output["activation"] == "linear"
    assert hidden["z"][0] == pytest.approx([0.6, -0.65], abs=1e-15)
    assert output["delta"][0] == pytest.approx([-0.8, 0.0], abs=1e-15)
    assert doc["loss"]["name"] == "sse"
    assert doc["loss"]["per_sample"] == [pytest.approx(0.16, abs=1e-15)]
    assert doc["update"]["hyperparameters"]["learning_rate"] == 0.1
