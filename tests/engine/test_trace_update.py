"""The values an update forms on the way, as the step trace reports them: the gradient
the rule used (torch.optim: dL/dw + weight_decay w; AdamW: dL/dw) and AdamW's decayed
weights w (1 - lr weight_decay), against those formulas and each optimizer's rule written
out by hand in plain floats, two steps so the state buffers are not zero."""


import numpy as np
import pytest

from engine import Network
from tests import hand_optimizers as hand

WEIGHTS = [[[0.2, -0.5], [0.4, 0.3]], [[0.7], [-0.6]]]
BIASES = [[0.1, -0.2], [0.05]]
X = [[0.5, -1.0], [1.5, 0.25]]
Y = [[0.3], [-0.8]]

CASES = [
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.1, "weight_decay": 0.05}),
    ("momentum", {"learning_rate": 0.1, "dampening": 0.2}),
    ("momentum", {"learning_rate": 0.1, "dampening": 0.2, "weight_decay": 0.05}),
    ("nesterov", {"learning_rate": 0.1, "momentum": 0.8}),
    ("nesterov", {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.05}),
    ("rmsprop", {"alpha": 0.9}),
    ("rmsprop", {"alpha": 0.9, "weight_decay": 0.05}),
    ("adam", {"learning_rate": 0.05, "betas": [0.8, 0.99]}),
    ("adam", {"learning_rate": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.05}),
    ("adamw", {"learning_rate": 0.05, "weight_decay": 0.0}),
    ("adamw", {"learning_rate": 0.05, "weight_decay": 0.1}),
]


def _flat(tree: dict, prefix: str = "", suffix: str = "") -> list[float]:
    """{prefix}weights{suffix} then {prefix}biases{suffix} of a trace part, one list of
    plain floats."""
    w, b = tree[f"{prefix}weights{suffix}"], tree[f"{prefix}biases{suffix}"]
    return [x for layer in w for row in layer for x in row] + [x for layer in b for x in layer]


@pytest.mark.parametrize(("name", "given"), CASES,
                         ids=[f"{n}-wd{h.get('weight_decay', 'default')}" for n, h in CASES])
def test_trace_reports_the_gradient_used_and_adamws_decayed_weights(name, given):
    net = Network.from_dict({"layers": [2, 2, 1], "activation": "tanh",
                             "output_activation": "linear", "loss": "mse",
                             "optimizer": {"name": name, **given},
                             "weights": WEIGHTS, "biases": BIASES})
    for _ in range(2):
        doc = net.train_step(X, Y).to_dict()
    u = doc["update"]
    hp, t = u["hyperparameters"], u["step"]
    lr, wd = hp["learning_rate"], hp["weight_decay"]
    assert t == 2
    p0, dL = _flat(u, suffix="_before"), _flat(doc["gradients"])
    used = _flat(u["gradients_used"])
    assert set(u["gradients_used"]) == {"weights", "biases"}
    assert len(used) == len(p0) == 9

    if name == "adamw":
        decayed = _flat(u, prefix="decayed_")
        assert decayed == pytest.approx([p * (1.0 - lr * wd) for p in p0], rel=1e-15, abs=0)
        assert used == dL  # AdamW does not add the decay to the gradient
        start = decayed
    else:
        assert "decayed_weights" not in u and "decayed_biases" not in u
        want = [g + wd * p for g, p in zip(dL, p0, strict=True)]
        assert used == pytest.approx(want, rel=1e-15, abs=1e-17)
        if not wd:
            assert used == dL  # exactly the data + regularization gradient
        start = p0

    # the rule worked by hand from the reported values gives the trace's step
    buffers = list(u["state_before"])
    before = {k: _flat(u["state_before"][k]) for k in buffers}
    after = {k: _flat(u["state_after"][k]) for k in buffers}
    new = _flat(u, suffix="_after")
    for i in range(len(p0)):
        want_p, want_state = hand.rule(name, hp, start[i], used[i],
                                       {k: before[k][i] for k in buffers}, t)
        assert new[i] == pytest.approx(want_p, rel=1e-13, abs=1e-16)
        for k in buffers:
            assert after[k][i] == pytest.approx(want_state[k], rel=1e-13, abs=1e-18)
    if wd:
        assert used != dL or name == "adamw"  # the decay did change the gradient


def _count_numbers(value) -> int:
    if isinstance(value, dict):
        return sum(_count_numbers(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_count_numbers(v) for v in value)
    return int(isinstance(value, int | float) and not isinstance(value, bool))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
@pytest.mark.parametrize("layers,n", [([2, 1], 1), ([7, 12, 12, 8], 30), ([3, 5, 4, 2], 1)])
def test_the_size_of_a_trace_is_known_before_it_is_built(optimizer, layers, n):
    from engine.trace import forward_trace_numbers, step_trace_numbers

    net = Network.from_dict({"layers": layers, "seed": 2, "optimizer": {"name": optimizer},
                             "output_activation": "linear", "loss": "mse"})
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(n, layers[0])), rng.normal(size=(n, layers[-1]))
    forward = net.forward(X).to_dict()
    assert _count_numbers(forward) == forward_trace_numbers(layers, n)
    for _ in range(2):  # the first step (buffers zero) and the next
        trace = net.train_step(X, Y).to_dict()
        actual = _count_numbers(trace) + n  # the session adds the batch's row indices
        bound = step_trace_numbers(layers, n, len(net.optimizer.state))
        size = net.params.size  # the decayed weights are counted for every optimizer
        assert actual <= bound <= actual + size + 64, (actual, bound)
