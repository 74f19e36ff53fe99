"""A learning problem: a dataset spec made network-ready for one loss and output layer.

``prepare(spec, loss, output_activation, n_outputs)`` generates the dataset, computes
the spec's features, fits the spec's preprocessing on the training split only, and
encodes the labels as targets for the loss (``engine.losses.encode_targets``).
Everything in a ``Problem`` follows from those four arguments: rebuild it from the
serializable spec rather than storing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.datasets import EXTENT, Dataset, generate
from engine.errors import IncompatibleError
from engine.features import feature_matrix
from engine.losses import LOSSES, check_compatible, decode_predictions, encode_targets
from engine.preprocessing import Preprocessor


@dataclass(frozen=True)
class Problem:
    """Raw points and labels (``dataset``), and the network's inputs and targets.

    ``X_train`` (n_train, n_features), ``Y_train`` (n_train, n_outputs) float64, and
    likewise for test. ``n_classes`` is 0 for regression.
    """

    dataset: Dataset
    features: tuple[str, ...]
    preprocessor: Preprocessor
    loss: str
    output_activation: str
    n_outputs: int
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    @property
    def extent(self) -> float:
        """Half the side of the input plane's square shown in pictures: [-6, 6]."""
        return EXTENT

    @property
    def spec(self) -> dict:
        return self.dataset.spec

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def n_classes(self) -> int:
        return self.dataset.n_classes

    @property
    def train_points(self) -> np.ndarray:
        return self.dataset.train_points

    @property
    def train_labels(self) -> np.ndarray:
        return self.dataset.train_labels

    @property
    def test_points(self) -> np.ndarray:
        return self.dataset.test_points

    @property
    def test_labels(self) -> np.ndarray:
        return self.dataset.test_labels

    def transform_points(self, P) -> np.ndarray:
        """Network inputs for raw plane points ``P`` (n, 2): features, then the fitted
        preprocessing; shape ``(n, n_features)``."""
        return self.preprocessor.transform(feature_matrix(self.features, P))

    def decode(self, outputs) -> np.ndarray:
        """Predicted class labels (n,) from network outputs (n, n_outputs) for
        classification; the first output (n,) for regression."""
        outputs = np.asarray(outputs)
        if self.task == "regression":
            return outputs[:, 0].astype(np.float64)
        return decode_predictions(self.loss, self.output_activation, outputs)

    def evaluate(self, net, split: str = "test") -> dict:
        """``metrics.classification_report`` or ``regression_report`` of ``net`` on a split."""
        if split not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
        X = self.X_train if split == "train" else self.X_test
        labels = self.train_labels if split == "train" else self.test_labels
        predicted = self.decode(net.predict(X))
        if self.task == "regression":
            return metrics.regression_report(labels, predicted)
        return metrics.classification_report(labels, predicted, self.n_classes)


# Losses defined only for class labels (probabilities or -1/+1 margins).
CLASS_LOSSES = ("binary_cross_entropy", "cross_entropy", "hinge")


def prepare(spec: dict | None, loss: str, output_activation: str, n_outputs: int) -> Problem:
    """Build the ``Problem`` for a dataset spec and a network's loss, output activation
    and number of outputs. Raises ``DatasetError`` for a bad spec and
    ``IncompatibleError`` when the outputs cannot represent the task."""
    dataset = generate(spec)
    check_compatible(loss, output_activation, n_outputs)
    features = tuple(dataset.spec["features"])
    if dataset.task == "regression" and loss in CLASS_LOSSES:
        raise IncompatibleError(
            f"{loss} compares class labels, but a regression dataset has real-valued "
            f"targets (choose from {', '.join(l for l in LOSSES if l not in CLASS_LOSSES)})",
            "loss")
    if dataset.task == "regression" and n_outputs != 1:
        raise IncompatibleError(
            f"a regression dataset has one target, the network has {n_outputs} outputs", "layers"
        )
    k = dataset.n_classes
    if dataset.task == "classification" and k > 2 and n_outputs < k:
        raise IncompatibleError(f"{k} classes need {k} outputs, the network has {n_outputs}",
                                "layers")  # fmt: skip
    F_train = feature_matrix(features, dataset.train_points)
    preprocessor = Preprocessor(dataset.spec["preprocessing"]).fit(F_train)

    def targets(labels):
        return encode_targets(loss, output_activation, labels, n_outputs, task=dataset.task)

    return Problem(
        dataset=dataset,
        features=features,
        preprocessor=preprocessor,
        loss=loss,
        output_activation=output_activation,
        n_outputs=n_outputs,
        X_train=preprocessor.transform(F_train),
        Y_train=targets(dataset.train_labels),
        X_test=preprocessor.transform(feature_matrix(features, dataset.test_points)),
        Y_test=targets(dataset.test_labels),
    )
