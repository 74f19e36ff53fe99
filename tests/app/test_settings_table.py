"""The settings table (app/ui_table.py) is the one place a setting's rule lives: everything
else is derived from it or, where the engine has rules of its own, checked against it."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest

from app import ui_table, urlstate
from app.config import Settings
from app.errors import BadInput
from app.schemas import SetMessage
from app.sessions import SessionStore
from app.ui_table import BY_NAME, LIVE, SETTINGS, SettingError
from engine import Network
from engine.datasets import validate_spec
from engine.document import MAX_HIDDEN_LAYERS, MAX_NEURONS
from engine.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]


def test_the_settings_doc_is_the_table():
    text = (ROOT / "docs" / "SETTINGS.md").read_text()
    assert text == ui_table.settings_doc(text), "run: python -m app.ui_table --write"


def test_every_setting_has_its_own_url_key():
    keys = [s.url for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert urlstate.WEIGHTS_KEY not in keys


def edges(s) -> list:
    """The extreme values a setting allows (its bounds, or every choice)."""
    if s.choices:
        return list(s.choices)
    return [s.lo, s.hi]


MODEL_NUMBERS = [s for s in SETTINGS if s.home == "model" and s.kind in ("int", "float")]


@pytest.mark.parametrize("s", MODEL_NUMBERS, ids=lambda s: s.name)
def test_the_engine_accepts_the_table_s_model_bounds(s):
    # The table may be narrower than the engine (the playground's choices), never wider.
    values = ui_table.defaults()
    if s.path[0] == "optimizer":
        values["optimizer"] = next(o for o in BY_NAME["optimizer"].choices
                                   if s.path[1] in ui_table.OPTIMIZERS[o].defaults)
    for v in edges(s):
        doc = ui_table.model_document(values | {s.name: v})
        Network.from_dict(doc)  # raises on a value the engine refuses


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.home == "dataset"
                               and s.kind in ("int", "float", "choice")], ids=lambda s: s.name)
def test_the_engine_accepts_the_table_s_dataset_bounds(s):
    for v in edges(s):
        if s.name == "dataset" and v == "csv":
            continue
        validate_spec(ui_table.dataset_spec(ui_table.defaults() | {s.name: v}))


def test_the_table_s_network_size_fits_the_engine():
    hidden = BY_NAME["hidden"]
    assert hidden.most <= MAX_HIDDEN_LAYERS and hidden.hi <= MAX_NEURONS
    limits = Settings().limits()
    assert (limits["max_hidden_layers"], limits["max_neurons_per_layer"]) == (
        hidden.most, hidden.hi)


def test_the_socket_s_set_message_is_the_live_settings():
    fields = {k for k in SetMessage.model_fields if k not in ("id", "type")}
    assert fields == set(LIVE)
    reg = SetMessage.model_fields["regularization"].annotation
    choices = next(a for a in typing.get_args(reg) if typing.get_origin(a) is typing.Literal)
    assert typing.get_args(choices) == BY_NAME["regularization"].choices


@pytest.mark.parametrize("name", LIVE)
def test_every_road_refuses_a_live_value_outside_the_table(name):
    s = BY_NAME[name]
    bad = "l3" if s.kind == "choice" else s.hi * 2 + 1
    with pytest.raises(SettingError):
        ui_table.coerce(name, bad)  # the form and the URL
    session = SessionStore(Settings()).create()
    before = session.to_dict()
    with pytest.raises(BadInput) as info:  # the socket's `set` and the API
        session.set_training(**{name: bad})
    assert info.value.field == name
    assert session.to_dict() == before


@pytest.mark.parametrize(("path", "value", "field"), [
    (("optimizer", "learning_rate"), 20.0, "optimizer.learning_rate"),
    (("optimizer", "eps"), 0.0, "optimizer.eps"),
    (("regularization", "rate"), 11.0, "regularization.rate"),
])
def test_an_imported_model_is_held_to_the_table(path, value, field):
    session = SessionStore(Settings()).create()
    doc = session.to_dict()["model"]
    if path[0] == "optimizer":
        doc["optimizer"] = {"name": "adam", "learning_rate": 0.01}
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {"name": "l2", "rate": 0.0})
    node[path[-1]] = value
    with pytest.raises((BadInput, EngineError)) as info:
        session.replace_model(doc)
    assert info.value.field == field


def test_every_setting_has_help_and_the_page_shows_it():
    from fastapi.testclient import TestClient

    from app.main import create_app

    assert all(s.help for s in SETTINGS)
    with TestClient(create_app(Settings(store="memory://")), base_url="http://localhost") as client:
        html = client.get("/").text
    shown = [s for s in SETTINGS if s.control in ("select", "range", "number")
             and f'data-setting="{s.name}"' in html]
    assert len(shown) >= 15
    for s in shown:
        assert f'data-setting="{s.name}" title="{s.help}"' in html.replace("&#39;", "'"), s.name


def test_defaults_are_within_their_own_bounds():
    for s in SETTINGS:
        if s.kind in ("int", "float"):
            assert s.lo <= s.default <= s.hi, s.name
            assert math.isfinite(s.default)
        elif s.kind == "choice":
            assert s.default in s.choices, s.name
        assert ui_table.coerce(s.name, s.default) == s.default or s.kind in (
            "names", "ints", "points"), s.name
