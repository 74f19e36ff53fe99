"""nnplay's engine: small fully-connected networks in NumPy that explain every step.

    from engine import Network
    net = Network.from_dict({"layers": [2, 4, 1], "optimizer": {"name": "adam"}})
    trace = net.train_step(X, Y)      # one update, every number recorded
"""

from engine.errors import (
    DatasetError,
    DivergenceError,
    EngineError,
    IncompatibleError,
    ModelDocumentError,
)
from engine.network import Network, ParamLayout

__all__ = [
    "DatasetError",
    "DivergenceError",
    "EngineError",
    "IncompatibleError",
    "ModelDocumentError",
    "Network",
    "ParamLayout",
]
