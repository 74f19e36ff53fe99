"""JSON that stays valid when a number is not finite.

A model can hold finite weights whose loss overflows (a weight set to 1e200, say).
Python's json writes such a float as `Infinity`, which is not JSON: browsers refuse the
whole message. Here a non-finite number becomes `null`, and only when one is present,
so the common case costs one plain `json.dumps`.
"""

from __future__ import annotations

import json
import math
import typing

from fastapi.responses import JSONResponse


def finite_or_none(value):
    """`value` with every non-finite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def dumps(value) -> str:
    """Compact JSON text of `value`, non-finite numbers written as null."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(finite_or_none(value), allow_nan=False, separators=(",", ":"))


class SafeJSONResponse(JSONResponse):
    """The app's default response class: non-finite numbers become null instead of a 500."""

    def render(self, content: typing.Any) -> bytes:
        return dumps(content).encode("utf-8")
