"""JSON for everything the server sends (fast, and valid when a number is not finite), and
`loads` for what clients send (nesting depth bounded before parsing).

A model can hold finite weights whose loss overflows (a weight set to 1e200, say).
Python's json writes such a float as `Infinity`, which is not JSON: browsers refuse
the whole message. orjson writes every non-finite number as `null`, serializes NumPy
arrays directly, and is several times faster than the standard library on frames,
which are the server's hot path. Its floats round-trip exactly.
"""

from __future__ import annotations

import json
import re
import typing

import numpy as np
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


# ---- reading what clients send ------------------------------------------------------

MAX_JSON_DEPTH = 32  # a session document nests 9 deep; the standard parser recurses per level
# A JSON string (escapes included), whose brackets nest nothing. One left open runs to the
# end (the parser stops there anyway): every quote starts a match, so the scan is linear.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN_CLOSE = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")


def depth(data: bytes | str) -> int:
    """How deep JSON text `data` nests arrays and objects (0 for a scalar), read without
    parsing it: the largest count of brackets open at once, outside strings. Text that
    is not JSON gets some number; its parser then says what is wrong."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    brackets = _STRING.sub(b"", data).translate(_OPEN_CLOSE, _NOT_BRACKETS)
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, dtype=np.int8)  # +1 opens, -1 closes
    return int(np.cumsum(steps, dtype=np.int64).max())


def loads(data: bytes | str, field: str, max_depth: int = MAX_JSON_DEPTH):
    """The value of JSON text `data` a client sent, or BadInput naming `field`: text that
    nests deeper than `max_depth` is refused before it is parsed (the parser recurses once
    per level, and a few kilobytes of brackets would exhaust Python's stack)."""
    from app.errors import BadInput

    if depth(data) > max_depth:
        raise BadInput(f"JSON nested deeper than {max_depth} levels", field)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"not valid JSON: {exc}", field) from None
