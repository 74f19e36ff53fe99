"""The SVG network: drawing, weight and bias sliders, keyboard (issue 4, items 1, 2, 6).

Each test opens the default page, finds neurons, edges and sliders by their names, and
checks what the server holds (the JSON API) and what the page shows (its text)."""

from __future__ import annotations

import math
import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    click_edge,
    edge,
    load,
    neuron,
    number_tokens,
    open_page,
    readout,
    set_hidden_layers,
    shot,
    shown_as,
    wait_shown,
    wait_until,
)


def model_of(api, sid):
    r = api.get(f"/api/sessions/{sid}/model")
    r.raise_for_status()
    return r.json()


def name_of(layers: list[int], l: int, j: int, features=("x1", "x2")) -> str:
    """The page's name of neuron j of layer l (static/js/equations.js neuronName)."""
    if l == 0:
        return features[j]
    return f"output {j + 1}" if l == len(layers) - 1 else f"hidden {l} neuron {j + 1}"


# POST /api/sessions/{id}/forward only computes (it changes nothing): the server's own
# outputs for given points, the reference the page's numbers are checked against.


def selected_point(api, sid):
    """The selected sample's point and label, from the server."""
    smp = api.get(f"/api/sessions/{sid}").json()["training"]["sample"]
    split = api.get(f"/api/sessions/{sid}/dataset").json()[smp["split"]]
    return split["points"][smp["index"]], split["labels"][smp["index"]]


def bce(outputs, labels) -> float:
    """Binary cross-entropy by hand: the mean of -(t log y + (1 - t) log(1 - y))."""
    return -sum(t * math.log(y) + (1 - t) * math.log(1 - y)
                for (y,), t in zip(outputs, labels, strict=True)) / len(labels)


def split_loss(api, sid, split: str) -> float:
    """A split's loss recomputed here from the server's outputs for its points (the
    default model is sigmoid + binary cross-entropy, no regularization)."""
    data = api.get(f"/api/sessions/{sid}/dataset").json()[split]
    out = api.post(f"/api/sessions/{sid}/forward", json={"points": data["points"]}).json()
    return bce(out["outputs"], data["labels"])


def params_panel(page):
    """The step panel, where a picked neuron's parameters are listed with sliders."""
    return page.get_by_role("region", name="One training step, step by step")


def slider_value(scope, label: str):
    """The number shown beside the slider named `label`."""
    return scope.locator(".nv-slider").filter(
        has=scope.page.get_by_role("slider", name=label, exact=True)).get_by_role("status")


def test_page_draws_every_neuron_and_edge_with_the_engines_values(page, server, api):
    sid = load(page, server)
    doc = model_of(api, sid)
    layers = doc["layers"]
    neurons = page.get_by_role("button", name=re.compile(r": show its parameters$"))
    expect(neurons).to_have_count(sum(layers))
    # the drawing has a line per weight
    assert page.locator("#network-view path.nv-edge").count() == sum(
        a * b for a, b in zip(layers, layers[1:], strict=False))
    # each neuron's value label shows the engine's activation for the selected sample
    point, _ = selected_point(api, sid)
    fwd = api.post(f"/api/sessions/{sid}/forward", json={"points": [point]}).json()
    for l, acts in enumerate(fwd["activations"]):
        for j, a in enumerate(acts[0]):
            wait_shown(page.locator(f'.nv-value[data-layer="{l}"][data-neuron="{j}"]'), a)
    # every neuron, picked, lists its incoming weights and its bias with the server's values
    panel = params_panel(page)
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            me = name_of(layers, l, j)
            neuron(page, me).click()
            for i in range(layers[l - 1]):
                wait_shown(slider_value(panel, f"weight from {name_of(layers, l - 1, i)} to {me}"),
                           doc["weights"][l - 1][i][j])
            wait_shown(slider_value(panel, f"bias of {me}"), doc["biases"][l - 1][j])
            page.keyboard.press("Escape")  # close the neuron's slider box
    # one heatmap canvas per column, and every neuron's map painted in it (opaque pixels);
    # pixels have no person-level reading: the canvas is read back
    assert page.locator(".nv-heat").count() == len(layers)
    for l, n in enumerate(layers):
        for j in range(n):
            alpha = page.evaluate(MAP_PIXELS, [l, j])[3::4]
            assert min(alpha) == 255, f"neuron ({l}, {j}) has no map"
    shot(page, "network-default-1280x800")


