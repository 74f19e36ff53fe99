"""The step animation stays readable on a big network (issue 15): on six hidden layers of
eight, no edge label overlaps another label, a neuron (where the curves end) or a neuron's
value, none is drawn under 11 px, the focused neuron keeps every label, and the update
shows every weight into it; a quick pass has one stop a layer each way."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, neuron, open_page, set_hidden_layers

# What a person sees: the box of every edge label, neuron and value on screen.
BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, text: e.textContent}; };
  const labels = [...document.querySelectorAll("#network-view .nv-edge-label")];
  return {
    labels: labels.map(box),
    px: labels.map((e) => parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a),
    neurons: [...document.querySelectorAll("#network-view .nv-box")].map(box),
    values: [...document.querySelectorAll("#network-view .nv-value")]
      .filter((e) => e.textContent.trim()).map(box),
  };
}"""


def overlap(a, b, slack=0.5) -> bool:
    return (a["x"] + slack < b["x"] + b["w"] and b["x"] + slack < a["x"] + a["w"]
            and a["y"] + slack < b["y"] + b["h"] and b["y"] + slack < a["y"] + a["h"])


def assert_readable(page, phase: str) -> int:
    seen = page.evaluate(BOXES)
    labels = seen["labels"]
    for k, a in enumerate(labels):
        for b in labels[k + 1:]:
            assert not overlap(a, b), (phase, a, b)
        for n in seen["neurons"]:
            assert not overlap(a, n), (phase, "on a neuron", a, n)
        for v in seen["values"]:
            assert not overlap(a, v), (phase, "on a value", a, v)
    assert all(px >= 10.95 for px in seen["px"]), (phase, min(seen["px"], default=None))
    return len(labels)


@pytest.fixture
def big_page(browser, server):
    page = open_page(browser, 1280, 800)
    load(page, server)
    set_hidden_layers(page, [8] * 6)
    yield page
    errors = list(page.errors)
    page.context.close()
    assert not errors, errors


def test_no_label_overlaps_on_six_layers_of_eight(big_page):
    page = big_page
    page.get_by_role("combobox", name="Edge labels").select_option("network")
    page.get_by_role("button", name="Step one sample").click()
    caption = page.locator('[data-role="caption"]')
    expect(caption).to_contain_text(re.compile(r"^\(a\) Sample"))
    page.get_by_role("button", name="pause (space)").click()  # stop at each phase
    counts = {}
    for phase, then in (("b · forward", 0), ("b · forward", 3), ("d · backward", 1),
                        ("d · backward", 3), ("e · update", 0)):
        page.get_by_role("button", name=phase).click()
        for _ in range(then):  # a later stop of the phase: a deeper layer
            page.get_by_role("button", name="next step (right arrow)").click()
        expect(caption).to_contain_text(phase.split(" · ")[1].capitalize())
        counts[(phase, then)] = assert_readable(page, f"{phase} +{then}")
    # The whole network's labels where there is room: many more than one neuron's.
    assert counts[("e · update", 0)] > 8, counts
    assert all(counts.values()), counts
    page.screenshot(path="test-artifacts/step-6x8-update-whole.png")


def test_the_focused_neuron_keeps_every_label_and_every_update(big_page):
    page = big_page
    # Focus a deep neuron: click it, as the step panel's hint says.
    neuron(page, "hidden 3 neuron 2").click()
    page.get_by_role("button", name="Step one sample").click()
    page.get_by_role("button", name="pause (space)").click()
    page.get_by_role("button", name="e · update").click()
    expect(page.locator('[data-role="caption"]')).to_contain_text("Update")
    assert assert_readable(page, "update") == 8  # every weight into it, and no other
    equations = page.locator('[data-role="equations"]')
    for i in range(1, 9):
        expect(equations).to_contain_text(f"hidden 2 neuron {i} → hidden 3 neuron 2")
    expect(equations).to_contain_text("bias of hidden 3 neuron 2")
    page.screenshot(path="test-artifacts/step-6x8-update-focus.png")


@pytest.mark.parametrize("pace,stops", [("study", 19), ("quick", 10)])
def test_a_quick_pass_has_one_stop_a_layer(page, server, pace, stops):
    # The default network, 2-4-2-1: three layers of weights.
    load(page, server)
    page.get_by_role("combobox", name="Pace of the step").select_option(pace)
    page.get_by_role("button", name="Step one sample").click()
    caption = page.locator('[data-role="caption"]')
    expect(caption).to_contain_text(re.compile(r"^\(a\) Sample"))
    page.get_by_role("button", name="pause (space)").click()  # step through by hand
    presses = 0
    while not caption.inner_text().startswith("(f) Evaluation"):
        page.get_by_role("button", name="next step (right arrow)").click()
        presses += 1
        assert presses < 40
    assert presses + 1 == stops
