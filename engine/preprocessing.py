"""Input preprocessing, fitted on the training split only.

Every method is an affine map per column, ``x' = (x - shift) / scale``:

- ``none``: shift 0, scale 1.
- ``standardize``: shift = training mean, scale = training standard deviation
  (population, ddof=0), so each training column has mean 0 and variance 1.
- ``minmax``: maps the training range [min, max] onto [-1, 1] (symmetric, like
  the input plane): shift = (max + min) / 2, scale = (max - min) / 2.

A constant training column (std or range 0) gets scale 1, so it becomes 0
(standardize, minmax) instead of dividing by zero.
"""

from __future__ import annotations

import numpy as np

METHODS: tuple[str, ...] = ("none", "standardize", "minmax")


class Preprocessor:
    """An affine per-column map ``(X - shift) / scale``; ``fit`` sets the numbers."""

    def __init__(self, method: str = "none", shift=None, scale=None):
        if method not in METHODS:
            from engine.errors import DatasetError

            raise DatasetError(
                f"unknown method {method!r} (known: {', '.join(METHODS)})", "preprocessing"
            )
        self.method = method
        self.shift = None if shift is None else np.asarray(shift, dtype=np.float64)
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64)

    @property
    def fitted(self) -> bool:
        return self.shift is not None

    def fit(self, X: np.ndarray) -> Preprocessor:
        """Fit on the training features ``X`` (shape ``(n, d)``, n >= 1); returns self."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"preprocessing: expected a non-empty (n, d) array, got {X.shape}")
        d = X.shape[1]
        if self.method == "none":
            shift, scale = np.zeros(d), np.ones(d)
        elif self.method == "standardize":
            shift, scale = X.mean(axis=0), X.std(axis=0)
        else:
            lo, hi = X.min(axis=0), X.max(axis=0)
            shift, scale = (hi + lo) / 2, (hi - lo) / 2
        # A constant column would divide by zero: leave it centred at 0 instead.
        self.shift, self.scale = shift, np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X - shift) / scale``, column by column; keeps X's float dtype."""
        if not self.fitted:
            raise ValueError("preprocessing: transform before fit")
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        if self.method == "none":
            return X.copy()
        return ((X - self.shift.astype(X.dtype)) / self.scale.astype(X.dtype)).astype(
            X.dtype, copy=False
        )

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict:
        """JSON-compatible: ``{"method", "shift": [...], "scale": [...]}`` (null unfitted)."""
        return {
            "method": self.method,
            "shift": None if self.shift is None else self.shift.tolist(),
            "scale": None if self.scale is None else self.scale.tolist(),
        }

    @classmethod
    def from_dict(cls, doc: dict) -> Preprocessor:
        from engine.errors import DatasetError

        if not isinstance(doc, dict):
            raise DatasetError("expected an object", "preprocessing")
        shift, scale = doc.get("shift"), doc.get("scale")
        if (shift is None) != (scale is None):
            raise DatasetError("shift and scale go together", "preprocessing")
        if shift is not None:
            for key, v in (("shift", shift), ("scale", scale)):
                a = np.asarray(v, dtype=np.float64) if isinstance(v, list) else None
                if a is None or a.ndim != 1 or not np.all(np.isfinite(a)):
                    raise DatasetError("expected a list of finite numbers", f"preprocessing.{key}")
            if len(shift) != len(scale):
                raise DatasetError(
                    f"expected {len(shift)} values, got {len(scale)}", "preprocessing.scale"
                )
            if any(s <= 0 for s in scale):
                raise DatasetError("every scale must be positive", "preprocessing.scale")
        return cls(doc.get("method", "none"), shift, scale)

    def __repr__(self) -> str:
        return f"Preprocessor({self.to_dict()!r})"
