"""Playground training in Chromium: play to a good model, live learning rate, layouts.

Each test opens the default page and sets the run up with its controls (the classroom
test opens a classroom link: the URL is that feature)."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    epoch_shown,
    figure,
    more_settings,
    open_page,
    session_id,
    set_hidden_layers,
    settle,
    shot,
    wait_until,
)
from tests.browser.test_playground_data import open_playground


def shown(page, label: str) -> float | None:
    """The output panel's figure `label` as a number (None while it shows no number)."""
    text = figure(page, label).inner_text()
    try:
        return float(text)
    except ValueError:
        return None


def wait_figure(page, label: str, at_least: float, timeout: float = 60.0) -> None:
    wait_until(lambda: (shown(page, label) or 0) >= at_least,
               f"{label} shows at least {at_least}", timeout)


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def choose(page, name: str, value: str) -> None:
    """Pick `value` in the drop-down named `name`."""
    page.get_by_role("combobox", name=name, exact=True).select_option(value)


def play(page) -> None:
    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_visible()


def pause(page, api, sid: str) -> dict:
    """Press Pause; the session once the server has it paused: the button turns at the
    click, the pause itself travels over the socket and reaches the server a moment later."""
    button(page, "Pause").click()
    expect(button(page, "Play")).to_be_visible()
    return wait_until(lambda: (s := api.get(f"/api/sessions/{sid}").json())
                      and not s["training"]["playing"] and s,
                      f"session {sid} paused on the server")


def epoch(page) -> int:
    return int(epoch_shown(page).inner_text())


@pytest.mark.parametrize("dataset", ["circle", "xor"])
def test_play_trains_to_a_good_test_accuracy(page, server, api, dataset):
    sid = open_playground(page, server)
    button(page, dataset).click()  # circle is the default: picking it again keeps the data
    expect(button(page, dataset)).to_have_attribute("aria-pressed", "true")
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["dataset"]["name"] == dataset,
               f"the server has the {dataset} data")
    play(page)
    wait_figure(page, "Accuracy", 0.9)
    s = pause(page, api, sid)
    assert shown(page, "Accuracy") >= 0.9
    for name in ("Precision", "Recall", "F1", "Train loss", "Test loss"):
        assert 0 <= shown(page, name) <= 1.5
    shown_epoch = epoch(page)
    assert shown_epoch > 0
    assert s["training"]["epoch"] >= shown_epoch
    # The loss chart has drawn both curves (the drawing itself: its polylines' points).
    chart = page.get_by_role("img", name="Training and test loss by epoch")
    assert chart.locator(".pg-line--train").get_attribute("points").count(",") > 1
    assert chart.locator(".pg-line--test").get_attribute("points").count(",") > 1
    shot(page, f"playground-trained-{dataset}")


# The drawing of the edges is what is under test (width and colour by weight, smooth or
# not): no text says it, so the SVG's own attributes and computed style are read.
EDGES = """() => [...document.querySelectorAll('path.nv-edge')].map((e) => [
  +e.dataset.layer, +e.dataset.from, +e.dataset.to, e.getAttribute('stroke-width'),
  e.classList.contains('pos') ? 1 : e.classList.contains('neg') ? -1 : 0,
  getComputedStyle(e).shapeRendering])"""


def edge_width(w: float, most: float) -> float:
    """0.5 + 4.5 |w| / max(1, the layer's largest |w|), to a tenth (network_view.js)."""
    return round((0.5 + 4.5 * min(1.0, abs(w) / max(1.0, most))) * 10) / 10


def test_edges_follow_training_and_settle_on_the_paused_weights(page, server, api):
    sid = open_playground(page, server)
    button(page, "xor").click()
    expect(page).to_have_url(re.compile(r"[?&]data=xor\b"))
    choose(page, "Learning rate", "0.3")
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.3\b"))
    before = page.evaluate(EDGES)
    assert {e[5] for e in before} == {"auto"}  # drawn smooth while paused
    play(page)
    # While training plays the edges are restyled (every other frame at most) and drawn
    # without anti-aliasing; they follow the weights as they move.
    old = json.dumps([e[:5] for e in before], separators=(",", ":"))  # as JSON.stringify
    page.wait_for_function(f"(old) => JSON.stringify(({EDGES})().map((e) => e.slice(0, 5)))"
                           " !== old", arg=old)
    assert {e[5] for e in page.evaluate(EDGES)} == {"optimizespeed"}
    pause(page, api, sid)
    doc = api.get(f"/api/sessions/{sid}/model").json()
    most = [max(abs(w) for row in W for w in row) for W in doc["weights"]]
    want = sorted([l, i, j, edge_width(w, most[l]), 1 if w >= 0 else -1, "auto"]
                  for l, W in enumerate(doc["weights"]) for i, row in enumerate(W)
                  for j, w in enumerate(row))
    # Paused, every edge shows its final weight: sign as colour, magnitude as width, and
    # is drawn smooth again.
    wait_until(lambda: sorted([*e[:3], float(e[3]), *e[4:]] for e in page.evaluate(EDGES))
               == want, "the edges show the paused weights")


