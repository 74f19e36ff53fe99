"""The page under its Content-Security-Policy (no inline script, no handler attribute), and a
page of another site that tries to change a session (issue 13).

The `page` fixture fails a test on any console error or warning, which includes every
CSP violation the browser reports.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import epoch_shown, load, open_page, settle, wait_until
from tests.conftest import free_port


def test_the_page_works_under_its_content_security_policy(page, server, api):
    response = page.goto(f"{server}/")
    csp = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src.strip() == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    sid = load(page, server)

    # the socket (connect-src 'self'): training plays and the page shows it
    page.get_by_role("button", name="Play", exact=True).click()
    def epochs() -> int:
        return int(re.sub(r"\D", "", epoch_shown(page).inner_text()) or 0)

    wait_until(lambda: epochs() >= 3, "three epochs shown while playing")
    page.get_by_role("button", name="Pause", exact=True).click()

    # a range control: its <output> follows the thumb while it is dragged, before the
    # change is posted on release (the handler lives in static/js/panels.js now)
    field = page.locator('[data-setting="batch_size"]')
    slider, shown = field.locator('input[type="range"]'), field.locator("output")
    expect(shown).to_have_text("10")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
    dragged = slider.input_value()
    assert dragged != "10"
    expect(shown).to_have_text(dragged)  # while the button is still down
    page.mouse.up()
    settle(page)
    assert api.get(f"/api/sessions/{sid}").json()["training"]["batch_size"] == int(dragged)
    expect(page.locator('[data-setting="batch_size"] output')).to_have_text(dragged)

    # an htmx form swap (a structural change) and the PNG export (an image from a blob: URL)
    page.get_by_role("button", name="Add a hidden layer").click()
    settle(page)
    assert len(api.get(f"/api/sessions/{sid}").json()["model"]["layers"]) == 5
    with page.expect_download() as info:
        page.get_by_role("button", name="Network as PNG").click()
    assert info.value.suggested_filename.endswith(".png")


@pytest.fixture
def elsewhere():
    """A page of another site: a blank page from a server of its own on another port (a
    real one: Chromium refuses on its own, by Local Network Access, a request to a loopback
    server from a page that is not on loopback too, and the server's refusal would go
    untested)."""

    class Blank(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            body = b"<!doctype html><title>another site</title>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Blank)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_page_of_another_site_cannot_change_a_session(browser, server, api, elsewhere):
    sid = api.post("/api/sessions").json()["id"]
    before = api.get(f"/api/sessions/{sid}").json()
    # The browser sends the other page's Origin; the server refuses the form post and the
    # socket. (Its console reports both: this page is not the `page` fixture.)
    page = open_page(browser)
    try:
        page.goto(elsewhere)
        answers = []
        page.on("response", lambda r: "/ui/" in r.url and answers.append(r.status))
        outcome = page.evaluate(
            """async ([server, sid]) => {
                await fetch(`${server}/ui/${sid}/controls`, {
                    method: "POST", mode: "no-cors",
                    body: new URLSearchParams({learning_rate: "1", batch_size: "3"}),
                });
                return await new Promise((done) => {
                    const url = `${server.replace("http", "ws")}/api/sessions/${sid}/stream`;
                    const ws = new WebSocket(url);
                    ws.onopen = () => done("open");
                    ws.onerror = () => done("refused");
                });
            }""", [server, sid])
        assert outcome == "refused"
        assert answers == [403]  # the post reached the server, which refused it
    finally:
        page.context.close()
    assert api.get(f"/api/sessions/{sid}").json() == before
    api.delete(f"/api/sessions/{sid}")
