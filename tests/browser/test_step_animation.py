"""The step-by-step animation of one training step (issue 4, item 3).

The tests press "Step one sample", the phase buttons, the transport buttons and keys, and
read the phase from the phase buttons (aria-current), the caption and the equations."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    click_edge,
    load,
    neuron,
    number_tokens,
    shot,
    shown_as,
    wait_shown,
)
from tests.browser.test_network_view import params_panel, slider_value
from tests.browser.test_update_equations import hand_gradients, selected_sample

PHASES = ["sample", "forward", "loss", "backward", "update", "evaluation"]


def phase_button(page, phase: str):
    letter = "abcdef"[PHASES.index(phase)]
    return page.get_by_role("group", name="jump to a phase").get_by_role(
        "button", name=f"{letter} · {phase}", exact=True)


def phase(page) -> str:
    """The current phase: the phase button marked as the current step."""
    current = page.get_by_role("group", name="jump to a phase").locator('[aria-current="step"]')
    expect(current).to_have_count(1)
    return current.inner_text().split("·")[1].strip()


def caption(page):
    return params_panel(page).locator('[data-role="caption"]')


def start_paused(page):
    """Ask for one traced sample step; pause the animation on its first step."""
    page.get_by_role("button", name="Step one sample").click()
    expect(phase_button(page, "sample")).to_be_enabled()
    pause = page.get_by_role("button", name="pause (space)")
    if pause.is_visible():
        pause.click()
    expect(page.get_by_role("button", name="play (space)")).to_be_visible()
    phase_button(page, "sample").click()
    expect(caption(page)).to_have_text(re.compile(r"^\(a\) Sample"))


def test_every_phase_in_order_ending_with_the_apis_weights(page, server, api):
    sid = load(page, server)
    start_paused(page)
    seen = [phase(page)]
    shot(page, "phase-a-sample-1280x800")
    while phase(page) != "evaluation":
        text = caption(page).inner_text()
        page.keyboard.press("ArrowRight")
        expect(caption(page)).not_to_have_text(text)  # every step has its own caption
        p = phase(page)
        if p != seen[-1]:
            seen.append(p)
            shot(page, f"phase-{'abcdef'[PHASES.index(p)]}-{p}-1280x800")
        assert caption(page).inner_text().startswith(f"({'abcdef'[PHASES.index(p)]}) ")
        expect(params_panel(page).locator('[data-role="equations"] code').first).to_be_visible()
    assert seen == PHASES
    doc = api.get(f"/api/sessions/{sid}/model").json()
    assert doc["optimizer_state"]["step"] == 1
    # the network now shows the server's weights: the output's incoming weights and bias
    neuron(page, "output 1").click()
    panel = params_panel(page)
    for i in range(doc["layers"][-2]):
        wait_shown(slider_value(panel, f"weight from hidden 2 neuron {i + 1} to output 1"),
                   doc["weights"][-1][i][0])
    wait_shown(slider_value(panel, "bias of output 1"), doc["biases"][-1][0])


def test_jump_back_play_and_keyboard(page, server, api):
    sid = load(page, server)
    start_paused(page)
    phase_button(page, "loss").click()
    assert phase(page) == "loss"
    expect(phase_button(page, "loss")).to_have_attribute("aria-current", "step")
    page.keyboard.press("ArrowLeft")
    assert phase(page) == "forward"
    phase_button(page, "update").click()
    assert phase(page) == "update"
    # the update phase shows old -> new on the edges
    labels = page.locator("#network-view").get_by_text("→")
    expect(labels.first).to_be_visible()
    assert re.fullmatch(r"-?[\d.e-]+→-?[\d.e-]+", labels.first.text_content())
    # space plays from here to the end at the fastest speed; the last phase is evaluation
    page.get_by_role("slider", name="animation speed").fill("4")
    caption(page).click()  # the focus leaves the slider (keys typed into it move it)
    page.keyboard.press(" ")
    expect(phase_button(page, "evaluation")).to_have_attribute("aria-current", "step")
    expect(page.get_by_role("button", name="play (space)")).to_be_visible()
    assert api.get(f"/api/sessions/{sid}/model").json()["optimizer_state"]["step"] == 1
    # space on a finished step asks for the next one
    page.keyboard.press(" ")
    expect(phase_button(page, "evaluation")).not_to_have_attribute("aria-current", "step")
    assert api.get(f"/api/sessions/{sid}/model").json()["optimizer_state"]["step"] == 2


def test_the_gradient_check_button_shows_the_engines_verdict(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="Check gradients").click()
    box = params_panel(page).get_by_text(re.compile(r"^Gradient check on"))
    expect(box).to_contain_text("backpropagation agrees")
    text = box.inner_text()
    expected = api.get(f"/api/sessions/{sid}/gradient-check").json()
    shown = re.search(r"largest relative error (\S+) over", text).group(1)
    assert shown_as(shown, expected["max_relative_error"]), (text, expected)
    assert expected["max_relative_error"] < 1e-6
    assert f"over {expected['checked']} of {expected['total']} parameters" in text


def test_slider_gradient_hints_follow_the_step(page, server, api):
    """Before the backward phase a weight's hint (in the parameter panel) gives the gradient
    of the frame the step started from; from it on, the gradient the step computed, here
    computed again by hand from the weights and the sample before the step."""
    sid = load(page, server)
    label = "weight from hidden 1 neuron 1 to hidden 2 neuron 1"
    click_edge(page, label)
    page.keyboard.press("Escape")  # the panel's slider is read, not the slider box's
    hint = params_panel(page).locator(".nv-slider").filter(
        has=page.get_by_role("slider", name=label, exact=True)).locator("span").filter(
        has_text="∂L/∂w")
    expect(hint).to_be_visible()
    doc = api.get(f"/api/sessions/{sid}/model").json()
    x, t = selected_sample(api, sid, doc)
    g = hand_gradients(doc, x, t)["weights"][1][0][0]
    start_paused(page)
    expect(hint).not_to_contain_text("in this step")
    phase_button(page, "backward").click()
    expect(hint).to_contain_text("in this step")
    shown = hint.inner_text()
    number = number_tokens(shown.split("=")[1])[0]
    assert shown_as(number, g), (shown, g)  # shown to four decimals
    arrow = "▲ raise it" if g < 0 else "▼ lower it" if g > 0 else "no effect"
    assert shown.startswith(arrow), shown
    phase_button(page, "forward").click()
    expect(hint).not_to_contain_text("in this step")
