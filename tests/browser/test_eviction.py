"""A page whose session the server set aside to make room (issue 13, no lock-out): it says
so in words, stops reconnecting, and a reload brings the session back whole. Against a
server of its own that holds one session."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, session_id, shot, wait_until
from tests.conftest import free_port, start_server, stop_server


@pytest.fixture
def small_server(tmp_path):
    port = free_port()
    proc = start_server(port, {"NNPLAY_MAX_SESSIONS": "1",
                               "NNPLAY_STORE": f"sqlite:///{tmp_path / 'store.db'}"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_an_evicted_page_says_so_and_a_reload_brings_its_session_back(browser, small_server,
                                                                      size):
    page = open_page(browser, *size)
    try:
        with httpx.Client(base_url=small_server, timeout=30) as api:
            load(page, small_server)
            sid = session_id(page)
            # Its socket claimed the page's session: the server's one place is taken.
            wait_until(lambda: api.get("/healthz").json()["claimed"] == 1, "claimed")
            api.patch(f"/api/sessions/{sid}/weights",
                      json={"layer": 0, "from": 0, "to": 0, "value": 0.875})

            # Someone else arrives: the page's session (not playing) makes room.
            assert api.post("/api/sessions").status_code == 201
            status = page.get_by_role("status").filter(has_text="set this session aside")
            expect(status).to_contain_text("reload the page", timeout=30_000)
            shot(page, f"evicted-{size[0]}x{size[1]}")
            time.sleep(2)  # the page does not reconnect (that would take the newcomer's place)
            assert api.get("/healthz").json()["claimed"] == 1

            page.reload()
            page.wait_for_selector("#network-view .nv-node")
            assert session_id(page) == sid  # the same session, loaded back from the store
            assert api.get(f"/api/sessions/{sid}").json()["model"]["weights"][0][0][0] == 0.875
            expect(page.get_by_text("set this session aside")).to_have_count(0)
    finally:
        errors = list(page.errors)
        page.context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)
