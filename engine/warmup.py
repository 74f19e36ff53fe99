"""Compile the engine's numba kernels ahead of use: `python -m engine.warmup`.

The kernels are cached on disk (engine/__pycache__, or NUMBA_CACHE_DIR) after their
first compilation, which takes several seconds. The set-up (`make setup`) runs this once,
so that the first training step of the first session does not wait for the compiler.
"""

from __future__ import annotations

import time

import numpy as np

from engine import Network
from engine.pictures import node_maps
from engine.preprocessing import Preprocessor


def warm_up() -> float:
    """Run each compiled kernel once on a tiny problem; returns the seconds it took."""
    began = time.perf_counter()
    net = Network.from_dict({"layers": [2, 3, 1]})
    X = np.zeros((4, 2))
    Y = np.zeros((4, 1))
    net.train_epoch(X, Y, 2)
    net.evaluate(X, Y)
    node_maps(net, ("x1", "x2"), Preprocessor("none").fit(X), n=4)
    return time.perf_counter() - began


if __name__ == "__main__":
    print(f"engine: kernels ready in {warm_up():.1f} s")
