"""Each optimizer's update against its torch.optim rule written out by hand on plain floats."""

import math

import numpy as np
import pytest

from engine import Network
from engine.optimizers import OPTIMIZERS, Optimizer

P0 = [0.5, -1.2, 0.03]
GRADS = [[0.2, -0.4, 1.5], [0.1, 0.3, -0.7], [-0.25, 0.05, 0.9]]


def _run(name, hp, steps=3):
    opt = Optimizer(name, hp, len(P0))
    p = np.array(P0)
    for g in GRADS[:steps]:
        p, state = opt.propose(p, np.array(g))
        opt.commit(state)
    return p.tolist(), opt


def hand_sgd(lr, wd):
    p = list(P0)
    for g in GRADS:
        p = [pi - lr * (gi + wd * pi) for pi, gi in zip(p, g, strict=True)]
    return p


def hand_momentum(lr, mu, dampening, wd, nesterov):
    p, buf = list(P0), None
    for g in GRADS:
        g = [gi + wd * pi for pi, gi in zip(p, g, strict=True)]
        if buf is None:
            buf = list(g)  # torch: first buffer is the gradient itself
        else:
            buf = [mu * b + (1 - dampening) * gi for b, gi in zip(buf, g, strict=True)]
        step = [gi + mu * b for gi, b in zip(g, buf, strict=True)] if nesterov else buf
        p = [pi - lr * s for pi, s in zip(p, step, strict=True)]
    return p


def hand_rmsprop(lr, alpha, eps, wd):
    p, v = list(P0), [0.0] * 3
    for g in GRADS:
        g = [gi + wd * pi for pi, gi in zip(p, g, strict=True)]
        v = [alpha * vi + (1 - alpha) * gi * gi for vi, gi in zip(v, g, strict=True)]
        p = [pi - lr * gi / (math.sqrt(vi) + eps) for pi, gi, vi in zip(p, g, v, strict=True)]
    return p


def hand_adam(lr, b1, b2, eps, wd, decoupled):
    p, m, v = list(P0), [0.0] * 3, [0.0] * 3
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            p = [pi * (1 - lr * wd) for pi in p]
        else:
            g = [gi + wd * pi for pi, gi in zip(p, g, strict=True)]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        p = [pi - lr * mh / (math.sqrt(vh) + eps)
             for pi, mh, vh in zip(p, m_hat, v_hat, strict=True)]
    return p


CASES = [
    ("sgd", {"learning_rate": 0.1}, hand_sgd(0.1, 0.0)),
    ("sgd", {"learning_rate": 0.1, "weight_decay": 0.05}, hand_sgd(0.1, 0.05)),
    ("momentum", {"learning_rate": 0.1}, hand_momentum(0.1, 0.9, 0.0, 0.0, False)),
    ("momentum", {"learning_rate": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1},
     hand_momentum(0.05, 0.5, 0.3, 0.1, False)),
    ("nesterov", {"learning_rate": 0.1}, hand_momentum(0.1, 0.9, 0.0, 0.0, True)),
    ("nesterov", {"learning_rate": 0.1, "momentum": 0.7, "weight_decay": 0.02},
     hand_momentum(0.1, 0.7, 0.0, 0.02, True)),
    ("rmsprop", {}, hand_rmsprop(0.01, 0.99, 1e-8, 0.0)),
    ("rmsprop", {"learning_rate": 0.02, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1},
     hand_rmsprop(0.02, 0.9, 1e-6, 0.1)),
    ("adam", {}, hand_adam(0.001, 0.9, 0.999, 1e-8, 0.0, False)),
    ("adam", {"learning_rate": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
     hand_adam(0.01, 0.8, 0.99, 1e-6, 0.1, False)),
    ("adamw", {}, hand_adam(0.001, 0.9, 0.999, 1e-8, 0.01, True)),
    ("adamw", {"learning_rate": 0.05, "weight_decay": 0.2},
     hand_adam(0.05, 0.9, 0.999, 1e-8, 0.2, True)),
]


@pytest.mark.parametrize(("name", "hp", "want"), CASES)
def test_three_steps_match_the_hand_written_rule(name, hp, want):
    got, opt = _run(name, hp)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-16)
    assert opt.step == 3


