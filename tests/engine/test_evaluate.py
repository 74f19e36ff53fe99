"""`Network.evaluate` (the compiled evaluation of a whole split) against the NumPy
reference: `objective` and `predict`, for every hidden activation and every valid
(output activation, loss) pairing, with and without regularization."""

import numpy as np
import pytest

from engine import Network
from engine.activations import HIDDEN_ACTIVATIONS
from engine.losses import LOSSES
from tests.engine.test_gradients import _targets

PAIRS = [(output, loss) for loss, spec in LOSSES.items() for output in spec.accepts]


@pytest.mark.parametrize("hidden", list(HIDDEN_ACTIVATIONS))
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_evaluate_agrees_with_objective_and_predict(hidden, output, loss):
    rng = np.random.default_rng(7)
    n_out = 3 if output == "softmax" else 2
    # 150 rows: more than one of the kernel's 64-row blocks, and a partial last block.
    net = Network.from_dict({"layers": [3, 5, 4, n_out], "activation": hidden,
                             "output_activation": output, "loss": loss, "init": "xavier",
                             "regularization": {"name": "l2", "rate": 0.03}, "seed": 3})
    X = rng.normal(0.0, 1.5, (150, 3))
    T = _targets(loss, output, rng, 150, n_out)
    objective, outputs = net.evaluate(X, T)
    assert objective == pytest.approx(net.objective(X, T), rel=1e-12)
    np.testing.assert_allclose(outputs, net.predict(X), rtol=1e-12, atol=1e-15)


def test_evaluate_counts_the_regularization_term_once():
    net = Network.from_dict({"layers": [2, 2, 1], "activation": "linear",
                             "output_activation": "linear", "loss": "mse",
                             "regularization": {"name": "l1", "rate": 0.5},
                             "weights": [[[1.0, -2.0], [0.5, 0.0]], [[3.0], [1.0]]],
                             "biases": [[0.0, 1.0], [-1.0]]})
    # By hand: x = (1, 1): h = (1.5, -1), y = 3*1.5 + 1*(-1) - 1 = 2.5; (2.5 - 2)^2 = 0.25;
    # L1 term 0.5 * (1 + 2 + 0.5 + 0 + 3 + 1) = 3.75 (biases are not regularized).
    objective, outputs = net.evaluate(np.array([[1.0, 1.0]]), np.array([[2.0]]))
    assert outputs.tolist() == [[2.5]]
    assert objective == pytest.approx(0.25 + 3.75, rel=1e-15)


def test_evaluate_on_an_empty_split_is_zero():
    net = Network.from_dict({"layers": [2, 3, 1]})
    objective, outputs = net.evaluate(np.zeros((0, 2)), np.zeros((0, 1)))
    assert objective == 0.0
    assert outputs.shape == (0, 1)
