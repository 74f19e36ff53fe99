"""Frames and snapshots: what the live stream sends, built from a session's current state.

`frame_body(state)` is the part shared by every client of a session (built once per
session version and cached); `Viewer.frame(session)` adds what is particular to one
client (its sequence number and the loss-history points it has not seen yet).

A frame is built from `session.published` (app/sessions.py `Published`): the state frozen
at the end of the session's last change or training turn. Building one takes no lock, so
a sender never waits for a training turn, and a turn never waits for a sender.
"""

from __future__ import annotations

import base64

import numpy as np

from engine.datasets import EXTENT
from engine.diagnostics import diagnose
from engine.losses import decode_predictions
from engine.metrics import classification_report, regression_report
from engine.pictures import boundary, node_maps, quantize

HEATMAP_RANGE = (-1.0, 1.0)


def b64(data: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(data, dtype=np.uint8).tobytes()).decode("ascii")


def _extent(session) -> float:
    return float(getattr(session.problem, "extent", EXTENT))


def _pictures(session, heatmap_size: int, boundary_size: int) -> tuple[dict, dict]:
    """(heatmaps, boundary). One pass over the plane when the boundary grid is an odd
    multiple of the heatmap grid: every r-th pixel centre of the fine grid, starting at
    (r - 1) / 2, is exactly a pixel centre of the coarse one."""
    net, p, extent = session.network, session.problem, _extent(session)
    fine = node_maps(net, p.features, p.preprocessor, boundary_size, extent)
    r, rest = divmod(boundary_size, heatmap_size)
    if rest == 0 and r % 2 == 1:
        o = (r - 1) // 2
        maps, nodes = fine.maps[:, o::r, o::r], fine.nodes
    else:
        coarse = node_maps(net, p.features, p.preprocessor, heatmap_size, extent)
        maps, nodes = coarse.maps, coarse.nodes
    lo, hi = HEATMAP_RANGE
    heatmaps = {"size": heatmap_size, "extent": [-extent, extent], "range": [lo, hi],
                "nodes": [list(n) for n in nodes], "data": b64(quantize(maps, lo, hi))}
    return heatmaps, _boundary(session, fine.outputs, boundary_size, extent)