def test_torch_defaults():
    assert OPTIMIZERS["momentum"].defaults["momentum"] == 0.9
    assert OPTIMIZERS["nesterov"].defaults["momentum"] == 0.9
    assert OPTIMIZERS["adam"].defaults == {"learning_rate": 0.001, "betas": (0.9, 0.999),
                                           "eps": 1e-8, "weight_decay": 0.0}
    assert OPTIMIZERS["adamw"].defaults["weight_decay"] == 0.01
    assert OPTIMIZERS["rmsprop"].defaults == {"learning_rate": 0.01, "alpha": 0.99,
                                              "eps": 1e-8, "weight_decay": 0.0}


def test_numbers_derived_for_torch_semantics():
    # Adam with a constant gradient: bias correction makes m^ = g and v^ = g^2 at every
    # step, so each step moves lr * g / (|g| + eps): 1 - 0.1 * 0.5 / 0.50000001 per step.
    opt = Optimizer("adam", {"learning_rate": 0.1}, 1)
    p = np.array([1.0])
    for want in (0.900000002, 0.800000004, 0.700000006):
        p, state = opt.propose(p, np.array([0.5]))
        opt.commit(state)
        assert p[0] == pytest.approx(want, abs=1e-15)
    # AdamW: decay first, 1 * (1 - 0.1 * 0.01) = 0.999, then the same Adam step.
    opt = Optimizer("adamw", {"learning_rate": 0.1}, 1)
    p, _ = opt.propose(np.array([1.0]), np.array([0.5]))
    assert p[0] == pytest.approx(0.899000002, abs=1e-15)
    # torch SGD momentum 0.9, dampening 0.5, lr 0.1, g = 1: buffer 1 (undamped first step)
    # then 0.9 * 1 + 0.5 * 1 = 1.4: p goes 1 -> 0.9 -> 0.76.
    opt = Optimizer("momentum", {"learning_rate": 0.1, "dampening": 0.5}, 1)
    p = np.array([1.0])
    for want in (0.9, 0.76):
        p, state = opt.propose(p, np.array([1.0]))
        opt.commit(state)
        assert p[0] == pytest.approx(want, abs=1e-15)
    # Nesterov: step 1 moves lr (g + 0.9 g) = 0.19; step 2 buffer 1.9, moves
    # 0.1 (1 + 0.9 * 1.9) = 0.271: 1 -> 0.81 -> 0.539.
    opt = Optimizer("nesterov", {"learning_rate": 0.1}, 1)
    p = np.array([1.0])
    for want in (0.81, 0.539):
        p, state = opt.propose(p, np.array([1.0]))
        opt.commit(state)
        assert p[0] == pytest.approx(want, abs=1e-15)


def test_propose_changes_nothing():
    opt = Optimizer("adam", {}, 3)
    p, g = np.array(P0), np.array(GRADS[0])
    opt.propose(p, g)
    assert p.tolist() == P0 and opt.step == 0
    assert all(not v.any() for v in opt.state.values())


def _linear_net(name, **hp):
    return Network.from_dict({"layers": [1, 1], "output_activation": "linear",
                              "weights": [[[0.5]]], "biases": [[0.0]],
                              "optimizer": {"name": name, **hp}})


def test_learning_rate_changes_between_steps_keep_the_state():
    net = _linear_net("momentum", learning_rate=0.1)
    X, Y = np.array([[1.0]]), np.array([[0.0]])
    net.train_step(X, Y)
    buffer = net.optimizer.state["momentum_buffer"].copy()
    w1 = net.weights[0][0, 0]
    net.set_learning_rate(0.01)
    trace = net.train_step(X, Y)
    # mse with x = 1, t = 0: dL/dw = dL/db = 2 (w + b).
    g = trace.gradient
    new_buffer = 0.9 * buffer + g
    np.testing.assert_allclose(trace.params_after, trace.params_before - 0.01 * new_buffer)
    assert trace.hyperparameters["learning_rate"] == 0.01 and trace.step == 2
    assert g[0] == pytest.approx(2 * (w1 + trace.params_before[1]))


def test_regularization_changes_between_steps():
    net = _linear_net("sgd", learning_rate=0.1)
    X, Y = np.array([[1.0]]), np.array([[0.5]])
    net.set_regularization("l2", 0.2)
    trace = net.train_step(X, Y)
    w = trace.params_before[0]
    assert trace.regularization_gradient.tolist() == [0.2 * w, 0.0]
    assert trace.regularization_loss == pytest.approx(0.5 * 0.2 * w * w)
    net.set_regularization("l1", 0.3)
    trace = net.train_step(X, Y)
    assert trace.regularization_gradient.tolist() == [0.3 * np.sign(trace.params_before[0]), 0.0]
