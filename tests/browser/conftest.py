"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against a real server.

`page` fails its test on any console error or warning, or uncaught page error. `server` is the
suite's `live_server`.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

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


def open_page(browser, width=1280, height=800, color_scheme="light", scale=1, **context):
    """A new page that records console errors, warnings and uncaught errors in `page.errors`
    (`scale`: device pixels per CSS pixel; `context`: more options of the browser context,
    e.g. permissions)."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=color_scheme, device_scale_factor=scale,
                                  **context)
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


# ---- what a person sees and does (issue 11) ---------------------------------------------
# Tests find controls by their label or role and read the page's visible text. The page
# shows engine numbers with static/js/equations.js `fmt`: up to 4 decimals, or 3 significant
# digits in exponent form below 1e-4; `shown_as` compares a shown number with a reference
# within half a unit of its last printed place.

NUMBER = re.compile(r"(?<![\w.#])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def number_tokens(text: str) -> list[str]:
    """The numbers printed in `text`, as printed (not those inside names such as x1 or #3)."""
    return NUMBER.findall(text)


def half_unit(token: str) -> float:
    """Half a unit in the last place a printed number shows."""
    if "e" in token:
        mantissa, exponent = token.split("e")
        places = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** (int(exponent) - places)
    return 0.5 * 10.0 ** -(len(token.split(".")[1]) if "." in token else 0)


def shown_as(token: str, want: float) -> bool:
    """Whether the printed `token` is `want` as the page prints it."""
    return abs(float(token) - want) <= half_unit(token) + 1e-12


def wait_shown(locator, expected, timeout: float = 15.0) -> str:
    """Wait until the numbers in `locator`'s visible text are `expected` (a number or a
    list) as the page prints them; return the text."""
    want = list(expected) if isinstance(expected, list | tuple) else [expected]
    deadline = time.monotonic() + timeout
    text = None
    while True:
        with contextlib.suppress(PlaywrightError):
            text = locator.inner_text(timeout=1000)
            got = number_tokens(text)
            if len(got) == len(want) and all(map(shown_as, got, want)):
                return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} shows {text!r}, not {want}")
        time.sleep(0.05)


def readout(page, label: str):
    """The value shown after `label` in the readout bar under the network (sample,
    target, prediction, sample loss, train loss, test loss)."""
    return page.locator(f"xpath=//*[contains(@class, 'nv-readout')]/span"
                        f"[normalize-space(text()[1])='{label}']/b")


def figure(page, label: str):
    """A figure of the output panel's list (Train loss, Accuracy, ...), by its term."""
    return page.locator(f"xpath=//dl/div[dt[normalize-space()='{label}']]/dd")


def session_id(page) -> str:
    # The page does not show its session id; the tests need it to ask the server (JSON API).
    return page.eval_on_selector("body", "b => b.dataset.sessionId")


def neuron(page, name: str):
    """A neuron of the network drawing, by its name ("x1", "hidden 1 neuron 2", "output 1")."""
    return page.get_by_role("button", name=f"{name}: show its parameters", exact=True)


# The point of an edge's drawn line where a click lands on that edge (not on a crossing
# edge or a neuron): where the line is on the screen, as a person sees it.
EDGE_POINT = """(path) => {
  const len = path.getTotalLength(), m = path.getScreenCTM();
  for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8, 0.15, 0.85]) {
    const p = path.getPointAtLength(len * t);
    const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
    if (document.elementFromPoint(x, y) === path) return [x, y];
  }
  return null;
}"""


def edge(page, name: str):
    """An edge of the network drawing, a button named after its weight ("weight from x2 to
    hidden 1 neuron 1"; focused, its name ends with the weight's value)."""
    return page.get_by_role("button", name=re.compile(f"^{re.escape(name)}(: .*)?$"))


def click_edge(page, name: str) -> None:
    """Click the edge named `name` with the mouse on its line."""
    line = edge(page, name)
    line.scroll_into_view_if_needed()
    point = line.evaluate(EDGE_POINT)
    assert point, f"no point of the edge {name!r} can be clicked"
    page.mouse.click(*point)


