"""JSON for everything the server sends: fast, and valid when a number is not finite.

A model can hold finite weights whose loss overflows (a weight set to 1e200, say).
Python's json writes such a float as `Infinity`, which is not JSON: browsers refuse
the whole message. orjson writes every non-finite number as `null`, serializes NumPy
arrays directly, and is several times faster than the standard library on frames,
which are the server's hot path. Its floats round-trip exactly.
"""

from __future__ import annotations

import typing

import orjson
from fastapi.responses import JSONResponse

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(value) -> str:
    """Compact JSON text of `value`, non-finite numbers written as null."""
    return orjson.dumps(value, option=_OPTIONS).decode("utf-8")


class SafeJSONResponse(JSONResponse):
    """The app's default response class: non-finite numbers become null instead of a 500."""

    def render(self, content: typing.Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)
