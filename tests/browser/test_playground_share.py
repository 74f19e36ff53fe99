"""Playground share and keep in Chromium: links that reproduce a run, model files, pictures."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import shot
from tests.browser.test_playground_data import open_playground


def share_link(page, with_weights: bool = False) -> str:
    old = page.locator("[data-share-url]")
    previous = old.input_value() if old.count() else None
    page.set_checked('.pg-share-link input[name="weights"]', with_weights)
    page.click('[data-action="share"]')
    page.wait_for_function(
        "prev => { const e = document.querySelector('[data-share-url]'); "
        "return e && e.value !== prev; }", arg=previous)
    return page.input_value("[data-share-url]")


def steps(page, n: int) -> None:
    for k in range(1, n + 1):
        page.click('[data-action="step"]')
        page.wait_for_function(
            "k => document.querySelector('[data-metric=\"epoch\"]').textContent === String(k)",
            arg=k)


def test_a_shared_link_gives_the_same_run_back(page, server, api):
    sid = open_playground(page, server, "data=moons&noise=10&h=5-3&act=relu&seed=77&lr=0.01")
    steps(page, 2)  # training does not change what the link reproduces: the start
    link = share_link(page)
    assert link.startswith(server)
    first = api.get(f"/api/sessions/{sid}").json()
    page.goto(link)
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"train_loss\"]').textContent)")
    sid2 = page.eval_on_selector("body", "b => b.dataset.sessionId")
    assert sid2 != sid
    second = api.get(f"/api/sessions/{sid2}").json()
    assert second["dataset"] == first["dataset"]
    # Same initial weights: the new session starts where the first one started.
    assert second["model"]["weights"] == first["initial_model"]["weights"]
    assert second["model"]["biases"] == first["initial_model"]["biases"]
    for key in ("layers", "activation", "optimizer", "seed", "init", "loss"):
        assert second["model"][key] == first["model"][key]


def test_a_link_with_weights_restores_the_trained_model(page, server, api):
    sid = open_playground(page, server, "data=xor")
    steps(page, 3)
    link = share_link(page, with_weights=True)
    trained = api.get(f"/api/sessions/{sid}/model").json()
    page.goto(link)
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"train_loss\"]').textContent)")
    sid2 = page.eval_on_selector("body", "b => b.dataset.sessionId")
    restored = api.get(f"/api/sessions/{sid2}/model").json()
    assert restored["weights"] == trained["weights"]
    assert restored["biases"] == trained["biases"]


def test_export_then_import_a_model(page, server, api, tmp_path):
    sid = open_playground(page, server, "h=3-3")
    steps(page, 2)
    with page.expect_download() as info:
        page.click('[data-action="export-model"]')
    path = tmp_path / "model.json"
    info.value.save_as(path)
    exported = json.loads(path.read_text())
    assert exported == api.get(f"/api/sessions/{sid}/model").json()
    page.click('[data-action="new-seed"]')
    page.wait_for_function(
        f"() => !document.querySelector('input[name=\"seed\"][value=\"{exported['seed']}\"]')")
    assert api.get(f"/api/sessions/{sid}/model").json()["weights"] != exported["weights"]
    page.set_input_files('[data-action="import-model"]', str(path))
    page.wait_for_selector(f'input[name="seed"][value="{exported["seed"]}"]', state="attached")
    imported = api.get(f"/api/sessions/{sid}/model").json()
    assert imported["weights"] == exported["weights"]
    assert imported["biases"] == exported["biases"]


def test_importing_a_broken_model_says_why(page, server, api, tmp_path):
    sid = open_playground(page, server)
    before = api.get(f"/api/sessions/{sid}/model").json()
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({**before, "weights": [[[1.0, 2.0]]]}))
    page.set_input_files('[data-action="import-model"]', str(path))
    error = page.wait_for_selector("[data-share-error]:not([hidden])")
    assert error.text_content().startswith("import refused: weights")
    assert api.get(f"/api/sessions/{sid}/model").json() == before


def test_export_the_network_picture_as_svg_and_png(page, server, tmp_path):
    open_playground(page, server)
    with page.expect_download() as info:
        page.click('[data-action="export-svg"]')
    svg = tmp_path / "net.svg"
    info.value.save_as(svg)
    text = svg.read_text()
    assert text.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in text
    assert info.value.suggested_filename == "nnplay-network.svg"
    # a picture on its own: no HTML left in it; every neuron's value label as SVG text,
    # every column's maps as an image
    assert "<foreignObject" not in text and "<canvas" not in text
    values = page.eval_on_selector_all(".nv-value", "vs => vs.map(v => v.textContent)")
    labels = re.findall(r'<text[^>]*class="nv-value-text"[^>]*>([^<]*)</text>', text)
    assert labels == values and len(values) == page.locator(".nv-node").count()
    assert text.count("<image") == page.locator(".nv-heat").count()
    with page.expect_download() as info:
        page.click('[data-action="export-png"]')
    png = tmp_path / "net.png"
    info.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 1000
    shot(page, "playground-share", "#pg-share")