def set_hidden_layers(page, sizes: list[int]) -> None:
    """Shape the hidden layers with the architecture buttons (+/- layer, +/- neuron),
    waiting for the network drawing to show each change."""
    controls = page.get_by_role("region", name="Training and architecture")
    layer_menus = controls.get_by_role("combobox", name=re.compile(r"^Activation of layer \d+$"))

    def column(k):
        return page.get_by_role("button", name=re.compile(rf"^hidden {k} neuron \d+: "))

    def press(name, k_shown, count, layers):
        # Each press is its own change (the page sends every one): wait until both the
        # drawing and the controls show it before reading them for the next press.
        controls.get_by_role("button", name=name).click()
        expect(column(k_shown)).to_have_count(count)
        expect(layer_menus).to_have_count(layers)
        if count:  # the layer's neuron count, as the controls show it
            expect(controls.get_by_role("listitem").nth(k_shown - 1)).to_contain_text(
                re.compile(rf"L{k_shown}\s*\S\s*{count}\b"))

    # grow the last layer first: an added layer copies the last one's size
    last = layer_menus.count()
    while last < len(sizes) and column(last).count() < sizes[-1]:
        press(f"Add a neuron to layer {last}", last, column(last).count() + 1, last)
    while layer_menus.count() < len(sizes):
        n = layer_menus.count()
        press("Add a hidden layer", n + 1, column(n).count(), n + 1)
    while layer_menus.count() > len(sizes):
        n = layer_menus.count()
        press("Remove a hidden layer", n, 0, n - 1)
    for k, want in enumerate(sizes, start=1):
        while (n := column(k).count()) != want:
            sign = "Add a neuron to" if n < want else "Remove a neuron from"
            press(f"{sign} layer {k}", k, n + (1 if n < want else -1), len(sizes))


def wait_until(check, what, timeout: float = 15.0):
    """Poll `check()` (e.g. a question to the JSON API) until it returns something true;
    return that. `what` says what was awaited (a text, or a function giving one, called
    on failure). The page's changes reach the server a moment after the click."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what() if callable(what) else what}")
        time.sleep(0.05)
    return result


def epoch_shown(page):
    """The epoch figure of the training bar."""
    return page.locator("xpath=//span[normalize-space()='Epoch']/following-sibling::span[1]")


def more_settings(page):
    """Open the drop-down of the less used settings (output, loss, initial weights, the
    optimizer's hyperparameters) by its summary line, if it is closed; return its body."""
    summary = page.get_by_text(re.compile(r"^Output \S+, loss \S+"))
    details = page.locator("details", has=summary)
    if details.get_attribute("open") is None:
        summary.click()
    expect(details).to_have_attribute("open", "")
    return details


def close_more_settings(page) -> None:
    """Close that drop-down again (by its summary line), as a person does when done."""
    summary = page.get_by_text(re.compile(r"^Output \S+, loss \S+"))
    details = page.locator("details", has=summary)
    if details.get_attribute("open") is not None:
        summary.click()
    expect(details).not_to_have_attribute("open", "")


def settle(page, quiet: float = 0.3, timeout: float = 15.0) -> None:
    """Wait until the page's panel requests (/ui/) are answered and none has started for
    `quiet` seconds, so that what a test reads next is the panels as the server redrew
    them. (Changes made faster than that are kept, in order: static/js/panels.js, and
    test_journeys_sessions.py's quick-hands journey.)"""
    if not hasattr(page, "ui_requests"):
        page.ui_requests = {"open": 0, "at": time.monotonic()}

        def start(request):
            if "/ui/" in request.url:
                page.ui_requests["open"] += 1
                page.ui_requests["at"] = time.monotonic()

        def end(request):
            if "/ui/" in request.url:
                page.ui_requests["open"] = max(0, page.ui_requests["open"] - 1)
                page.ui_requests["at"] = time.monotonic()

        page.on("request", start)
        page.on("requestfinished", end)
        page.on("requestfailed", end)
    deadline = time.monotonic() + timeout
    while page.ui_requests["open"] > 0 or time.monotonic() - page.ui_requests["at"] < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page's panel requests did not settle in {timeout:g} s")
        page.wait_for_timeout(50)


def step_epochs(page, n: int) -> None:
    """Press "Step one epoch" `n` times, each time waiting for the epoch counter."""
    counter = page.locator('[data-metric="epoch"]')
    for _ in range(n):
        before = int(counter.inner_text())
        page.get_by_role("button", name="Step one epoch").click()
        expect(counter).to_have_text(str(before + 1))
