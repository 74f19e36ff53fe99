"""CSV import and export: good files, and bad files refused with line and column."""

import numpy as np
import pytest

from engine.csvdata import parse_csv, to_csv
from engine.datasets import generate
from engine.errors import DatasetError

GOOD = "x1,x2,label\n0.5,-1,1\n2,3,0\n\n-4.25,1e-1,1\n3,3,0\n"


def test_good_classification_file():
    spec = parse_csv(GOOD, base={"seed": 3, "features": ["x1", "x1^2"], "name": "circle"})
    assert spec["name"] == "csv" and spec["task"] == "classification"
    assert spec["points"] == [[0.5, -1.0, 1], [2.0, 3.0, 0], [-4.25, 0.1, 1], [3.0, 3.0, 0]]
    assert (spec["seed"], spec["features"], spec["n_points"]) == (3, ["x1", "x1^2"], 4)
    d = generate(spec)
    assert d.n_classes == 2 and len(d.train_points) + len(d.test_points) == 4


def test_header_case_spaces_bom_and_crlf():
    spec = parse_csv("\ufeff X1 , x2,LABEL\r\n1,2,0\r\n3,4,1\r\n5,6,0\r\n7,8,1\r\n")
    assert spec["points"][3] == [7.0, 8.0, 1]


def test_regression_by_labels_or_by_argument():
    text = "x1,x2,label\n0,0,0.5\n1,1,-2\n2,2,3\n3,3,1\n"
    spec = parse_csv(text)
    assert spec["task"] == "regression"
    assert [p[2] for p in spec["points"]] == [0.5, -2.0, 3.0, 1.0]
    ints = "x1,x2,label\n0,0,0\n1,1,1\n2,2,2\n3,3,1\n"
    assert parse_csv(ints)["task"] == "classification"
    forced = parse_csv(ints, task="regression")
    assert forced["task"] == "regression" and forced["points"][2][2] == 2.0
    # -1 is not a class (classes are 0..7), so a -1/+1 file reads as regression.
    assert parse_csv("x1,x2,label\n0,0,-1\n1,1,1\n2,2,1\n3,3,-1\n")["task"] == "regression"


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("x1,x2,label\n1,2,0\n3,4,1\n5,abc,0\n7,8,1\n", {},
         "line 4, column 2 (x2): 'abc' is not a number"),
        ("x1,x2,label\n1,2,0\n,4,1\n5,6,0\n7,8,1\n", {},
         "line 3, column 1 (x1): '' is not a number"),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,inf\n7,8,1\n", {},
         "line 4, column 3 (label): 'inf' is not a finite number"),
        ("x1,x2,label\n1,2,0\n3,nan,1\n5,6,0\n7,8,1\n", {},
         "line 3, column 2 (x2): 'nan' is not a finite number"),
        ("1,2,0\n3,4,1\n5,6,0\n7,8,1\n", {},
         "line 1: missing header: the first line must be 'x1,x2,label'"),
        ("x,y,class\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n", {},
         "line 1: expected the header 'x1,x2,label', got 'x,y,class'"),
        ("x1,x2,label\n1,2,0\n3,4\n5,6,0\n7,8,1\n", {},
         "line 3: expected 3 columns (x1,x2,label), got 2"),
        ("x1,x2,label\n1,2,0\n3,4,1,9\n5,6,0\n7,8,1\n", {},
         "line 3: expected 3 columns (x1,x2,label), got 4"),
        ("x1,x2,label\n1,2,0\n\n3,4,1\n", {}, "line 4: 2 data rows, at least 4 needed"),
        ("", {}, "line 1: the file is empty; expected the header 'x1,x2,label'"),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,9,1\n", {"max_rows": 4},
         "line 6: too many rows: at most 4 allowed"),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,0.5\n7,8,1\n", {"task": "classification"},
         "line 4, column 3 (label): class label '0.5' is not an integer 0..7"),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,8\n7,8,1\n", {"task": "classification"},
         "line 4, column 3 (label): class label '8' is not an integer 0..7"),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,1\n7,8,1\n", {"task": "clustering"},
         "task: unknown value 'clustering' (known: classification, regression)"),
    ],
)  # fmt: skip
def test_bad_files_name_line_and_column(text, kwargs, message):
    with pytest.raises(DatasetError) as e:
        parse_csv(text, **kwargs)
    assert str(e.value) == message
    assert e.value.field == message.split(": ")[0]


def test_to_csv_round_trips_bit_identical():
    d = generate({"name": "moons", "noise": 20, "n_points": 50, "seed": 2})
    text = to_csv(d.train_points, d.train_labels)
    assert text.splitlines()[0] == "x1,x2,label"
    back = generate({**parse_csv(text), "train_fraction": 0.5})
    pts = np.array([p[:2] for p in parse_csv(text)["points"]])
    assert np.array_equal(pts, d.train_points)  # bit-identical through text
    assert back.task == "classification"
    r = generate({"name": "sine", "noise": 10, "n_points": 20})
    spec = parse_csv(to_csv(r.test_points, r.test_labels), task="regression")
    assert [p[2] for p in spec["points"]] == r.test_labels.tolist()


def test_to_csv_format():
    assert to_csv([[0.5, -1.0], [2.0, 0.1]], np.array([1, 0])) == (
        "x1,x2,label\n0.5,-1.0,1\n2.0,0.1,0\n"
    )
    assert to_csv([[1.0, 2.0]], [0.25]) == "x1,x2,label\n1.0,2.0,0.25\n"
    with pytest.raises(ValueError, match=r"labels: expected shape \(1,\)"):
        to_csv([[1.0, 2.0]], [0, 1])
