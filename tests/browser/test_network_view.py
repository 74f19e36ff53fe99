"""The SVG network: drawing, weight and bias sliders, keyboard (issue 4, items 1, 2, 6)."""

from __future__ import annotations

import json

from tests.browser.conftest import load, shot, wait_model_shown, wait_numbers


def model_of(api, sid):
    r = api.get(f"/api/sessions/{sid}/model")
    r.raise_for_status()
    return r.json()


def test_page_draws_every_neuron_and_edge_with_the_engines_values(page, server, api):
    sid = load(page, server)
    doc = model_of(api, sid)
    layers = doc["layers"]
    assert page.locator("#network-view .nv-node").count() == sum(layers)
    assert page.locator("#network-view path.nv-edge").count() == sum(
        a * b for a, b in zip(layers, layers[1:], strict=False))
    # each neuron's value element shows the engine's activation for the selected sample
    session = api.get(f"/api/sessions/{sid}").json()
    smp = session["training"]["sample"]
    data = api.get(f"/api/sessions/{sid}/dataset").json()
    point = data[smp["split"]]["points"][smp["index"]]
    fwd = api.post(f"/api/sessions/{sid}/forward", json={"points": [point]}).json()
    for l, acts in enumerate(fwd["activations"]):
        for j, a in enumerate(acts[0]):
            wait_numbers(page, f'.nv-value[data-layer="{l}"][data-neuron="{j}"]', a)
    # every edge carries its weight (written at most 100 ms after the frame), every bias
    # marker its bias
    wait_model_shown(page, doc)
    # one heatmap canvas per column, and every neuron's map painted in it (opaque pixels)
    assert page.locator(".nv-heat").count() == len(layers)
    for l, n in enumerate(layers):
        for j in range(n):
            alpha = page.evaluate(MAP_PIXELS, [l, j])[3::4]
            assert min(alpha) == 255, f"neuron ({l}, {j}) has no map"
    shot(page, "network-default-1280x800")


def test_dragging_a_weight_slider_shows_the_apis_outputs_and_loss(page, server, api):
    sid = load(page, server)
    # a curve's box centre may lie off its stroke, so the click is dispatched on the edge itself
    page.locator('path.nv-hit[data-layer="0"][data-from="1"][data-to="0"]').dispatch_event("click")
    slider = page.locator(
        '.nv-popover input[type="range"][data-layer="0"][data-from="1"][data-to="0"]')
    assert slider.get_attribute("aria-label").startswith("weight from x2 to hidden 1 neuron 1")
    for value in (1.25, -2.5, 0.75):
        slider.fill(str(value))
        page.wait_for_function(
            "v => +document.querySelector('path.nv-edge[data-layer=\"0\"][data-from=\"1\"]"
            "[data-to=\"0\"]').dataset.value === v", arg=value)
    # the API agrees on the weight; PATCHing the same value returns the sample's outputs and loss
    assert model_of(api, sid)["weights"][0][1][0] == 0.75
    answer = api.patch(f"/api/sessions/{sid}/weights",
                       json={"layer": 0, "from": 1, "to": 0, "value": 0.75}).json()
    wait_numbers(page, '[data-readout="prediction"]', answer["outputs"][0])
    wait_numbers(page, '[data-readout="train-loss"]', answer["train_loss"])
    wait_numbers(page, '[data-readout="test-loss"]', answer["test_loss"])
    last = len(model_of(api, sid)["layers"]) - 1
    out = page.locator(f'.nv-value[data-layer="{last}"][data-neuron="0"]')
    assert float(out.get_attribute("data-value")) == answer["outputs"][0][0]
    # the gradient hint says which way lowers the loss, from the frame's gradient sign
    hint = page.locator(".nv-popover [data-role=gradient]")
    assert hint.get_attribute("data-sign") in ("-1", "0", "1")
    assert "loss" in hint.inner_text()
    shot(page, "weight-slider-1280x800")


def test_neuron_panel_lists_its_parameters_and_bias_slider_moves_the_bias(page, server, api):
    sid = load(page, server)
    doc = model_of(api, sid)
    page.locator('.nv-node[data-layer="1"][data-neuron="1"]').click()
    panel = page.locator('#step-panel [data-role="params"]')
    n_in = doc["layers"][0]
    assert panel.locator('input[type="range"][data-from]').count() == n_in
    bias = panel.locator('input[type="range"][data-layer="0"][data-neuron="1"]')
    assert bias.get_attribute("aria-label") == "bias of hidden 1 neuron 2"
    bias.fill("1.5")
    page.wait_for_function(
        "() => +document.querySelector('circle.nv-bias[data-layer=\"0\"][data-neuron=\"1\"]')"
        ".dataset.value === 1.5")
    assert model_of(api, sid)["biases"][0][1] == 1.5
    session = api.get(f"/api/sessions/{sid}").json()
    smp = session["training"]["sample"]
    point = api.get(f"/api/sessions/{sid}/dataset").json()[smp["split"]]["points"][smp["index"]]
    fwd = api.post(f"/api/sessions/{sid}/forward", json={"points": [point]}).json()
    wait_numbers(page, '[data-readout="prediction"]', fwd["outputs"][0])