def test_speed_readout_follows_training_and_reads_zero_when_paused(page, server, api):
    # The frames that reach the page, counted on the wire (the socket), not inside the page.
    frames = {"n": 0}

    def count(payload):
        if isinstance(payload, str) and payload.startswith('{"type":"frame"'):
            msg = json.loads(payload)
            frames["n"] += bool(msg.get("playing"))

    page.on("websocket", lambda ws: ws.on("framereceived", count))
    sid = open_playground(page, server)
    play(page)
    wait_until(lambda: float(speed(page)[0]) > 0, "the speed readout shows epochs per second")
    # The test's own measure over 3 s: the epoch figure's growth and the frames that came.
    t0, e0, f0 = time.monotonic(), epoch(page), frames["n"]
    page.wait_for_timeout(3000)
    t1, e1, f1 = time.monotonic(), epoch(page), frames["n"]
    shown_eps, shown_fps = (float(x) for x in speed(page))
    seconds = t1 - t0
    eps, fps = (e1 - e0) / seconds, (f1 - f0) / seconds
    # The readout covers the last second, the test three: the same rate, give or take.
    assert eps / 2 <= shown_eps <= eps * 2, (shown_eps, eps)
    assert fps / 2 <= shown_fps <= fps * 2, (shown_fps, fps)
    pause(page, api, sid)
    page.wait_for_timeout(1200)  # past a whole window: nothing left over from the run
    assert speed(page) == ("0.0", "0.0")


def speed(page) -> tuple[str, str]:
    """The training bar's "N epochs/s, M frames/s"."""
    text = page.get_by_text(re.compile(r"epochs/s, .* frames/s")).inner_text()
    m = re.search(r"([\d.]+) epochs/s, ([\d.]+) frames/s", text)
    assert m, text
    return m.group(1), m.group(2)


PACER = """async () => {
  const { FramePacer } = await import('/static/js/pacer.js');
  const tick = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const shown = [], seen = [];
  const pacer = new FramePacer((f) => shown.push(f));
  pacer.push(1); pacer.push(2);  // two frames land in one tick
  await tick(); seen.push([...shown]);  // the older is shown first
  await tick(); seen.push([...shown]);  // the newer at the next tick
  await tick(); seen.push([...shown]);  // nothing waiting: nothing shown
  pacer.push(3); pacer.push(4); pacer.push(5);  // a third waiting drops the oldest
  await tick(); await tick(); seen.push([...shown]);
  pacer.push(6); pacer.clear();  // a paused frame or a snapshot supersedes waiting ones
  await tick(); seen.push([...shown]);
  return seen;
}"""


def test_frames_are_shown_one_per_animation_frame(page, server):
    """While training plays, frames that land in the same display tick are shown one per
    tick, older first, with at most one kept back (static/js/pacer.js)."""
    open_playground(page, server)
    # An internal unit (the frame pacer) driven directly: which frame lands in which display
    # tick cannot be arranged from the page's controls.
    assert page.evaluate(PACER) == [[1], [1, 2], [1, 2], [1, 2, 4, 5], [1, 2, 4, 5]]


def test_learning_rate_changes_while_training(page, server, api):
    sid = open_playground(page, server)
    choose(page, "Optimizer", "sgd")
    expect(page).to_have_url(re.compile(r"[?&]opt=sgd\b"))
    play(page)
    wait_until(lambda: epoch(page) > 2, "three epochs shown")
    ran = api.get(f"/api/sessions/{sid}").json()["training"]["epoch"]
    choose(page, "Learning rate", "0.3")
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.3\b"))
    s = api.get(f"/api/sessions/{sid}").json()
    assert s["model"]["optimizer"]["learning_rate"] == 0.3
    # the change did not stop or reset the run
    assert s["training"]["playing"] is True
    assert s["training"]["epoch"] >= ran, (s["training"]["epoch"], ran)
    assert epoch(page) >= ran
    ran = s["training"]["epoch"]
    choose(page, "Regularization", "l2")
    expect(page).to_have_url(re.compile(r"[?&]reg=l2\b"))
    s = api.get(f"/api/sessions/{sid}").json()
    assert s["model"]["regularization"]["name"] == "l2"
    assert s["training"]["playing"] is True
    assert s["training"]["epoch"] >= ran, (s["training"]["epoch"], ran)
    pause(page, api, sid)


