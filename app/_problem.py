"""Stand-in for engine.problem.prepare until the engine has it (same promised contract)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets import EXTENT, generate
from engine.features import feature_matrix
from engine.losses import check_compatible, encode_targets
from engine.preprocessing import Preprocessor


@dataclass
class Prepared:
    spec: dict
    task: str
    n_classes: int
    features: list
    preprocessor: Preprocessor
    train_points: np.ndarray
    train_labels: np.ndarray
    test_points: np.ndarray
    test_labels: np.ndarray
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    extent: float = EXTENT

    def transform_points(self, P) -> np.ndarray:
        return self.preprocessor.transform(feature_matrix(self.features, np.asarray(P, float)))


def prepare(spec, loss, output_activation, n_outputs) -> Prepared:
    data = generate(spec)
    check_compatible(loss, output_activation, n_outputs)
    features = list(data.spec["features"])
    pre = Preprocessor(data.spec["preprocessing"])
    X_train = pre.fit_transform(feature_matrix(features, data.train_points))
    X_test = pre.transform(feature_matrix(features, data.test_points))

    def enc(y):
        if len(y) == 0:
            return np.zeros((0, n_outputs))
        return encode_targets(loss, output_activation, y, n_outputs, data.task)

    return Prepared(data.spec, data.task, data.n_classes, features, pre,
                    data.train_points, data.train_labels, data.test_points, data.test_labels,
                    X_train, enc(data.train_labels), X_test, enc(data.test_labels))
