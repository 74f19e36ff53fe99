"""The compiled epoch (engine.fastpath) against the NumPy reference, setting by setting.

`Network.train_epoch` runs the kernel; `Network._train_epoch_numpy` runs `_step_flat`
batch after batch. They cannot agree bit for bit: NumPy's matmul goes through BLAS
(FMA chains for gemm, other orders for gemv) and np.tanh is a SIMD approximation that
differs from libm's tanh in the last bit for about a quarter of inputs on this
machine. They agree to rounding, checked here at 1e-12 relative over several epochs.
"""

import importlib.util
import itertools

import numpy as np
import pytest
from numba.core import config as numba_config

from engine import DivergenceError, Network, fastpath
from engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from engine.losses import LOSSES, REGULARIZATIONS
from engine.optimizers import OPTIMIZERS

RTOL = 1e-12

# Every (output activation, loss) pairing the engine accepts.
PAIRS = [(out, loss) for loss, spec in LOSSES.items() for out in spec.accepts]

OPTIMIZER_SETTINGS = {
    "sgd": {"learning_rate": 0.05, "weight_decay": 0.01},
    "momentum": {"learning_rate": 0.05, "momentum": 0.8, "dampening": 0.1,
                 "weight_decay": 0.01},
    "nesterov": {"learning_rate": 0.05, "weight_decay": 0.01},
    "rmsprop": {"learning_rate": 0.01, "weight_decay": 0.01},
    "adam": {"learning_rate": 0.02, "weight_decay": 0.01},
    "adamw": {"learning_rate": 0.02},
}


def _targets(rng, loss, out, n, k):
    # Softmax outputs get one-hot targets whatever the loss, as the playground gives them:
    # with arbitrary targets a sample's softmax delta can cancel to pure rounding noise
    # (all dL/da equal), which adam and rmsprop then scale up to whole steps.
    if loss == "cross_entropy" or out == "softmax":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    if loss == "hinge":
        return 2.0 * rng.integers(0, 2, (n, k)) - 1.0
    return rng.normal(0.0, 0.7, (n, k))


def _doc(hidden, out, loss, optimizer, reg, k, layers=(3, 5, 4)):
    return {"layers": [*layers, k], "activation": hidden, "output_activation": out,
            "loss": loss, "loss_params": {"delta": 0.5} if loss == "huber" else {},
            "optimizer": {"name": optimizer, **OPTIMIZER_SETTINGS[optimizer]},
            "regularization": {"name": reg, "rate": 0.0 if reg == "none" else 0.003},
            "init": "xavier", "seed": 3}


def _close(a, b, what):
    # elementwise relative, with a floor at 1e-13 of the vector's scale for the odd
    # element that cancels to near zero
    scale = float(np.abs(b).max(initial=0.0))
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13 * scale, err_msg=what)


def _assert_same_run(doc, X, Y, batch_size, epochs=3):
    fast, ref = Network.from_dict(doc), Network.from_dict(doc)
    for e in range(epochs):
        loss_fast = fast.train_epoch(X, Y, batch_size)
        loss_ref = ref._train_epoch_numpy(X, Y, batch_size)
        assert loss_fast == pytest.approx(loss_ref, rel=RTOL, abs=0), f"loss, epoch {e}"
    assert fast.optimizer.step == ref.optimizer.step
    _close(fast.params, ref.params, "params")
    assert fast.optimizer.state.keys() == ref.optimizer.state.keys()
    for name in ref.optimizer.state:
        _close(fast.optimizer.state[name], ref.optimizer.state[name], name)
    return fast


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize(("out", "loss"), PAIRS)
def test_every_hidden_activation_and_regularization(out, loss, optimizer):
    rng = np.random.default_rng(7)
    for i, (hidden, reg) in enumerate(itertools.product(HIDDEN_ACTIVATIONS, REGULARIZATIONS)):
        k = 3 if out == "softmax" or i % 2 else 1
        X = rng.normal(size=(23, 3))
        Y = _targets(rng, loss, out, 23, k)
        _assert_same_run(_doc(hidden, out, loss, optimizer, reg, k), X, Y, batch_size=5)


def test_per_layer_activations_and_wide_layers():
    # per-layer overrides; 9 outputs and batches of 12 exercise NumPy's pairwise sums
    rng = np.random.default_rng(1)
    doc = _doc("tanh", "softmax", "cross_entropy", "adam", "l2", 9, layers=(2, 8, 6, 7))
    doc["layer_activations"] = ["relu", "silu", "elu"]
    X, Y = rng.normal(size=(50, 2)), _targets(rng, "cross_entropy", "softmax", 50, 9)
    _assert_same_run(doc, X, Y, batch_size=12, epochs=4)
    doc = _doc("softplus", "linear", "mse", "momentum", "l1", 9, layers=(2, 8, 6, 7))
    doc["layer_activations"] = ["leaky_relu", "sigmoid", "linear"]
    X, Y = rng.normal(size=(50, 2)), _targets(rng, "mse", "linear", 50, 9)
    _assert_same_run(doc, X, Y, batch_size=12, epochs=4)


