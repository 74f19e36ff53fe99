"""Journeys through the page as a person takes them (issue 11): from the default page, by
label and role, with the mouse and the keyboard; each checks what the server now holds
(the JSON API) and what the screen shows.

Six bugs of the issue, one journey (or two) each: the "Output / loss / init" drop-down opens
on top (3), "Step one sample" pauses training (6), the keyboard keeps its place and reaches
the weights (7), undefined ratios read "n/a" (9), the share note says whether the link was
copied (11), a single step shows in a step counter (12).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, settle, shot

EDGE = "weight from x1 to hidden 1 neuron 1"  # the default network's first weight


def session(api, sid: str) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def server_until(api, sid: str, check, timeout: float = 20.0) -> dict:
    """The session document once `check(doc)` holds (the server changes in its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        doc = session(api, sid)
        if check(doc):
            return doc
        assert time.monotonic() < deadline, f"the server never got there: {doc['training']}"
        time.sleep(0.05)


def counter(page, name: str):
    """The top bar's "Epoch" or "Step" counter (its label and number)."""
    return page.locator(".pg-epoch", has=page.get_by_text(name, exact=True))


# ---- 3: the "Output / loss / init / seed" drop-down opens on top --------------------------

MORE_CONTROLS = [("combobox", "Output activation"), ("combobox", "Loss"),
                 ("combobox", "Initialization"), ("spinbutton", "Seed"),
                 ("spinbutton", "beta1"), ("spinbutton", "beta2"), ("spinbutton", "epsilon"),
                 ("spinbutton", "Weight decay")]

ON_TOP = """e => {
    const r = e.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit === e || e.closest("label").contains(hit);
}"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)])
def test_the_output_loss_init_drop_down_opens_on_top(browser, server, api, width, height):
    page = open_page(browser, width, height)
    try:
        sid = load(page, server)
        summary = page.get_by_text(re.compile(r"^Output .*, loss .*, init "))
        expect(summary).to_contain_text("init xavier")
        summary.click()
        for role, name in MORE_CONTROLS:
            control = page.get_by_role(role, name=name, exact=True)
            expect(control).to_be_visible()
            assert control.evaluate(ON_TOP), f"{name} is covered by another part of the page"
        shot(page, f"journey-drop-down-{width}x{height}")
        page.get_by_label("Initialization").select_option("he")
        expect(summary).to_contain_text("init he")
        assert session(api, sid)["model"]["init"] == "he"
        assert not page.errors, page.errors
    finally:
        page.context.close()


# ---- 6: "Step one sample" while training plays pauses it ----------------------------------

def test_step_one_sample_while_training_pauses_it(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="Play", exact=True).click()
    server_until(api, sid, lambda d: d["training"]["epoch"] >= 3)
    page.get_by_role("button", name="Step one sample").click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="a · sample")).to_be_enabled()  # the step is shown
    paused = server_until(api, sid, lambda d: not d["training"]["playing"], timeout=5)
    # Nothing may happen now: only time passing shows that training stopped.
    page.wait_for_timeout(600)
    later = session(api, sid)
    assert later["training"]["playing"] is False
    assert later["training"]["epoch"] == paused["training"]["epoch"]
    assert later["training"]["step"] == paused["training"]["step"]
    assert later["model"]["weights"] == paused["model"]["weights"]
    # The animated step is the last change: its evaluation shows the server's numbers.
    page.get_by_role("button", name="f · evaluation").click()
    expect(counter(page, "Epoch")).to_have_text(
        re.compile(rf"^Epoch\s*{later['training']['epoch']}\s"))
    expect(counter(page, "Step")).to_have_text(re.compile(rf"^Step\s*{later['training']['step']}$"))


# ---- 7: the keyboard ---------------------------------------------------------------------

def test_play_then_space_pauses_and_space_plays_again(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="Play", exact=True).click()
    pause = page.get_by_role("button", name="Pause", exact=True)
    expect(pause).to_be_focused()
    server_until(api, sid, lambda d: d["training"]["playing"])
    page.keyboard.press("Space")
    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_focused()
    server_until(api, sid, lambda d: not d["training"]["playing"])
    # Space pressed the Pause button: it did not ask for a step of the animation.
    expect(page.get_by_role("button", name="a · sample")).to_be_disabled()
    page.keyboard.press("Enter")
    expect(pause).to_be_focused()
    server_until(api, sid, lambda d: d["training"]["playing"])
    page.keyboard.press("Space")
    expect(play).to_be_focused()
    server_until(api, sid, lambda d: not d["training"]["playing"])


def tab_to(page, target, most: int = 120) -> None:
    """Press Tab until `target` has the focus (as a person tabs through the page)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_the_keyboard_reaches_a_weight_and_changes_it(page, server, api):
    sid = load(page, server)
    w0 = session(api, sid)["model"]["weights"][0][0][0]
    edge = page.get_by_role("button", name=EDGE)
    tab_to(page, edge)
    # Its name carries the weight the server holds, as the page prints numbers.
    expect(edge).to_have_attribute("aria-label", re.compile(rf"^{EDGE}: -?\d"))
    value = float(edge.get_attribute("aria-label").split(": ")[1])
    assert value == pytest.approx(w0, abs=5e-5)
    shot(page, "journey-edge-focused", "#network-view")
    page.keyboard.press("Enter")
    slider = page.get_by_role("dialog", name="change a parameter").get_by_role("slider", name=EDGE)
    expect(slider).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    w1 = float(slider.input_value())
    assert w1 > w0
    doc = server_until(api, sid, lambda d: d["model"]["weights"][0][0][0] == w1)
    assert doc["model"]["weights"][0][0][0] == w1
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="change a parameter")).to_be_hidden()
    expect(edge).to_be_focused()
    expect(edge).to_have_attribute("aria-label", f"{EDGE}: {w1:g}")


