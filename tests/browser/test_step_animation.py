"""The step-by-step animation of one training step (issue 4, item 3)."""

from __future__ import annotations

from tests.browser.conftest import load, shot, wait_model_shown

PHASES = ["sample", "forward", "loss", "backward", "update", "evaluate"]


def phase(page) -> str:
    return page.get_attribute("#step-panel", "data-current-phase")


def start_paused(page):
    """Ask for one traced sample step; pause the animation on its first step."""
    page.click('[data-action="step-sample"]')
    page.wait_for_function("() => document.querySelector('#step-panel').dataset.currentPhase")
    if page.get_attribute("#step-panel", "data-playing") == "true":
        page.click('[data-action="anim-toggle"]')
    page.click('button[data-phase="sample"]')
    page.wait_for_function(
        "() => document.querySelector('#step-panel').dataset.stepIndex === '0'")


def test_every_phase_in_order_ending_with_the_apis_weights(page, server, api):
    sid = load(page, server)
    start_paused(page)
    seen = [phase(page)]
    shot(page, "phase-a-sample-1280x800")
    while phase(page) != "evaluate":
        index = page.get_attribute("#step-panel", "data-step-index")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "i => document.querySelector('#step-panel').dataset.stepIndex !== i", arg=index)
        p = phase(page)
        if p != seen[-1]:
            seen.append(p)
            shot(page, f"phase-{'abcdef'[PHASES.index(p)]}-{p}-1280x800")
        caption = page.inner_text('[data-role="caption"]')
        assert caption and "(" in caption
        assert page.locator('[data-role="equations"] .eq-line').count() > 0
    assert seen == PHASES
    doc = api.get(f"/api/sessions/{sid}/model").json()
    assert doc["optimizer_state"]["step"] == 1
    wait_model_shown(page, doc)


def test_jump_back_play_and_keyboard(page, server, api):
    load(page, server)
    start_paused(page)
    page.click('button[data-phase="loss"]')
    assert phase(page) == "loss"
    assert page.get_attribute('button[data-phase="loss"]', "aria-current") == "step"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("ArrowLeft")
    assert phase(page) == "forward"
    page.click('button[data-phase="update"]')
    assert phase(page) == "update"
    # the update phase shows old -> new on the edges
    assert page.locator(".nv-edge-label").count() > 0
    assert "→" in page.locator(".nv-edge-label").first.text_content()
    # space plays from here to the end at the fastest speed; the last phase is evaluation
    page.locator('[data-action="anim-speed"]').fill("4")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(" ")
    page.wait_for_function(
        "() => document.querySelector('#step-panel').dataset.currentPhase === 'evaluate'")
    assert page.get_attribute("#step-panel", "data-playing") == "false"
    # space on a finished step asks for the next one
    page.keyboard.press(" ")
    page.wait_for_function(
        "() => document.querySelector('#step-panel').dataset.currentPhase !== 'evaluate'")


def test_the_gradient_check_button_shows_the_engines_verdict(page, server, api):
    sid = load(page, server)
    page.locator('[data-action="gradient-check"]').click()
    box = page.locator('[data-role="gradcheck"]')
    page.wait_for_function(
        "() => document.querySelector('[data-role=\"gradcheck\"]').dataset.value")
    shown = float(box.get_attribute("data-value"))
    expected = api.get(f"/api/sessions/{sid}/gradient-check").json()
    assert shown == expected["max_relative_error"] < 1e-6
    text = box.inner_text()
    assert f"over {expected['checked']} of {expected['total']} parameters" in text
    assert "backpropagation agrees" in text


def test_slider_gradient_hints_follow_the_step(page, server):
    """Before the backward phase a weight's hint (in the parameter panel) gives the gradient
    of the frame the step started from; from it on, the gradient the step computed (the
    trace's own number)."""
    load(page, server)
    page.locator('path.nv-hit[data-layer="1"][data-from="0"][data-to="0"]').dispatch_event(
        "click")
    hint = page.locator('#step-panel [data-role="params"] .nv-slider:has(input[data-layer="1"]'
                        '[data-from="0"][data-to="0"]) [data-role="gradient"]')
    hint.wait_for()
    start_paused(page)
    assert "in this step" not in hint.inner_text()
    page.click('button[data-phase="backward"]')
    g = page.evaluate("() => window.nnplay.steps.stepper.trace.gradients.weights[1][0][0]")
    shown = hint.inner_text()
    assert "in this step" in shown, shown
    number = float(shown.split("=")[1].split()[0])
    assert abs(number - g) <= 5e-3 * abs(g)  # shown to three or four significant digits
    assert hint.get_attribute("data-sign") == str((g > 0) - (g < 0))
    page.click('button[data-phase="forward"]')
    assert "in this step" not in hint.inner_text()
