"""Journeys: every control of the settings table, driven as a person drives it (issue 11).

The journeys are generated from `app.ui_table.SETTINGS`: a setting added to the table
without a journey here fails `test_every_setting_has_a_journey`. Each journey starts
from the default page (no URL parameters), finds the control by its role and label,
changes it with the mouse or the keyboard, and then checks

(a) the server's session (`GET /api/sessions/{id}`) holds the new value,
(b) the screen shows it: the control, redrawn by the server, and the address bar,
(c) a live setting left the weights, the optimizer state, the epoch and the history alone,
(d) the console logged no error or warning (the `page` fixture).

Then every optimizer is picked from the page and the top bar tried again under it: the
dead top bar of issue 11 hid behind the default optimizer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from app.ui_table import BY_NAME, SETTINGS, Setting
from engine.optimizers import OPTIMIZERS
from tests.browser.conftest import load, settle, step_epochs, wait_until

ROLE = {"select": "combobox", "range": "slider", "number": "spinbutton", "checkbox": "checkbox"}
NOT_CONTROLS = {
    # A setting of the table that no single control edits, and where it is tested instead.
    "extra_points": "points added by clicking the output plot: "
                    "test_a_click_on_the_plot_adds_a_point_and_keeps_the_network",
    "hide": "exercise links (the URL is the feature): tests/browser/test_exercise.py",
    "lock": "exercise links (the URL is the feature): tests/browser/test_exercise.py",
    "note": "exercise links (the URL is the feature): tests/browser/test_exercise.py",
}


def control(page, name: str):
    s = BY_NAME[name]
    return page.get_by_role(ROLE[s.control], name=s.label, exact=True)


def state(api, sid) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def url_query(page) -> dict:
    """The address bar's query (read from the page: `page.url` only follows it while
    Playwright handles events, which a polling loop does not)."""
    return {k: v[0] for k, v in parse_qs(page.evaluate("location.search")[1:]).items()}


def read(doc: dict, s: Setting, page):
    """The value of setting `s` as the server holds it (view settings: the page URL the
    server set, since the server keeps no view state)."""
    if s.home == "view":
        return url_query(page).get(s.url) == "1"
    node = doc[s.home]
    for key in s.path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    return a == b


def open_more(page) -> None:
    """Open the "Output / loss / init / seed" drop-down (its summary names them)."""
    summary = page.get_by_text(re.compile(r"^Output \w+, loss \w+"))
    if summary.locator("xpath=..").get_attribute("open") is None:
        summary.click()


def pick_optimizer(name: str):
    def prepare(page):
        select = control(page, "optimizer")
        if select.input_value() != name:
            with page.expect_response(re.compile(r"/ui/.+/controls")):
                select.select_option(name)
            expect(control(page, "optimizer")).to_have_value(name)
            settle(page)  # a person reads the new fields before typing in one
        open_more(page)
    return prepare


def for_hyperparameter(hp: str):
    owner = next(n for n, spec in OPTIMIZERS.items() if hp in spec.defaults)
    return pick_optimizer("adam" if hp in OPTIMIZERS["adam"].defaults else owner)


# ---- acting on a control, as a person does ---------------------------------------------


def change_select(page, s: Setting):
    select = control(page, s.name)
    now = select.input_value()
    options = select.locator("option:not([disabled])")
    values = [options.nth(k).get_attribute("value") for k in range(options.count())]
    new = next(v for v in values if v not in (now, "auto"))
    select.select_option(new)
    return new


def change_range(page, s: Setting):
    slider = control(page, s.name)
    now = float(slider.input_value())
    slider.focus()
    up = now + s.step <= s.hi
    slider.press("ArrowRight" if up else "ArrowLeft")
    return round(now + (s.step if up else -s.step), 10)


def change_number(page, s: Setting):
    box = control(page, s.name)
    now = float(box.input_value())
    step = s.step or (s.hi - s.lo) / 10
    new = now + step if now + step <= s.hi else now - step
    text = f"{new:.10g}" if s.kind == "float" else str(int(new))
    box.click()
    box.fill(text)
    box.press("Tab")  # leaving the field is what sends it
    return text


def change_checkbox(page, s: Setting):
    box = control(page, s.name)
    was = box.is_checked()
    box.click()
    return not was


CHANGE = {"select": change_select, "range": change_range, "number": change_number,
          "checkbox": change_checkbox}


def expected_value(s: Setting, raw):
    """What the server should hold after the control was set to `raw` (the control's own
    text, read as a person reads it)."""
    if s.kind == "float":
        return float(raw)
    if s.kind == "int":
        return int(float(raw))
    return raw


@dataclass
class Journey:
    """How a person reaches a control (`prepare`), changes it (`act`, returning the value
    the server should then hold) and where the server keeps it (`server`)."""

    prepare: Callable = lambda page: None
    act: Callable | None = None
    server: Callable | None = None  # (doc, page) -> value
    shown: Callable | None = None  # (page, expected) -> None: the screen shows it


def generic(name: str, prepare=lambda page: None) -> Journey:
    s = BY_NAME[name]

    def act(page):
        return expected_value(s, CHANGE[s.control](page, s))

    def shown(page, want):
        if s.control == "checkbox":
            expect(control(page, name)).to_be_checked(checked=want)
        else:
            box = control(page, name)
            expect(box).to_have_value(re.compile(".+"))
            wait_until(lambda: same(expected_value(s, box.input_value()), want),
                       f"{name} shows {want}")

    return Journey(prepare=prepare, act=act, server=lambda doc, page: read(doc, s, page),
                   shown=shown)


# ---- the special controls -----------------------------------------------------------------


def dataset_journey() -> Journey:
    def act(page):
        page.get_by_role("button", name="xor", exact=True).click()
        return "xor"

    def shown(page, want):
        expect(page.get_by_role("button", name=want, exact=True)).to_have_attribute(
            "aria-pressed", "true")

    return Journey(act=act, server=lambda doc, page: doc["dataset"]["name"], shown=shown)


def features_journey() -> Journey:
    def act(page):
        page.get_by_role("checkbox", name="x1^2", exact=True).click()
        return ["x1", "x2", "x1^2"]

    def server(doc, page):
        return doc["dataset"]["features"] if doc["model"]["layers"][0] == 3 else None

    def shown(page, want):
        expect(page.get_by_role("checkbox", name="x1^2", exact=True)).to_be_checked()
        expect(page.get_by_role("button", name="x1^2: show its parameters")).to_be_visible()

    return Journey(act=act, server=server, shown=shown)


def hidden_journey() -> Journey:
    def act(page):
        page.get_by_role("button", name="Add a hidden layer").click()
        expect(page.get_by_text("3 hidden layers")).to_be_visible()
        page.get_by_role("button", name="Add a neuron to layer 1").click()
        return [5, 2, 2]

    def shown(page, want):
        expect(page.get_by_text("3 hidden layers")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^hidden 1 neuron \d+: "))
               ).to_have_count(5)

    return Journey(act=act, server=lambda doc, page: doc["model"]["layers"][1:-1], shown=shown)


def layer_activations_journey() -> Journey:
    def act(page):
        page.get_by_role("combobox", name="Activation of layer 1").select_option("relu")
        return ["relu", "tanh"]

    def shown(page, want):
        expect(page.get_by_role("combobox", name="Activation of layer 1")).to_have_value("relu")
        expect(page.get_by_role("combobox", name="Activation of layer 2")).to_have_value("tanh")

    return Journey(act=act, server=lambda doc, page: doc["model"]["layer_activations"],
                   shown=shown)


JOURNEYS: dict[str, Journey] = {}
for _s in SETTINGS:
    if _s.name in NOT_CONTROLS:
        continue
    if _s.group == "optimizer" and _s.name != "optimizer":
        JOURNEYS[_s.name] = generic(_s.name, for_hyperparameter(_s.path[1]))
    elif _s.group == "output" or _s.name in ("init", "seed"):
        JOURNEYS[_s.name] = generic(_s.name, open_more)
    elif _s.name == "classes":  # only the blobs dataset has a number of classes
        JOURNEYS[_s.name] = generic(_s.name, lambda page: page.get_by_role(
            "button", name="blobs", exact=True).click() or expect(control(page, "classes"))
            .to_be_visible())
    elif _s.control in CHANGE:
        JOURNEYS[_s.name] = generic(_s.name)
JOURNEYS |= {"dataset": dataset_journey(), "features": features_journey(),
             "hidden": hidden_journey(), "layer_activations": layer_activations_journey()}


def test_every_setting_has_a_journey():
    assert set(JOURNEYS) | set(NOT_CONTROLS) == {s.name for s in SETTINGS}
    assert not set(JOURNEYS) & set(NOT_CONTROLS)


TRAINING_KEYS = ("weights", "biases", "optimizer_state")


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_a_control_changes_the_server_and_the_screen(page, server, api, name):
    s = BY_NAME[name]
    journey = JOURNEYS[name]
    sid = load(page, server)
    journey.prepare(page)
    if s.live:
        step_epochs(page, 3)
    before = state(api, sid)
    want = journey.act(page)
    # (a) the server holds it
    wait_until(lambda: same(journey.server(state(api, sid), page), want),
               f"the server holds {name} = {want!r}")
    # (b) the screen shows it: the control as the server redrew it, and the address bar
    journey.shown(page, want)
    if s.url and name not in ("dataset", "features", "hidden", "layer_activations"):
        wait_until(lambda: s.url in url_query(page), f"the address bar carries {s.url}")
    after = state(api, sid)
    if s.live:
        # (c) a live setting changes nothing else
        for key in TRAINING_KEYS:
            assert after["model"][key] == before["model"][key], key
        assert after["training"]["epoch"] == before["training"]["epoch"] == 3
        assert after["history"] == before["history"]
        expect(page.locator('[data-metric="epoch"]')).to_have_text("3")
    errors = page.locator(".pg-error:visible")
    assert not errors.count(), errors.all_inner_texts()


TOP_BAR = ("learning_rate", "batch_size", "regularization", "regularization_rate",
           "activation")


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_the_top_bar_works_under_every_optimizer(page, server, api, optimizer):
    sid = load(page, server)
    control(page, "optimizer").select_option(optimizer)
    wait_until(lambda: state(api, sid)["model"]["optimizer"]["name"] == optimizer,
               f"the server uses {optimizer}")
    expect(control(page, "optimizer")).to_have_value(optimizer)
    for name in TOP_BAR:
        s = BY_NAME[name]
        want = expected_value(s, CHANGE[s.control](page, s))
        wait_until(lambda s=s, want=want: same(read(state(api, sid), s, page), want),
                   f"{optimizer}: the server holds {name} = {want!r}")
        JOURNEYS[name].shown(page, want)
    page.get_by_role("button", name="Add a hidden layer").click()
    wait_until(lambda: len(state(api, sid)["model"]["layers"]) == 5,
               f"{optimizer}: the server has a third hidden layer")
    expect(page.get_by_text("3 hidden layers")).to_be_visible()
    assert state(api, sid)["model"]["optimizer"]["name"] == optimizer


def test_regenerate_draws_a_new_data_seed(page, server, api):
    sid = load(page, server)
    before = state(api, sid)["dataset"]["seed"]
    page.get_by_role("button", name="Regenerate").click()
    seed = wait_until(lambda: (d := state(api, sid)["dataset"]["seed"]) != before and d,
                      "the server has a new data seed")
    expect(control(page, "data_seed")).to_have_value(str(seed))
    wait_until(lambda: url_query(page).get("dseed") == str(seed),
               "the address bar carries the new data seed")
