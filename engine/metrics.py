"""Classification and regression metrics, as scikit-learn defines them.

Classification takes integer class labels ``0 .. n_classes-1``. With two
classes, precision, recall and F1 are binary with class 1 as the positive
class; with more, they are macro averages (the unweighted mean of the per-class
values, F1 computed per class and then averaged, as sklearn's ``average="macro"``).

0/0 cases (as sklearn's ``zero_division=0`` and ``r2_score(force_finite=True)``):

- precision of a class never predicted = 0; recall of a class never present = 0;
  F1 = 0 when precision + recall = 0.
- R^2 when the targets are constant (total sum of squares 0): 1.0 if the
  predictions are exact, else 0.0.

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
    """Per-class precision, recall, F1 from a confusion matrix, 0/0 -> 0."""
    tp = np.diag(C).astype(np.float64)
    predicted = C.sum(axis=0)
    present = C.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, present, out=np.zeros_like(tp), where=present > 0)
    s = precision + recall
    f1 = np.divide(2 * precision * recall, s, out=np.zeros_like(tp), where=s > 0)
    return precision, recall, f1


def _summary(C: np.ndarray) -> tuple[float, float, float]:
    precision, recall, f1 = _per_class(C)
    if C.shape[0] == 2:
        return float(precision[1]), float(recall[1]), float(f1[1])
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


def precision(labels, predicted, n_classes: int = 2) -> float:
    """TP / (TP + FP): binary (positive class 1) for 2 classes, else macro."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[0]


def recall(labels, predicted, n_classes: int = 2) -> float:
    """TP / (TP + FN): binary (positive class 1) for 2 classes, else macro."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[1]


def f1(labels, predicted, n_classes: int = 2) -> float:
    """2 P R / (P + R): binary (positive class 1) for 2 classes, else macro of per-class F1."""
    return _summary(confusion_matrix(labels, predicted, n_classes))[2]


def classification_report(labels, predicted, n_classes: int) -> dict:
    """``{"accuracy", "precision", "recall", "f1", "confusion"}`` as plain Python
    numbers; ``confusion`` is a list of lists, rows = true class, columns = predicted."""
    C = confusion_matrix(labels, predicted, n_classes)
    p, r, f = _summary(C)
    return {
        "accuracy": float(np.trace(C) / C.sum()),
        "precision": p,
        "recall": r,
        "f1": f,
        "confusion": C.tolist(),
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
