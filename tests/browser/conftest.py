"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against a real server.

`page` fails its test on any console error or uncaught page error. `server` is the
suite's `live_server`; until app/main.py includes `app.presets.router` (the worked
example's route), it is instead a server of the same app with that router added
(`make_app` below), so the button can be tested end to end either way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT, free_port, stop_server, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"


def make_app():
    """The app of app.main, with the presets router if create_app does not include it yet."""
    from app.main import create_app
    from app.presets import router

    app = create_app()
    if not any(getattr(r, "path", "").endswith("/preset/worked-example") for r in app.routes):
        app.include_router(router)
    return app


def _has_preset_route(base: str) -> bool:
    r = httpx.post(f"{base}/ui/sessions/no-such-session/preset/worked-example")
    return r.status_code != 404 or "session" in r.text.lower()


@pytest.fixture(scope="session")
def server(live_server):
    if _has_preset_route(live_server):
        yield live_server
        return
    import tempfile

    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop_server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.browser.conftest:make_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    proc.log = log
    base = f"http://127.0.0.1:{port}"
    wait_healthy(proc, base)
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        subprocess.run(["make", "/usr/bin/chromium"], cwd=ROOT, check=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def api(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def open_page(browser, width=1280, height=800, color_scheme="light"):
    """A new page that records console errors and uncaught errors in `page.errors`."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=color_scheme)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    return page


@pytest.fixture
def page(browser):
    page = open_page(browser)
    yield page
    errors = list(page.errors)
    page.context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


def load(page, server) -> str:
    """Open the playground; wait until the network is drawn; return the session id."""
    page.goto(f"{server}/")
    page.wait_for_selector("#network-view .nv-node")
    page.wait_for_function(
        "() => document.querySelector('[data-readout=\"prediction\"]').dataset.value")
    return page.eval_on_selector("body", "b => b.dataset.sessionId")


def shot(page, name: str, selector: str | None = None) -> Path:
    """Save a screenshot to test-artifacts/ (the whole page, or one element)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    return path


def wait_numbers(page, selector: str, expected, tol: float = 1e-9, attr: str = "value"):
    """Wait until the JSON number (or list) in `selector`'s data-<attr> equals `expected`."""
    page.wait_for_function(
        """([sel, want, tol, attr]) => {
            const e = document.querySelector(sel);
            if (!e || !e.dataset[attr]) return false;
            let got = JSON.parse(e.dataset[attr]);
            const a = [].concat(got), b = [].concat(want);
            return a.length === b.length && a.every((x, k) => Math.abs(x - b[k]) <= tol);
        }""",
        arg=[selector, expected, tol, attr],
    )