def test_keyboard_opens_a_neuron_changes_its_bias_and_closes(page, server, api):
    sid = load(page, server)
    before = model_of(api, sid)["biases"][0][0]
    node = page.locator('.nv-node[data-layer="1"][data-neuron="0"]')
    node.focus()
    page.keyboard.press("Enter")
    slider = page.locator('.nv-popover input[data-layer="0"][data-neuron="0"]')
    slider.wait_for()
    assert page.evaluate("() => document.activeElement.dataset.neuron") == "0"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expected = float(slider.input_value())
    assert expected != before
    page.wait_for_function(
        "v => +document.querySelector('circle.nv-bias[data-layer=\"0\"][data-neuron=\"0\"]')"
        ".dataset.value === v", arg=expected)
    assert model_of(api, sid)["biases"][0][0] == expected
    page.keyboard.press("Escape")
    assert page.locator(".nv-popover").is_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('nv-node')")


def test_dark_mode_and_a_wide_network_draw_without_errors(browser, server, api):
    from tests.browser.conftest import open_page

    page = open_page(browser, 1920, 1080, color_scheme="dark")
    try:
        sid = load(page, server)
        layers = [2, 8, 8, 8, 8, 8, 8, 1]
        r = api.put(f"/api/sessions/{sid}/model", json={
            "layers": layers, "activation": "tanh", "output_activation": "tanh", "loss": "mse"})
        assert r.status_code == 200, r.text
        page.wait_for_function("n => document.querySelectorAll('.nv-node').length === n",
                               arg=sum(layers))
        # no two neurons overlap: their boxes are disjoint
        boxes = page.eval_on_selector_all(".nv-node .nv-box", "rs => rs.map(r => {"
                                          "const b = r.getBoundingClientRect();"
                                          "return [b.left, b.top, b.right, b.bottom]; })")
        for k, a in enumerate(boxes):
            for b in boxes[k + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert json.dumps(bg) != json.dumps("rgb(246, 247, 249)")  # the dark palette is in use
        shot(page, "network-6x8-dark-1920x1080")
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_maps_have_a_pixel_for_every_device_pixel(browser, server):
    """Crisp at any zoom: each column's canvas holds at least as many pixels as it covers
    on the screen, at one and at two device pixels per CSS pixel."""
    from tests.browser.conftest import open_page

    for scale in (1, 2):
        page = open_page(browser, 1280, 800, scale=scale)
        try:
            load(page, server)
            cover = page.eval_on_selector_all(".nv-heat", """cs => cs.map(c => {
              const r = c.getBoundingClientRect(), d = devicePixelRatio;
              return [c.width / (r.width * d), c.height / (r.height * d)];
            })""")
            assert cover and min(min(c) for c in cover) >= 1, (scale, cover)
            assert not page.errors, page.errors
        finally:
            page.context.close()


PIXELS = """([sel]) => {
  const c = document.querySelector(sel);
  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
}"""

# The pixels of neuron (l, j)'s map, inside its column's canvas.
MAP_PIXELS = """([l, j]) => {
  const r = window.nnplay.view.heatRect(l, j);
  const ctx = r.canvas.getContext("2d");
  return Array.from(ctx.getImageData(Math.ceil(r.x), Math.ceil(r.y), Math.floor(r.side) - 1,
                                     Math.floor(r.side) - 1).data);
}"""


# Neuron (l, j)'s map sampled back at the centres of its n x n cells, as RGBA.
MAP_CELLS = """([l, j, n]) => {
  const r = window.nnplay.view.heatRect(l, j);
  const ctx = r.canvas.getContext("2d");
  const out = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const px = Math.floor(r.x + (x + 0.5) * r.side / n);
      const py = Math.floor(r.y + (y + 0.5) * r.side / n);
      out.push(...ctx.getImageData(px, py, 1, 1).data);
    }
  }
  return out;
}"""


def rgb_distance(a, b):
    """Mean absolute difference of two RGBA pixel lists over their colour channels."""
    return sum(abs(a[k] - b[k]) for k in range(len(a)) if k % 4 != 3) / (len(a) * 3 / 4)


def test_hovering_a_neuron_shows_its_map_large(page, server):
    load(page, server)
    big = page.locator(".nv-bigmap")
    assert big.is_hidden()
    node = page.locator('.nv-node[data-layer="1"][data-neuron="1"]')
    node.hover()
    big.wait_for(state="visible")
    assert big.get_attribute("data-layer") == "1" and big.get_attribute("data-neuron") == "1"
    assert big.locator("figcaption").inner_text() == "hidden 1 neuron 2"
    # the large map is this neuron's map (its 20 x 20 cells, drawn at 200 px): the small
    # map sampled at its cells' centres gives the same colours, and another neuron's does not
    large = page.evaluate(PIXELS, [".nv-bigmap canvas"])
    n = page.evaluate("() => window.nnplay.state.frame.heatmaps.size")
    assert len(large) == 4 * n * n
    mine = rgb_distance(large, page.evaluate(MAP_CELLS, [1, 1, n]))
    other = rgb_distance(large, page.evaluate(MAP_CELLS, [1, 0, n]))
    assert mine < 3 and other > mine, (mine, other)
    assert big.locator("canvas").bounding_box()["width"] == 200
    shot(page, "neuron-map-large-1280x800")
    page.mouse.move(2, 2)
    big.wait_for(state="hidden")
    # the keyboard shows it too
    page.locator('.nv-node[data-layer="2"][data-neuron="0"]').focus()
    big.wait_for(state="visible")
    assert big.locator("figcaption").inner_text() == "hidden 2 neuron 1"