@pytest.mark.parametrize(("n", "batch_size"), [(23, 5), (10, 10), (7, 10), (1, 4), (31, 1)])
def test_batching_and_the_smaller_last_batch(n, batch_size):
    rng = np.random.default_rng(n)
    X, Y = rng.normal(size=(n, 3)), _targets(rng, "mse", "tanh", n, 1)
    net = _assert_same_run(_doc("tanh", "tanh", "mse", "sgd", "none", 1), X, Y, batch_size)
    assert net.optimizer.step == 3 * -(-n // batch_size)


def test_no_samples_is_no_step():
    net = Network.from_dict(_doc("tanh", "tanh", "mse", "adam", "none", 1))
    before = net.params.copy()
    assert net.train_epoch(np.zeros((0, 3)), np.zeros((0, 1)), 4) == 0.0
    assert net.optimizer.step == 0 and net.params.tobytes() == before.tobytes()


def test_classic_setting_and_a_network_without_hidden_layers():
    rng = np.random.default_rng(2)
    X, Y = rng.uniform(-6, 6, (250, 2)), np.sign(rng.normal(size=(250, 1)))
    doc = {"layers": [2, 4, 2, 1], "activation": "tanh", "output_activation": "tanh",
           "loss": "mse", "optimizer": {"name": "sgd"}, "seed": 1}
    _assert_same_run(doc, X, Y, 10, epochs=5)
    doc = {"layers": [2, 1], "output_activation": "sigmoid", "loss": "binary_cross_entropy",
           "optimizer": {"name": "adam"}, "seed": 1}
    _assert_same_run(doc, X, (Y > 0).astype(float), 10, epochs=5)


def test_trace_arrays_are_not_changed_by_a_later_epoch():
    net = Network.from_dict(_doc("tanh", "tanh", "mse", "adam", "none", 1))
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    trace = net.train_step(X, Y)
    kept = {k: v.copy() for k, v in trace.state_after.items()}
    after = trace.params_after.copy()
    net.train_epoch(X, Y, 4)
    assert all(trace.state_after[k].tobytes() == v.tobytes() for k, v in kept.items())
    assert trace.params_after.tobytes() == after.tobytes()


def test_settings_changed_between_epochs_reach_the_kernel():
    # the kernel's packed settings are cached on the network; every change, in place or
    # through the setters, must show in the next epoch as it does on the NumPy path
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(20, 3)), rng.normal(0.0, 0.7, (20, 1))
    doc = _doc("tanh", "tanh", "huber", "adam", "none", 1)
    fast, ref = Network.from_dict(doc), Network.from_dict(doc)
    changes = [lambda n: n.set_learning_rate(0.005), lambda n: n.set_regularization("l2", 0.01),
               lambda n: n.loss_params.update(delta=0.2),
               lambda n: n.optimizer.hyperparameters.update(betas=(0.5, 0.9))]
    for change in [None, *changes]:
        for net in (fast, ref):
            if change is not None:
                change(net)
        assert fast.train_epoch(X, Y, 4) == pytest.approx(ref._train_epoch_numpy(X, Y, 4),
                                                          rel=RTOL, abs=0)
        _close(fast.params, ref.params, "params")


def test_the_kernels_tanh_is_within_two_ulp_of_numpys():
    # engine.fastpath._tanh is its own formula (rational below 0.625, exp above)
    rng = np.random.default_rng(6)
    z = np.concatenate([rng.uniform(-25.0, 25.0, 20000), rng.uniform(-1.0, 1.0, 20000),
                        np.linspace(0.6, 0.65, 2001), [0.0, 1e-300, 5e-324, 19.1, 700.0]])
    z = np.concatenate([z, -z])
    ours = np.array([fastpath._tanh(x) for x in z])
    assert np.all(np.abs(ours - np.tanh(z)) <= 2 * np.spacing(np.abs(np.tanh(z))))
    assert fastpath._tanh(np.inf) == 1.0 and fastpath._tanh(-np.inf) == -1.0
    assert np.isnan(fastpath._tanh(np.nan))


# --- divergence ---------------------------------------------------------------

def _diverge(net, X, Y, batch_size, numpy_path):
    run = net._train_epoch_numpy if numpy_path else net.train_epoch
    with pytest.raises(DivergenceError) as caught:
        for _ in range(300):
            run(X, Y, batch_size)
    return caught.value


