"""Charts people can read (issue 14): the loss chart's whole run with ticks and a log scale,
the output plot's axes and colour legend, the one number formatter's short texts.

Each journey opens the default page and works its controls by label or role; what it
checks is the server's JSON API and what the screen shows (text, tick labels, boxes)."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    epoch_shown,
    open_page,
    settle,
    shot,
    step_epochs,
    wait_until,
)
from tests.browser.test_playground_data import open_playground

CLASS_COLOURS = None  # read from the page (app/palette.py), see class_colours()


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def loss_chart(page):
    return page.get_by_role("img", name="Training and test loss by epoch")


def tick_texts(locator) -> list[str]:
    """The tick labels a locator's SVG shows, left to right or bottom to top."""
    return [t.strip() for t in locator.all_text_contents()]


def history(api, sid: str) -> dict:
    return api.get(f"/api/sessions/{sid}").json()["history"]


def play_until_epoch(page, api, sid: str, at_least: int) -> dict:
    """Play, wait until the server has trained `at_least` epochs, pause; the session."""
    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_visible()
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["epoch"] >= at_least,
               f"{at_least} epochs trained", timeout=60)
    button(page, "Pause").click()
    expect(button(page, "Play")).to_be_visible()
    return wait_until(lambda: (s := api.get(f"/api/sessions/{sid}").json())
                      and not s["training"]["playing"] and s, "paused on the server")


def test_loss_chart_shows_the_whole_run_with_ticks_and_a_log_scale(page, server, api):
    sid = open_playground(page, server)
    s = play_until_epoch(page, api, sid, 40)
    expect(epoch_shown(page)).to_have_text(str(s["training"]["epoch"]))
    h = history(api, sid)
    chart = loss_chart(page)
    # The chart waits for the paused frame: its last epoch tick is at most the history's end.
    x = tick_texts(chart.locator(".pg-tick-x"))
    assert x[0] == "0", x  # the run from epoch 0, not its last 95 %
    assert h["epoch"][0] == 0
    nums = [int(t) for t in x]
    assert nums == sorted(nums) and len(nums) >= 3
    assert nums[-1] <= h["epoch"][-1] < nums[-1] + (nums[1] - nums[0]), (nums, h["epoch"][-1])
    # The first point drawn is epoch 0's, at the axis's left end (the y axis line's x).
    train = chart.locator(".pg-line--train").get_attribute("points").split()
    axis_x = float(chart.locator(".pg-axis line").nth(1).get_attribute("x1"))
    assert math.isclose(float(train[0].split(",")[0]), axis_x, abs_tol=0.1)
    # Linear: the loss ticks start at 0 and the top one is at or above every loss.
    y = [float(t) for t in tick_texts(chart.locator(".pg-tick-y"))]
    top = max(v for v in h["train_loss"] + h["test_loss"] if v is not None)
    assert y[0] == 0 and y[-1] >= top and y[-2] < top, (y, top)
    shot(page, "chart-loss-linear", "#pg-loss-chart")

    page.get_by_label("Log scale").check()
    wait_until(lambda: "(log)" in (chart.text_content() or ""),
               "the loss axis says it is logarithmic")
    y = [float(t) for t in tick_texts(chart.locator(".pg-tick-y"))]
    low = min(v for v in h["train_loss"] + h["test_loss"] if v)
    # Whole decades around every loss: each tick ten times (or a power of ten times) the last.
    assert y[0] <= low and y[-1] >= top, (y, low, top)
    ratios = {round(math.log10(b / a), 9) for a, b in zip(y, y[1:], strict=False)}
    assert len(ratios) == 1 and next(iter(ratios)) >= 1 and float(next(iter(ratios))).is_integer()
    assert all(math.isclose(math.log10(v), round(math.log10(v))) for v in y)
    # The choice is the page's view: it is in the address, as the other view toggles.
    expect(page).to_have_url(re.compile(r"[?&]logloss=(1|true)\b"))
    shot(page, "chart-loss-log", "#pg-loss-chart")


def frame_boundary(page) -> dict:
    # The frame's boundary (kind, range, extent) is what the legend describes; the page shows
    # it only as colours, so the test reads the frame the page holds.
    return page.evaluate("() => { const b = window.nnplay.state.frame.boundary;"
                         " return {kind: b.kind, range: b.range, extent: b.extent}; }")


