"""Input features computed from a point (x1, x2) of the plane.

One registry, ``FEATURES``, maps a feature's name to a vectorized function of
``(x1, x2)``; the dataset spec, the UI's choices and the pictures all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

FeatureFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

FEATURES: dict[str, FeatureFn] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}

DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")


def check_features(names: object, field: str = "features") -> tuple[str, ...]:
    """Return ``names`` as a tuple after checking it is a non-empty list of
    distinct registered feature names; raise ``DatasetError`` naming ``field``."""
    from engine.errors import DatasetError

    if not isinstance(names, list | tuple) or isinstance(names, str):
        raise DatasetError("expected a list of feature names", field)
    if not names:
        raise DatasetError("choose at least one feature", field)
    for k, name in enumerate(names):
        if not isinstance(name, str) or name not in FEATURES:
            known = ", ".join(FEATURES)
            raise DatasetError(f"unknown feature {name!r} (known: {known})", f"{field}[{k}]")
        if name in names[:k]:
            raise DatasetError(f"feature {name!r} is listed twice", f"{field}[{k}]")
    return tuple(names)


def feature_matrix(names: Sequence[str], P: np.ndarray) -> np.ndarray:
    """The features ``names`` of the points ``P`` (shape ``(n, 2)``, columns x1, x2):
    an array of shape ``(n, len(names))`` with P's float dtype (float64 otherwise)."""
    P = np.asarray(P)
    if not np.issubdtype(P.dtype, np.floating):
        P = P.astype(np.float64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"points: expected shape (n, 2), got {P.shape}")
    x1, x2 = P[:, 0], P[:, 1]
    out = np.empty((P.shape[0], len(names)), dtype=P.dtype)
    for k, name in enumerate(names):
        out[:, k] = FEATURES[name](x1, x2)
    return out