@pytest.mark.parametrize(("optimizer", "lr", "x_scale", "y_scale", "what"), [
    ("sgd", 0.5, 30.0, 30.0, "loss"),  # grows over several epochs, then overflows
    ("momentum", 0.3, 30.0, 30.0, "loss"),
    ("adam", 1e300, 1.0, 1.0, "loss"),
    ("sgd", 1e300, 1e150, 1.0, "parameters"),
    ("nesterov", 1e300, 1e150, 1.0, "parameters"),
    ("rmsprop", 0.01, 1e10, 1e150, "optimizer state"),  # g^2 overflows, the update not
    ("sgd", 0.01, 1e200, 1e200, "loss"),
])
def test_divergence_stops_where_the_numpy_path_stops(optimizer, lr, x_scale, y_scale, what):
    doc = {"layers": [2, 3, 1], "activation": "linear", "output_activation": "linear",
           "seed": 4, "optimizer": {"name": optimizer, "learning_rate": lr}}
    rng = np.random.default_rng(0)
    X, Y = rng.normal(0, x_scale, (40, 2)), rng.normal(0, y_scale, (40, 1))
    fast, ref = Network.from_dict(doc), Network.from_dict(doc)
    error_fast = _diverge(fast, X, Y, 4, numpy_path=False)
    error_ref = _diverge(ref, X, Y, 4, numpy_path=True)
    assert str(error_fast) == str(error_ref)
    assert f"non-finite {what};" in str(error_fast)
    assert error_fast.field == error_ref.field == "learning_rate"
    assert fast.optimizer.step == ref.optimizer.step
    assert np.isfinite(fast.params).all()
    _close(fast.params, ref.params, "params")
    for name in ref.optimizer.state:
        assert np.isfinite(fast.optimizer.state[name]).all()
        _close(fast.optimizer.state[name], ref.optimizer.state[name], name)


@pytest.mark.parametrize(("weight", "x", "what"), [(1e200, 1e200, "loss"),
                                                   (1e-80, 1e200, "gradients")])
def test_a_refused_first_batch_changes_nothing(weight, x, what):
    net = Network.from_dict({"layers": [1, 1], "output_activation": "linear",
                             "optimizer": {"name": "adam"},
                             "weights": [[[weight]]], "biases": [[0.0]]})
    before = net.params.tobytes(), net.to_dict()
    with pytest.raises(DivergenceError, match=f"non-finite {what};"):
        net.train_epoch([[x], [1.0]], [[0.0], [0.0]], 1)
    assert (net.params.tobytes(), net.to_dict()) == before and net.optimizer.step == 0
    with pytest.raises(DivergenceError, match=f"non-finite {what};"):
        net._train_epoch_numpy([[x], [1.0]], [[0.0], [0.0]], 1)


# --- code tables and compilation -------------------------------------------------

def test_every_registry_entry_has_a_kernel_code():
    assert set(fastpath.ACTIVATION_CODES) == set(ACTIVATIONS)
    assert set(fastpath.LOSS_CODES) == set(LOSSES)
    assert set(fastpath.OPTIMIZER_CODES) == set(OPTIMIZERS)
    assert set(fastpath.REGULARIZATION_CODES) == set(REGULARIZATIONS)
    for table in (fastpath.ACTIVATION_CODES, fastpath.LOSS_CODES, fastpath.OPTIMIZER_CODES,
                  fastpath.REGULARIZATION_CODES):
        assert sorted(table.values()) == list(range(len(table)))


def test_a_setting_without_a_kernel_code_is_refused_by_name():
    net = Network.from_dict(_doc("tanh", "tanh", "mse", "sgd", "none", 1))
    net.layer_activation_names[0] = "mish"  # as if added to the registry only
    with pytest.raises(fastpath.KernelError, match="no kernel code for activation 'mish'"):
        net.train_epoch(np.zeros((2, 3)), np.zeros((2, 1)), 2)


def _module_in(directory, name):
    """A module using fastpath's `_jit`, loaded from `directory`."""
    path = directory / f"{name}.py"
    path.write_text("from engine.fastpath import _jit\n\n"
                    "@_jit\ndef twice(x):\n    return 2.0 * x\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unwritable_package_dir(tmp_path, monkeypatch):
    # A regular file where __pycache__ would go: no cache can be written next to the
    # module, even for root (chmod would not stop root).
    package = tmp_path / "package"
    package.mkdir()
    (package / "__pycache__").write_text("")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    monkeypatch.setenv("HOME", str(blocked))
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked / "cache"))
    return package


def test_numba_cache_dir_is_used_when_the_package_dir_is_unwritable(tmp_path, monkeypatch):
    package = _unwritable_package_dir(tmp_path, monkeypatch)
    cache = tmp_path / "numba-cache"
    monkeypatch.setattr(numba_config, "CACHE_DIR", str(cache))
    module = _module_in(package, "fp_cache_dir")
    assert module.twice(1.5) == 3.0
    assert any(p.suffix == ".nbi" for p in cache.rglob("*"))


def test_no_writable_cache_location_still_compiles(tmp_path, monkeypatch):
    package = _unwritable_package_dir(tmp_path, monkeypatch)
    monkeypatch.setattr(numba_config, "CACHE_DIR", "")
    module = _module_in(package, "fp_no_cache")
    assert module.twice(2.0) == 4.0


def test_a_compilation_error_is_reported_as_such(monkeypatch):
    @fastpath._jit
    def broken(*args):
        return args[0].no_such_attribute

    monkeypatch.setattr(fastpath, "epoch_kernel", broken)
    net = Network.from_dict(_doc("tanh", "tanh", "mse", "sgd", "none", 1))
    with pytest.raises(fastpath.KernelError, match="failed to compile"):
        net.train_epoch(np.zeros((2, 3)), np.zeros((2, 1)), 2)
