"""Issue 13: a page whose session is gone (deleted, expired, lost in a restart) says so once,
stops knocking, and offers a fresh session with the same settings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, settle, shot, step_epochs, wait_until

NOTICE = "This session no longer exists on the server"
QUIET_MS = 4000  # the old page knocked again within 0.25 s, then every 0.5, 1, 2, 4, 5 s


def address(page) -> str:
    return page.evaluate("location.pathname + location.search")


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_a_gone_session_is_said_once_and_a_new_one_has_its_settings(browser, server, api, size):
    page = open_page(browser, *size)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        sid = load(page, server)
        # Two settings changed through the page: a live one and the architecture.
        page.get_by_role("combobox", name="Learning rate").select_option("0.1")
        page.get_by_role("button", name="Add a hidden layer").click()
        expect(page.get_by_text("3 hidden layers")).to_be_visible()
        settle(page)
        wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["model"]["layers"]
                   == [2, 4, 2, 2, 1], "the server has the third hidden layer")
        wait_until(lambda: "lr=0.1" in address(page) and f"/s/{sid}?" in address(page),
                   lambda: f"the address names the settings: {address(page)}")
        assert len(sockets) == 1

        # The session goes, as a restart without it (or its expiry) would lose it.
        assert api.delete(f"/api/sessions/{sid}").status_code == 204
        notice = page.get_by_role("alert").filter(has_text=NOTICE)
        expect(notice).to_be_visible()
        page.wait_for_timeout(QUIET_MS)  # a page that reconnected would have knocked by now
        assert len(sockets) == 1, sockets
        expect(notice).to_have_count(1)  # said once
        assert api.get(f"/api/sessions/{sid}").status_code == 404
        shot(page, f"gone_session_{size[0]}x{size[1]}")
        shot(page, f"gone_session_notice_{size[0]}x{size[1]}", ".nn-top")

        page.get_by_role("button", name="Start a new session with these settings").click()
        page.wait_for_selector("#network-view .nv-node")
        wait_until(lambda: page.eval_on_selector("body", "b => b.dataset.sessionId") not in
                   (None, sid), "a new session")
        new = page.eval_on_selector("body", "b => b.dataset.sessionId")
        doc = api.get(f"/api/sessions/{new}").json()
        assert doc["model"]["optimizer"]["learning_rate"] == 0.1
        assert doc["model"]["layers"] == [2, 4, 2, 2, 1]
        expect(page.get_by_role("combobox", name="Learning rate")).to_have_value("0.1")
        expect(page.get_by_text("3 hidden layers")).to_be_visible()
        expect(page.get_by_role("alert").filter(has_text=NOTICE)).to_have_count(0)
        # The page works: a step trains the new session, and the page shows it.
        step_epochs(page, 1)
        wait_until(lambda: api.get(f"/api/sessions/{new}").json()["training"]["epoch"] == 1,
                   "the new session trained one epoch")
        assert not page.errors, page.errors
    finally:
        page.context.close()