def test_dragging_a_weight_slider_shows_the_apis_outputs_and_loss(page, server, api):
    sid = load(page, server)
    label = "weight from x2 to hidden 1 neuron 1"
    click_edge(page, label)
    box = page.get_by_role("dialog", name="change a parameter")
    slider = box.get_by_role("slider", name=label, exact=True)
    for value in (1.25, -2.5, 0.75):
        slider.fill(str(value))
        wait_shown(slider_value(box, label), value)
        wait_until(lambda v=value: model_of(api, sid)["weights"][0][1][0] == v,
                   f"the server holds the weight {value}")
    # the edge itself, focused, is named with its weight
    edge(page, label).focus()
    expect(edge(page, label)).to_have_accessible_name(f"{label}: 0.75")
    # the readouts show the server's outputs for the sample, and both splits' losses as
    # recomputed here from the server's outputs
    point, _ = selected_point(api, sid)
    out = api.post(f"/api/sessions/{sid}/forward", json={"points": [point]}).json()["outputs"][0]
    wait_shown(readout(page, "prediction"), out)
    wait_shown(readout(page, "train loss"), split_loss(api, sid, "train"))
    wait_shown(readout(page, "test loss"), split_loss(api, sid, "test"))
    last = len(model_of(api, sid)["layers"]) - 1
    wait_shown(page.locator(f'.nv-value[data-layer="{last}"][data-neuron="0"]'), out[0])
    # the gradient hint says which way lowers the loss: its arrow agrees with the sign of
    # the gradient it shows, and that gradient is central differences' on the current batch
    hint = box.locator(".nv-slider").filter(
        has=page.get_by_role("slider", name=label, exact=True)).locator("span").filter(
        has_text="∂L/∂w")
    text = hint.inner_text()
    g = number_tokens(text.split("=")[1])[0]
    check = api.get(f"/api/sessions/{sid}/gradient-check").json()
    numeric = next(p["numeric"] for p in check["parameters"]
                   if p["parameter"] == "weights[0][1][0]")
    assert shown_as(g, numeric), (text, numeric)
    assert text.startswith("▲ raise it" if float(g) < 0 else "▼ lower it" if float(g) > 0
                           else "no effect"), text
    shot(page, "weight-slider-1280x800")


def test_neuron_panel_lists_its_parameters_and_bias_slider_moves_the_bias(page, server, api):
    sid = load(page, server)
    doc = model_of(api, sid)
    neuron(page, "hidden 1 neuron 2").click()
    panel = params_panel(page)
    weights = panel.get_by_role("slider", name=re.compile(r"^weight from .* to hidden 1 neuron 2$"))
    expect(weights).to_have_count(doc["layers"][0])
    page.keyboard.press("Escape")  # close the slider box: the panel's own slider is used
    bias = panel.get_by_role("slider", name="bias of hidden 1 neuron 2", exact=True)
    bias.fill("1.5")
    wait_shown(slider_value(panel, "bias of hidden 1 neuron 2"), 1.5)
    wait_until(lambda: model_of(api, sid)["biases"][0][1] == 1.5, "the server holds the bias")
    point, _ = selected_point(api, sid)
    fwd = api.post(f"/api/sessions/{sid}/forward", json={"points": [point]}).json()
    wait_shown(readout(page, "prediction"), fwd["outputs"][0])
    # the neuron's own value label shows its new activation
    wait_shown(page.locator('.nv-value[data-layer="1"][data-neuron="1"]'),
               fwd["activations"][1][0][1])


def test_keyboard_opens_a_neuron_changes_its_bias_and_closes(page, server, api):
    sid = load(page, server)
    before = model_of(api, sid)["biases"][0][0]
    node = neuron(page, "hidden 1 neuron 1")
    node.focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("dialog", name="change a parameter")
    slider = box.get_by_role("slider", name="bias of hidden 1 neuron 1", exact=True)
    expect(slider).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # two steps of the slider's 0.01 from where it stood
    expected = round(before, 2) + 0.02
    wait_shown(slider_value(box, "bias of hidden 1 neuron 1"), expected)
    wait_until(lambda: abs(model_of(api, sid)["biases"][0][0] - expected) < 1e-9,
               "the server holds the new bias")
    assert model_of(api, sid)["biases"][0][0] == float(slider.input_value())
    assert abs(float(slider.input_value()) - expected) < 1e-9
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(node).to_be_focused()


