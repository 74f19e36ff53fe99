"""The default page at the screen sizes people use (static/css/layout.css): phone to 2560x1440.

At each size a person opens the default page and must be able to read it and use it: no
sideways scroll, no text under 11 px, the network the widest drawing, every panel in view
when scrolled to, and the training buttons working (checked through the JSON API and the
counter on screen). Touch screens get targets a finger can hit. Each size's screenshot is
kept in test-artifacts/layout-WxH.png."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, session_id, shot, wait_until

SIZES = [(390, 844), (768, 1024), (1024, 768), (1280, 800), (1366, 768), (1920, 1080),
         (2560, 1440)]
TARGETS = ("button, select, label.pg-toggle,"
           " input:not([type=hidden]):not([type=checkbox]):not([type=file])")
TOUCH = {(390, 844), (768, 1024)}  # phones and tablets: touch screens

# Every visible piece of text, with the size it is drawn at on screen: an SVG's text (or an
# HTML label in its foreignObject) is scaled by the drawing's zoom.
HIDDEN = "option, script, style, title, [hidden], details:not([open]) > :not(summary)"
SMALL_TEXT = """([least, hidden]) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest(hidden)) continue;
    const rects = el.getClientRects();
    if (!rects.length || !rects[0].width) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    let px = parseFloat(style.fontSize);
    const svg = el.closest("svg");
    if (svg) {
      const host = el instanceof SVGElement ? el : el.closest("foreignObject");
      const m = host.getScreenCTM();
      px *= Math.hypot(m.a, m.b);
    }
    const name = el.className.baseVal ?? el.className;
    if (px < least - 0.05) small.push(`${text.slice(0, 30)} (${px.toFixed(1)} px, ${name})`);
  }
  return small;
}"""


def ids(size):
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_the_default_page_fits_reads_and_works_at(browser, server, api, size):
    width, height = size
    touch = size in TOUCH
    page = open_page(browser, width, height, has_touch=touch, is_mobile=width < 700)
    try:
        load(page, server)
        sid = session_id(page)

        # No sideways scroll.
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # The network is the widest drawing, and wide enough to read.
        net = page.locator("#network-view svg.nv-svg").bounding_box()
        plot = page.locator(".pg-plot").bounding_box()
        assert net["width"] >= plot["width"] * 0.95, (net, plot)
        # (network_view.js draws it at most 1.5 times its natural size.)
        assert net["width"] >= min(0.45 * width, 1000), net

        # No text under 11 px anywhere on the page (the network's labels included).
        small = page.evaluate(SMALL_TEXT, [11, HIDDEN])
        assert small == [], "\n".join(small)

        # Phones stack the panels: network, then output, then data (the training bar on top).
        tops = {name: page.locator(sel).bounding_box()["y"] for name, sel in
                [("bar", "#controls"), ("network", "#network-view"),
                 ("output", ".nn-right"), ("data", ".nn-left")]}
        if width < 700:
            assert tops["bar"] < tops["network"] < tops["output"] < tops["data"], tops
        else:
            assert tops["bar"] < tops["network"], tops

        if touch:
            # Every button, field and slider a finger can hit.
            small = page.evaluate("""([targets, hidden]) => [...document.querySelectorAll(targets)]
              .filter(e => e.getClientRects().length && !e.closest(hidden))
              .map(e => [e.getAttribute('aria-label') || e.name || e.textContent.trim(),
                         e.getBoundingClientRect()])
              .filter(([, r]) => r.width > 0 && Math.min(r.width, r.height) < 31.5)
              .map(([n, r]) => `${n}: ${r.width.toFixed(0)}x${r.height.toFixed(0)}`)""",
                                  [TARGETS, HIDDEN])
            assert small == [], small

        if touch:
            # A neuron answers a finger anywhere in a 32 px square around it.
            node = page.get_by_role("button", name="hidden 1 neuron 2: show its parameters")
            node.scroll_into_view_if_needed()
            box = node.bounding_box()
            assert min(box["width"], box["height"]) >= 32, box
            page.touchscreen.tap(box["x"] + 2, box["y"] + 2)  # a corner, off the drawn box
            expect(page.get_by_label("parameters of the selected neuron")).to_contain_text(
                "hidden 1 neuron 2")

        shot(page, f"layout-{width}x{height}")

        # The controls work at this size: a person scrolls to them and presses Step one epoch.
        step = page.get_by_role("button", name="Step one epoch")
        step.scroll_into_view_if_needed()
        if touch:
            step.tap()
        else:
            step.click()
        expect(page.locator('[data-metric="epoch"]')).to_have_text("1")
        wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["epoch"] == 1,
                   "the server's epoch to be 1")

        # And the data panel, last on a phone, can be reached and used: pick xor.
        xor = page.get_by_role("button", name="xor", exact=True)
        xor.scroll_into_view_if_needed()
        if touch:
            xor.tap()
        else:
            xor.click()
        wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["dataset"]["name"] == "xor",
                   "the server's dataset to be xor")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        errors = list(page.errors)
        page.context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


def test_projector_mode_enlarges_the_page_and_stays_in_its_link(browser, server):
    page = open_page(browser, 1024, 768)
    try:
        load(page, server)
        size = "() => parseFloat(getComputedStyle(document.querySelector('.pg-big')).fontSize)"
        label = ("() => parseFloat(getComputedStyle("
                 "document.querySelector('.nv-value')).fontSize)")
        before = page.evaluate(size), page.evaluate(label)
        page.get_by_role("checkbox", name="Projector mode").check()
        wait_until(lambda: "proj=1" in page.evaluate("location.search"),
                   "the address bar to keep projector mode")
        after = page.evaluate(size), page.evaluate(label)
        assert after[0] >= before[0] * 1.3 and after[1] >= before[1] * 1.3, (before, after)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        shot(page, "layout-projector-1024x768")
        # The link (a reload, or the address handed to the room) opens in projector mode.
        page.reload()
        page.wait_for_selector("#network-view .nv-node")
        expect(page.get_by_role("checkbox", name="Projector mode")).to_be_checked()
        assert page.evaluate(size) == after[0]
    finally:
        errors = list(page.errors)
        page.context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)
