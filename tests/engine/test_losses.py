"""Loss values against hand-written formulas (torch.nn semantics), compatibility, targets."""

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.errors import IncompatibleError
from engine.losses import (
    LOSSES,
    REGULARIZATIONS,
    check_compatible,
    decode_predictions,
    encode_targets,
)

Y = [[0.2, -0.5], [1.5, 0.3]]
T = [[0.0, 0.5], [1.0, 0.1]]


def _batch(name, z, t, params=None, act="linear"):
    z, t = np.array(z, dtype=float), np.array(t, dtype=float)
    a = ACTIVATIONS[act].fn(z)
    return LOSSES[name].value(z, a, t, params or LOSSES[name].params)


def test_mse_is_mean_over_samples_and_outputs():
    want = sum((y - t) ** 2 for ry, rt in zip(Y, T, strict=True)
               for y, t in zip(ry, rt, strict=True)) / 4
    assert _batch("mse", Y, T).mean() == pytest.approx(want, rel=1e-15)


def test_sse_sums_outputs_and_averages_samples():
    per = [sum((t - y) ** 2 for y, t in zip(ry, rt, strict=True))
           for ry, rt in zip(Y, T, strict=True)]
    np.testing.assert_allclose(_batch("sse", Y, T), per, rtol=1e-15)
    assert _batch("sse", [[0.6, 0.0]], [[1.0, 0.0]]).tolist() == [pytest.approx(0.16)]


def test_mae_and_huber():
    diffs = [y - t for ry, rt in zip(Y, T, strict=True) for y, t in zip(ry, rt, strict=True)]
    assert _batch("mae", Y, T).mean() == pytest.approx(sum(abs(d) for d in diffs) / 4)

    def huber(d, delta):
        return 0.5 * d * d if abs(d) < delta else delta * (abs(d) - 0.5 * delta)

    for delta in (1.0, 0.3):
        got = _batch("huber", Y, T, {"delta": delta}).mean()
        assert got == pytest.approx(sum(huber(d, delta) for d in diffs) / 4, rel=1e-15)


def test_binary_cross_entropy_from_logits():
    z, t = [[0.3, -2.0], [4.0, 0.1]], [[1.0, 0.0], [0.0, 1.0]]
    want = 0.0
    for rz, rt in zip(z, t, strict=True):
        for zi, ti in zip(rz, rt, strict=True):
            y = 1 / (1 + math.exp(-zi))
            want -= ti * math.log(y) + (1 - ti) * math.log(1 - y)
    got = _batch("binary_cross_entropy", z, t, act="sigmoid").mean()
    assert got == pytest.approx(want / 4, rel=1e-13)


def test_binary_cross_entropy_is_stable():
    got = _batch("binary_cross_entropy", [[1000.0], [-1000.0], [40.0]], [[0.0], [1.0], [1.0]],
                 act="sigmoid")
    assert got[0] == 1000.0 and got[1] == 1000.0
    assert got[2] == pytest.approx(math.exp(-40.0), rel=1e-12)


def test_cross_entropy_matches_log_softmax():
    z, t = [[1.0, 2.0, 0.5]], [[0.0, 1.0, 0.0]]
    want = -(2.0 - math.log(math.exp(1.0) + math.exp(2.0) + math.exp(0.5)))
    got = _batch("cross_entropy", z, t, act="softmax")
    assert got.tolist() == [pytest.approx(want, rel=1e-15)]
    big = _batch("cross_entropy", [[1000.0, 0.0, -1000.0]], [[0.0, 1.0, 0.0]], act="softmax")
    assert big.tolist() == [1000.0]


