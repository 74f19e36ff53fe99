"""Small pictures of each activation function and its derivative, drawn beside the
activation selects so a person sees what a choice means. The curves are the engine's own
functions (engine.activations), sampled at a few dozen points; the page draws no maths."""

from functools import cache

import numpy as np
from markupsafe import Markup

from engine.activations import ACTIVATIONS

Z_RANGE = 3.0  # the plot shows z from -Z_RANGE to Z_RANGE
Y_LO, Y_HI = -1.5, 1.5  # and values in this band (a relu's tail is cut off at the top)
WIDTH, HEIGHT = 48, 30  # viewBox units
SAMPLES = 61


def curves(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, f(z), f'(z)) on SAMPLES points over [-Z_RANGE, Z_RANGE] (softmax: of (z, 0),
    which is the sigmoid of z)."""
    z = np.linspace(-Z_RANGE, Z_RANGE, SAMPLES)
    act = ACTIVATIONS[name]
    if act.grad is None:  # softmax over (z, 0): the first output, and its derivative
        Z = np.stack([z, np.zeros_like(z)], axis=1)
        a = act.fn(Z)
        g = act.backward(Z, a, np.stack([np.ones_like(z), np.zeros_like(z)], axis=1))
        return z, a[:, 0], g[:, 0]
    Z = z[:, None]
    a = act.fn(Z)
    return z, a[:, 0], act.backward(Z, a, np.ones_like(Z))[:, 0]


def to_view(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plot coordinates (viewBox units, y down) of points (z, y), y clipped to the band."""
    px = (z + Z_RANGE) / (2 * Z_RANGE) * WIDTH
    py = (Y_HI - np.clip(y, Y_LO, Y_HI)) / (Y_HI - Y_LO) * HEIGHT
    return px, py


def _path(z: np.ndarray, y: np.ndarray) -> str:
    px, py = to_view(z, y)
    return "M" + " L".join(f"{x:.2f},{v:.2f}" for x, v in zip(px, py, strict=True))


@cache
def activation_plot(name: str) -> Markup:
    """An inline SVG of `name` (solid) and its derivative (dashed), with the axes."""
    if name not in ACTIVATIONS:
        return Markup("")
    z, f, df = curves(name)
    x0, y0 = to_view(np.zeros(1), np.zeros(1))
    label = (f"{name}: the function (solid line) and its derivative (dashed), "
             f"for inputs from {-Z_RANGE:g} to {Z_RANGE:g}")
    return Markup(
        f'<svg class="pg-act-plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" data-activation="{name}"><title>{label}</title>'
        f'<path class="pg-act-axis" d="M0,{y0[0]:.2f} H{WIDTH} M{x0[0]:.2f},0 V{HEIGHT}"/>'
        f'<path class="pg-act-grad" d="{_path(z, df)}"/>'
        f'<path class="pg-act-fn" d="{_path(z, f)}"/></svg>'
    )
