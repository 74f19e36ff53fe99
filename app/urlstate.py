"""The page's configuration in its URL, so that a link reproduces a run.

`parse(query)` turns the query string into a model document, a dataset spec and
view options (which controls to hide, ...); `serialize(values)` is its inverse.
Both read the settings table in `app.ui_table`. Unknown or bad values fall back
to the defaults: a shared link never breaks the page (the problems are listed in
`view["url_errors"]` so the page can say what it ignored).

The model's weights can ride along (key `w`): zlib-compressed JSON of
``{"weights", "biases"}``, base64url, so a link can restore a trained model.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from app import jsonsafe, ui_table
from app.errors import BadInput
from app.ui_table import BY_URL, SETTINGS, SettingError

WEIGHTS_KEY = "w"
MAX_WEIGHTS_CHARS = 200_000
# The largest network the settings table allows (7 features, 8 layers of 12, 8 classes)
# writes about 32 KB of weights JSON; a link's data is refused past this size while it is
# decompressed, never inflated in full (64 KB of link once inflated to 49 MB).
MAX_WEIGHTS_JSON_BYTES = 256 * 1024
# Tighter: a link's weights are for the network its own settings describe, and
# `encode_weights` writes at most about 25 bytes a parameter (a float's repr and a comma).
WEIGHTS_JSON_BYTES_PER_PARAMETER = 48
WEIGHTS_JSON_BYTES_SPARE = 1024


@dataclass
class UrlState:
    model: dict | None = None
    dataset: dict | None = None
    view: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)


def read_values(query: Mapping) -> tuple[dict, list[str]]:
    """Flat setting values from URL parameters, with the problems found (each ignored)."""
    values = ui_table.defaults()
    errors = []
    for key, raw in query.items():
        s = BY_URL.get(key)
        if s is None:
            if key != WEIGHTS_KEY:
                errors.append(f"{key}: not a setting of nnplay's links")
            continue
        try:
            values[s.name] = ui_table.coerce(s.name, raw)
        except SettingError as e:
            errors.append(str(e))
    try:
        ui_table.check_combination(values)
    except SettingError as e:
        errors.append(str(e))
        values["output_activation"] = values["loss"] = "auto"
    return values, errors


def parse(query) -> UrlState:
    """Read a page URL's query parameters (a mapping of str to str)."""
    values, errors = read_values(query)
    model = ui_table.model_document(values)
    raw_weights = query.get(WEIGHTS_KEY)
    if raw_weights:
        try:
            model.update(decode_weights(raw_weights, weights_json_limit(model["layers"])))
        except ValueError as e:
            errors.append(f"{WEIGHTS_KEY}: {e}")
    view = {s.name: values[s.name] for s in SETTINGS if s.home == "view"}
    view["hide"] = set(values["hide"])
    view["url_errors"] = errors
    return UrlState(model=model, dataset=ui_table.dataset_spec(values), view=view,
                    values=values)


def serialize(values: Mapping, weights: Mapping | None = None) -> str:
    """The query string (without '?') for these values: every setting that differs from
    its default, plus the seeds and the dataset so the link survives new defaults."""
    pairs = []
    for s in SETTINGS:
        v = values.get(s.name, s.default)
        always = s.name in ("dataset", "seed", "data_seed")
        if s.name == "dataset" and v == "csv":
            continue  # uploaded data does not fit in a link
        if always or v != s.default and not (s.kind in ("names", "ints", "points")
                                              and tuple(v) == tuple(s.default)):
            pairs.append((s.url, ui_table.format_value(s.name, v)))
    if weights is not None:
        pairs.append((WEIGHTS_KEY, encode_weights(weights)))
    return urlencode(pairs, safe=",-;")


def encode_weights(doc: Mapping) -> str:
    raw = json.dumps({"weights": doc["weights"], "biases": doc["biases"]},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def weights_json_limit(layers) -> int:
    """The most bytes of weights JSON a link may inflate to for a network of these widths:
    what `encode_weights` could write for it, at most MAX_WEIGHTS_JSON_BYTES."""
    size = sum((a + 1) * b for a, b in zip(layers, layers[1:], strict=False))
    return min(MAX_WEIGHTS_JSON_BYTES,
               WEIGHTS_JSON_BYTES_PER_PARAMETER * size + WEIGHTS_JSON_BYTES_SPARE)


def decode_weights(text: str, max_json_bytes: int = MAX_WEIGHTS_JSON_BYTES) -> dict:
    """``{"weights", "biases"}`` from `encode_weights` text; ValueError if it is not that,
    or if it inflates past `max_json_bytes` (found while inflating: never inflated whole)."""
    if len(text) > MAX_WEIGHTS_CHARS:
        raise ValueError("weights too long")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflate = zlib.decompressobj()
        raw = inflate.decompress(packed, max_json_bytes)
    except (ValueError, zlib.error) as e:
        raise ValueError(f"not readable weights ({e.__class__.__name__})") from None
    if inflate.unconsumed_tail:
        raise ValueError(f"weights over {max_json_bytes} bytes once decompressed (more than "
                         "the link's network has parameters for)")
    if not inflate.eof:
        raise ValueError("not readable weights (the compressed data is cut short)")
    try:
        doc = jsonsafe.loads(raw, WEIGHTS_KEY)
    except BadInput as e:
        raise ValueError(e.message) from None
    if not isinstance(doc, dict) or not {"weights", "biases"} <= doc.keys():
        raise ValueError("expected weights and biases")
    return {"weights": doc["weights"], "biases": doc["biases"]}
