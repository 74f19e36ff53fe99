"""The worked example preset (issue 4, item 5): the seed document's network with its
correct numbers: z = (0.6, -0.65), h = (0.6, 0), prediction (0.6, 0), sse 0.16; one
SGD step (learning rate 0.1) from delta = (-0.8, 0) at the output."""

from __future__ import annotations

import pytest

from tests.browser.conftest import load, open_page, shot, wait_numbers


def load_worked_example(page, server):
    sid = load(page, server)
    page.click('[data-action="worked-example"]')
    page.wait_for_function(
        "() => document.querySelector('#network-view svg').dataset.layers === '3'"
        " && document.querySelectorAll('.nv-node').length === 6")
    wait_numbers(page, '[data-readout="sample-loss"]', 0.16, tol=1e-12)
    return sid


def eq_text(page) -> str:
    return page.inner_text('[data-role="equations"]')


def goto(page, step_phase: str, stage_text: str | None = None, presses: int = 0):
    page.click(f'button[data-phase="{step_phase}"]')
    for _ in range(presses):
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("ArrowRight")


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_worked_example_shows_the_right_numbers(browser, server, api, size):
    page = open_page(browser, *size)
    tag = f"{size[0]}x{size[1]}"
    try:
        sid = load_worked_example(page, server)
        expected = [(0, 0, 0.5), (0, 1, -1.0), (1, 0, 0.6), (1, 1, 0.0), (2, 0, 0.6), (2, 1, 0.0)]
        for l, j, v in expected:
            wait_numbers(page, f'.nv-value[data-layer="{l}"][data-neuron="{j}"]', v, tol=1e-12)
        assert page.text_content('.nv-value[data-layer="1"][data-neuron="0"]') == "0.6"
        wait_numbers(page, '[data-readout="prediction"]', [0.6, 0.0], tol=1e-12)
        wait_numbers(page, '[data-readout="target"]', [1.0, 0.0])
        assert page.inner_text('[data-readout="sample-loss"]') == "0.16"
        caption = page.inner_text('[data-role="caption"]')
        assert "SGD with learning rate 0.1" in caption
        # the panels were redrawn for the example's data: one class, said alike in both
        page.wait_for_function(
            "() => document.querySelector('#output-panel .pg-task').textContent === '1 class'")
        assert page.text_content("#data-panel .pg-task") == "1 class"
        shot(page, f"worked-example-loaded-{tag}")

        page.click('[data-action="step-sample"]')
        page.wait_for_function("() => document.querySelector('#step-panel').dataset.currentPhase")
        if page.get_attribute("#step-panel", "data-playing") == "true":
            page.click('[data-action="anim-toggle"]')

        goto(page, "forward", presses=1)  # the weighted sum of hidden layer 1
        assert page.text_content('.nv-value[data-layer="1"][data-neuron="1"]') == "z=-0.65"
        text = eq_text(page)
        assert "z = Σ a·w + b = 0.5*0.2 + (-1)*(-0.8) + (-0.3) = 0.6" in text
        assert "0.5*(-0.7) + (-1)*0.4 + 0.1 = -0.65" in text
        assert "a = relu(z) = relu(-0.65) = 0" in text
        shot(page, f"worked-example-b-forward-{tag}")

        goto(page, "loss")
        assert "L = (1 − 0.6)^2 + (0 − 0)^2 = 0.16" in eq_text(page)
        shot(page, f"worked-example-c-loss-{tag}")

        goto(page, "backward")  # output deltas
        assert "δ = 2·(0.6 − 1) / 1 = -0.8" in eq_text(page)
        goto(page, "backward", presses=2)  # hidden deltas
        assert "= relu'(0.6) · (1*(-0.8) + 0*0) = -0.8" in eq_text(page)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("ArrowRight")  # gradients into hidden layer 1
        text = eq_text(page)
        assert "∂L/∂w = a·δ = 0.5*(-0.8) = -0.4" in text
        assert "∂L/∂w = a·δ = (-1)*(-0.8) = 0.8" in text
        assert "∂L/∂b = δ = (-0.8) = -0.8" in text
        shot(page, f"worked-example-d-backward-{tag}")

        goto(page, "update")
        text = eq_text(page)
        assert "w' = w − lr·∂L/∂w = 0.2 − 0.1*(-0.4) = 0.24" in text
        assert "w' = w − lr·∂L/∂w = -0.8 − 0.1*0.8 = -0.88" in text
        assert "b' = b − lr·∂L/∂b = -0.3 − 0.1*(-0.8) = -0.22" in text
        shot(page, f"worked-example-e-update-{tag}")

        goto(page, "evaluate")
        doc = api.get(f"/api/sessions/{sid}/model").json()
        assert doc["weights"][0][0] == pytest.approx([0.24, -0.7], abs=1e-12)
        assert doc["weights"][0][1] == pytest.approx([-0.88, 0.4], abs=1e-12)
        assert doc["biases"][0] == pytest.approx([-0.22, 0.1], abs=1e-12)
        fwd = api.post(f"/api/sessions/{sid}/forward", json={"inputs": [[0.5, -1.0]]}).json()
        wait_numbers(page, '[data-readout="prediction"]', fwd["outputs"][0], tol=1e-12)
        shot(page, f"worked-example-f-evaluate-{tag}")
        assert not page.errors, page.errors
    finally:
        page.context.close()
