"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against a real server.

`page` fails its test on any console error or warning, or uncaught page error. `server` is the
suite's `live_server`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def server(live_server):
    """The real server process the browser tests drive."""
    return live_server


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


def open_page(browser, width=1280, height=800, color_scheme="light", scale=1):
    """A new page that records console errors, warnings and uncaught errors in `page.errors`
    (`scale`: device pixels per CSS pixel)."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=color_scheme, device_scale_factor=scale)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type in ("error", "warning")
            and page.errors.append(f"console {m.type}: {m.text}"))
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


def wait_model_shown(page, doc: dict) -> None:
    """Wait until every edge's data-value is the model document's weight and every bias
    marker's its bias, exactly."""
    for l, W in enumerate(doc["weights"]):
        for i, row in enumerate(W):
            for j, w in enumerate(row):
                edge = f'path.nv-edge[data-layer="{l}"][data-from="{i}"][data-to="{j}"]'
                wait_numbers(page, edge, w, tol=0)
    for l, b in enumerate(doc["biases"]):
        for j, v in enumerate(b):
            wait_numbers(page, f'circle.nv-bias[data-layer="{l}"][data-neuron="{j}"]', v, tol=0)