def test_a_click_in_the_network_draws_no_ring_and_the_keyboard_does(page, server):
    load(page, server)
    focused_ring = "() => getComputedStyle(document.activeElement).outlineStyle"
    diagram = page.get_by_role("group", name="network diagram")
    diagram.click(position={"x": 4, "y": 4})  # a bare spot of the drawing
    assert page.evaluate(focused_ring) == "none"
    page.get_by_role("button", name=EDGE).click()
    expect(page.get_by_role("dialog", name="change a parameter")).to_be_visible()
    page.keyboard.press("Escape")
    assert page.evaluate(focused_ring) == "none"
    shot(page, "journey-network-after-click", "#network-view")
    # The keyboard's focus does show where it is: a band along the focused edge.
    page.keyboard.press("Tab")
    edge = page.get_by_role("button", name=re.compile(r"^weight from x1 to hidden 1 neuron 2"))
    expect(edge).to_be_focused()
    stroke = edge.evaluate("e => getComputedStyle(e).stroke")
    assert stroke not in ("none", "transparent", "rgba(0, 0, 0, 0)"), stroke


# ---- 9: precision, recall and F1 read "n/a" when undefined --------------------------------

def test_recall_reads_n_a_when_no_test_sample_is_of_class_1(page, server, api, tmp_path):
    sid = load(page, server)
    # Every point of class 0: however the seed splits them, the test split has no class 1.
    rows = [f"{x / 5 - 4:.1f},{(x * 7) % 9 - 4:.1f},0" for x in range(40)]
    csv = tmp_path / "no-class-1.csv"
    csv.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    page.get_by_label("Upload CSV").set_input_files(str(csv))
    expect(page.get_by_text("Your CSV: 40 points")).to_be_visible()
    data = api.get(f"/api/sessions/{sid}/dataset").json()
    assert data["test"]["labels"] and set(data["test"]["labels"]) == {0}
    figures = page.locator("#pg-metrics")
    recall = figures.locator("div", has=page.get_by_text("Recall", exact=True)).locator("dd")
    f1 = figures.locator("div", has=page.get_by_text("F1", exact=True)).locator("dd")
    expect(recall).to_have_text("n/a")
    expect(recall).to_have_attribute("title", "no test sample is of class 1")
    expect(f1).to_have_text("n/a")
    expect(f1).to_have_attribute(
        "title", "F1 needs both precision and recall: no test sample is of class 1")
    # The model still has two classes: the confusion matrix shows what went to class 1 too.
    table = page.get_by_role("table", name=re.compile("^Confusion matrix"))
    row_0 = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="0"))
    expect(row_0.get_by_role("cell")).to_have_count(2)
    assert sum(int(c) for c in row_0.get_by_role("cell").all_inner_texts()) == len(
        data["test"]["labels"])
    settle(page)  # the picture of the panel as it stays, not one being swapped
    shot(page, "journey-metrics-n-a", "#pg-metrics")


# ---- 11: the share note says whether the link was copied ----------------------------------

def share(page) -> str:
    page.get_by_role("button", name="Share link").click()
    link = page.get_by_label("Link to this run")
    expect(link).to_have_value(re.compile(r"^http"))
    return link.input_value()


def clipboard_page(browser, permissions: list[str]):
    """A page (as conftest's, recording console errors) whose context grants `permissions`."""
    return open_page(browser, permissions=permissions)


def test_share_says_the_link_was_copied(browser, server):
    page = clipboard_page(browser, ["clipboard-read", "clipboard-write"])
    try:
        load(page, server)
        link = share(page)
        expect(page.get_by_text("Link copied to the clipboard.")).to_be_visible()
        assert page.evaluate("() => navigator.clipboard.readText()") == link  # as a paste would
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_share_says_when_the_link_could_not_be_copied(browser, server):
    page = clipboard_page(browser, [])
    try:
        load(page, server)
        share(page)
        expect(page.get_by_text("Could not copy: select the link and copy it.")).to_be_visible()
        assert not page.errors, page.errors
    finally:
        page.context.close()


# ---- 12: a single step shows in the step counter ------------------------------------------

def test_single_steps_show_in_the_counters(page, server, api):
    sid = load(page, server)
    expect(counter(page, "Step")).to_have_text(re.compile(r"^Step\s*0$"))
    page.get_by_role("button", name="Step one sample").click()
    page.get_by_role("button", name="f · evaluation").click()  # past the animation
    expect(counter(page, "Step")).to_have_text(re.compile(r"^Step\s*1$"))
    assert session(api, sid)["training"]["step"] == 1
    page.get_by_role("button", name="Step one epoch").click()
    expect(counter(page, "Epoch")).to_have_text(re.compile(r"^Epoch\s*1\s"))
    doc = session(api, sid)
    assert doc["training"]["epoch"] == 1
    expect(counter(page, "Step")).to_have_text(re.compile(rf"^Step\s*{doc['training']['step']}$"))
    assert doc["training"]["step"] > 1
    shot(page, "journey-counters")
