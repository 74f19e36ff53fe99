"""The worked example preset (issue 4, item 5): the seed document's network with its
correct numbers: z = (0.6, -0.65), h = (0.6, 0), prediction (0.6, 0), sse 0.16; one
SGD step (learning rate 0.1) from delta = (-0.8, 0) at the output.

Loaded with the page's "Worked example" button and followed with its step controls; the
numbers are read as the page prints them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, neuron, open_page, readout, shot, wait_shown

LETTERS = {"sample": "a", "forward": "b", "loss": "c", "backward": "d", "update": "e",
           "evaluation": "f"}


def load_worked_example(page, server):
    sid = load(page, server)
    page.get_by_role("button", name="Worked example").click()
    neurons = page.get_by_role("button", name=re.compile(r": show its parameters$"))
    expect(neurons).to_have_count(6)
    for name in ("x1", "x2", "hidden 1 neuron 1", "hidden 1 neuron 2", "output 1", "output 2"):
        expect(neuron(page, name)).to_be_visible()
    expect(readout(page, "sample loss")).to_have_text("0.16")
    return sid


def eq_text(page) -> str:
    return page.locator('[data-role="equations"]').inner_text()


def value_label(page, l: int, j: int):
    """The value shown under neuron j of layer l."""
    return page.locator(f'#network-view .nv-value[data-layer="{l}"][data-neuron="{j}"]')


def goto(page, step_phase: str, presses: int = 0):
    """Jump to a phase with its button, then step on with the next-step button."""
    page.get_by_role("button", name=f"{LETTERS[step_phase]} · {step_phase}", exact=True).click()
    for _ in range(presses):
        page.get_by_role("button", name="next step (right arrow)").click()


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_worked_example_shows_the_right_numbers(browser, server, api, size):
    page = open_page(browser, *size)
    tag = f"{size[0]}x{size[1]}"
    try:
        sid = load_worked_example(page, server)
        # the seed document's numbers, exactly as printed
        expected = [(0, 0, "0.5"), (0, 1, "-1"), (1, 0, "0.6"), (1, 1, "0"), (2, 0, "0.6"),
                    (2, 1, "0")]
        for l, j, text in expected:
            expect(value_label(page, l, j)).to_have_text(text)
        expect(readout(page, "prediction")).to_have_text("(0.6, 0)")
        expect(readout(page, "target")).to_have_text("(1, 0)")
        expect(readout(page, "sample loss")).to_have_text("0.16")
        expect(page.get_by_role("region", name="One training step, step by step")).to_contain_text(
            "SGD with learning rate 0.1")
        # the panels were redrawn for the example's data: one class, said alike in both
        expect(page.get_by_role("heading", name="Output 1 class")).to_be_visible()
        expect(page.get_by_role("heading", name="Data 1 class")).to_be_visible()
        shot(page, f"worked-example-loaded-{tag}")

        page.get_by_role("button", name="Step one sample").click()
        expect(page.get_by_role("button", name="a · sample")).to_be_enabled()
        pause = page.get_by_role("button", name="pause (space)")
        if pause.is_visible():
            pause.click()

        goto(page, "forward", presses=1)  # the weighted sum of hidden layer 1
        expect(value_label(page, 1, 1)).to_have_text("z=-0.65")
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
        page.keyboard.press("ArrowRight")  # gradients into hidden layer 1 (by the key this time)
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

        goto(page, "evaluation")
        doc = api.get(f"/api/sessions/{sid}/model").json()
        assert doc["weights"][0][0] == pytest.approx([0.24, -0.7], abs=1e-12)
        assert doc["weights"][0][1] == pytest.approx([-0.88, 0.4], abs=1e-12)
        assert doc["biases"][0] == pytest.approx([-0.22, 0.1], abs=1e-12)
        # the server's outputs with its new weights (POST /forward only computes)
        fwd = api.post(f"/api/sessions/{sid}/forward", json={"inputs": [[0.5, -1.0]]}).json()
        wait_shown(readout(page, "prediction"), fwd["outputs"][0])
        shot(page, f"worked-example-f-evaluate-{tag}")
        assert not page.errors, page.errors
    finally:
        page.context.close()
