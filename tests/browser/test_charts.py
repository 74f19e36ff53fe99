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
    ARTIFACTS,
    click_edge,
    epoch_shown,
    figure,
    open_page,
    readout,
    set_hidden_layers,
    settle,
    shot,
    wait_until,
)
from tests.browser.test_playground_data import open_playground


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
    # The epoch axis: from 0 (the run's start, not its last 95 %) in round steps, ending at
    # the history's last epoch.
    expect(chart.locator(".pg-tick-x").last).to_have_text(str(h["epoch"][-1]))
    nums = [int(t) for t in tick_texts(chart.locator(".pg-tick-x"))]
    assert nums[0] == 0 == h["epoch"][0], nums
    steps = {b - a for a, b in zip(nums[:-2], nums[1:-1], strict=True)}
    assert len(steps) == 1 and str(next(iter(steps))).rstrip("0") in ("1", "2", "25", "5")
    assert nums[-2] < nums[-1] == h["epoch"][-1], nums
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
    # The network view's legend names the same ramp for the maps in its neurons.
    expect(page.locator(".nv-legend")).to_contain_text(re.compile(r"maps\s*-1\s*1"))
    ramps = page.locator(".pg-legend-ramp")
    assert len({ramps.nth(k).evaluate("e => getComputedStyle(e).backgroundImage")
                for k in range(ramps.count())}) == 1  # one ramp: the output's, the maps'

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
    # regions' edges where the output crosses over. Stair steps (each engine pixel a 4 x 4
    # block) would make the 4 rows of a block identical; an interpolated edge moves from
    # row to row inside a block too.
    size, inside, between = page.locator("#pg-boundary-map").evaluate("""(c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = c.width;
      const rowDiffers = (y) => {
        for (let x = 0; x < n; x++) {
          const a = 4 * (y * n + x), b = a - 4 * n;
          if (d[a] !== d[b] || d[a + 1] !== d[b + 1] || d[a + 2] !== d[b + 2]) return true;
        }
        return false;
      };
      let inside = 0, between = 0;
      for (let y = 1; y < n; y++) if (rowDiffers(y)) { if (y % 4) inside++; else between++; }
      return [n, inside, between];
    }""")
    assert size == 240
    assert between > 0, "the trained map has a boundary"
    assert inside > between, (inside, between)
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


def model_of(api, sid: str) -> dict:
    return api.get(f"/api/sessions/{sid}/model").json()


def overflowing(page) -> list[str]:
    """The numbers a person reads whose text is wider than their box: a neuron's value
    label against its column (the drawing's value column, 64 units wide), the figures,
    sliders' values and legend values against their own boxes."""
    return page.evaluate("""() => {
      const bad = [];
      for (const e of document.querySelectorAll('.nv-value')) {
        if (!e.textContent) continue;
        const r = e.getBoundingClientRect();
        const col = e.closest('foreignObject').getBoundingClientRect();
        if (r.left < col.left - 1 || r.right > col.right + 1) bad.push('value ' + e.textContent);
      }
      for (const e of document.querySelectorAll(
          '.pg-figures dd, .nv-slider-value, .pg-legend-value, .nv-readout b')) {
        if (e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1) bad.push(e.textContent);
      }
      return bad;
    }""")


def test_huge_values_are_printed_short_and_fit_their_boxes(page, server, api):
    sid = open_playground(page, server)
    # A regression (plane: one linear output) shows an output as large as its weights make it.
    button(page, "plane").click()
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["dataset"]["name"] == "plane",
               "the server has the plane data")
    settle(page)
    label = "weight from hidden 2 neuron 1 to output 1"
    click_edge(page, label)
    dialog = page.get_by_role("dialog", name="change a parameter")
    box = dialog.get_by_role("spinbutton", name=f"{label} (number)")
    box.fill("1e150")
    box.press("Enter")
    wait_until(lambda: model_of(api, sid)["weights"][2][0][0] == 1e150,
               "the server holds the weight 1e150")
    out = api.post(f"/api/sessions/{sid}/forward",
                   json={"points": [selected(api, sid)]}).json()["outputs"][0][0]
    assert abs(out) > 1e100, out
    node = page.locator('.nv-value[data-layer="3"][data-neuron="0"]')
    # The output node: three significant digits and the exponent ("-4.26e+149"), never the
    # 17 digits of the float; as the page prints it, the server's number.
    wait_until(lambda: node.inner_text() == fmt_exp(out), f"the output node shows {fmt_exp(out)}")
    assert len(node.inner_text()) <= 10
    expect(readout(page, "prediction")).to_have_text(f"({fmt_exp(out)})")
    # Every figure a person reads is short and fits its box, the losses too (about 1e300).
    for name in ("Train loss", "Test loss", "MSE"):
        text = figure(page, name).inner_text()
        assert re.fullmatch(r"-?\d(\.\d+)?e[+-]\d+|∞|–", text), (name, text)
    assert not overflowing(page)
    shot(page, "chart-huge-values")


