"""The compiled fast path behind `Network.train_epoch`: one whole epoch in one numba call.

`run_epoch(net, X, T, batch_size)` makes the same mini-batch updates, in the same
order, as `Network._step_flat` batch after batch (forward, per-sample loss, backward,
regularization, the optimizer's update, the finiteness checks), on the flat
parameter vector in place. It agrees with that NumPy reference to rounding (about
1e-15 relative a step: BLAS and NumPy's SIMD tanh round differently from these loops),
not bit for bit.

The kernel dispatches on small integer codes. Each code table is built from its
registry's keys (`ACTIVATIONS`, `LOSSES`, `OPTIMIZERS`, `REGULARIZATIONS`), and the
kernel's branches name the codes through those tables, so an entry added to a
registry without a kernel branch is refused here with a clear error (and fails
tests/engine/test_fastpath.py), never silently mis-dispatched.

Compilation: the first call compiles (a few seconds) and numba caches the machine code
(`cache=True`) next to this file, or in NUMBA_CACHE_DIR when that is set, or in the
user's cache directory. When no cache location is writable the kernel still works,
compiled once per process.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.core.errors import NumbaError

from engine.activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from engine.losses import LOSSES, REGULARIZATIONS
from engine.optimizers import OPTIMIZERS

# --- code tables: one code per registry entry, in registry order ------------------

# The names the kernel has a branch for; a registry entry missing here has no code.
_KERNEL_ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus",
                       "silu", "softmax")
_KERNEL_LOSSES = ("mse", "sse", "mae", "huber", "binary_cross_entropy", "cross_entropy",
                  "hinge")
_KERNEL_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
_KERNEL_REGULARIZATIONS = ("none", "l1", "l2")


def _codes(registry, implemented) -> dict[str, int]:
    return {name: code for code, name in enumerate(registry) if name in implemented}


ACTIVATION_CODES = _codes(ACTIVATIONS, _KERNEL_ACTIVATIONS)
LOSS_CODES = _codes(LOSSES, _KERNEL_LOSSES)
OPTIMIZER_CODES = _codes(OPTIMIZERS, _KERNEL_OPTIMIZERS)
REGULARIZATION_CODES = _codes(REGULARIZATIONS, _KERNEL_REGULARIZATIONS)

# numba freezes module-level ints into the compiled code as constants.
_LINEAR = ACTIVATION_CODES["linear"]
_RELU = ACTIVATION_CODES["relu"]
_LEAKY_RELU = ACTIVATION_CODES["leaky_relu"]
_ELU = ACTIVATION_CODES["elu"]
_TANH = ACTIVATION_CODES["tanh"]
_SIGMOID = ACTIVATION_CODES["sigmoid"]
_SOFTPLUS = ACTIVATION_CODES["softplus"]
_SILU = ACTIVATION_CODES["silu"]
_SOFTMAX = ACTIVATION_CODES["softmax"]

_MSE = LOSS_CODES["mse"]
_SSE = LOSS_CODES["sse"]
_MAE = LOSS_CODES["mae"]
_HUBER = LOSS_CODES["huber"]
_BCE = LOSS_CODES["binary_cross_entropy"]
_CE = LOSS_CODES["cross_entropy"]
_HINGE = LOSS_CODES["hinge"]

_SGD = OPTIMIZER_CODES["sgd"]
_MOMENTUM = OPTIMIZER_CODES["momentum"]
_NESTEROV = OPTIMIZER_CODES["nesterov"]
_RMSPROP = OPTIMIZER_CODES["rmsprop"]
_ADAM = OPTIMIZER_CODES["adam"]
_ADAMW = OPTIMIZER_CODES["adamw"]

_L1 = REGULARIZATION_CODES["l1"]
_L2 = REGULARIZATION_CODES["l2"]

_SLOPE = LEAKY_SLOPE
_ALPHA = ELU_ALPHA
_LOG2 = math.log(2.0)

# Hyperparameter vector handed to the kernel (missing ones are 0).
_HP = ("learning_rate", "weight_decay", "momentum", "dampening", "alpha", "eps")
# Kernel result status -> what was non-finite (as Network._apply names it).
STATUS = {1: "loss", 2: "gradients", 3: "parameters", 4: "optimizer state"}


def _jit(fn):
    """njit with an on-disk cache when some cache directory is writable, else without."""
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(fn)


def _helper(fn):
    return numba.njit(nogil=True)(fn)


# --- scalar helpers, each mirroring the NumPy expression it replaces ---------------

@_helper
def _max_or_nan(a, start, n):
    """The largest of a[start:start+n], NaN if any is NaN (the softmax's shift)."""
    m = a[start]
    for j in range(1, n):
        v = a[start + j]
        if v > m or v != v:
            m = v
    return m


@_helper
def _pairwise_sum(a, start, n):
    """np.add.reduce over a[start:start+n] in NumPy's order for n <= 128 (eight running
    sums); longer runs keep eight running sums where NumPy splits further."""
    if n < 8:
        s = -0.0
        for i in range(n):
            s += a[start + i]
        return s
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        k = start + i
        r0 += a[k]
        r1 += a[k + 1]
        r2 += a[k + 2]
        r3 += a[k + 3]
        r4 += a[k + 4]
        r5 += a[k + 5]
        r6 += a[k + 6]
        r7 += a[k + 7]
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += a[start + i]
        i += 1
    return s


# tanh for |z| < 0.625: z + z^3 P(z^2) / Q(z^2), Cephes' tanh.c minimax coefficients.
_TP0, _TP1, _TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, \
    -1.61468768441708447952e3
_TQ0, _TQ1, _TQ2 = 1.12811678491632931402e2, 2.23548839060100448583e3, \
    4.84406305325125486048e3


@_helper
def _tanh(z):
    # Within 1.4 ulp of the true tanh (np.tanh: 1.2 ulp; measured over 1e6 points against
    # long double), no overflow, NaN stays NaN: a rational for |z| < 0.625, else
    # 1 - 2e / (1 + e), e = exp(-2|z|) in (0, 0.29]. libm's exp costs about a third of
    # its expm1 (the earlier form) and a quarter of its tanh, the epoch's biggest cost.
    a = abs(z)
    if a < 0.625:
        s = z * z
        return z + z * (s * ((_TP0 * s + _TP1) * s + _TP2)
                        / (((s + _TQ0) * s + _TQ1) * s + _TQ2))
    e = math.exp(-2.0 * a)
    t = 1.0 - 2.0 * e / (1.0 + e)
    return t if z >= 0.0 else -t


@_helper
def _sigmoid(z):
    return 0.5 * (1.0 + _tanh(0.5 * z))


@_helper
def _maximum0(x):
    # np.maximum(x, 0.0): NaN propagates.
    return x if (x >= 0.0 or x != x) else 0.0


@_helper
def _sign(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # 0.0, -0.0 or NaN, as np.sign


@_helper
def _activate(code, z):
    """Elementwise activation (every code but softmax)."""
    if code == _TANH:
        return _tanh(z)
    if code == _LINEAR:
        return z
    if code == _RELU:
        return _maximum0(z)
    if code == _LEAKY_RELU:
        return z if z > 0.0 else _SLOPE * z
    if code == _ELU:
        return z if z > 0.0 else _ALPHA * math.expm1(min(z, 0.0) if z == z else z)
    if code == _SIGMOID:
        return _sigmoid(z)
    if code == _SOFTPLUS:
        # np.logaddexp(0.0, z)
        if z == 0.0:
            return _LOG2
        if -z > 0.0:
            return math.log1p(math.exp(z))
        if -z <= 0.0:
            return z + math.log1p(math.exp(-z))
        return z  # NaN
    if code == _SILU:
        return z * _sigmoid(z)
    return math.nan


@_helper
def _derivative(code, z, a):
    """da/dz for an elementwise activation, as the registry's `grad(z, a)`."""
    if code == _TANH:
        return 1.0 - a * a
    if code == _LINEAR:
        return 1.0
    if code == _RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == _LEAKY_RELU:
        return 1.0 if z > 0.0 else _SLOPE
    if code == _ELU:
        return 1.0 if z > 0.0 else a + _ALPHA
    if code == _SIGMOID:
        return a * (1.0 - a)
    if code == _SOFTPLUS:
        return _sigmoid(z)
    if code == _SILU:
        s = _sigmoid(z)
        return s * (1.0 + z * (1.0 - s))
    return math.nan


@_helper
def _activate_block(code, Zb, Ab, start, count):
    """Ab[q] = act(Zb[q]) over a block, the branch on the code outside the loop."""
    stop = start + count
    if code == _TANH:
        for q in range(start, stop):
            Ab[q] = _tanh(Zb[q])
    elif code == _LINEAR:
        for q in range(start, stop):
            Ab[q] = Zb[q]
    elif code == _RELU:
        for q in range(start, stop):
            Ab[q] = _maximum0(Zb[q])
    else:
        for q in range(start, stop):
            Ab[q] = _activate(code, Zb[q])


@_helper
def _derivative_block(code, Zb, Ab, start, E, e_start, count):
    """E[e_start + q] *= act'(Zb[start + q], Ab[start + q]) over a block."""
    if code == _TANH:
        for q in range(count):
            a = Ab[start + q]
            E[e_start + q] = E[e_start + q] * (1.0 - a * a)
    elif code == _LINEAR:
        for q in range(count):
            E[e_start + q] = E[e_start + q] * 1.0
    elif code == _RELU:
        for q in range(count):
            E[e_start + q] = E[e_start + q] * (1.0 if Zb[start + q] > 0.0 else 0.0)
    else:
        for q in range(count):
            E[e_start + q] = E[e_start + q] * _derivative(code, Zb[start + q], Ab[start + q])


# --- one batch ------------------------------------------------------------------

@_helper
def _forward(params, sizes, offsets, acts, Xb, start, B, Zb, Ab, units):
    """Activations Ab and pre-activations Zb of every layer for rows start..start+B of
    Xb; layer l's row r sits at units[l] + r * sizes[l] (layer 0: the inputs)."""
    n0 = sizes[0]
    for r in range(B):
        for i in range(n0):
            Ab[r * n0 + i] = Xb[start + r, i]
    L = sizes.shape[0] - 1
    for l in range(L):
        n_in, n_out = sizes[l], sizes[l + 1]
        w0, b0 = offsets[l, 0], offsets[l, 1]
        a_in, z_out = units[l], units[l + 1]
        code = acts[l]
        for r in range(B):
            zr = z_out + r * n_out
            ar = a_in + r * n_in
            for j in range(n_out):
                # one register sum a neuron: the same order as a sum through memory, but
                # no store-to-load chain
                z = 0.0
                for i in range(n_in):
                    z += Ab[ar + i] * params[w0 + i * n_out + j]
                Zb[zr + j] = z + params[b0 + j]
            if code == _SOFTMAX:
                m = _max_or_nan(Zb, zr, n_out)
                for j in range(n_out):
                    Ab[zr + j] = math.exp(Zb[zr + j] - m)
                s = _pairwise_sum(Ab, zr, n_out)
                for j in range(n_out):
                    Ab[zr + j] = Ab[zr + j] / s
        if code != _SOFTMAX:
            _activate_block(code, Zb, Ab, z_out, B * n_out)


@_helper
def _output_loss(loss, out_code, hub, Zb, Ab, Tb, start, B, k, o, D, row):
    """Per-sample loss into row[0:B] and the output delta dL/dz into D[0:B*k]."""
    size = B * k
    for r in range(B):
        base = o + r * k
        t0 = start + r
        if loss == _CE:
            m = _max_or_nan(Zb, base, k)
            for j in range(k):
                D[r * k + j] = math.exp(Zb[base + j] - m)
            lse = math.log(_pairwise_sum(D, r * k, k))
            for j in range(k):
                D[r * k + j] = Tb[t0, j] * ((Zb[base + j] - m) - lse)
            row[r] = -_pairwise_sum(D, r * k, k)
            tsum = _pairwise_sum(Tb[t0], 0, k)
            for j in range(k):
                D[r * k + j] = (Ab[base + j] * tsum - Tb[t0, j]) / B
            continue
        # per-sample terms into D (scratch), summed, then the gradient dL/da into D
        for j in range(k):
            a, t, z = Ab[base + j], Tb[t0, j], Zb[base + j]
            if loss == _MSE:
                d = a - t
                D[r * k + j] = d * d
            elif loss == _SSE:
                d = t - a
                D[r * k + j] = d * d
            elif loss == _MAE:
                D[r * k + j] = abs(a - t)
            elif loss == _HUBER:
                d = abs(a - t)
                D[r * k + j] = 0.5 * d * d if d < hub else hub * (d - 0.5 * hub)
            elif loss == _BCE:
                D[r * k + j] = (_maximum0(z) - t * z) + math.log1p(math.exp(-abs(z)))
            else:  # hinge
                D[r * k + j] = _maximum0(1.0 - t * a)
        s = _pairwise_sum(D, r * k, k)
        row[r] = s if loss == _SSE else s / k
        for j in range(k):
            a, t = Ab[base + j], Tb[t0, j]
            if loss == _MSE:
                g = 2.0 * (a - t) / size
            elif loss == _SSE:
                g = 2.0 * (a - t) / B
            elif loss == _MAE:
                g = _sign(a - t) / size
            elif loss == _HUBER:
                d = a - t
                g = (d if d != d else min(max(d, -hub), hub)) / size  # np.clip
            elif loss == _BCE:
                g = (a - t) / size  # fused with the sigmoid: this is dL/dz already
            else:
                g = (-t if t * a < 1.0 else 0.0) / size
            D[r * k + j] = g
        if loss == _BCE:
            continue
        if out_code == _SOFTMAX:
            for j in range(k):
                row_tmp = D[r * k + j] * Ab[base + j]
                Zb[base + j] = row_tmp  # z is no longer needed: reuse as scratch
            ga = _pairwise_sum(Zb, base, k)
            for j in range(k):
                D[r * k + j] = Ab[base + j] * (D[r * k + j] - ga)
        else:
            _derivative_block(out_code, Zb, Ab, base, D, r * k, k)


@_helper
def _backward(params, sizes, offsets, acts, B, Zb, Ab, units, D, E, grad):
    """Flat gradient of the data loss from the output delta in D; D and E swap roles."""
    L = sizes.shape[0] - 1
    for l in range(L - 1, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w0, b0 = offsets[l, 0], offsets[l, 1]
        a_in = units[l]
        # dL/dw[i, j] = sum over rows of a[r, i] * delta[r, j], rows in order, in a register
        for i in range(n_in):
            for j in range(n_out):
                g = 0.0
                for r in range(B):
                    g += Ab[a_in + r * n_in + i] * D[r * n_out + j]
                grad[w0 + i * n_out + j] = g
        for j in range(n_out):
            g = 0.0
            for r in range(B):
                g += D[r * n_out + j]
            grad[b0 + j] = g
        if l == 0:
            break
        code = acts[l - 1]
        h = units[l]
        for r in range(B):
            dr = r * n_out
            for i in range(n_in):
                wi = w0 + i * n_out
                g = 0.0
                for j in range(n_out):
                    g += D[dr + j] * params[wi + j]
                E[r * n_in + i] = g
        _derivative_block(code, Zb, Ab, h, E, 0, B * n_in)
        D, E = E, D


@_helper
def _finite(x):
    return x - x == 0.0


@_helper
def _all_finite(v):
    for x in v:  # noqa: SIM110 - a plain loop compiles to the tightest code in numba
        if x - x != 0.0:
            return False
    return True


@_helper
def _propose(opt, hp, beta1, beta2, step, params, grad, s0, s1, P, S0, S1):
    """The optimizer's update of params into P (state into S0, S1), as optimizers.py."""
    lr, wd, mu, damp, alpha, eps = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    n = params.shape[0]
    if opt == _ADAM or opt == _ADAMW:  # noqa: SIM109 - int compares, as numba likes
        step_size = lr / (1.0 - math.pow(beta1, step))
        corr = math.pow(1.0 - math.pow(beta2, step), 0.5)
        decay = 1.0 - lr * wd
        for q in range(n):
            p, g = params[q], grad[q]
            if opt == _ADAMW:
                p = p * decay
            elif wd != 0.0:
                g = g + wd * p
            m = beta1 * s0[q] + (1.0 - beta1) * g
            v = beta2 * s1[q] + (1.0 - beta2) * (g * g)
            S0[q] = m
            S1[q] = v
            P[q] = p - step_size * (m / (math.sqrt(v) / corr + eps))
        return
    for q in range(n):
        p, g = params[q], grad[q]
        if wd != 0.0:
            g = g + wd * p
        if opt == _SGD:
            P[q] = p - lr * g
        elif opt == _MOMENTUM:
            b = g if step == 1 else mu * s0[q] + (1.0 - damp) * g
            S0[q] = b
            P[q] = p - lr * b
        elif opt == _NESTEROV:
            b = g if step == 1 else mu * s0[q] + (1.0 - 0.0) * g
            S0[q] = b
            P[q] = p - lr * (g + mu * b)
        else:  # rmsprop
            v = alpha * s0[q] + (1.0 - alpha) * (g * g)
            S0[q] = v
            P[q] = p - lr * (g / (math.sqrt(v) + eps))


@_helper
def _block_buffers(sizes, Bmax):
    """Work space for blocks of up to Bmax rows: (units, Zb, Ab, D, E). Each layer's
    (B, n_l) block of pre-activations (Zb) / activations (Ab) lies one after another,
    layer l's starting at units[l]; D and E hold one layer's deltas."""
    L = sizes.shape[0] - 1
    units = np.empty(L + 1, dtype=np.int64)
    widest = 0
    off = 0
    for l in range(L + 1):
        units[l] = off
        off += Bmax * sizes[l]
        widest = max(widest, sizes[l])
    return units, np.empty(off), np.empty(off), np.empty(Bmax * widest), \
        np.empty(Bmax * widest)


@_jit
def epoch_kernel(params, s0, s1, X, T, ints, floats, batch_size, step0):
    """One epoch of mini-batch updates in place on params (and state s0, s1).

    `ints` and `floats` are the settings packed by `_pack` (numba's dispatch costs
    about 0.1 us an argument, and this is called once an epoch):
    ints = (loss, reg, opt, L, sizes[0..L], offsets (L, 2) row-major, acts[0..L-1]),
    floats = (huber delta, regularization rate, beta1, beta2, hp[6], weight mask).

    Returns (batches_done, sum over done batches of objective * batch rows, status):
    status 0 when every batch was applied, else the STATUS code of the first batch
    whose numbers were not finite; that batch is not applied.
    """
    loss, reg, opt, L = ints[0], ints[1], ints[2], ints[3]
    sizes = ints[4:5 + L]
    offsets = ints[5 + L:5 + 3 * L].reshape((L, 2))
    acts = ints[5 + 3 * L:5 + 4 * L]
    hub, rate, beta1, beta2 = floats[0], floats[1], floats[2], floats[3]
    hp = floats[4:10]
    mask = floats[10:]
    n = X.shape[0]
    Bmax = min(batch_size, n)
    units, Zb, Ab, D, E = _block_buffers(sizes, Bmax)
    row = np.empty(Bmax)
    size = params.shape[0]
    grad = np.empty(size)
    P = np.empty(size)
    S0 = np.empty(s0.shape[0])
    S1 = np.empty(s1.shape[0])
    k = sizes[L]
    total = 0.0
    done = 0
    for start in range(0, n, batch_size):
        B = min(batch_size, n - start)
        _forward(params, sizes, offsets, acts, X, start, B, Zb, Ab, units)
        _output_loss(loss, acts[L - 1], hub, Zb, Ab, T, start, B, k, units[L], D, row)
        _backward(params, sizes, offsets, acts, B, Zb, Ab, units, D, E, grad)
        penalty = 0.0
        if reg == _L1:
            for q in range(size):
                P[q] = abs(params[q] * mask[q])
            penalty = rate * _pairwise_sum(P, 0, size)
            for q in range(size):
                grad[q] = grad[q] + rate * _sign(params[q] * mask[q])
        elif reg == _L2:
            acc = 0.0
            for q in range(size):
                w = params[q] * mask[q]
                acc += w * w
            penalty = 0.5 * rate * acc
            for q in range(size):
                grad[q] = grad[q] + rate * (params[q] * mask[q])
        objective = _pairwise_sum(row, 0, B) / B + penalty
        if not _finite(objective):
            return done, total, 1
        if not _all_finite(grad):
            return done, total, 2
        _propose(opt, hp, beta1, beta2, float(step0 + done + 1), params, grad, s0, s1,
                 P, S0, S1)
        if not _all_finite(P):
            return done, total, 3
        if not (_all_finite(S0) and _all_finite(S1)):
            return done, total, 4
        params[:] = P
        s0[:] = S0
        s1[:] = S1
        total += objective * B
        done += 1
    return done, total, 0


@_jit
def evaluate_kernel(params, X, T, sizes, offsets, acts, loss, hub, with_loss):
    """Outputs (n, k) of every row of X and, with `with_loss`, each row's loss against T.

    The same forward pass and per-sample loss as one epoch's, in blocks of rows, with no
    gradient and no update: what evaluating a model on a whole split needs.
    """
    n = X.shape[0]
    L = sizes.shape[0] - 1
    k = sizes[L]
    Bmax = max(1, min(64, n))
    units, Zb, Ab, D, _ = _block_buffers(sizes, Bmax)
    row = np.empty(Bmax)
    out = np.empty((n, k))
    per_sample = np.zeros(n)
    o = units[L]
    for start in range(0, n, Bmax):
        B = min(Bmax, n - start)
        _forward(params, sizes, offsets, acts, X, start, B, Zb, Ab, units)
        for r in range(B):
            for j in range(k):
                out[start + r, j] = Ab[o + r * k + j]
        if with_loss:
            _output_loss(loss, acts[L - 1], hub, Zb, Ab, T, start, B, k, o, D, row)
            for r in range(B):
                per_sample[start + r] = row[r]
    return out, per_sample


# --- the Python side ------------------------------------------------------------

class KernelError(RuntimeError):
    """The compiled kernel could not be built or has no code for a setting."""


def _code(table: dict, name: str, what: str) -> int:
    if name not in table:
        raise KernelError(f"engine.fastpath has no kernel code for {what} {name!r}; "
                          f"add a branch for it (see the module docstring)")
    return table[name]


def kernel_arguments(net) -> tuple:
    """The kernel's settings for `net`, as (acts, loss, hub, reg, rate, opt, hp, beta1,
    beta2) with integer codes from the registries, and the same packed for
    `epoch_kernel` (ints, floats). Cached on the network under the settings they come
    from (any can change between epochs, some in place)."""
    return _settings(net)[0]


def _settings(net) -> tuple:
    opt = net.optimizer
    cached = getattr(net, "_kernel_settings", None)
    # == on the live lists and dicts against copies: cheaper than building a key
    if (cached is not None and cached[0] == net.layer_activation_names
            and cached[1] == net.loss and cached[2] == net.loss_params
            and cached[3] == net.regularization and cached[4] == opt.name
            and cached[5] == opt.hyperparameters and cached[6] is net.layout):
        return cached[7]
    args = _kernel_arguments(net)
    settings = (args, *_pack(net.layout, args))
    net._kernel_settings = (list(net.layer_activation_names), net.loss,
                            dict(net.loss_params), dict(net.regularization), opt.name,
                            dict(opt.hyperparameters), net.layout, settings)
    return settings


def _kernel_arguments(net) -> tuple:
    acts = np.array([_code(ACTIVATION_CODES, a, "activation")
                     for a in net.layer_activation_names], dtype=np.int64)
    loss = _code(LOSS_CODES, net.loss, "loss")
    hub = float(net.loss_params.get("delta", LOSSES["huber"].params["delta"]))
    reg = _code(REGULARIZATION_CODES, net.regularization["name"], "regularization")
    opt = net.optimizer
    code = _code(OPTIMIZER_CODES, opt.name, "optimizer")
    hp = np.array([float(opt.hyperparameters.get(h, 0.0)) for h in _HP])
    beta1, beta2 = (float(b) for b in opt.hyperparameters.get("betas", (0.0, 0.0)))
    return (acts, loss, hub, reg, float(net.regularization["rate"]), code, hp, beta1, beta2)


def _pack(layout, args) -> tuple[np.ndarray, np.ndarray]:
    """(ints, floats) for `epoch_kernel`, laid out as its docstring says."""
    acts, loss, hub, reg, rate, code, hp, beta1, beta2 = args
    L = len(layout.sizes) - 1
    ints = np.concatenate([[loss, reg, code, L], layout.sizes, layout.offsets.ravel(),
                           acts]).astype(np.int64)
    floats = np.concatenate([[hub, rate, beta1, beta2], hp, layout.weight_mask])
    return ints, floats


_EMPTY = np.zeros(0)


def run_epoch(net, X: np.ndarray, T: np.ndarray, batch_size: int) -> tuple[int, float, int]:
    """One epoch on checked float64 data X (n, n_in), T (n, n_out), updating
    `net.params` in place and `net.optimizer` (fresh state arrays, step count).

    Returns (batches_done, weighted objective sum, status) as `epoch_kernel`.
    """
    _, ints, floats = _settings(net)
    opt = net.optimizer
    names = opt.spec.buffers
    s0 = s1 = _EMPTY
    if names:
        # Fresh state arrays: an earlier StepTrace may still hold the current ones.
        state = [np.array(opt.state[b], dtype=np.float64) for b in names]
        s0 = state[0]
        s1 = state[1] if len(names) > 1 else _EMPTY
    try:
        done, total, status = epoch_kernel(
            net.params, s0, s1, np.ascontiguousarray(X), np.ascontiguousarray(T),
            ints, floats, batch_size, opt.step)
    except NumbaError as error:
        raise KernelError(f"engine.fastpath: the numba kernel failed to compile: {error}") \
            from error
    if names:
        opt.state = dict(zip(names, state, strict=True))
    opt.step += done
    return done, total, status


def evaluate(net, X: np.ndarray, T: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(outputs (n, k), per-sample losses (n,)) of `net` on checked float64 data; with T
    None only the outputs are computed (the losses are zeros)."""
    acts, loss, hub = kernel_arguments(net)[:3]
    layout = net.layout
    with_loss = T is not None
    if T is None:
        T = np.zeros((X.shape[0], layout.sizes[-1]))
    try:
        return evaluate_kernel(net.params, np.ascontiguousarray(X), np.ascontiguousarray(T),
                               layout.sizes, layout.offsets, acts, loss, hub, with_loss)
    except NumbaError as error:
        raise KernelError(f"engine.fastpath: the numba kernel failed to compile: {error}") \
            from error
