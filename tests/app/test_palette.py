"""The class colours are one list (app/palette.py): the dataset thumbnails, the confusion
matrix's swatches and the list the page's scripts receive are all that list.
(tests/browser/test_page_state.py checks the plot's pixels against it.)"""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.palette import CLASS_COLOURS, class_colour
from app.routes.ui import thumbnail
from app.ui_table import DATASET_NAMES, MAX_CLASSES


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def fills(svg: str) -> list[str]:
    return re.findall(r'fill="(#[0-9a-f]{6})"', svg)


def test_the_list_is_distinct_colours_one_per_class():
    assert len(CLASS_COLOURS) == MAX_CLASSES
    assert len(set(CLASS_COLOURS)) == len(CLASS_COLOURS)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in CLASS_COLOURS)
    assert [class_colour(k) for k in range(2 * MAX_CLASSES)] == list(CLASS_COLOURS) * 2


@pytest.mark.parametrize(("name", "classes"), [("circle", 2), ("xor", 2), ("spiral3", 3),
                                               ("blobs", 3)])
def test_a_thumbnail_draws_class_k_in_colour_k(name, classes):
    assert sorted(set(fills(str(thumbnail(name))))) == sorted(CLASS_COLOURS[:classes])


def test_every_thumbnail_uses_only_the_list():
    for name in DATASET_NAMES:
        # regression thumbnails shade the two ends of the ramp: classes 0 and 1
        assert set(fills(str(thumbnail(name)))) <= set(CLASS_COLOURS), name


def test_the_page_gets_the_list_and_its_thumbnails_and_swatches_are_it(client):
    page = client.get(f"/?data=blobs&k={MAX_CLASSES}").text
    body = re.search(r"<body[^>]*data-class-colours='([^']*)'", page)
    assert json.loads(html.unescape(body.group(1))) == list(CLASS_COLOURS)
    start = page.index('class="pg-confusion"')
    table = page[start:page.index("</table>", start)]
    header = table[:table.index("</thead>")]
    rows = table[table.index("<tbody>"):]
    assert fills(header) == list(CLASS_COLOURS)  # one swatch per predicted class
    assert fills(rows) == list(CLASS_COLOURS)  # and per true class
    assert "style=" not in table  # the colour is an attribute (a Content-Security-Policy is coming)
    start = page.index('aria-label="Datasets"')
    panel = page[start:page.index("</div>", start)]
    assert set(fills(panel)) == set(CLASS_COLOURS[:3])  # circle ... blobs: at most 3 classes


def test_two_classes_have_two_swatches(client):
    page = client.get("/").text
    start = page.index('class="pg-confusion"')
    table = page[start:page.index("</table>", start)]
    assert fills(table) == list(CLASS_COLOURS[:2]) * 2