def _regression_range(session) -> tuple[float, float]:
    p = session.problem
    y = np.concatenate([np.ravel(p.train_labels), np.ravel(p.test_labels)]).astype(float)
    lo, hi = float(y.min()), float(y.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def _boundary(session, outputs, size: int, extent: float) -> dict:
    net, p = session.network, session.problem
    pic = boundary(outputs, p.task, net.loss, net.output_activation)
    body = {"size": size, "extent": [-extent, extent], "kind": pic["kind"]}
    if pic["kind"] == "classes":
        return {**body, "range": [0, int(outputs.shape[0]) - 1], "data": b64(pic["values"]),
                "confidence": b64(quantize(pic["confidence"], 0.0, 1.0))}
    lo, hi = _regression_range(session) if pic["kind"] == "regression" else (-1.0, 1.0)
    return {**body, "range": [lo, hi], "data": b64(quantize(pic["values"], lo, hi))}


def _metrics(session, out: np.ndarray) -> dict:
    """Test-split metrics from the network's test outputs `out`."""
    net, p = session.network, session.problem
    if len(p.X_test) == 0:
        return {"split": "test"}
    if p.task == "regression":
        report = regression_report(np.ravel(p.Y_test), out[:, 0])
    else:
        predicted = decode_predictions(net.loss, net.output_activation, out)
        report = classification_report(p.test_labels, predicted, max(p.n_classes, 2))
    return {"split": "test", **_plain(report)}


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _gradients(session) -> dict | None:
    """The gradient shown with the frame: the last traced step's, else, while paused, the
    gradient of the objective on the current batch at the current weights (what the next
    update uses). None while training plays: it would be stale before it is drawn."""
    if session.last_trace_gradients is not None:
        return {"source": "last_step", **session.last_trace_gradients}
    if session.training["playing"]:
        return None
    p = session.problem
    lo, hi = session.batch_rows()
    if hi <= lo:
        return None
    _, grads = session.network.loss_and_gradients(p.X_train[lo:hi], p.Y_train[lo:hi])
    return {"source": "current_batch", "batch": {"split": "train", "indices": [lo, hi]},
            "weights": [w.tolist() for w in grads["weights"]],
            "biases": [b.tolist() for b in grads["biases"]]}


def _diagnostics(session) -> dict:
    """Warnings on the training split (engine.diagnostics) and per-layer gradient norms."""
    p = session.problem
    if len(p.X_train) == 0:
        return {"grad_norms": [], "warnings": []}
    return diagnose(session.network, p.X_train, p.Y_train)


def frame_body(session, heatmap_size: int, boundary_size: int) -> dict:
    """Everything a frame holds except `seq` and `history`, from a `Published` state (or a
    Session, holding its lock)."""
    net, t = session.network, session.training
    train_loss, test_loss, test_outputs = session.evaluation()
    body = {
        "type": "frame",
        "version": session.version,
        "epoch": t["epoch"],
        "step": t["step"],
        "playing": t["playing"],
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
        "learning_rate": net.learning_rate,
        "regularization": dict(net.regularization),
        "batch_size": t["batch_size"],
        "speed": t["speed"],
        "goal": t["goal"],
        "gradients": _gradients(session),
        "sample": session.sample_values(),
        "loss": {"train": train_loss, "test": test_loss},
        "metrics": _metrics(session, test_outputs),
        "diagnostics": _diagnostics(session),
    }
    body["heatmaps"], body["boundary"] = _pictures(session, heatmap_size, boundary_size)
    return body


class Viewer:
    """One client's view of a session: its frame numbers and the history it has."""

    def __init__(self) -> None:
        self.seq = 0
        self.history_sent = 0
        self.history_generation = -1
        self._cache: tuple[int, dict] | None = None

    def frame(self, session, heatmap_size: int, boundary_size: int) -> dict:
        """The next frame for this client, from the session's published state (call in a
        worker thread: it computes; it takes no lock)."""
        state = session.published
        cached = getattr(session, "_frame_cache", None)
        if cached is None or cached[0] != state.version:
            # Two senders may build the same version at once: the same frame, either kept.
            cached = (state.version, frame_body(state, heatmap_size, boundary_size))
            session._frame_cache = cached
        body = dict(cached[1])
        body["history"] = self._history(state.history)
        self.seq += 1
        body["seq"] = self.seq
        return body

    def _history(self, h: dict) -> dict:
        """The history points not sent yet; all of it (``replace``) after a thinning."""
        replace = h["generation"] != self.history_generation
        start = 0 if replace else self.history_sent
        n = h.get("n", len(h["epoch"]))  # a published history: its lists may have grown since
        start = min(start, n)
        self.history_generation = h["generation"]
        self.history_sent = n
        return {"start": start, "replace": replace, "epoch": h["epoch"][start:n],
                "train_loss": h["train_loss"][start:n], "test_loss": h["test_loss"][start:n]}

    def skip_history(self, h: dict) -> None:
        """Mark the whole history as sent (it went out in a snapshot)."""
        self.history_generation = h["generation"]
        self.history_sent = len(h["epoch"])


def snapshot(session, viewer: Viewer, settings) -> dict:
    """The whole state for a (re)connecting client: session, dataset, limits and a frame."""
    with session.lock:
        doc = session.to_dict()
        dataset = session.dataset_dict()
        viewer.skip_history(session.history)
        frame = viewer.frame(session, settings.heatmap_size, settings.boundary_size)
    return {"type": "snapshot", "session": doc, "dataset": dataset,
            "limits": settings.limits(), "frame": frame}
