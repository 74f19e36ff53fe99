"""The activation pictures beside the activation selects (app/activation_plots.py): their
curves are each function and its derivative, checked against the textbook formulas."""

import math
import re

import pytest

from app.activation_plots import HEIGHT, WIDTH, Y_HI, Y_LO, Z_RANGE, activation_plot
from engine.activations import ACTIVATIONS


def sig(z):
    return 1 / (1 + math.exp(-z))


# (f, f') written out from their definitions, independent of the engine's code.
REFERENCE = {
    "linear": (lambda z: z, lambda z: 1.0),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else 0.01 * z, lambda z: 1.0 if z > 0 else 0.01),
    "elu": (lambda z: z if z > 0 else math.exp(z) - 1, lambda z: 1.0 if z > 0 else math.exp(z)),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "sigmoid": (sig, lambda z: sig(z) * (1 - sig(z))),
    "softplus": (lambda z: math.log1p(math.exp(z)), sig),
    "silu": (lambda z: z * sig(z), lambda z: sig(z) * (1 + z * (1 - sig(z)))),
    # softmax of (z, 0): its first output is sigmoid(z)
    "softmax": (sig, lambda z: sig(z) * (1 - sig(z))),
}


def points(svg: str, cls: str) -> list[tuple[float, float]]:
    """The (z, y) points of the path of class `cls`, mapped back from viewBox units."""
    d = re.search(f'class="{cls}" d="([^"]+)"', svg).group(1)
    xy = [tuple(map(float, p.split(","))) for p in re.findall(r"[-\d.]+,[-\d.]+", d)]
    return [(x / WIDTH * 2 * Z_RANGE - Z_RANGE, Y_HI - y / HEIGHT * (Y_HI - Y_LO)) for x, y in xy]


def test_every_activation_has_a_reference():
    assert set(REFERENCE) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_the_curves_are_the_function_and_its_derivative(name):
    svg = str(activation_plot(name))
    f, df = REFERENCE[name]
    for cls, ref in (("pg-act-fn", f), ("pg-act-grad", df)):
        pts = points(svg, cls)
        assert len(pts) > 40
        for z, y in pts:
            want = min(max(ref(z), Y_LO), Y_HI)  # the picture clips to its band
            assert y == pytest.approx(want, abs=0.01), (cls, z)


def test_the_picture_says_what_it_shows():
    svg = str(activation_plot("tanh"))
    assert 'role="img"' in svg
    assert "tanh: the function (solid line) and its derivative (dashed)" in svg


def test_an_unknown_name_draws_nothing():
    assert str(activation_plot("nope")) == ""
