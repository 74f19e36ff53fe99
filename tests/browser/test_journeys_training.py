"""Journeys of issue 14, the training side: the speed control's paces (read from the epoch
counter on screen), train N epochs and train until a test loss (stopping by themselves),
spiral trained from the page with its recommended network, and a blow-up at learning rate
10 taken back to the last good epoch. Each starts from the default page, finds controls by
role and label, and checks the server's JSON API as well as the screen."""

from __future__ import annotations

import math
import re
import time

from playwright.sync_api import expect

from engine import Network
from engine.diagnostics import diagnose
from engine.problem import prepare
from tests.browser.conftest import (
    figure,
    load,
    open_page,
    settle,
    shot,
    wait_until,
)

SLOW = 60.0  # seconds: a generous wait on a loaded machine


def state(api, sid) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def status_line(page):
    """The training bar's status line (the one `status` paragraph: range controls'
    `<output>`s are status elements too)."""
    return page.locator("p[role=status]")


def epoch_on_screen(page) -> int:
    return int(page.locator('[data-metric="epoch"]').inner_text())


def choose_speed(page, label: str) -> None:
    speed = page.get_by_role("combobox", name="Speed", exact=True)
    with page.expect_response(re.compile(r"/ui/.+/controls")):
        speed.select_option(label=label)
    settle(page)


def count_over(page, seconds: float) -> int:
    """Epochs the counter on screen moved over `seconds` of a person watching it."""
    before = epoch_on_screen(page)
    page.wait_for_timeout(seconds * 1000)
    return epoch_on_screen(page) - before


def test_the_speed_control_paces_training_and_changes_it_live(page, server, api):
    sid = load(page, server)
    speed = page.get_by_role("combobox", name="Speed", exact=True)
    expect(speed).to_have_value("10")  # the default: the circle's boundary forms over seconds
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until(lambda: epoch_on_screen(page) >= 1, "training started")
    n = count_over(page, 3.0)
    assert 15 <= n <= 60, f"10 epochs/s moved {n} epochs in 3 s"
    # live: slower while playing, nothing reset
    epoch = epoch_on_screen(page)
    choose_speed(page, "1 epoch/s")
    assert state(api, sid)["training"]["speed"] == "1"
    assert state(api, sid)["training"]["playing"]
    assert epoch_on_screen(page) >= epoch
    page.wait_for_timeout(1500)  # the ten-a-second epochs on their way have landed
    n = count_over(page, 4.0)
    assert 1 <= n <= 9, f"1 epoch/s moved {n} epochs in 4 s"
    choose_speed(page, "flat out")
    n = count_over(page, 2.0)
    assert n > 60, f"flat out moved only {n} epochs in 2 s"
    page.get_by_role("button", name="Pause", exact=True).click()
    doc = wait_until(lambda: (d := state(api, sid)) and not d["training"]["playing"] and d,
                     "paused")
    # Paused at an epoch: the trainer stops at a boundary, and the screen shows that epoch.
    assert doc["training"]["cursor"] == 0
    expect(page.locator('[data-metric="epoch"]')).to_have_text(str(doc["training"]["epoch"]))
    shot(page, "training-speed-1280")


def test_train_n_epochs_stops_at_exactly_n_with_a_progress_bar(page, server, api):
    sid = load(page, server)
    choose_speed(page, "10 epochs/s")
    epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
    epochs.fill("25")
    page.get_by_role("button", name="Train", exact=True).click()
    bar = page.get_by_role("progressbar", name="Goal progress")
    expect(bar).to_be_visible(timeout=SLOW * 1000)
    wait_until(lambda: float(bar.get_attribute("value") or 0) >= 5, "the bar moved", SLOW)
    shot(page, "training-goal-1280")
    status = status_line(page)
    expect(status).to_contain_text("Done at epoch 25: 25 epochs trained", timeout=SLOW * 1000)
    doc = state(api, sid)
    assert doc["training"]["epoch"] == 25 and not doc["training"]["playing"]
    assert doc["training"]["cursor"] == 0 and doc["training"]["goal"] is None
    expect(page.locator('[data-metric="epoch"]')).to_have_text("25")
    expect(bar).to_be_hidden()
    # again, from there: 25 more
    page.get_by_role("button", name="Train", exact=True).click()
    expect(status).to_contain_text("Done at epoch 50", timeout=SLOW * 1000)
    assert state(api, sid)["training"]["epoch"] == 50


def test_train_until_a_test_loss_stops_at_the_first_epoch_below_it(page, server, api):
    sid = load(page, server)
    choose_speed(page, "60 epochs/s: one per frame")
    page.get_by_role("spinbutton", name="Epochs", exact=True).fill("5000")
    page.get_by_role("spinbutton", name="Until test loss <", exact=True).fill("0.3")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(status_line(page)).to_contain_text(re.compile(r"Done at epoch \d+: the test loss .* is "
                                                         r"below 0\.3"), timeout=SLOW * 1000)
    doc = state(api, sid)
    h = doc["history"]
    assert not doc["training"]["playing"]
    assert h["epoch"][-1] == doc["training"]["epoch"] < 5000
    # checked after every epoch: the last one is the first below 0.3
    assert h["test_loss"][-1] < 0.3 <= min(h["test_loss"][:-1])
    assert h["epoch"][-2:] == [h["epoch"][-1] - 1, h["epoch"][-1]]