def selected(api, sid: str) -> list[float]:
    """The point of the sample the readouts show (the server's selected sample)."""
    s = api.get(f"/api/sessions/{sid}").json()
    sample = s["training"].get("sample") or {}
    data = api.get(f"/api/sessions/{sid}/dataset").json()
    split = sample.get("split", "train")
    return data[split]["points"][sample.get("index", 0)]


def fmt_exp(x: float) -> str:
    """x as format.js writes a very large value: 3 significant digits, signed exponent
    (Python's %e writes the exponent with at least two digits; the page does not pad)."""
    mantissa, exponent = f"{x:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent[0]}{int(exponent[1:])}"


def test_typed_learning_rate_reaches_the_server(page, server, api):
    sid = open_playground(page, server)
    typed = page.get_by_role("spinbutton", name="Type a learning rate")
    typed.fill("0.0042")
    typed.press("Enter")
    wait_until(lambda: model_of(api, sid)["optimizer"]["learning_rate"] == 0.0042,
               "the server holds the learning rate 0.0042")
    settle(page)
    # The list shows it, chosen, and the address keeps it.
    expect(page.get_by_role("combobox", name="Learning rate")).to_have_value("0.0042")
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.0042\b"))
    # Out of the table's bounds: refused with the field named, nothing changed.
    typed = page.get_by_role("spinbutton", name="Type a learning rate")
    typed.fill("20")
    typed.press("Enter")
    settle(page)
    expect(page.get_by_role("alert").filter(has_text="20")).to_contain_text("outside")
    assert model_of(api, sid)["optimizer"]["learning_rate"] == 0.0042


def test_typed_weight_beyond_the_sliders_range_reaches_the_server(page, server, api):
    sid = open_playground(page, server)
    label = "weight from x2 to hidden 1 neuron 1"
    click_edge(page, label)
    dialog = page.get_by_role("dialog", name="change a parameter")
    box = dialog.get_by_role("spinbutton", name=f"{label} (number)")
    box.fill("12.5")
    box.press("Enter")
    wait_until(lambda: model_of(api, sid)["weights"][0][1][0] == 12.5,
               "the server holds the weight 12.5")
    slider = dialog.get_by_role("slider", name=label, exact=True)
    # The slider goes as far as it reaches: its end.
    wait_until(lambda: slider.input_value() == slider.get_attribute("max"),
               "the slider shows its maximum")
    expect(dialog.get_by_role("status")).to_have_text("12.5")
    shot(page, "chart-typed-weight", ".nv-popover")
    # Not a number: the box says so (the browser's own message), nothing is sent.
    box.fill("")
    box.press("Enter")
    assert box.evaluate("b => b.validationMessage") != ""
    assert model_of(api, sid)["weights"][0][1][0] == 12.5


def test_exports_of_the_plot_the_chart_and_the_network(page, server, api, tmp_path):
    sid = open_playground(page, server)
    play_until_epoch(page, api, sid, 20)
    settle(page)
    for name, filename in (("Output plot as PNG", "nnplay-output.png"),
                           ("Loss chart as PNG", "nnplay-loss.png"),
                           ("Network as PNG", "nnplay-network.png")):
        with page.expect_download() as info:
            page.get_by_role("button", name=name).click()
        path = tmp_path / filename
        info.value.save_as(path)
        info.value.save_as(ARTIFACTS / f"export-{filename}")  # to be looked at
        assert info.value.suggested_filename == filename
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, (name, len(data))
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 300 and height >= 140, (name, width, height)
    with page.expect_download() as info:
        page.get_by_role("button", name="Network as SVG").click()
    path = tmp_path / "net.svg"
    info.value.save_as(path)
    text = path.read_text()
    head = re.match(r"<svg[^>]*>", text).group(0)
    view_box = [float(v) for v in re.search(r'viewBox="([^"]+)"', head).group(1).split()]
    # Its own size: the drawing's, in pixels, not the window's; no page layout (58vh).
    assert re.search(r'\swidth="(\d+)"', head).group(1) == str(round(view_box[2]))
    assert re.search(r'\sheight="(\d+)"', head).group(1) == str(round(view_box[3]))
    css = "".join(re.findall(r"<style[^>]*>(.*?)</style>", text, re.S))
    assert 0 < len(css) < 10_000, len(css)
    assert "vh" not in css and "@media" not in css
    assert ".nv-edge" in css and "--pos" in css  # what the edges' colours need


