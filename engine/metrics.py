"""Classification and regression metrics, as scikit-learn defines them.

Classification takes integer class labels ``0 .. n_classes-1``. With two
classes, precision, recall and F1 are binary with class 1 as the positive
class; with more, they are macro averages (the unweighted mean of the per-class
values, F1 computed per class and then averaged, as sklearn's ``average="macro"``).

A ratio whose denominator is 0 is undefined and given as ``None``, not as 0
(sklearn's default ``zero_division=0`` would read as a real, terrible score):

- precision of a class never predicted and recall of a class never present are
  undefined; F1, the harmonic mean of the two, is undefined when either is, and
  0 when both are 0.
- Binary: the class-1 value, or None. Macro: the mean over the classes where the
  value is defined (sklearn's ``zero_division=np.nan`` leaves such classes out of
  the average too), None if it is defined for none.
- ``classification_report`` also lists, for each of the three, the classes whose
  value is undefined (so a page can say why a figure reads "n/a").
- R^2 when the targets are constant (total sum of squares 0): 1.0 if the
  predictions are exact, else 0.0 (``r2_score(force_finite=True)``).

Every metric needs at least one sample (``ValueError`` otherwise).
"""

from __future__ import annotations

import numpy as np


def _labels(labels, predicted) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(labels).reshape(-1).astype(np.int64)
    p = np.asarray(predicted).reshape(-1).astype(np.int64)
    if t.shape != p.shape:
        raise ValueError(f"metrics: {t.size} labels but {p.size} predictions")
    if t.size == 0:
        raise ValueError("metrics: no samples")
    return t, p


def confusion_matrix(labels, predicted, n_classes: int) -> np.ndarray:
    """Counts ``C[i][j]`` of samples of true class i predicted as class j,
    shape ``(n_classes, n_classes)``, int64."""
    t, p = _labels(labels, predicted)
    if t.min() < 0 or p.min() < 0 or max(t.max(), p.max()) >= n_classes:
        raise ValueError(f"metrics: labels must lie in 0..{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def accuracy(labels, predicted) -> float:
    """Fraction of samples whose predicted class equals the label."""
    t, p = _labels(labels, predicted)
    return float(np.mean(t == p))


def _per_class(C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 from a confusion matrix, NaN where undefined."""
    tp = np.diag(C).astype(np.float64)
    predicted = C.sum(axis=0)
    present = C.sum(axis=1)
    nan = np.full_like(tp, np.nan)
    precision = np.divide(tp, predicted, out=nan.copy(), where=predicted > 0)
    recall = np.divide(tp, present, out=nan.copy(), where=present > 0)
    s = precision + recall  # NaN when either is
    f1 = np.divide(2 * precision * recall, s, out=np.where(np.isnan(s), np.nan, 0.0),
                   where=s > 0)
    return precision, recall, f1


def _value(per_class: np.ndarray) -> float | None:
    """Binary: class 1's value; else the mean over the classes where it is defined; None
    when there is no defined value."""
    v = per_class[1:2] if per_class.size == 2 else per_class
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else None


def _summary(C: np.ndarray) -> tuple[float | None, float | None, float | None]:
    return tuple(_value(v) for v in _per_class(C))


def precision(labels, predicted, n_classes: int = 2) -> float | None:
    """TP / (TP + FP): binary (positive class 1) for 2 classes, else macro; None when
    undefined (no sample predicted as class 1; macro: as any class)."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[0]


def recall(labels, predicted, n_classes: int = 2) -> float | None:
    """TP / (TP + FN): binary (positive class 1) for 2 classes, else macro; None when
    undefined (no sample of class 1; macro: of any class)."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[1]


def f1(labels, predicted, n_classes: int = 2) -> float | None:
    """2 P R / (P + R): binary (positive class 1) for 2 classes, else macro of per-class F1;
    None when undefined (precision or recall undefined)."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[2]


def classification_report(labels, predicted, n_classes: int) -> dict:
    """``{"accuracy", "precision", "recall", "f1", "confusion", "undefined"}`` as plain
    Python values; ``confusion`` is a list of lists, rows = true class, columns =
    predicted; precision, recall and F1 are None when undefined; ``undefined`` maps each
    of the three to the classes whose value is undefined (binary: only class 1 counts),
    e.g. ``{"precision": [], "recall": [1], "f1": [1]}``."""
    C = confusion_matrix(labels, predicted, n_classes)
    per_class = dict(zip(("precision", "recall", "f1"), _per_class(C), strict=True))
    counted = (1,) if n_classes == 2 else range(n_classes)
    return {
        "accuracy": float(np.trace(C) / C.sum()),
        **{name: _value(v) for name, v in per_class.items()},
        "confusion": C.tolist(),
        "undefined": {name: [k for k in counted if np.isnan(v[k])]
                      for name, v in per_class.items()},
    }


def _values(y, yhat) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y, dtype=np.float64).reshape(-1)
    b = np.asarray(yhat, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"metrics: {a.size} targets but {b.size} predictions")
    if a.size == 0:
        raise ValueError("metrics: no samples")
    return a, b


def mse(y, yhat) -> float:
    """Mean of (y - yhat)^2 over every value."""
    a, b = _values(y, yhat)
    return float(np.mean((a - b) ** 2))


def mae(y, yhat) -> float:
    """Mean of |y - yhat| over every value."""
    a, b = _values(y, yhat)
    return float(np.mean(np.abs(a - b)))


def r2(y, yhat) -> float:
    """1 - sum (y - yhat)^2 / sum (y - mean y)^2; constant y: 1.0 if exact else 0.0."""
    a, b = _values(y, yhat)
    ss_res = float(np.sum((a - b) ** 2))
    ss_tot = float(np.sum((a - a.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def regression_report(y, yhat) -> dict:
    """``{"mse", "mae", "r2"}`` as plain floats."""
    return {"mse": mse(y, yhat), "mae": mae(y, yhat), "r2": r2(y, yhat)}
