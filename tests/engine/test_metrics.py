"""Metrics against confusion matrices worked out by hand (numbers written below)."""

from fractions import Fraction as F

import numpy as np
import pytest

from engine import metrics

# Binary: TP = 3, FN = 1, FP = 2, TN = 4.
BIN_T = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
BIN_P = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]

# Three classes. Rows true, columns predicted:
#   true 0 -> predicted 0, 0, 1, 2   -> [2, 1, 1]
#   true 1 -> predicted 1, 1         -> [0, 2, 0]
#   true 2 -> predicted 2, 0, 1      -> [1, 1, 1]
# column sums 3, 4, 2; row sums 4, 2, 3.
# precision 2/3, 1/2, 1/2 -> macro 5/9;  recall 1/2, 1, 1/3 -> macro 11/18
# F1 4/7, 2/3, 2/5 -> macro 172/315 (not the F1 of macro P and R); accuracy 5/9.
MC_T = [0, 0, 0, 0, 1, 1, 2, 2, 2]
MC_P = [0, 0, 1, 2, 1, 1, 2, 0, 1]


def test_binary_confusion_and_scores():
    assert metrics.confusion_matrix(BIN_T, BIN_P, 2).tolist() == [[4, 2], [1, 3]]
    assert metrics.accuracy(BIN_T, BIN_P) == pytest.approx(0.7)
    assert metrics.precision(BIN_T, BIN_P) == pytest.approx(3 / 5)
    assert metrics.recall(BIN_T, BIN_P) == pytest.approx(3 / 4)
    assert metrics.f1(BIN_T, BIN_P) == pytest.approx(2 / 3)


def test_multiclass_macro_scores():
    assert metrics.confusion_matrix(MC_T, MC_P, 3).tolist() == [[2, 1, 1], [0, 2, 0], [1, 1, 1]]
    assert metrics.accuracy(MC_T, MC_P) == pytest.approx(5 / 9)
    assert metrics.precision(MC_T, MC_P, 3) == pytest.approx(float(F(5, 9)))
    assert metrics.recall(MC_T, MC_P, 3) == pytest.approx(float(F(11, 18)))
    assert metrics.f1(MC_T, MC_P, 3) == pytest.approx(float(F(172, 315)))


def test_classification_report_is_plain():
    report = metrics.classification_report(np.array(MC_T), np.array(MC_P), 3)
    assert report == {
        "accuracy": pytest.approx(5 / 9),
        "precision": pytest.approx(5 / 9),
        "recall": pytest.approx(11 / 18),
        "f1": pytest.approx(172 / 315),
        "confusion": [[2, 1, 1], [0, 2, 0], [1, 1, 1]],
        "undefined": {"precision": [], "recall": [], "f1": []},
    }
    assert all(type(report[k]) is float for k in ("accuracy", "precision", "recall", "f1"))
    assert all(type(x) is int for row in report["confusion"] for x in row)


def test_no_predicted_positive_leaves_precision_and_f1_undefined():
    # No positive prediction: TP = 0, FP = 0, FN = 2, TN = 2. Precision 0/0 is undefined,
    # recall 0/2 = 0, F1 (the harmonic mean of an undefined number) undefined.
    t, p = [1, 1, 0, 0], [0, 0, 0, 0]
    assert metrics.precision(t, p) is None
    assert metrics.recall(t, p) == 0.0
    assert metrics.f1(t, p) is None
    assert metrics.accuracy(t, p) == 0.5
    report = metrics.classification_report(t, p, 2)
    assert report["undefined"] == {"precision": [1], "recall": [], "f1": [1]}


def test_no_positive_sample_leaves_recall_and_f1_undefined():
    # No sample of class 1: TP = 0, FN = 0, FP = 1, TN = 2. Precision 0/1 = 0, recall 0/0
    # undefined, F1 undefined.
    t, p = [0, 0, 0], [0, 1, 0]
    report = metrics.classification_report(t, p, 2)
    assert report == {
        "accuracy": pytest.approx(2 / 3), "precision": 0.0, "recall": None, "f1": None,
        "confusion": [[2, 1], [0, 0]],
        "undefined": {"precision": [], "recall": [1], "f1": [1]},
    }
    # Neither present nor predicted: all three undefined, accuracy still defined.
    report = metrics.classification_report([0, 0], [0, 0], 2)
    assert (report["precision"], report["recall"], report["f1"]) == (None, None, None)
    assert report["accuracy"] == 1.0
    assert report["undefined"] == {"precision": [1], "recall": [1], "f1": [1]}


def test_f1_is_zero_when_precision_and_recall_are_zero():
    # Positives present and predicted, never together: TP = 0, FP = 1, FN = 1, TN = 1.
    # P = 0/1, R = 0/1, F1 = 0 (defined: 2 TP / (2 TP + FP + FN) = 0/2).
    t, p = [1, 0, 0], [0, 1, 0]
    assert (metrics.precision(t, p), metrics.recall(t, p), metrics.f1(t, p)) == (0.0, 0.0, 0.0)
    assert metrics.classification_report(t, p, 2)["undefined"] == {
        "precision": [], "recall": [], "f1": []}


def test_macro_means_leave_undefined_classes_out():
    # Three classes, class 2 neither present nor predicted. Rows true, columns predicted:
    #   [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    # precision 2/3, 1/1, 0/0 -> mean of (2/3, 1) = 5/6; recall 2/2, 1/2, 0/0 -> 3/4;
    # F1 4/5, 2/3, undefined -> mean of (4/5, 2/3) = 11/15.
    t, p = [0, 0, 1, 1], [0, 0, 0, 1]
    report = metrics.classification_report(t, p, 3)
    assert report["confusion"] == [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert report["precision"] == pytest.approx(float(F(5, 6)))
    assert report["recall"] == pytest.approx(float(F(3, 4)))
    assert report["f1"] == pytest.approx(float(F(11, 15)))
    assert report["undefined"] == {"precision": [2], "recall": [2], "f1": [2]}
    # Class 2 predicted but never present: its precision 0/1 = 0 counts, its recall does not.
    #   [[1, 0, 1], [0, 1, 0], [0, 0, 0]]: precision 1, 1, 0 -> 2/3; recall 1/2, 1 -> 3/4;
    #   F1 2/3, 1, undefined -> 5/6.
    t, p = [0, 0, 1], [0, 2, 1]
    assert metrics.precision(t, p, 3) == pytest.approx(float(F(2, 3)))
    assert metrics.recall(t, p, 3) == pytest.approx(float(F(3, 4)))
    assert metrics.f1(t, p, 3) == pytest.approx(float(F(5, 6)))
    assert metrics.classification_report(t, p, 3)["undefined"] == {
        "precision": [], "recall": [2], "f1": [2]}


def test_regression_metrics_by_hand():
    # errors -0.5, 0, 1, -1: squares sum 2.25; mean of y 2.5, total sum of squares 5.
    y, yhat = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0]
    assert metrics.mse(y, yhat) == 0.5625
    assert metrics.mae(y, yhat) == 0.625
    assert metrics.r2(y, yhat) == pytest.approx(0.55)
    assert metrics.regression_report(np.array(y)[:, None], np.array(yhat)[:, None]) == {
        "mse": 0.5625,
        "mae": 0.625,
        "r2": pytest.approx(0.55),
    }


def test_r2_of_constant_targets():
    assert metrics.r2([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert metrics.r2([2.0, 2.0], [2.0, 3.0]) == 0.0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="no samples"):
        metrics.accuracy([], [])
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"0\.\.1"):
        metrics.confusion_matrix([0, 2], [0, 1], 2)
