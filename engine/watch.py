"""Divergence watch: notice a training run blowing up, and keep the last good model.

A run has blown up when its training objective is not finite, or when, for
`BLOWUP_CHECKS` checks in a row, it is either

- above `WORSE_THAN_START` times the reference loss (the loss at the watch's first check:
  for a fresh network what guessing costs), training has made the model worse than it
  started (Adam or SGD at learning rate 10 on spiral: 1.5 to 2, or a saturated 0.91,
  against 0.69), or
- above `BLOWUP_FACTOR` times the best loss of the run and above that best by a fifth of
  the reference: a trained model thrown off (a learning rate raised mid-run). The second
  condition keeps a well-trained model whose loss wobbles from 1e-4 to 1e-3 from counting.

A copy of the model (parameters and optimizer state) is kept at every new best, taken at
an epoch boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOWUP_FACTOR = 10.0
WORSE_THAN_START = 1.2
BLOWUP_CHECKS = 5


@dataclass(frozen=True)
class Checkpoint:
    """The model at the end of epoch `epoch` (after `step` updates), and its losses."""

    epoch: int
    step: int
    params: np.ndarray
    buffers: dict
    optimizer_step: int
    train_loss: float
    test_loss: float


def blown_up(loss: float, best: float, reference: float) -> bool:
    """Whether one check's training objective `loss` is out of bounds (see the module)."""
    if not math.isfinite(loss):
        return True
    if loss > WORSE_THAN_START * reference:
        return True
    return loss > BLOWUP_FACTOR * best and loss > best + 0.2 * reference


class DivergenceWatch:
    """Follows one run's training objective; `check` says when it has blown up."""

    def __init__(self) -> None:
        self.best: float | None = None
        self.reference: float | None = None
        self.over = 0
        self.good: Checkpoint | None = None

    def check(self, net, epoch: int, step: int, train_loss: float, test_loss: float,
              boundary: bool = True) -> bool:
        """Record one check of `net` (at `epoch`, after `step` updates); True once the run
        has blown up. A new best taken at an epoch boundary (`boundary`) becomes the
        checkpoint."""
        if self.reference is None and math.isfinite(train_loss):
            self.reference = self.best = train_loss
        if self.best is None or not math.isfinite(train_loss):
            return not math.isfinite(train_loss)
        if train_loss <= self.best:
            self.best = train_loss
            self.over = 0
            if boundary:
                self.keep(net, epoch, step, train_loss, test_loss)
            return False
        if self.good is None and boundary:
            self.keep(net, epoch, step, train_loss, test_loss)
        self.over = self.over + 1 if blown_up(train_loss, self.best, self.reference) else 0
        return self.over >= BLOWUP_CHECKS

    def keep(self, net, epoch: int, step: int, train_loss: float, test_loss: float) -> None:
        opt = net.optimizer
        self.good = Checkpoint(epoch, step, net.params.copy(),
                               {k: v.copy() for k, v in opt.state.items()}, opt.step,
                               float(train_loss), float(test_loss))

    def restore(self, net) -> Checkpoint:
        """Put the checkpoint's parameters and optimizer state back into `net` (the same
        network it was taken from); the watch starts over from there."""
        good = self.good
        if good is None:
            raise LookupError("no checkpoint")
        net.params[:] = good.params
        net.optimizer.state = {k: v.copy() for k, v in good.buffers.items()}
        net.optimizer.step = good.optimizer_step
        self.best, self.over = good.train_loss, 0
        return good
