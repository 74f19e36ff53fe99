"""Presets the page can load in one click; for now the seed document's worked example.

The worked example is the network of ``how-neural-networks-work.md`` ("Backward
Propagation Example"): inputs x = (0.5, -1), two ReLU hidden neurons with the
first-layer weights w(x1 -> h1) = 0.2, w(x1 -> h2) = -0.7, w(x2 -> h1) = -0.8,
w(x2 -> h2) = 0.4 and biases (-0.3, 0.1), target (1, 0), squared-error loss.
The seed reads its hidden output as the prediction, so the second layer is the
identity with zero biases and linear outputs; the optimizer is SGD with learning
rate 0.1. The correct numbers (the seed's own arithmetic mixes up two weights):
z = (0.6, -0.65), h = (0.6, 0), prediction (0.6, 0), sse = (1 - 0.6)^2 = 0.16.
"""

from __future__ import annotations

import copy

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

WORKED_EXAMPLE_POINT = (0.5, -1.0)
WORKED_EXAMPLE_CLASS = 0  # one-hot target (1, 0) on two outputs

# The engine's model document (engine/document.py): weights[l][i][j] goes from
# neuron i of layer l to neuron j of layer l + 1.
WORKED_EXAMPLE_MODEL = {
    "format": "nnplay.model/1",
    "layers": [2, 2, 2],
    "activation": "relu",
    "output_activation": "linear",
    "loss": "sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "regularization": {"name": "none", "rate": 0.0},
    "weights": [
        [[0.2, -0.7], [-0.8, 0.4]],  # from x1: (to h1, to h2); from x2: (to h1, to h2)
        [[1.0, 0.0], [0.0, 1.0]],    # identity: the hidden output is the prediction
    ],
    "biases": [[-0.3, 0.1], [0.0, 0.0]],
}

# A csv dataset needs at least engine.datasets.MIN_CSV_ROWS (4) rows, so the one
# point of the example is given four times: whichever row the seeded shuffle puts
# first, the selected sample (train #0) and every test sample are x = (0.5, -1).
# train_fraction 0.25 keeps one of the four rows for training.
WORKED_EXAMPLE_DATASET = {
    "name": "csv",
    "points": [[*WORKED_EXAMPLE_POINT, WORKED_EXAMPLE_CLASS] for _ in range(4)],
    "task": "classification",
    "train_fraction": 0.25,
    "features": ["x1", "x2"],
    "preprocessing": "none",
    "seed": 0,
}


def worked_example() -> tuple[dict, dict]:
    """Fresh copies of (model document, dataset spec) of the worked example."""
    return copy.deepcopy(WORKED_EXAMPLE_MODEL), copy.deepcopy(WORKED_EXAMPLE_DATASET)


def load_worked_example(session) -> None:
    """Put the worked example into `session`; its listeners get new snapshots.

    Model and dataset change together, so the model is taken exactly as written,
    weights included, and the page gets one snapshot.
    """
    model, dataset = worked_example()
    session.replace_model(model, dataset=dataset, part="example")
    session.select_sample("train", 0)


router = APIRouter(prefix="/ui", include_in_schema=False)


@router.post("/sessions/{session_id}/preset/worked-example", status_code=204)
async def load_worked_example_preset(session_id: str, request: Request) -> Response:
    """Load the worked example into the session (htmx: no swap; the socket gets a snapshot)."""
    session = await request.app.state.store.get(session_id)
    await run_in_threadpool(load_worked_example, session)
    return Response(status_code=204)