def seed_summary(page):
    """The drop-down's summary line, which names the seed of the initial weights."""
    return page.get_by_text(re.compile(r"^Output \S+, loss \S+"))


def test_step_reset_and_new_seed(page, server, api):
    sid = open_playground(page, server)
    initial = api.get(f"/api/sessions/{sid}/model").json()["weights"]
    button(page, "Step one epoch").click()
    expect(epoch_shown(page)).to_have_text("1")
    assert api.get(f"/api/sessions/{sid}/model").json()["weights"] != initial
    button(page, "Reset").click()
    expect(epoch_shown(page)).to_have_text("0")
    wait_until(lambda: api.get(f"/api/sessions/{sid}/model").json()["weights"] == initial,
               "the server is back at the initial weights")
    expect(seed_summary(page)).to_contain_text(re.compile(r"\bseed 1\b"))
    button(page, "New seed").click()
    expect(seed_summary(page)).not_to_contain_text(re.compile(r"\bseed 1\b"))
    doc = api.get(f"/api/sessions/{sid}/model").json()
    assert doc["weights"] != initial and doc["seed"] != 1
    expect(seed_summary(page)).to_contain_text(re.compile(rf"\bseed {doc['seed']}\b"))
    expect(page).to_have_url(re.compile(rf"[?&]seed={doc['seed']}\b"))


def test_divergence_is_shown_plainly(page, server, api):
    sid = open_playground(page, server)
    settle(page)
    button(page, "plane").click()
    expect(page).to_have_url(re.compile(r"[?&]data=plane\b"))
    settle(page)
    choose(page, "Optimizer", "sgd")
    expect(page).to_have_url(re.compile(r"[?&]opt=sgd\b"))
    settle(page)
    choose(page, "Learning rate", "10")
    expect(page).to_have_url(re.compile(r"[?&]lr=10\b"))
    settle(page)
    choose(page, "Activation", "relu")
    expect(page).to_have_url(re.compile(r"[?&]act=relu\b"))
    settle(page)
    more_settings(page)
    choose(page, "Initialization", "he")
    expect(page).to_have_url(re.compile(r"[?&]init=he\b"))
    settle(page)
    m = api.get(f"/api/sessions/{sid}").json()["model"]
    assert (m["optimizer"]["name"], m["optimizer"]["learning_rate"], m["activation"],
            m["init"]) == ("sgd", 10.0, "relu", "he"), m
    button(page, "Play").click()
    status = page.get_by_role("status").filter(has_text="learning rate")
    expect(status).to_be_visible(timeout=60_000)
    expect(button(page, "Play")).to_be_visible()
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["playing"] is False,
               "the server stopped the diverged run")
    shot(page, "playground-diverged", "#controls")


def test_architecture_buttons_and_classroom_mode(page, server, api):
    # A classroom link is the feature under test: the page is opened at that URL.
    page.goto(f"{server}/?hide=optimizer,features")
    expect(figure(page, "Train loss")).to_have_text(re.compile(r"\d"))
    sid = session_id(page)
    optimizer = page.get_by_role("combobox", name="Optimizer", exact=True)
    features = page.get_by_role("group", name="Input features")
    expect(optimizer).to_have_count(0)
    expect(features).to_have_count(0)
    set_hidden_layers(page, [5, 2, 2])
    assert api.get(f"/api/sessions/{sid}").json()["model"]["layers"] == [2, 5, 2, 2, 1]
    # Still hidden after the panel was redrawn, and the URL keeps the classroom setting.
    expect(optimizer).to_have_count(0)
    expect(features).to_have_count(0)
    assert "hide=features,optimizer" in page.url


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_layout_screenshots(browser, server, api, size):
    page = open_page(browser, *size)
    try:
        sid = open_playground(page, server)
        button(page, "spiral3").click()
        expect(page).to_have_url(re.compile(r"[?&]data=spiral3\b"))
        set_hidden_layers(page, [6, 6])
        for f in ("x1^2", "x2^2"):
            page.get_by_role("checkbox", name=f, exact=True).check()
            wait_until(lambda f=f: f in api.get(f"/api/sessions/{sid}").json()["dataset"][
                "features"], f"the server uses the feature {f}")
        page.get_by_role("checkbox", name="Show test data").check()
        expect(page).to_have_url(re.compile(r"[?&]test=1\b"))
        wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["model"]["layers"]
                   == [4, 6, 6, 3], "the network has 4 inputs, 6 and 6 hidden, 3 outputs")
        play(page)
        wait_figure(page, "Accuracy", 0.5)
        pause(page, api, sid)
        # Nothing of the three panels is cut off sideways: the layout's width, as laid out
        # (geometry has no text to read).
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size[0]
        shot(page, f"playground-{size[0]}x{size[1]}")
        assert not page.errors, page.errors
    finally:
        page.context.close()
