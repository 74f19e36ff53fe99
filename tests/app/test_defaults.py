"""Defaults that work (issue 14): the settings table's defaults, with a dataset's
recommended network where it has one, train every built-in dataset to a good test score,
through the session (flat out), as the page would. bench/bench_defaults.py records the
epochs and seconds each takes (bench/results/defaults.md)."""

from __future__ import annotations

import pytest

from app import ui_table
from app.frames import _metrics
from app.sessions import SessionStore

TARGETS = {"circle": 0.95, "xor": 0.95, "gauss": 0.95, "moons": 0.95, "blobs": 0.95,
           "spiral": 0.90, "spiral3": 0.90, "plane": 0.95, "sine": 0.95}
MOST_EPOCHS = 3000
CHECK_EVERY = 25


def test_every_built_in_dataset_has_a_target():
    assert set(TARGETS) == set(ui_table.DATASET_NAMES) - {"multi_gauss"}


@pytest.mark.parametrize("dataset", TARGETS)
def test_the_defaults_train_each_dataset_to_a_good_test_score(dataset):
    values = {**ui_table.defaults(), "dataset": dataset, **ui_table.recommended(dataset),
              "speed": "max"}
    s = SessionStore().create(model=ui_table.model_document(values),
                              dataset=ui_table.dataset_spec(values))
    assert s.network.learning_rate == ui_table.BY_NAME["learning_rate"].default
    key = "r2" if s.problem.task == "regression" else "accuracy"
    score = None
    while s.training["epoch"] < MOST_EPOCHS:
        s.train_for(CHECK_EVERY)
        while s.playing:
            s.train_chunk(0.05)
        assert s.status["reason"] == "goal", s.status  # never a blow-up on the way
        score = _metrics(s, s.evaluation()[2])[key]
        if score >= TARGETS[dataset]:
            break
    assert score >= TARGETS[dataset], f"{dataset}: {key} {score} after {s.training['epoch']}"
