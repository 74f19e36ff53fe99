"""Accessibility checked by a tool: axe-core (npm, pinned in package-lock.json, a dev
dependency the page never loads) on the pages people use, light and dark, desktop and phone,
plus the step panel while it explains a step, and the reduced-motion preference honoured by
the step animation."""

import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import load, open_page, shot
from tests.conftest import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.1 A and AA rules (colour contrast among them) and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    # The test injects axe through the browser's debugging protocol (page.evaluate): the
    # page's CSP allows only its own scripts, and axe is not one of them.
    page.evaluate(AXE.read_text())
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           TAGS)
    # axe ran its rules here (a page it could not read would pass nothing, and fail nothing).
    assert len(result["passes"]) >= 20, [p["id"] for p in result["passes"]]
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_clean(page) -> None:
    bad = axe_violations(page)
    assert bad == [], json.dumps(bad, indent=1)


@pytest.fixture
def make_page(browser):
    pages = []

    def make(**options):
        page = open_page(browser, **options)
        pages.append(page)
        return page

    yield make
    errors = [e for p in pages for e in p.errors]
    for p in pages:
        p.context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_default_page_has_no_serious_violation(make_page, server, scheme):
    page = make_page(color_scheme=scheme)
    load(page, server)
    shot(page, f"a11y-default-{scheme}")
    assert_clean(page)


def test_the_phone_layout_has_no_serious_violation(make_page, server):
    page = make_page(width=390, height=844, has_touch=True, is_mobile=True)
    load(page, server)
    assert_clean(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_step_panel_explaining_a_step_has_no_serious_violation(make_page, server, scheme):
    page = make_page(color_scheme=scheme)
    load(page, server)
    page.get_by_role("button", name="Step one sample").click()
    # The backward phase: the caption, the equations with their numbers, the dimmed network.
    page.get_by_role("button", name="d · backward").click()
    expect(page.locator('[data-role="equations"]')).not_to_be_empty()
    shot(page, f"a11y-step-{scheme}")
    assert_clean(page)


def test_the_classroom_page_has_no_serious_violation(make_page, server):
    page = make_page()
    # Classroom mode is a link a teacher hands out: this is its URL (controls hidden).
    page.goto(f"{server}/?hide=optimizer,output")
    page.wait_for_selector("#network-view .nv-node")
    assert_clean(page)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_step_animation_honours_reduced_motion(make_page, server, motion):
    page = make_page(reduced_motion=motion)
    load(page, server)
    # Count the travelling dots the forward phase draws, as they appear.
    page.evaluate("""() => { window.dotsSeen = 0; new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes)
          if (n.classList?.contains("nv-dot")) window.dotsSeen++;
      }).observe(document.querySelector("#network-view svg"), {childList: true, subtree: true});
    }""")
    page.get_by_role("button", name="Step one sample").click()
    page.get_by_role("button", name="b · forward").click()
    expect(page.locator('[data-role="caption"]')).to_contain_text("layer")
    time.sleep(0.5)
    dots = page.evaluate("window.dotsSeen")
    transition = page.evaluate(
        "getComputedStyle(document.querySelector('#network-view .nv-edge')).transitionDuration")
    if motion == "reduce":
        assert dots == 0
        assert transition == "0s"
    else:
        assert dots > 0
        assert transition != "0s"
