"""Playground training in Chromium: play to a good model, live learning rate, layouts."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import open_page, shot, wait_model_shown
from tests.browser.test_playground_data import open_playground

ACCURACY = "parseFloat(document.querySelector('[data-metric=\"accuracy\"]').textContent)"


def metric(page, name: str) -> float:
    return float(page.text_content(f'[data-metric="{name}"]'))


def wait_paused(page, api, sid: str) -> dict:
    """The session once the server has it paused: the button turns at the click, the pause
    itself travels over the socket and reaches the server a moment later."""
    for _ in range(200):
        s = api.get(f"/api/sessions/{sid}").json()
        if not s["training"]["playing"]:
            return s
        page.wait_for_timeout(50)
    raise AssertionError(f"session {sid} still plays 10 s after the pause")


@pytest.mark.parametrize("dataset", ["circle", "xor"])
def test_play_trains_to_a_good_test_accuracy(page, server, api, dataset):
    sid = open_playground(page, server, f"data={dataset}")
    page.click(f'[data-dataset="{dataset}"]')  # picking it again keeps the data
    page.click('[data-action="play"]')
    page.wait_for_function(f"() => {ACCURACY} >= 0.9", timeout=60_000)
    page.click('[data-action="pause"]')
    page.wait_for_selector('[data-action="play"]', state="visible")
    assert metric(page, "accuracy") >= 0.9
    for name in ("precision", "recall", "f1", "train_loss", "test_loss"):
        assert 0 <= metric(page, name) <= 1.5
    epoch = int(page.text_content('[data-metric="epoch"]'))
    assert epoch > 0
    s = wait_paused(page, api, sid)
    assert s["training"]["epoch"] >= epoch
    # The loss chart has drawn both curves.
    assert page.get_attribute(".pg-line--train", "points").count(",") > 1
    assert page.get_attribute(".pg-line--test", "points").count(",") > 1
    shot(page, f"playground-trained-{dataset}")


EDGES = """() => [...document.querySelectorAll('path.nv-edge')].map((e) => [
  +e.dataset.layer, +e.dataset.from, +e.dataset.to, e.getAttribute('stroke-width'),
  e.classList.contains('pos') ? 1 : e.classList.contains('neg') ? -1 : 0,
  getComputedStyle(e).shapeRendering])"""


def test_edges_follow_training_and_settle_on_the_paused_weights(page, server, api):
    sid = open_playground(page, server, "data=xor&lr=0.3")
    before = page.evaluate(EDGES)
    assert {e[5] for e in before} == {"auto"}  # drawn smooth while paused
    page.click('[data-action="play"]')
    # While training plays the edges are restyled (every other frame at most) and drawn
    # without anti-aliasing; they follow the weights as they move.
    old = json.dumps([e[:5] for e in before], separators=(",", ":"))  # as JSON.stringify
    page.wait_for_function(f"(old) => JSON.stringify(({EDGES})().map((e) => e.slice(0, 5)))"
                           " !== old", arg=old)
    assert {e[5] for e in page.evaluate(EDGES)} == {"optimizespeed"}
    page.click('[data-action="pause"]')
    wait_paused(page, api, sid)
    doc = api.get(f"/api/sessions/{sid}/model").json()
    wait_model_shown(page, doc)
    # Paused, every edge shows its final weight: sign as colour, magnitude as width
    # (0.6 + 1.4 |w|, capped at |w| = 4, to a tenth), and is drawn smooth again.
    for layer, src, dst, width, sign, rendering in page.evaluate(EDGES):
        w = doc["weights"][layer][src][dst]
        assert float(width) == pytest.approx(round((0.6 + 1.4 * min(abs(w), 4)) * 10) / 10)
        assert sign == (1 if w >= 0 else -1)
        assert rendering == "auto"


SPEED = """() => {
  const count = window.__frames || (window.__frames = { n: 0 });
  if (!count.on) {
    count.on = window.nnplay.connection.on("frame", (f) => { if (f.playing) count.n++; });
  }
  return { t: performance.now(), frames: count.n,
           epoch: +document.querySelector('[data-metric="epoch"]').textContent };
}"""


def test_speed_readout_follows_training_and_reads_zero_when_paused(page, server, api):
    sid = open_playground(page, server, "data=circle")
    page.evaluate(SPEED)  # start counting the frames that arrive
    page.click('[data-action="play"]')
    page.wait_for_function(
        "() => parseFloat(document.querySelector('[data-metric=\"epochs_per_second\"]')"
        ".textContent) > 0")
    # The test's own measure over 3 s: the epoch figure's growth and the frames that came.
    a = page.evaluate(SPEED)
    page.wait_for_timeout(3000)
    b = page.evaluate(SPEED)
    shown_eps, shown_fps = metric(page, "epochs_per_second"), metric(page, "frames_per_second")
    seconds = (b["t"] - a["t"]) / 1000
    eps, fps = (b["epoch"] - a["epoch"]) / seconds, (b["frames"] - a["frames"]) / seconds
    # The readout covers the last second, the test three: the same rate, give or take.
    assert eps / 2 <= shown_eps <= eps * 2, (shown_eps, eps)
    assert fps / 2 <= shown_fps <= fps * 2, (shown_fps, fps)
    page.click('[data-action="pause"]')
    wait_paused(page, api, sid)
    page.wait_for_timeout(1200)  # past a whole window: nothing left over from the run
    assert (metric(page, "epochs_per_second"), metric(page, "frames_per_second")) == (0, 0)


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
    assert page.evaluate(PACER) == [[1], [1, 2], [1, 2], [1, 2, 4, 5], [1, 2, 4, 5]]


def test_learning_rate_changes_while_training(page, server, api):
    sid = open_playground(page, server, "opt=sgd&lr=0.03")
    page.click('[data-action="play"]')
    page.wait_for_function("() => parseInt(document.querySelector('[data-metric=\"epoch\"]')"
                           ".textContent) > 2")
    page.select_option('select[name="learning_rate"]', "0.3")
    page.wait_for_function("() => location.search.includes('lr=0.3')")
    s = api.get(f"/api/sessions/{sid}").json()
    assert s["model"]["optimizer"]["learning_rate"] == 0.3
    assert s["training"]["playing"] is True  # the change did not stop or reset the run
    page.select_option('select[name="regularization"]', "l2")
    page.wait_for_function("() => location.search.includes('reg=l2')")
    assert api.get(f"/api/sessions/{sid}").json()["model"]["regularization"]["name"] == "l2"
    page.click('[data-action="pause"]')


def test_step_reset_and_new_seed(page, server, api):
    sid = open_playground(page, server)
    initial = api.get(f"/api/sessions/{sid}/model").json()["weights"]
    page.click('[data-action="step"]')
    page.wait_for_function("() => document.querySelector('[data-metric=\"epoch\"]')"
                           ".textContent === '1'")
    assert api.get(f"/api/sessions/{sid}/model").json()["weights"] != initial
    page.click('[data-action="reset"]')
    page.wait_for_function("() => document.querySelector('[data-metric=\"epoch\"]')"
                           ".textContent === '0'")
    assert api.get(f"/api/sessions/{sid}/model").json()["weights"] == initial
    page.click('[data-action="new-seed"]')
    page.wait_for_function("() => !location.search.includes('seed=1&') && "
                           "/[?&]seed=\\d+/.test(location.search)")
    doc = api.get(f"/api/sessions/{sid}/model").json()
    assert doc["weights"] != initial and doc["seed"] != 1
    page.wait_for_selector(f'input[name="seed"][value="{doc["seed"]}"]', state="attached")


def test_divergence_is_shown_plainly(page, server, api):
    sid = open_playground(page, server, "data=plane&opt=sgd&lr=10&act=relu&init=he")
    page.click('[data-action="play"]')
    status = page.wait_for_selector('.pg-status--bad[data-reason="diverged"]', timeout=60_000)
    assert "learning rate" in status.text_content()
    page.wait_for_selector('[data-action="play"]', state="visible")
    assert api.get(f"/api/sessions/{sid}").json()["training"]["playing"] is False
    shot(page, "playground-diverged", "#controls")


def test_architecture_buttons_and_classroom_mode(page, server, api):
    sid = open_playground(page, server, "hide=optimizer,features")
    assert page.locator('select[name="optimizer"]').count() == 0
    assert page.locator("[data-feature]").count() == 0
    page.click('[data-action="add-layer"]')
    page.wait_for_selector('[data-layer="3"]')
    page.click('[data-layer="1"] [data-action="add-neuron"]')
    page.wait_for_selector('[data-neurons="1"]:text("5")')
    assert api.get(f"/api/sessions/{sid}").json()["model"]["layers"] == [2, 5, 2, 2, 1]
    # Still hidden after the panel was redrawn, and the URL keeps the classroom setting.
    assert page.locator('select[name="optimizer"]').count() == 0
    assert "hide=features,optimizer" in page.url


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_layout_screenshots(browser, server, size):
    page = open_page(browser, *size)
    try:
        open_playground(page, server, "data=spiral3&h=6-6&f=x1,x2,x1%5E2,x2%5E2&test=1")
        page.click('[data-action="play"]')
        page.wait_for_function(f"() => {ACCURACY} >= 0.5", timeout=60_000)
        page.click('[data-action="pause"]')
        # Nothing of the three panels is cut off sideways.
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size[0]
        shot(page, f"playground-{size[0]}x{size[1]}")
        assert not page.errors, page.errors
    finally:
        page.context.close()
