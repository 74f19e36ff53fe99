"""engine/watch.py: when a run has blown up, and the checkpoint it keeps (hand-worked
sequences of losses against the rule in the module's docstring)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Network
from engine.watch import BLOWUP_CHECKS, DivergenceWatch, blown_up

NET = {"layers": [2, 2, 1], "activation": "tanh", "output_activation": "sigmoid",
       "loss": "binary_cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.01},
       "seed": 3}


@pytest.mark.parametrize("loss, best, ref, out", [
    (math.nan, 0.5, 0.7, True),
    (math.inf, 0.5, 0.7, True),
    (0.85, 0.6, 0.7, True),     # 0.85 > 1.2 * 0.7 = 0.84: worse than the start
    (0.83, 0.6, 0.7, False),    # not worse than the start, not 10x its best
    (0.001, 0.0001, 0.7, False),  # 10x its best but only 0.0009 above it (< 0.2 * 0.7)
    (0.2, 0.01, 0.7, True),     # 20x its best and 0.19 above it (> 0.14)
    (0.1, 0.01, 0.7, False),    # 10x exactly is not above 10x
])
def test_one_check(loss, best, ref, out):
    assert blown_up(loss, best, ref) is out


def test_a_run_blows_up_after_the_checks_in_a_row_and_keeps_its_best():
    net = Network.from_dict(NET)
    w = DivergenceWatch()
    assert not w.check(net, 0, 0, 0.7, 0.71)  # the reference, and the first good model
    first = net.params.copy()
    net.params[:] += 1.0
    assert not w.check(net, 1, 5, 0.5, 0.52)  # a new best: the checkpoint moves to epoch 1
    best = net.params.copy()
    net.params[:] += 1.0
    # worse than the start (> 0.84) BLOWUP_CHECKS - 1 times, a good check, then in a row
    for k in range(BLOWUP_CHECKS - 1):
        assert not w.check(net, 2 + k, 10 + k, 2.0, 2.0)
    assert not w.check(net, 9, 20, 0.6, 0.6)  # in bounds: the count starts over
    for k in range(BLOWUP_CHECKS - 1):
        assert not w.check(net, 10 + k, 30 + k, 2.0, 2.0)
    assert w.check(net, 20, 40, 2.0, 2.0)
    assert (w.good.epoch, w.good.step, w.good.train_loss) == (1, 5, 0.5)
    good = w.restore(net)
    np.testing.assert_array_equal(net.params, best)
    assert not np.array_equal(best, first)
    assert good.epoch == 1 and w.best == 0.5


def test_a_non_finite_loss_is_a_blow_up_at_once():
    net = Network.from_dict(NET)
    w = DivergenceWatch()
    w.check(net, 0, 0, 0.7, 0.7)
    assert w.check(net, 1, 1, math.inf, math.inf)
    assert w.good.epoch == 0


def test_restore_puts_the_optimizer_state_back():
    net = Network.from_dict(NET)
    X = np.array([[0.5, -1.0], [1.0, 2.0]])
    Y = np.array([[1.0], [0.0]])
    net.train_epoch(X, Y, 1)
    w = DivergenceWatch()
    w.check(net, 1, 2, 0.6, 0.6)
    state = {k: v.copy() for k, v in net.optimizer.state.items()}
    params, step = net.params.copy(), net.optimizer.step
    net.train_epoch(X, Y, 1)
    w.restore(net)
    np.testing.assert_array_equal(net.params, params)
    assert net.optimizer.step == step
    for k, v in state.items():
        np.testing.assert_array_equal(net.optimizer.state[k], v)
    with pytest.raises(LookupError):
        DivergenceWatch().restore(net)
