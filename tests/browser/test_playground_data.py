"""Playground data panel in Chromium: dataset picker, clicked points, CSV upload.

Each test opens the default page and uses its controls by their names."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import figure, session_id, shot

GOOD_CSV = "x1,x2,label\n" + "\n".join(
    f"{x:.2f},{y:.2f},{int(x * y > 0)}" for x in (-4, -2.5, -1, 1, 2.5, 4) for y in (-3, -1, 2, 4))
BAD_CSV = "x1,x2,label\n1,2,0\n3,4,1\n5,oops,0\n6,7,1\n"


def open_playground(page, server) -> str:
    """Open the default page as a person does, wait for its first figures; return the
    session id."""
    page.set_default_timeout(60_000)  # two shared cores: be patient, never assert on time
    page.goto(f"{server}/")
    expect(figure(page, "Train loss")).to_have_text(re.compile(r"\d"))
    return session_id(page)


def data_panel(page):
    return page.get_by_role("region", name="Data")


def picture(page) -> str:
    # The decision boundary is a canvas: its pixels have no person-level reading.
    return page.eval_on_selector("#pg-boundary", "c => c.toDataURL()")


def upload(page, button: str, path) -> None:
    """Press a file button and choose `path` in the file chooser that opens."""
    with page.expect_file_chooser() as chooser:
        page.get_by_text(button, exact=True).click()
    chooser.value.set_files(str(path))


def test_picking_a_dataset_changes_the_picture(page, server, api):
    sid = open_playground(page, server)
    before = picture(page)
    shot(page, "playground-data-circle")
    spiral = data_panel(page).get_by_role("button", name="spiral", exact=True)
    spiral.click()
    expect(spiral).to_have_attribute("aria-pressed", "true")
    expect(data_panel(page).get_by_role("button", name="circle", exact=True)).to_have_attribute(
        "aria-pressed", "false")
    expect(page).to_have_url(re.compile(r"[?&]data=spiral\b"))
    assert api.get(f"/api/sessions/{sid}").json()["dataset"]["name"] == "spiral"
    # The spiral's points are drawn: the picture is no longer the circle's (pixels, read back).
    page.wait_for_function("before => document.querySelector('#pg-boundary').toDataURL() "
                           "!== before", arg=before)
    shot(page, "playground-data-spiral")


def test_clicking_the_plot_adds_a_point_of_the_chosen_class(page, server, api):
    sid = open_playground(page, server)
    page.get_by_label("Class of a point added by clicking").select_option("class 0")
    plot = page.get_by_label("Decision boundary with the data points; click to add a point")
    box = plot.bounding_box()
    # The centre of the plot is (0, 0); a quarter to the right is x1 = 3.
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5)
    expect(data_panel(page).get_by_role("button", name="Remove 1 added point")).to_be_visible()
    extra = api.get(f"/api/sessions/{sid}/dataset").json()["spec"]["extra_points"]
    assert len(extra) == 1
    x1, x2, label = extra[0]
    assert abs(x1 - 3.0) < 0.2 and abs(x2) < 0.2 and label == 0


def test_upload_a_good_csv_then_a_bad_one(page, server, api, tmp_path):
    sid = open_playground(page, server)
    good = tmp_path / "mine.csv"
    good.write_text(GOOD_CSV)
    upload(page, "Upload CSV…", good)
    expect(data_panel(page).get_by_text("Your CSV: 24 points")).to_be_visible()
    spec = api.get(f"/api/sessions/{sid}").json()["dataset"]
    assert spec["name"] == "csv" and len(spec["points"]) == 24
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    upload(page, "Upload CSV…", bad)
    expect(data_panel(page).get_by_role("alert")).to_have_text(
        "line 4, column 2 (x2): 'oops' is not a number")
    assert api.get(f"/api/sessions/{sid}").json()["dataset"] == spec  # the data is kept
    expect(data_panel(page).get_by_text("Your CSV: 24 points")).to_be_visible()
    shot(page, "playground-data-bad-csv", "#data-panel")


def test_class_map_pixels_are_the_class_colours_with_the_confidence_as_alpha(page, server):
    """paintClasses packs four bytes into one 32-bit word a pixel: every pixel is checked
    against the colours and confidences it was given."""
    page.goto(f"{server}/")
    size, colors = 12, [[179, 88, 6], [5, 113, 176], [0, 158, 115]]
    classes = [(k * 7) % 3 for k in range(size * size)]
    confidence = [(k * 13) % 256 for k in range(size * size)]
    # A unit of static/js/heatmap.js, called directly: exact pixels of given inputs have no
    # person-level equivalent.
    got = page.evaluate("""async ([size, colors, classes, confidence]) => {
      const { paintClasses } = await import('/static/js/heatmap.js');
      const c = document.createElement('canvas');
      paintClasses(c, { data: new Uint8Array(classes), size, colors,
                        confidence: new Uint8Array(confidence) });
      return Array.from(c.getContext('2d').getImageData(0, 0, size, size).data);
    }""", [size, colors, classes, confidence])
    want = [v for k in range(size * size) for v in (*colors[classes[k]], confidence[k])]
    # a canvas keeps colours premultiplied by alpha: nearly transparent pixels round
    for k in range(0, len(want), 4):
        a = want[k + 3]
        assert got[k + 3] == a
        if a >= 128:
            assert all(abs(got[k + c] - want[k + c]) <= 1 for c in range(3)), (k // 4, got[k:k + 4])
