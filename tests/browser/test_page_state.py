"""One state on the whole page (issue 11, "one road"): every panel shows the same frame,
held at a step's start while the step is explained, and the class colours are one list
(app/palette.py) in the plot, the swatches and the thumbnails.

From the default page, by label and role; the plot is a canvas, so its pixels are read
(what a person sees there), and the server is asked through the JSON API.
"""

from __future__ import annotations

import math
import re

from playwright.sync_api import expect

from app.palette import CLASS_COLOURS
from engine.datasets import EXTENT
from tests.browser.conftest import (
    figure,
    half_unit,
    load,
    readout,
    session_id,
    wait_until,
)

RGB = [tuple(int(c[k:k + 2], 16) for k in (1, 3, 5)) for c in CLASS_COLOURS]

# A canvas's pixels, read from a copy (the browser warns when one canvas is read often).
READ = """(canvas, x, y, w, h) => {
  const copy = document.createElement("canvas");
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0);
  return ctx.getImageData(x, y, w, h).data;
}"""

# Every colour on a canvas and how many pixels have it (opaque ones only).
COLOURS = """(canvas) => {
  const d = (READ)(canvas, 0, 0, canvas.width, canvas.height);
  const seen = {};
  for (let k = 0; k < d.length; k += 4) {
    if (d[k + 3] !== 255) continue;
    const key = `${d[k]},${d[k + 1]},${d[k + 2]}`;
    seen[key] = (seen[key] || 0) + 1;
  }
  return seen;
}""".replace("READ", READ)

PIXEL = """(canvas, [x, y]) => Array.from((READ)(canvas, x, y, 1, 1))""".replace("READ", READ)


def counter(page, name: str):
    """The number beside the top bar's "Epoch" or "Step" label."""
    return page.locator(f"xpath=//span[normalize-space()='{name}']/following-sibling::span[1]")


def same_number(a: str, b: str) -> bool:
    """Whether two printed numbers (the readout prints fewer places than the figures) are
    one number as far as both show it."""
    return abs(float(a) - float(b)) <= half_unit(a) + half_unit(b)


def losses_agree(page, which: str) -> str:
    """Wait until the network's readout and the output panel's figure show one `which`
    ("train" or "test") loss; return the figure's text."""
    shown = readout(page, f"{which} loss"), figure(page, f"{which.capitalize()} loss")
    texts = wait_until(lambda: (t := [e.inner_text() for e in shown])
                       and same_number(*t) and t, f"the two {which} losses agree")
    return texts[1]


def map_colours(page) -> set[tuple[int, int, int]]:
    # The decision boundary's map is a canvas (#pg-boundary-map, under the points' canvas;
    # not in the accessibility tree): its pixels are the picture.
    seen = page.locator("#pg-boundary-map").evaluate(COLOURS)
    return {tuple(int(v) for v in key.split(",")) for key in seen}


def points_canvas(page):
    return page.get_by_label(re.compile("^Decision boundary with the data points"))


def point_colours(page, api, sid: str, classes: int) -> list[tuple[int, ...]]:
    """The centre pixel of one training point of each class 0 .. classes - 1."""
    data = api.get(f"/api/sessions/{sid}/dataset").json()
    canvas = points_canvas(page)
    W, H = canvas.evaluate("c => [c.width, c.height]")
    r = max(2.5, W / 150)  # a dot's radius (static/js/boundary.js)
    at = [((x1 + EXTENT) / (2 * EXTENT) * W, (EXTENT - x2) / (2 * EXTENT) * H)
          for x1, x2 in data["train"]["points"]]
    labels = data["train"]["labels"]
    found = []
    for k in range(classes):
        # a point of class k that no dot drawn after it covers (dots are drawn in order)
        mine = [i for i, y in enumerate(labels) if y == k]
        free = next((i for i in reversed(mine)
                     if all(math.dist(at[i], at[j]) > r + 2 for j in range(i + 1, len(at)))),
                    None)
        assert free is not None, f"every point of class {k} is covered by another"
        x, y = at[free]
        found.append(tuple(canvas.evaluate(PIXEL, [math.floor(x), math.floor(y)])))
    return found


def check_points(page, api, sid: str, classes: int) -> None:
    """Wait until a point of each class k is drawn in class k's colour."""
    want = [(*RGB[k], 255) for k in range(classes)]
    wait_until(lambda: point_colours(page, api, sid, classes) == want,
               f"the points of classes 0 .. {classes - 1} drawn in {CLASS_COLOURS[:classes]}")


