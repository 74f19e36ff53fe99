"""Playground share and keep in Chromium: links that reproduce a run, model files, pictures.

Each test sets the run up from the default page with its controls; opening a shared link
is the feature itself, so those tests go to the link's URL."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    epoch_shown,
    figure,
    more_settings,
    neuron,
    session_id,
    set_hidden_layers,
    settle,
    shot,
)
from tests.browser.test_playground_data import open_playground, upload


def share_link(page, with_weights: bool = False) -> str:
    url = page.get_by_role("textbox", name="Link to this run")
    previous = url.input_value() if url.count() else None
    page.get_by_label("with the current weights").set_checked(with_weights)
    page.get_by_role("button", name="Share link").click()
    if previous is not None:
        expect(url).not_to_have_value(previous)
    expect(url).to_have_value(re.compile(r"^http"))
    return url.input_value()


def steps(page, n: int) -> None:
    for k in range(1, n + 1):
        page.get_by_role("button", name="Step one epoch").click()
        expect(epoch_shown(page)).to_have_text(str(k))


def open_link(page, link: str) -> str:
    """Open a shared link (the URL is the feature under test); the new session's id."""
    page.goto(link)
    expect(figure(page, "Train loss")).to_have_text(re.compile(r"\d"))
    return session_id(page)


def seed_summary(page):
    """The drop-down's summary line, which names the seed of the initial weights."""
    return page.get_by_text(re.compile(r"^Output \S+, loss \S+"))


def test_a_shared_link_gives_the_same_run_back(page, server, api):
    sid = open_playground(page, server)
    settle(page)
    page.get_by_role("button", name="moons", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]data=moons\b"))
    settle(page)
    page.get_by_role("slider", name="Noise (%)").fill("10")
    expect(page).to_have_url(re.compile(r"[?&]noise=10\b"))
    settle(page)
    set_hidden_layers(page, [5, 3])
    settle(page)
    page.get_by_role("combobox", name="Activation", exact=True).select_option("relu")
    expect(page).to_have_url(re.compile(r"[?&]act=relu\b"))
    settle(page)
    more_settings(page)
    page.get_by_role("spinbutton", name="Seed", exact=True).fill("77")
    page.get_by_role("spinbutton", name="Seed", exact=True).press("Enter")
    expect(seed_summary(page)).to_contain_text(re.compile(r"\bseed 77\b"))
    settle(page)
    page.get_by_role("combobox", name="Learning rate").select_option("0.01")
    expect(page).to_have_url(re.compile(r"[?&]lr=0\.01\b"))
    settle(page)
    first = api.get(f"/api/sessions/{sid}").json()
    assert first["model"]["layers"] == [2, 5, 3, 1] and first["model"]["seed"] == 77
    assert first["model"]["activation"] == "relu" and first["dataset"]["name"] == "moons"
    assert first["model"]["optimizer"]["learning_rate"] == 0.01
    steps(page, 2)  # training does not change what the link reproduces: the start
    link = share_link(page)
    assert link.startswith(server)
    first = api.get(f"/api/sessions/{sid}").json()
    sid2 = open_link(page, link)
    assert sid2 != sid
    second = api.get(f"/api/sessions/{sid2}").json()
    assert second["dataset"] == first["dataset"]
    # Same initial weights: the new session starts where the first one started.
    assert second["model"]["weights"] == first["initial_model"]["weights"]
    assert second["model"]["biases"] == first["initial_model"]["biases"]
    for key in ("layers", "activation", "optimizer", "seed", "init", "loss"):
        assert second["model"][key] == first["model"][key]
    # and the page shows it: the moons picked, the network of 5 and 3
    expect(page.get_by_role("button", name="moons", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    expect(neuron(page, "hidden 1 neuron 5")).to_be_visible()
    expect(neuron(page, "hidden 2 neuron 3")).to_be_visible()
    expect(epoch_shown(page)).to_have_text("0")


def test_a_link_with_weights_restores_the_trained_model(page, server, api):
    sid = open_playground(page, server)
    page.get_by_role("button", name="xor", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]data=xor\b"))
    steps(page, 3)
    link = share_link(page, with_weights=True)
    trained = api.get(f"/api/sessions/{sid}/model").json()
    sid2 = open_link(page, link)
    restored = api.get(f"/api/sessions/{sid2}/model").json()
    assert restored["weights"] == trained["weights"]
    assert restored["biases"] == trained["biases"]


def test_export_then_import_a_model(page, server, api, tmp_path):
    sid = open_playground(page, server)
    set_hidden_layers(page, [3, 3])
    steps(page, 2)
    with page.expect_download() as info:
        page.get_by_role("button", name="Export model (JSON)").click()
    path = tmp_path / "model.json"
    info.value.save_as(path)
    exported = json.loads(path.read_text())
    assert exported == api.get(f"/api/sessions/{sid}/model").json()
    assert exported["layers"] == [2, 3, 3, 1]
    page.get_by_role("button", name="New seed").click()
    expect(seed_summary(page)).not_to_contain_text(re.compile(rf"\bseed {exported['seed']}\b"))
    expect(epoch_shown(page)).to_have_text("0")
    assert api.get(f"/api/sessions/{sid}/model").json()["weights"] != exported["weights"]
    upload(page, "Import model…", path)
    expect(seed_summary(page)).to_contain_text(re.compile(rf"\bseed {exported['seed']}\b"))
    imported = api.get(f"/api/sessions/{sid}/model").json()
    assert imported["weights"] == exported["weights"]
    assert imported["biases"] == exported["biases"]


def test_importing_a_broken_model_says_why(page, server, api, tmp_path):
    sid = open_playground(page, server)
    before = api.get(f"/api/sessions/{sid}/model").json()
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({**before, "weights": [[[1.0, 2.0]]]}))
    upload(page, "Import model…", path)
    expect(page.get_by_role("alert").filter(has_text="import refused")).to_have_text(
        re.compile(r"^import refused: weights"))
    assert api.get(f"/api/sessions/{sid}/model").json() == before


def test_export_the_network_picture_as_svg_and_png(page, server, api, tmp_path):
    sid = open_playground(page, server)
    layers = api.get(f"/api/sessions/{sid}/model").json()["layers"]
    with page.expect_download() as info:
        page.get_by_role("button", name="Network as SVG").click()
    svg = tmp_path / "net.svg"
    info.value.save_as(svg)
    text = svg.read_text()
    assert text.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in text
    assert info.value.suggested_filename == "nnplay-network.svg"
    # a picture on its own: no HTML left in it; every neuron's value label (as the page
    # shows it) as SVG text, every column's maps as an image
    assert "<foreignObject" not in text and "<canvas" not in text
    values = page.locator("#network-view .nv-value").all_inner_texts()
    labels = re.findall(r'<text[^>]*class="nv-value-text"[^>]*>([^<]*)</text>', text)
    assert labels == values and len(values) == sum(layers)
    assert text.count("<image") == len(layers)
    with page.expect_download() as info:
        page.get_by_role("button", name="Network as PNG").click()
    png = tmp_path / "net.png"
    info.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 1000
    shot(page, "playground-share", "#pg-share")