def test_spiral_with_its_recommended_network_reaches_90_percent(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="spiral", exact=True).click()
    settle(page)
    page.get_by_role("button", name="Use the recommended network for spiral").click()
    settle(page)
    doc = state(api, sid)
    assert doc["dataset"]["name"] == "spiral" and len(doc["dataset"]["features"]) == 7
    assert doc["model"]["layers"] == [7, 8, 8, 8, 1]
    expect(page.get_by_role("button", name="Use the recommended network for spiral")) \
        .to_have_count(0)  # in use now
    choose_speed(page, "flat out")
    page.get_by_role("button", name="Play", exact=True).click()
    accuracy = figure(page, "Accuracy")
    wait_until(lambda: float(accuracy.inner_text().strip().rstrip("%") or 0)
               / (100 if "%" in accuracy.inner_text() else 1) >= 0.90,
               lambda: f"accuracy {accuracy.inner_text()}", SLOW)
    page.get_by_role("button", name="Pause", exact=True).click()
    doc = wait_until(lambda: (d := state(api, sid)) and not d["training"]["playing"] and d,
                     "paused")
    expect(page.locator('[data-metric="epoch"]')).to_have_text(str(doc["training"]["epoch"]))
    # The JSON API's model, evaluated by the engine alone, scores what the page shows.
    net = Network.from_dict(doc["model"])
    problem = prepare(doc["dataset"], net.loss, net.output_activation, net.layers[-1])
    score = problem.evaluate(net, "test")["accuracy"]
    assert score >= 0.90
    shown = accuracy.inner_text().strip()
    value = float(shown.rstrip("%")) / (100 if shown.endswith("%") else 1)
    assert abs(value - score) <= 0.0051, (shown, score)


def test_a_blow_up_pauses_and_goes_back_to_the_last_good_epoch(page, server, api):
    sid = load(page, server)
    choose_speed(page, "flat out")
    page.get_by_role("spinbutton", name="Epochs", exact=True).fill("30")
    page.get_by_role("button", name="Train", exact=True).click()
    status = status_line(page)
    expect(status).to_contain_text("Done at epoch 30", timeout=SLOW * 1000)
    good = state(api, sid)
    lr = page.get_by_role("combobox", name="Learning rate", exact=True)
    with page.expect_response(re.compile(r"/ui/.+/controls")):
        lr.select_option("10")
    settle(page)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(status).to_contain_text("The loss blew up at learning rate 10", timeout=SLOW * 1000)
    expect(status).to_contain_text("try 0.03 or lower")
    back = page.get_by_role("button", name=re.compile(r"^Go back to epoch \d+$"))
    expect(back).to_be_visible()
    e = int(back.inner_text().split()[-1])
    assert e >= 1  # trained 30 good epochs first (flat out, a later turn may dip below)
    shot(page, "training-diverged-1280")
    back.click()
    expect(status).to_contain_text(f"Back at epoch {e}")
    expect(page.locator('[data-metric="epoch"]')).to_have_text(str(e))
    expect(back).to_be_hidden()
    doc = state(api, sid)
    assert doc["training"]["epoch"] == e and not doc["training"]["playing"]
    weights = [w for layer in doc["model"]["weights"] for row in layer for w in row]
    assert all(math.isfinite(w) and abs(w) < 100 for w in weights)
    assert doc["history"]["epoch"][-1] == e
    if e == 30:  # the best was the last good epoch: exactly the model trained to 30
        assert doc["model"]["weights"] == good["model"]["weights"]


def test_training_controls_at_1920x1080(browser, server, api):
    page = open_page(browser, width=1920, height=1080)
    try:
        load(page, server)
        page.get_by_role("spinbutton", name="Epochs", exact=True).fill("40")
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_role("progressbar", name="Goal progress")).to_be_visible(
            timeout=SLOW * 1000)
        time.sleep(1.0)
        shot(page, "training-goal-1920")
        expect(status_line(page)).to_contain_text("Done at epoch 40",
                                                           timeout=SLOW * 1000)
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_warnings_name_dead_units_and_the_gradient_chart_draws_each_layer(page, server, api):
    sid = load(page, server)
    for name, value in (("Activation", "relu"), ("Learning rate", "1")):
        box = page.get_by_role("combobox", name=name, exact=True)
        with page.expect_response(re.compile(r"/ui/.+/controls")):
            box.select_option(value)
        settle(page)
    warnings = page.get_by_role("region", name="Training warnings")
    expect(warnings.get_by_role("listitem")).to_have_text(["none"])
    choose_speed(page, "flat out")
    page.get_by_role("spinbutton", name="Epochs", exact=True).fill("30")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(status_line(page)).to_contain_text("Done at epoch 30", timeout=SLOW * 1000)
    # The engine, on the JSON API's model and data, says which units are dead: the page
    # shows exactly its messages.
    doc = state(api, sid)
    net = Network.from_dict(doc["model"])
    problem = prepare(doc["dataset"], net.loss, net.output_activation, net.layers[-1])
    want = diagnose(net, problem.X_train, problem.Y_train)
    assert any(w["kind"] == "dead" for w in want["warnings"])
    expect(warnings.get_by_role("listitem")).to_have_text([w["message"] for w in want["warnings"]])
    expect(warnings).to_contain_text("are dead (relu gives 0 for every point)")
    chart = page.get_by_role("img", name="Gradient norm per layer over time")
    expect(chart.locator("polyline")).to_have_count(len(net.layers) - 1)
    expect(warnings).to_contain_text("to output")
    shot(page, "training-warnings-1280", "#output-panel")
