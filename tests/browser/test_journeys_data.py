"""Journeys of issue 11 about the data: a point clicked on the plot, Undo, CSV uploads and
a link's unusable values, each from the page a person opens, by role and label, checking
the server (JSON API) and the screen."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.ui_table import BY_NAME
from tests.browser.conftest import figure, load, wait_until


def state(api, sid) -> dict:
    return api.get(f"/api/sessions/{sid}").json()


def train_until(page, api, sid, accuracy: float) -> dict:
    """Play until the server's test accuracy shown on the page reaches `accuracy`, pause,
    and return the server's session once it says it is paused."""
    page.get_by_role("button", name="Play", exact=True).click()
    shown = figure(page, "Accuracy")
    wait_until(lambda: re.fullmatch(r"[\d.]+", shown.inner_text().strip())
               and float(shown.inner_text()) >= accuracy,
               f"the shown accuracy reaches {accuracy}", timeout=60)
    page.get_by_role("button", name="Pause", exact=True).click()
    return wait_until(lambda: (s := state(api, sid))["training"]["playing"] is False and s,
                      "the server has paused")


def csv_file(tmp_path, name: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    return str(path)


def test_a_click_on_the_plot_adds_a_point_and_keeps_the_network(page, server, api):
    sid = load(page, server)
    page.get_by_role("button", name="xor", exact=True).click()
    wait_until(lambda: state(api, sid)["dataset"]["name"] == "xor", "the server has xor")
    before = train_until(page, api, sid, 0.9)
    accuracy = figure(page, "Accuracy").inner_text()

    page.get_by_role("combobox", name="Class of a point added by clicking").select_option("0")
    page.get_by_label("Decision boundary with the data points; click to add a point").click(
        position={"x": 40, "y": 40})
    after = wait_until(lambda: (s := state(api, sid))["dataset"]["extra_points"] and s,
                       "the server has the clicked point")
    x1, x2, label = after["dataset"]["extra_points"][0]
    assert label == 0 and x1 < -3 and x2 > 3  # top left of the plane (-6..6 both ways)
    for key in ("weights", "biases", "optimizer_state"):
        assert after["model"][key] == before["model"][key], key
    assert after["training"]["epoch"] == before["training"]["epoch"] > 0
    # The test split is the same and so is the network: the same accuracy, not a reset.
    expect(figure(page, "Accuracy")).to_have_text(accuracy)

    undo = page.get_by_role("button", name="Undo: added 1 point")
    expect(undo).to_be_visible()
    undo.click()
    wait_until(lambda: state(api, sid)["dataset"]["extra_points"] == [], "the point is gone")
    expect(undo).to_have_count(0)
    assert state(api, sid)["model"]["weights"] == before["model"]["weights"]


def test_undo_brings_back_the_data_and_the_network_a_new_dataset_replaced(page, server, api):
    sid = load(page, server)
    before = train_until(page, api, sid, 0.7)
    page.get_by_role("button", name="gauss", exact=True).click()
    wait_until(lambda: state(api, sid)["dataset"]["name"] == "gauss", "the server has gauss")
    assert state(api, sid)["training"]["epoch"] == 0
    page.get_by_role("button", name="Undo: new data").click()
    after = wait_until(lambda: (s := state(api, sid))["dataset"]["name"] == "circle" and s,
                       "the circle is back")
    for key in ("weights", "biases", "optimizer_state"):
        assert after["model"][key] == before["model"][key], key
    assert after["training"]["epoch"] == before["training"]["epoch"]
    expect(page.get_by_role("button", name="circle", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    expect(page.locator('[data-metric="epoch"]')).to_have_text(str(before["training"]["epoch"]))


def test_a_second_csv_replaces_the_first(page, server, api, tmp_path):
    sid = load(page, server)
    upload = page.get_by_label("Upload CSV")
    three = [f"{k % 7 - 3},{k % 5 - 2},{k % 3}" for k in range(150)]
    upload.set_input_files(csv_file(tmp_path, "three.csv", three))
    expect(page.get_by_text("Your CSV: 150 points (3 classes)")).to_be_visible()
    two = [f"{k % 9 - 4},{k % 4 - 2},{k % 2}" for k in range(40)]
    page.get_by_label("Upload CSV").set_input_files(csv_file(tmp_path, "two.csv", two))
    expect(page.get_by_text("Your CSV: 40 points (2 classes)")).to_be_visible()
    s = state(api, sid)
    assert len(s["dataset"]["points"]) == 40
    assert sorted({p[2] for p in s["dataset"]["points"]}) == [0, 1]
    m = s["model"]
    assert (m["layers"][-1], m["output_activation"], m["loss"]) == (
        1, "sigmoid", "binary_cross_entropy")
    expect(page.get_by_role("button", name="output 1: show its parameters")).to_be_visible()
    expect(page.get_by_role("button", name="output 2: show its parameters")).to_have_count(0)


def test_an_empty_csv_says_the_file_is_empty(page, server, api, tmp_path):
    sid = load(page, server)
    before = state(api, sid)["dataset"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    page.get_by_label("Upload CSV").set_input_files(str(empty))
    expect(page.get_by_role("alert")).to_have_text("file: empty.csv is empty")
    assert state(api, sid)["dataset"] == before


def test_a_link_s_unusable_values_are_shown_and_the_rest_applies(page, server, api):
    # The journey is about a link: it opens one.
    page.goto(f"{server}/?lr=abc&hide=everything&act=relu")
    problems = page.get_by_role("alert", name="Problems with this link")
    expect(problems).to_contain_text("learning_rate: expected a number, got 'abc'")
    expect(problems).to_contain_text("hide: unknown value 'everything'")
    page.wait_for_selector("#network-view .nv-node")
    sid = page.eval_on_selector("body", "b => b.dataset.sessionId")
    model = state(api, sid)["model"]
    assert model["activation"] == "relu"  # the usable part of the link applied
    lr = BY_NAME["learning_rate"].default
    assert model["optimizer"]["learning_rate"] == lr  # the default stood in for 'abc'
    expect(page.get_by_role("combobox", name="Learning rate")).to_have_value(f"{lr:g}")