def test_the_plot_the_swatches_and_the_thumbnails_draw_one_list_of_class_colours(
        page, server, api):
    sid = load(page, server)
    # Two classes (circle): the points in classes 0 and 1's colours; discretized, the map is
    # the orange-blue ramp's two ends, which are those same two colours.
    check_points(page, api, sid, 2)
    page.get_by_label("Discretize output").check()
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until(lambda: map_colours(page) == set(RGB[:2]),
               "the trained map shows both classes' colours, and no other")
    page.get_by_role("button", name="Pause", exact=True).click()
    swatches = page.get_by_role("table", name=re.compile("^Confusion matrix")).locator("circle")
    assert [swatches.nth(k).get_attribute("fill") for k in range(4)] == list(CLASS_COLOURS[:2]) * 2

    # Eight classes (blobs): points, map, swatches.
    page.get_by_role("button", name="blobs", exact=True).click()
    classes = page.get_by_role("spinbutton", name="Classes")
    classes.fill(str(len(CLASS_COLOURS)))
    classes.press("Tab")  # leaving the field is what sends it
    expect(page.get_by_role("heading", name=re.compile(r"^Data\b"))).to_contain_text(
        f"{len(CLASS_COLOURS)} classes")
    wait_until(lambda: api.get(f"/api/sessions/{sid}/dataset").json()["n_classes"]
               == len(CLASS_COLOURS), "the server holds eight classes")
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until(lambda: len(map_colours(page)) >= 3, "the map shows several classes")
    page.get_by_role("button", name="Pause", exact=True).click()
    assert map_colours(page) <= set(RGB), "the class map draws a colour not in the list"
    check_points(page, api, session_id(page), len(CLASS_COLOURS))
    header = page.get_by_role("table", name=re.compile("^Confusion matrix")).locator("thead circle")
    expect(header).to_have_count(len(CLASS_COLOURS))
    assert [header.nth(k).get_attribute("fill") for k in range(len(CLASS_COLOURS))] == list(
        CLASS_COLOURS)

    # The dataset buttons' thumbnails: spiral3's three classes in the first three colours.
    datasets = page.get_by_role("group", name="Datasets")
    fills = datasets.get_by_role("button", name="spiral3", exact=True).locator("path")
    assert {fills.nth(k).get_attribute("fill") for k in range(fills.count())} == set(
        CLASS_COLOURS[:3])
    every = datasets.locator("path")
    assert {every.nth(k).get_attribute("fill") for k in range(every.count())} <= set(
        CLASS_COLOURS)


def test_after_a_pause_every_panel_shows_the_last_frame(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until(lambda: int(counter(page, "Epoch").inner_text()) >= 5, "five epochs shown")
    page.get_by_role("button", name="Pause", exact=True).click()
    doc = wait_until(lambda: (d := api.get(f"/api/sessions/{sid}").json())
                     and not d["training"]["playing"] and d, "the server paused")
    epoch = doc["training"]["epoch"]
    expect(counter(page, "Epoch")).to_have_text(str(epoch))
    # The network's readout and the output panel show the same frame's loss.
    losses_agree(page, "train")
    losses_agree(page, "test")
    # The chart's epoch axis ends at the history's last epoch.
    chart = page.get_by_role("img", name="Training and test loss by epoch")
    last = doc["history"]["epoch"][-1]
    expect(chart.locator("text[text-anchor='middle']").last).to_have_text(str(last))


def test_a_step_holds_every_panel_at_its_start_until_its_evaluation(page, server, api):
    sid = load(page, server)
    expect(counter(page, "Step")).to_have_text("0")
    losses_agree(page, "train")
    before = (readout(page, "train loss").inner_text(), figure(page, "Train loss").inner_text())
    page.get_by_role("button", name="Step one sample").click()
    page.get_by_role("button", name="pause (space)").click()  # stay on the step's first phases
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["step"] == 1,
               "the server made the step")
    page.wait_for_timeout(300)  # the frame after the step has come: it is held back
    expect(counter(page, "Step")).to_have_text("0")
    expect(readout(page, "train loss")).to_have_text(before[0])
    expect(figure(page, "Train loss")).to_have_text(before[1])
    page.get_by_role("button", name="f · evaluation").click()
    expect(counter(page, "Step")).to_have_text("1")
    losses_agree(page, "train")
