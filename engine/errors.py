"""The engine's errors: every one is a ValueError that can name the field at fault."""

from __future__ import annotations


class EngineError(ValueError):
    """Base of the engine's errors.

    `field` names what was wrong (e.g. ``"weights[1][0]"``, ``"value"``), or is None;
    `message` says why in plain words. ``str(error)`` is ``"field: message"``.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class ModelDocumentError(EngineError):
    """A model document (or an edit of one) is malformed; `field` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class DatasetError(EngineError):
    """A dataset spec or a CSV file is malformed; for CSV the field names line and column."""


class DivergenceError(EngineError):
    """A training step produced non-finite numbers; the model was left as it was."""


class IncompatibleError(EngineError):
    """A combination that makes no sense, such as cross_entropy without softmax."""
