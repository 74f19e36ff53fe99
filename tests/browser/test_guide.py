"""The first-visit guide (app/guide.py, static/js/guide.js): the line saying what nnplay is,
the tour from its first stop to its last, the glossary, a tooltip on every control, and the
activation pictures beside the activation selects."""

import re

from playwright.sync_api import expect

from app.guide import GLOSSARY, TAGLINE, TOUR
from tests.browser.conftest import load, session_id, wait_until

IN_VIEW = """(el) => { const r = el.getBoundingClientRect();
  return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; }"""


def test_a_first_visit_offers_the_tour_and_it_walks_every_part(page, server, api):
    load(page, server)
    sid = session_id(page)
    expect(page.get_by_text(TAGLINE)).to_be_visible()
    expect(page.get_by_text("New here?")).to_be_visible()

    page.get_by_role("button", name="Take the tour").click()
    tour = page.get_by_role("dialog")
    expect(tour).to_be_visible()
    expect(page.get_by_text("New here?")).to_be_hidden()

    for k, stop in enumerate(TOUR):
        expect(tour.get_by_role("heading")).to_have_text(stop.title)
        expect(tour).to_contain_text(f"{k + 1} of {len(TOUR)}")
        expect(tour).to_contain_text(stop.text[:60])
        part = page.locator(stop.target).first
        # The stop's part of the page is outlined and scrolled into view.
        expect(part).to_have_css("outline-style", "solid")
        assert part.evaluate(IN_VIEW), stop.title
        expect(tour.get_by_role("button", name="Back")).to_be_enabled(enabled=k > 0)
        if stop.target == "#controls":
            # The tour is not modal: the page works under it.
            page.get_by_role("button", name="Step one epoch").click()
            wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["training"]["epoch"] == 1,
                       "the step to reach the server")
        last = k == len(TOUR) - 1
        tour.get_by_role("button", name="Done" if last else "Next").click()

    expect(tour).to_be_hidden()
    assert page.locator(".nn-tour-target").count() == 0
    page.reload()
    page.wait_for_selector("#network-view .nv-node")
    # Seen once: a second visit does not ask again, and the tour is still a click away.
    expect(page.get_by_text("New here?")).to_be_hidden()
    page.get_by_role("button", name="How it works").click()
    expect(page.get_by_role("dialog").get_by_role("heading")).to_have_text(TOUR[0].title)


def test_escape_closes_the_tour_and_the_glossary_lists_the_terms(page, server):
    load(page, server)
    page.get_by_role("button", name="No thanks").click()
    expect(page.get_by_text("New here?")).to_be_hidden()

    page.get_by_role("button", name="How it works").click()
    tour = page.get_by_role("dialog")
    tour.get_by_role("button", name="Next").click()
    expect(tour.get_by_role("heading")).to_have_text(TOUR[1].title)
    page.keyboard.press("Escape")
    expect(tour).to_be_hidden()
    assert page.locator(".nn-tour-target").count() == 0

    page.get_by_role("button", name="Glossary").click()
    glossary = page.get_by_role("dialog", name="Glossary")
    expect(glossary).to_be_visible()
    for term, meaning in GLOSSARY:
        expect(glossary.get_by_text(term, exact=True)).to_be_visible()
        expect(glossary.get_by_text(meaning)).to_be_attached()
    page.keyboard.press("Escape")
    expect(glossary).to_be_hidden()


def test_every_control_says_what_it_does(page, server):
    load(page, server)
    page.get_by_text("Output sigmoid").click()  # the drop-down's controls too
    silent = page.evaluate("""() => [...document.querySelectorAll(
        '#controls select, #controls input, #data-panel select, #data-panel input')]
      .filter(e => e.type !== 'hidden' && e.getClientRects().length)
      .filter(e => !(e.closest('[title]')?.title || '').trim())
      .map(e => e.name || e.outerHTML.slice(0, 80))""")
    assert silent == []


def test_the_activation_picture_follows_the_select(page, server, api):
    load(page, server)
    sid = session_id(page)
    expect(page.get_by_role("img", name=re.compile(r"^tanh: the function"))).to_have_count(3)
    page.get_by_role("combobox", name="Activation", exact=True).select_option("relu")
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["model"]["activation"] == "relu",
               "the server's activation to be relu")
    # Every hidden layer follows the network's activation: three pictures of relu now.
    expect(page.get_by_role("img", name=re.compile(r"^relu: the function"))).to_have_count(3)
    page.get_by_role("combobox", name="Activation of layer 2").select_option("sigmoid")
    expect(page.get_by_role("img", name=re.compile(r"^sigmoid: the function"))).to_have_count(1)