def class_colours(page) -> list[str]:
    return page.evaluate("() => JSON.parse(document.body.dataset.classColours)")


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_output_plot_has_axes_with_ticks_and_a_legend_of_its_colours(page, server, api):
    sid = open_playground(page, server)
    x_axis = page.get_by_role("group", name="x1 axis")
    y_axis = page.get_by_role("group", name="x2 axis")
    expect(x_axis).to_have_text(re.compile(r"-6.*6"))
    ticks = [t.strip() for t in x_axis.locator("span").all_inner_texts()]
    b = frame_boundary(page)
    lo, hi = b["extent"]
    assert (lo, hi) == (-6, 6)
    assert ticks == ["-6", "-4", "-2", "0", "2", "4", "6"]
    assert [t.strip() for t in y_axis.locator("span").all_inner_texts()] == ticks
    # The ticks sit where their values are: -6 at the plot's left edge, 6 at its right;
    # on the x2 axis 6 at the top.
    plot = page.get_by_label(re.compile("^Decision boundary with the data points")).bounding_box()
    spans = x_axis.locator("span")
    first, last = spans.first.bounding_box(), spans.last.bounding_box()
    assert abs(first["x"] + first["width"] / 2 - plot["x"]) < 2
    assert abs(last["x"] + last["width"] / 2 - (plot["x"] + plot["width"])) < 2
    top = y_axis.locator("span").last.bounding_box()
    assert abs(top["y"] + top["height"] / 2 - plot["y"]) < 2

    # Two classes (circle, one output): class 0 and 1 in their colours, the output's ramp
    # from -1 to 1, and the neuron maps' ramp.
    legend = page.get_by_role("list", name="Colour legend")
    assert b["kind"] == "binary"
    colours = class_colours(page)
    items = legend.get_by_role("listitem")
    expect(items.filter(has_text="class 0")).to_have_count(1)
    swatch = items.filter(has_text="class 0").locator(".pg-legend-swatch")
    assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(colours[0])
    swatch = items.filter(has_text="class 1").locator(".pg-legend-swatch")
    assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(colours[1])
    expect(items.filter(has_text="output")).to_have_text(re.compile(r"output\s*-1\s*1"))
    expect(items.filter(has_text="neuron maps")).to_have_text(re.compile(r"neuron maps\s*-1\s*1"))
    shot(page, "chart-output-plot-circle", ".pg-output")

    # Three classes (spiral3): one swatch per class, in the class colours, named.
    button(page, "spiral3").click()
    wait_until(lambda: api.get(f"/api/sessions/{sid}/dataset").json()["n_classes"] == 3,
               "the server has three classes")
    wait_until(lambda: frame_boundary(page)["kind"] == "classes", "a class map is drawn")
    expect(items.filter(has_text=re.compile(r"^class \d$"))).to_have_count(3)
    for k in range(3):
        swatch = items.filter(has_text=f"class {k}").locator(".pg-legend-swatch")
        assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(colours[k])
    expect(items.filter(has_text="output")).to_have_count(0)

    # Regression (sine): the ramp's ends are the frame's range, as the page prints numbers.
    button(page, "sine").click()
    wait_until(lambda: frame_boundary(page)["kind"] == "regression", "a regression map")
    settle(page)
    lo, hi = frame_boundary(page)["range"]
    ends = items.filter(has_text="output").locator(".pg-legend-value").all_inner_texts()
    assert len(ends) == 2
    assert abs(float(ends[0]) - lo) <= 0.01 * max(1, abs(lo))
    assert abs(float(ends[1]) - hi) <= 0.01 * max(1, abs(hi))


def test_discretized_map_has_no_stair_steps(page, server, api):
    sid = open_playground(page, server)
    page.get_by_label("Discretize output").check()
    play_until_epoch(page, api, sid, 30)
    settle(page)
    # The map is drawn on a grid four times the engine's (60 -> 240 pixels a side), its
    # regions' edges where the output crosses over: a stair-stepped edge changes colour
    # (almost) only on the coarse grid's pixel edges (x a multiple of 4); an interpolated
    # one anywhere, about a quarter of its changes on them.
    size, on_grid, changes = page.locator("#pg-boundary-map").evaluate("""(c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = c.width;
      let grid = 0, all = 0;
      for (let y = 0; y < n; y++) for (let x = 1; x < n; x++) {
        const a = 4 * (y * n + x), b = a - 4;
        if (d[a] !== d[b] || d[a + 2] !== d[b + 2]) { all++; if (x % 4 === 0) grid++; }
      }
      return [n, grid, all];
    }""")
    assert size == 240
    assert changes > 100, "the trained map has a boundary"
    assert on_grid / changes < 0.5, (on_grid, changes)
    shot(page, "chart-output-discretized", ".pg-plot")


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_chart_screenshots(browser, server, api, size):
    page = open_page(browser, *size)
    try:
        sid = open_playground(page, server)
        play_until_epoch(page, api, sid, 60)
        settle(page)
        w, h = size
        shot(page, f"charts-{w}x{h}")
        shot(page, f"charts-output-{w}x{h}", ".pg-output")
        shot(page, f"charts-network-{w}x{h}", "#network-view")
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_huge_values_are_printed_short_and_fit_their_boxes(page, server, api):
    sid = open_playground(page, server)
    step_epochs(page, 1)
    assert sid
