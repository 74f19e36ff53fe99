"""Classroom mode, as a teacher and a student use it: the teacher makes an exercise through
the page's dialog and hands out the link; a student opens it in a browser of their own and
finds the note, the locked controls greyed out (and refused by the server even when forced),
the hidden parts gone without a gap, and the rest working."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import click_edge, load, open_page, session_id, shot, wait_until

NOTE = "Find a learning rate that separates the circle in under 100 epochs."


def state(api, sid) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def make_exercise(page, api, server) -> str:
    """The teacher's part: set the learning rate, make the exercise, return its link."""
    sid = load(page, server)
    page.get_by_role("combobox", name="Learning rate", exact=True).select_option("0.1")
    wait_until(lambda: state(api, sid)["model"]["optimizer"]["learning_rate"] == 0.1,
               "the teacher's learning rate to reach the server")
    page.get_by_role("button", name="Make an exercise").click()
    dialog = page.get_by_role("dialog", name="Make an exercise")
    expect(dialog).to_be_visible()
    for part, how in [("the optimizer and its settings", "locked"),
                      ("editing weights and biases", "locked"),
                      ("the dataset and its settings", "hidden"),
                      ("the input features", "hidden"),
                      ("uploading data or a model", "hidden"),
                      ("the step-by-step panel", "hidden")]:
        dialog.get_by_role("radio", name=f"{part}: {how}").check()
    dialog.get_by_label("Note for the students").fill(NOTE)
    dialog.get_by_role("button", name="Make the link").click()
    expect(dialog.get_by_text(re.compile("^The link is made"))).to_be_visible()
    shot(page, "exercise-dialog")
    link = dialog.get_by_label("Exercise link").input_value()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    return link


def test_an_exercise_made_on_the_page_locks_and_hides_exactly_what_the_teacher_chose(
        browser, server, api):
    teacher = open_page(browser, 1280, 800, permissions=["clipboard-read", "clipboard-write"])
    student = open_page(browser, 1280, 800)
    try:
        link = make_exercise(teacher, api, server)
        assert link.startswith(f"{server}/?")

        student.goto(link)
        student.wait_for_selector("#network-view .nv-node")
        sid = session_id(student)
        doc = state(api, sid)
        assert doc["exercise"] == {
            "note": NOTE, "hidden": ["data", "features", "step", "upload"],
            "locked": ["optimizer", "weights"]}
        assert doc["model"]["optimizer"]["learning_rate"] == 0.1  # the teacher's settings

        banner = student.get_by_role("region", name="Exercise")
        expect(banner).to_contain_text(NOTE)
        expect(banner).to_contain_text("Locked: the optimizer and its settings; "
                                       "editing weights and biases.")
        # Hidden: gone, and no gap where the data column was.
        for name in ("xor", "Regenerate"):
            expect(student.get_by_role("button", name=name, exact=True)).to_have_count(0)
        for name in ("Step one sample", "Worked example"):
            expect(student.get_by_role("button", name=name)).to_be_hidden()
        expect(student.get_by_text("Upload CSV")).to_have_count(0)
        expect(student.get_by_role("checkbox", name="x1^2")).to_have_count(0)
        assert student.locator("#network-view").bounding_box()["x"] < 40
        # Locked: shown, greyed out; the editor of a weight opens read-only.
        optimizer = student.get_by_role("combobox", name="Optimizer", exact=True)
        expect(optimizer).to_be_disabled()
        click_edge(student, "weight from x1 to hidden 1 neuron 1")
        editor = student.get_by_role("dialog", name="change a parameter")
        expect(editor).to_be_visible()
        expect(editor.get_by_role("slider")).to_be_disabled()
        editor.get_by_role("button", name="close the slider").click()
        shot(student, "exercise-student")

        # Forced (a student re-enables the control with the browser's tools): refused.
        student.evaluate(  # the page greys it out; this is what devtools would undo
            "document.querySelector('select[name=optimizer]').disabled = false")
        optimizer.select_option("sgd")
        expect(student.get_by_text(re.compile("locked in this exercise"))).to_be_visible()
        assert state(api, sid)["model"]["optimizer"]["name"] == "adam"
        assert state(api, sid)["model"] == doc["model"]

        # What the teacher left open works.
        student.get_by_role("combobox", name="Learning rate", exact=True).select_option("0.3")
        wait_until(lambda: state(api, sid)["model"]["optimizer"]["learning_rate"] == 0.3,
                   "the student's learning rate to reach the server")
        student.get_by_role("button", name="Step one epoch").click()
        wait_until(lambda: state(api, sid)["training"]["epoch"] == 1, "one epoch trained")
    finally:
        errors = [e for p in (teacher, student) for e in p.errors]
        teacher.context.close()
        student.context.close()
    # The forced change's refusal is the one error the page may log (a 4xx it shows).
    assert not [e for e in errors if "403" not in e], errors


def test_a_bad_exercise_link_says_what_it_could_not_apply(page, server, api):
    page.goto(f"{server}/?lock=optimizer,nonsense&note=Try+it")
    page.wait_for_selector("#network-view .nv-node")
    problems = page.get_by_role("alert", name="Problems with this link")
    expect(problems).to_contain_text("nonsense")
    # The rest of the link applied: no lock (the lock list was refused whole), the note kept.
    expect(page.get_by_role("region", name="Exercise")).to_contain_text("Try it")
    assert state(api, session_id(page))["exercise"]["locked"] == []
