"""Playground data panel in Chromium: dataset picker, clicked points, CSV upload."""

from __future__ import annotations

import hashlib

from tests.browser.conftest import shot

GOOD_CSV = "x1,x2,label\n" + "\n".join(
    f"{x:.2f},{y:.2f},{int(x * y > 0)}" for x in (-4, -2.5, -1, 1, 2.5, 4) for y in (-3, -1, 2, 4))
BAD_CSV = "x1,x2,label\n1,2,0\n3,4,1\n5,oops,0\n6,7,1\n"


def open_playground(page, server, query: str = "") -> str:
    """Open the page at `/?query`, wait for its first frame; return the session id."""
    page.set_default_timeout(60_000)  # two shared cores: be patient, never assert on time
    page.goto(f"{server}/?{query}")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"train_loss\"]')?.textContent)")
    return page.eval_on_selector("body", "b => b.dataset.sessionId")


def picture(page) -> str:
    """A digest of the decision-boundary canvas's pixels."""
    url = page.eval_on_selector("#pg-boundary", "c => c.toDataURL()")
    return hashlib.sha256(url.encode()).hexdigest()


def test_picking_a_dataset_changes_the_picture(page, server, api):
    sid = open_playground(page, server)
    before = page.eval_on_selector("#pg-boundary", "c => c.toDataURL()")
    shot(page, "playground-data-circle")
    page.click('[data-dataset="spiral"]')
    page.wait_for_selector('[data-dataset="spiral"].is-current')
    page.wait_for_function("() => location.search.includes('data=spiral')")
    assert api.get(f"/api/sessions/{sid}").json()["dataset"]["name"] == "spiral"
    # The spiral's points are drawn: the picture is no longer the circle's.
    page.wait_for_function("before => document.querySelector('#pg-boundary').toDataURL() "
                           "!== before", arg=before)
    assert picture(page) != hashlib.sha256(before.encode()).hexdigest()
    shot(page, "playground-data-spiral")


def test_clicking_the_plot_adds_a_point_of_the_chosen_class(page, server, api):
    sid = open_playground(page, server)
    page.select_option("[data-add-class]", "0")
    box = page.locator("#pg-boundary").bounding_box()
    # The centre of the plot is (0, 0); a quarter to the right is x1 = 3.
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5)
    page.wait_for_selector('[data-action="clear-points"]')
    extra = api.get(f"/api/sessions/{sid}/dataset").json()["spec"]["extra_points"]
    assert len(extra) == 1
    x1, x2, label = extra[0]
    assert abs(x1 - 3.0) < 0.2 and abs(x2) < 0.2 and label == 0


def test_upload_a_good_csv_then_a_bad_one(page, server, api, tmp_path):
    sid = open_playground(page, server)
    good = tmp_path / "mine.csv"
    good.write_text(GOOD_CSV)
    page.set_input_files('[data-action="upload-csv"]', str(good))
    page.wait_for_selector("text=Your CSV: 24 points")
    spec = api.get(f"/api/sessions/{sid}").json()["dataset"]
    assert spec["name"] == "csv" and len(spec["points"]) == 24
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    page.set_input_files('[data-action="upload-csv"]', str(bad))
    error = page.wait_for_selector('[data-error="csv"]')
    assert error.text_content() == "line 4, column 2 (x2): 'oops' is not a number"
    assert api.get(f"/api/sessions/{sid}").json()["dataset"] == spec  # the data is kept
    shot(page, "playground-data-bad-csv", "#data-panel")


def test_class_map_pixels_are_the_class_colours_with_the_confidence_as_alpha(page, server):
    """paintClasses packs four bytes into one 32-bit word a pixel: every pixel is checked
    against the colours and confidences it was given."""
    page.goto(f"{server}/")
    size, colors = 12, [[179, 88, 6], [5, 113, 176], [0, 158, 115]]
    classes = [(k * 7) % 3 for k in range(size * size)]
    confidence = [(k * 13) % 256 for k in range(size * size)]
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