def test_dark_mode_and_a_wide_network_draw_without_errors(browser, server, api):
    page = open_page(browser, 1920, 1080, color_scheme="dark")
    try:
        sid = load(page, server)
        set_hidden_layers(page, [8, 8, 8, 8, 8, 8])
        layers = [2, 8, 8, 8, 8, 8, 8, 1]
        assert model_of(api, sid)["layers"] == layers
        nodes = page.get_by_role("button", name=re.compile(r": show its parameters$"))
        expect(nodes).to_have_count(sum(layers))
        # no two neurons overlap on the screen: their boxes are disjoint
        boxes = [(b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"])
                 for b in (nodes.nth(k).bounding_box() for k in range(sum(layers)))]
        for k, a in enumerate(boxes):
            for b in boxes[k + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        # the colour the page is painted in (no person-level reading of a colour): the dark
        # palette, not the light one
        bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert bg != "rgb(246, 247, 249)"
        shot(page, "network-6x8-dark-1920x1080")
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_maps_have_a_pixel_for_every_device_pixel(browser, server):
    """Crisp at any zoom: each column's canvas holds at least as many pixels as it covers
    on the screen, at one and at two device pixels per CSS pixel."""
    for scale in (1, 2):
        page = open_page(browser, 1280, 800, scale=scale)
        try:
            load(page, server)
            # a canvas's own pixel size against its size on the screen: no person-level reading
            cover = page.eval_on_selector_all(".nv-heat", """cs => cs.map(c => {
              const r = c.getBoundingClientRect(), d = devicePixelRatio;
              return [c.width / (r.width * d), c.height / (r.height * d)];
            })""")
            assert cover and min(min(c) for c in cover) >= 1, (scale, cover)
            assert not page.errors, page.errors
        finally:
            page.context.close()


# Canvas pixels are read from a copy made for reading (reading the page's own canvases
# many times would make Chrome warn, and the page fails on warnings).
READ = """const readable = (canvas) => {
  const c = document.createElement("canvas");
  c.width = canvas.width;
  c.height = canvas.height;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0);
  return ctx;
};
// Where neuron (l, j)'s map lies in its column's canvas: its box on the screen, in canvas
// pixels, less the map's inset of 1.25 of the box's 36 drawing units.
const mapRect = (l, j) => {
  const canvas = document.querySelector(`canvas.nv-heat[data-layer="${l}"]`);
  const box = document.querySelector(`.nv-node[data-layer="${l}"][data-neuron="${j}"] .nv-box`)
    .getBoundingClientRect();
  const c = canvas.getBoundingClientRect(), k = canvas.width / c.width;
  const inset = box.width * k * 1.25 / 36;
  return { canvas, x: (box.left - c.left) * k + inset, y: (box.top - c.top) * k + inset,
           side: box.width * k - 2 * inset };
};"""

# The pixels of neuron (l, j)'s map, inside its column's canvas.
MAP_PIXELS = f"""([l, j]) => {{
  {READ}
  const r = mapRect(l, j);
  return Array.from(readable(r.canvas).getImageData(Math.ceil(r.x), Math.ceil(r.y),
    Math.floor(r.side) - 1, Math.floor(r.side) - 1).data);
}}"""

# Neuron (l, j)'s map sampled back at the centres of its n x n cells, as RGBA.
MAP_CELLS = f"""([l, j, n]) => {{
  {READ}
  const r = mapRect(l, j);
  const ctx = readable(r.canvas);
  const all = ctx.getImageData(0, 0, r.canvas.width, r.canvas.height).data;
  const out = [];
  for (let y = 0; y < n; y++) {{
    for (let x = 0; x < n; x++) {{
      const px = Math.floor(r.x + (x + 0.5) * r.side / n);
      const py = Math.floor(r.y + (y + 0.5) * r.side / n);
      const k = 4 * (py * r.canvas.width + px);
      out.push(all[k], all[k + 1], all[k + 2], all[k + 3]);
    }}
  }}
  return out;
}}"""

# The large map's pixels and its size in cells (one canvas pixel a cell).
BIG_MAP = f"""(canvas) => {{
  {READ}
  const ctx = readable(canvas);
  return [canvas.width, Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data)];
}}"""


def rgb_distance(a, b):
    """Mean absolute difference of two RGBA pixel lists over their colour channels."""
    return sum(abs(a[k] - b[k]) for k in range(len(a)) if k % 4 != 3) / (len(a) * 3 / 4)


def test_hovering_a_neuron_shows_its_map_large(page, server):
    load(page, server)
    big = page.locator(".nv-bigmap")
    expect(big).to_be_hidden()
    neuron(page, "hidden 1 neuron 2").hover()
    expect(big).to_be_visible()
    expect(big.locator("figcaption")).to_have_text("hidden 1 neuron 2")
    # the large map is this neuron's map (its n x n cells, drawn at 200 px): the small
    # map sampled at its cells' centres gives the same colours, and another neuron's does
    # not (pixels: the canvases are read back)
    n, large = big.locator("canvas").evaluate(BIG_MAP)
    assert len(large) == 4 * n * n
    mine = rgb_distance(large, page.evaluate(MAP_CELLS, [1, 1, n]))
    other = rgb_distance(large, page.evaluate(MAP_CELLS, [1, 0, n]))
    assert mine < 3 and other > mine, (mine, other)
    assert big.locator("canvas").bounding_box()["width"] == 200
    shot(page, "neuron-map-large-1280x800")
    page.mouse.move(2, 2)
    expect(big).to_be_hidden()
    # the keyboard shows it too
    neuron(page, "hidden 2 neuron 1").focus()
    expect(big).to_be_visible()
    expect(big.locator("figcaption")).to_have_text("hidden 2 neuron 1")