def test_hinge():
    got = _batch("hinge", [[0.5, -2.0], [1.5, 0.2]], [[1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(got, [(0.5 + 0.0) / 2, (0.0 + 0.8) / 2], rtol=1e-15)


@pytest.mark.parametrize(("loss", "act", "n_out", "field", "why"), [
    ("cross_entropy", "tanh", 3, "loss", "needs a probability distribution from a softmax"),
    ("binary_cross_entropy", "softmax", 2, "loss", "needs probabilities from a sigmoid"),
    ("hinge", "sigmoid", 1, "loss", "linear or tanh"),
    ("mse", "softmax", 1, "output_activation", "softmax needs at least 2 outputs"),
    ("cross_entropy", "softmax", 1, "output_activation", "softmax needs at least 2 outputs"),
])
def test_senseless_combinations_are_refused(loss, act, n_out, field, why):
    with pytest.raises(IncompatibleError) as info:
        check_compatible(loss, act, n_out)
    assert info.value.field == field and why in info.value.message
    assert isinstance(info.value, ValueError)


def test_fused_deltas_are_simple_differences():
    z = np.array([[0.3, -1.0, 2.0], [0.0, 0.5, -0.5]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    sm = ACTIVATIONS["softmax"]
    a = sm.fn(z)
    np.testing.assert_allclose(LOSSES["cross_entropy"].delta(z, a, t, sm, {}), (a - t) / 2)
    sg = ACTIVATIONS["sigmoid"]
    a = sg.fn(z)
    np.testing.assert_allclose(LOSSES["binary_cross_entropy"].delta(z, a, t, sg, {}),
                               (a - t) / 6)


def test_encode_targets():
    labels = [0, 1, 1]
    assert encode_targets("mse", "sigmoid", labels, 1).tolist() == [[0.0], [1.0], [1.0]]
    assert encode_targets("mse", "tanh", labels, 1).tolist() == [[-1.0], [1.0], [1.0]]
    assert encode_targets("mse", "linear", labels, 1).tolist() == [[-1.0], [1.0], [1.0]]
    assert encode_targets("hinge", "linear", labels, 1).tolist() == [[-1.0], [1.0], [1.0]]
    assert encode_targets("cross_entropy", "softmax", [2, 0], 3).tolist() == [
        [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert encode_targets("mse", "tanh", [1], 2).tolist() == [[-1.0, 1.0]]
    assert encode_targets("hinge", "linear", [1], 2).tolist() == [[-1.0, 1.0]]
    assert encode_targets("mse", "linear", [1], 2).tolist() == [[0.0, 1.0]]
    reg = encode_targets("mse", "linear", [0.25, -1.5], 1, task="regression")
    assert reg.tolist() == [[0.25], [-1.5]] and reg.dtype == np.float64


def test_encode_targets_refuses_too_many_classes():
    with pytest.raises(IncompatibleError, match="3 classes need 3 outputs, the network has 1"):
        encode_targets("mse", "tanh", [0, 1, 2], 1)
    with pytest.raises(IncompatibleError, match="4 classes need 4 outputs, the network has 3"):
        encode_targets("cross_entropy", "softmax", [3], 3)


def test_decode_predictions():
    assert decode_predictions("mse", "tanh", [[-0.2], [0.1]]).tolist() == [0, 1]
    assert decode_predictions("mse", "sigmoid", [[0.4], [0.6]]).tolist() == [0, 1]
    assert decode_predictions("cross_entropy", "softmax", [[0.1, 0.7, 0.2]]).tolist() == [1]
    for loss, act, n in (("mse", "tanh", 1), ("mse", "sigmoid", 1), ("hinge", "linear", 2)):
        labels = np.array([0, 1, 1, 0])
        encoded = encode_targets(loss, act, labels, n)
        assert decode_predictions(loss, act, encoded).tolist() == labels.tolist()


def test_regularization_terms():
    w = np.array([0.5, -2.0, 0.0])
    assert REGULARIZATIONS["l1"].penalty(w, 0.1) == pytest.approx(0.25)
    assert REGULARIZATIONS["l2"].penalty(w, 0.1) == pytest.approx(0.5 * 0.1 * 4.25)
    assert REGULARIZATIONS["l1"].grad(w, 0.1).tolist() == [0.1, -0.1, 0.0]
    assert REGULARIZATIONS["l2"].grad(w, 0.1).tolist() == [0.05, -0.2, 0.0]
    assert REGULARIZATIONS["none"].penalty(w, 0.1) == 0.0


def test_every_loss_documents_its_formula():
    for loss in LOSSES.values():
        assert loss.per_sample.__doc__ and loss.formula
