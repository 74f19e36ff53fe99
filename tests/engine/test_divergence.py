"""A step with non-finite numbers is refused and leaves the model exactly as it was."""

import warnings

import numpy as np
import pytest

from engine import DivergenceError, Network

X = np.array([[1e150, -2e150], [3e150, 1e150]])
Y = np.array([[1.0], [-1.0]])


def _net(optimizer="sgd", lr=1e300):
    return Network.from_dict({"layers": [2, 3, 1], "activation": "linear",
                              "output_activation": "linear", "seed": 4,
                              "optimizer": {"name": optimizer, "learning_rate": lr}})


def _snapshot(net):
    return net.params.tobytes(), {k: v.tobytes() for k, v in net.optimizer.state.items()}, \
        net.optimizer.step, net.to_dict()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam",
                                       "adamw"])
def test_train_step_refuses_non_finite_and_keeps_everything(optimizer):
    net = _net(optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never a silent (or noisy) NaN
        for _ in range(50):
            before = _snapshot(net)
            try:
                net.train_step(X, Y)
            except DivergenceError as error:
                assert "non-finite" in str(error)
                assert "the learning rate (1e+300) is probably too high" in str(error)
                assert error.field == "learning_rate"
                break
        else:
            raise AssertionError("a learning rate of 1e300 never diverged")
    assert _snapshot(net) == before
    assert np.isfinite(net.params).all()


def test_first_step_of_a_huge_learning_rate_is_refused():
    net = _net("sgd")
    before = _snapshot(net)
    with pytest.raises(DivergenceError, match="non-finite parameters"):
        net.train_step(X, Y)
    assert _snapshot(net) == before and net.optimizer.step == 0


def test_train_epoch_keeps_the_last_finite_parameters():
    net, twin = _net("sgd", lr=0.5), _net("sgd", lr=0.5)
    rng = np.random.default_rng(0)
    X_epoch = rng.normal(0, 30.0, (40, 2))
    Y_epoch = rng.normal(0, 30.0, (40, 1))
    with pytest.raises(DivergenceError, match="non-finite"):
        for _ in range(200):
            net.train_epoch(X_epoch, Y_epoch, 4)
    assert np.isfinite(net.params).all() and net.optimizer.step > 0
    # The same batches stepped one by one stop at the same place with the same numbers.
    with pytest.raises(DivergenceError):
        for _ in range(200):
            for start in range(0, 40, 4):
                twin.train_step(X_epoch[start:start + 4], Y_epoch[start:start + 4])
    assert twin.optimizer.step == net.optimizer.step
    # train_epoch runs the compiled kernel: equal to rounding, not bit for bit.
    np.testing.assert_allclose(net.params, twin.params, rtol=1e-12, atol=0)
    assert Network.from_dict(net.to_dict()).params.tobytes() == net.params.tobytes()


def test_non_finite_loss_is_named():
    net = Network.from_dict({"layers": [1, 1], "output_activation": "linear",
                             "weights": [[[1e200]]], "biases": [[0.0]]})
    before = _snapshot(net)
    with pytest.raises(DivergenceError, match="non-finite loss"):
        net.train_step([[1e200]], [[0.0]])
    assert _snapshot(net) == before
