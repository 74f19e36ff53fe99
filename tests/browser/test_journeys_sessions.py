"""Journeys of a session that lasts (issue 12) and of quick hands (issue 11): the page's
address names its session, a reload or a second tab attaches to it, a copy forks it, and
changes made faster than the panels redraw are all kept."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, step_epochs, wait_until


def state(api, sid) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def address(page) -> str:
    return page.evaluate("location.pathname + location.search")


def test_a_reload_comes_back_to_the_same_session(page, server, api):
    sid = load(page, server)
    wait_until(lambda: address(page).startswith(f"/s/{sid}?"), "the address names the session")
    page.get_by_role("combobox", name="Learning rate").select_option("0.1")
    step_epochs(page, 2)
    before = state(api, sid)
    page.reload()
    page.wait_for_selector("#network-view .nv-node")
    assert page.eval_on_selector("body", "b => b.dataset.sessionId") == sid
    expect(page.locator('[data-metric="epoch"]')).to_have_text("2")
    expect(page.get_by_role("combobox", name="Learning rate")).to_have_value("0.1")
    after = state(api, sid)
    assert after["model"]["weights"] == before["model"]["weights"]
    assert after["training"]["epoch"] == 2


def test_two_tabs_on_one_session_stay_in_step(page, server, api, browser):
    sid = load(page, server)
    wait_until(lambda: address(page).startswith(f"/s/{sid}?"), "the address names the session")
    other = open_page(browser, 1280, 800)
    try:
        other.goto(server + address(page))
        other.wait_for_selector("#network-view .nv-node")
        assert other.eval_on_selector("body", "b => b.dataset.sessionId") == sid
        # a live setting in one tab shows in the other
        page.get_by_role("combobox", name="Learning rate").select_option("0.3")
        expect(other.get_by_role("combobox", name="Learning rate")).to_have_value("0.3")
        page.get_by_role("slider", name="Batch size").focus()
        page.keyboard.press("ArrowRight")
        expect(other.get_by_role("slider", name="Batch size")).to_have_value("11")
        # training in one shows in the other
        step_epochs(page, 1)
        expect(other.locator('[data-metric="epoch"]')).to_have_text("1")
        # a structural change in the other shows in the first
        other.get_by_role("button", name="Add a hidden layer").click()
        expect(page.get_by_text("3 hidden layers")).to_be_visible()
        assert len(state(api, sid)["model"]["layers"]) == 5
        assert not other.errors, other.errors
    finally:
        other.context.close()


def test_an_address_whose_session_is_gone_says_so(page, server, api):
    # The journey is about an address: it opens one.
    page.goto(f"{server}/s/no-such-session?data=xor&act=relu")
    expect(page.get_by_role("status").filter(has_text="no longer exists")).to_be_visible()
    page.wait_for_selector("#network-view .nv-node")
    sid = page.eval_on_selector("body", "b => b.dataset.sessionId")
    assert sid != "no-such-session"
    model, dataset = state(api, sid)["model"], state(api, sid)["dataset"]
    assert dataset["name"] == "xor" and model["activation"] == "relu"
    wait_until(lambda: address(page).startswith(f"/s/{sid}?"), "the address names the new one")


def test_copy_of_this_session_moves_to_a_copy(page, server, api):
    sid = load(page, server)
    step_epochs(page, 2)
    page.get_by_role("button", name="Copy of this session").click()
    page.wait_for_url(lambda url: "/s/" in url and sid not in url)
    page.wait_for_selector("#network-view .nv-node")
    copy = page.eval_on_selector("body", "b => b.dataset.sessionId")
    assert copy != sid
    a, b = state(api, sid), state(api, copy)
    assert b["model"]["weights"] == a["model"]["weights"]
    assert b["training"]["epoch"] == 2
    expect(page.locator('[data-metric="epoch"]')).to_have_text("2")


def test_changes_faster_than_the_panels_redraw_are_all_kept(page, server, api):
    # A structural change redraws the panels (a snapshot, then the panels' refresh); a
    # person may change the next control before that refresh is back. An older panel must
    # not replace a newer one, or its values would be posted with the next change.
    sid = load(page, server)
    controls = page.get_by_role("region", name="Training and architecture")
    rates = ["0.1", "0.3", "1"]
    for k, rate in enumerate(rates):
        controls.get_by_role("button", name="Add a neuron to layer 1").click()
        page.get_by_role("combobox", name="Learning rate").select_option(rate)
        page.get_by_role("combobox", name="Regularization", exact=True).select_option(
            ["l1", "l2", "none"][k])
    got = wait_until(
        lambda: (s := state(api, sid))["model"]["optimizer"]["learning_rate"] == 1.0
        and s["model"]["regularization"]["name"] == "none" and s,
        lambda: f"the server holds the last of each change: {state(api, sid)['model']}")
    assert got["model"]["layers"][1] == 4 + len(rates)
    page.wait_for_timeout(500)  # any late panel refresh has landed by now
    s = state(api, sid)
    assert s["model"]["optimizer"]["learning_rate"] == 1.0
    assert s["model"]["layers"][1] == 4 + len(rates)
    expect(page.get_by_role("combobox", name="Learning rate")).to_have_value("1")
    expect(controls.get_by_text(re.compile(r"^7$"))).to_be_visible()


def test_enter_in_a_field_sends_that_field_only(page, server, api):
    # Enter in a form's field submits it "with" its first button (here: add a layer); the
    # page sends the field's new value and nothing else.
    sid = load(page, server)
    page.get_by_text(re.compile(r"^Output \w+, loss \w+")).click()
    seed = page.get_by_role("spinbutton", name="Seed", exact=True)
    seed.fill("7")
    seed.press("Enter")
    wait_until(lambda: state(api, sid)["model"]["seed"] == 7, "the server has seed 7")
    page.wait_for_timeout(300)  # time for a wrongly sent "add a layer" to land
    assert state(api, sid)["model"]["layers"] == [2, 4, 2, 1]
    expect(page.get_by_text("2 hidden layers")).to_be_visible()