def stroke_widths(page) -> dict[int, list[float]]:
    """Each layer's edges' stroke widths, as drawn (the SVG's attributes)."""
    pairs = page.evaluate("""() => [...document.querySelectorAll('path.nv-edge')]
        .map((e) => [+e.dataset.layer, +e.getAttribute('stroke-width')])""")
    out: dict[int, list[float]] = {}
    for layer, w in pairs:
        out.setdefault(layer, []).append(w)
    return out


def test_a_trained_deep_network_has_readable_edges(page, server, api):
    sid = open_playground(page, server)
    page.set_viewport_size({"width": 1920, "height": 1080})
    set_hidden_layers(page, [8] * 6)
    button(page, "spiral").click()
    wait_until(lambda: model_of(api, sid)["layers"][1:-1] == [8] * 6, "6 x 8 on the server")
    page.get_by_role("combobox", name="Speed", exact=True).select_option("max")  # flat out
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["speed"] == "max",
               "flat out on the server")
    play_until_epoch(page, api, sid, 300)
    settle(page)
    doc = model_of(api, sid)
    biggest = max(abs(w) for W in doc["weights"] for row in W for w in row)
    assert biggest > 1, biggest  # trained: weights past the old cap's proportions
    widths = wait_until(lambda: (w := stroke_widths(page)) and len(w) == 7 and w, "edges drawn")
    for layer, ws in widths.items():
        most = max(abs(w) for row in doc["weights"][layer] for w in row)
        # thickest at most 5 (the layer's largest weight), thinnest at least 0.5: a ratio
        # of at most 10 in a layer, and the layer's largest weight drawn widest
        assert max(ws) / min(ws) <= 10.0 + 1e-9, (layer, min(ws), max(ws))
        assert max(ws) == (5.0 if most >= 1 else round((0.5 + 4.5 * most) * 10) / 10)
    # and fainter with it: the opacity the attribute gives each edge follows its width
    pairs = page.evaluate("""() => [...document.querySelectorAll('path.nv-edge')].map((e) =>
        [+e.getAttribute('stroke-width'), +getComputedStyle(e).strokeOpacity])""")
    for width, opacity in pairs:
        assert abs(opacity - (0.3 + 0.6 * (width - 0.5) / 4.5)) < 0.006, (width, opacity)
    expect(page.locator(".nv-legend")).to_contain_text(
        "width = |weight| ÷ its layer's largest (≥ 1)")
    shot(page, "chart-network-6x8-1920x1080", "#network-view")


# (value, kind, text): hand-worked from the rules in static/js/format.js (digits per kind,
# exponent form outside each kind's range).
FORMATTED = [
    (1.8180036970128325e+154, "value", "1.82e+154"),
    (-3.2e-7, "value", "-3.2e-7"),
    (0.5, "value", "0.5"),
    (-0.0, "value", "0"),
    (1.23456, "value", "1.2346"),
    (12.34567, "value", "12.346"),
    (1234.5678, "value", "1234.6"),
    (12345.6, "value", "1.23e+4"),
    (0.95, "ratio", "0.9500"),
    (1, "ratio", "1.0000"),
    (0.0123456, "loss", "0.01235"),
    (0.693147, "loss", "0.6931"),
    (2.2e-13, "loss", "2.2e-13"),
    (0.0042, "rate", "0.0042"),
    (1e-5, "rate", "1e-5"),
    (123456, "count", "123456"),
    (1234.56, "speed", "1234.6"),
    (0, "speed", "0.0"),
    (0.25, "tick", "0.25"),
    (1e-4, "tick", "1e-4"),
    (None, "value", "\u2013"),
    (float("inf"), "loss", "\u221e"),
]


def test_the_formatter_writes_each_kind_of_number_short(page, server):
    # A unit check of format.js, run in the page's own browser (the module is an ES module
    # of the page): the journeys above show it on screen; this pins each kind's digits.
    open_playground(page, server)
    got = page.evaluate("""async (cases) => {
      const { formatNumber } = await import('/static/js/format.js');
      return cases.map(([x, kind]) => formatNumber(x === 'inf' ? Infinity : x, kind));
    }""", [["inf" if x == float("inf") else x, kind] for x, kind, _ in FORMATTED])
    assert got == [text for _, _, text in FORMATTED]
