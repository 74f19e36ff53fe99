"""A user's own data as CSV: ``x1,x2,label``, one point a line.

``parse_csv`` turns the text into a ``csv`` dataset spec (see ``datasets.py``); a
bad file raises ``DatasetError`` whose ``field`` names the line (1-based, the
header is line 1) and, where it applies, the column, e.g.
``line 4, column 2 (x2): 'abc' is not a number``. ``to_csv`` writes the same format.

The task is classification when every label is an integer 0..7 (classes), else
regression, unless ``task`` says which.
"""

from __future__ import annotations

import csv
import math

import numpy as np

from engine.datasets import MAX_CLASSES, MAX_POINTS, MIN_CSV_ROWS, TASKS, validate_spec
from engine.errors import DatasetError

HEADER = ("x1", "x2", "label")


def _cell(value: str, line: int, col: int) -> float:
    field = f"line {line}, column {col + 1} ({HEADER[col]})"
    text = value.strip()
    try:
        x = float(text)
    except ValueError:
        raise DatasetError(f"{text!r} is not a number", field) from None
    if not math.isfinite(x):
        raise DatasetError(f"{text!r} is not a finite number", field)
    return x


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_csv(
    text: str, task: str | None = None, max_rows: int = MAX_POINTS, base: dict | None = None
) -> dict:
    """The validated ``csv`` dataset spec holding the file's points.

    ``text``: the file's contents; header ``x1,x2,label`` (case and spaces around
    names ignored), then at least ``MIN_CSV_ROWS`` and at most ``max_rows`` rows of
    three finite numbers; blank lines are skipped. ``task``: ``"classification"``,
    ``"regression"`` or None (decided by the labels). ``base``: other spec fields
    to keep (seed, features, preprocessing, train_fraction, ...).
    """
    if task is not None and task not in TASKS:
        raise DatasetError(f"unknown value {task!r} (known: {', '.join(TASKS)})", "task")
    text = text.removeprefix("\ufeff")
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(text.splitlines())
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as e:  # a field over csv.field_size_limit() (128 KB), a NUL byte, ...
        raise DatasetError(f"not readable as CSV ({e})", f"line {reader.line_num}") from None
    if not rows:
        raise DatasetError("the file is empty; expected the header 'x1,x2,label'", "line 1")
    line, header = rows[0]
    names = tuple(c.strip().lower() for c in header)
    if names != HEADER:
        if len(header) == 3 and all(_is_number(c) for c in header):
            message = "missing header: the first line must be 'x1,x2,label'"
        else:
            message = f"expected the header 'x1,x2,label', got {','.join(header)!r}"
        raise DatasetError(message, f"line {line}")
    points, label_lines = [], []
    for line, cells in rows[1:]:
        if len(points) == max_rows:
            raise DatasetError(f"too many rows: at most {max_rows} allowed", f"line {line}")
        if len(cells) != 3:
            message = f"expected 3 columns (x1,x2,label), got {len(cells)}"
            raise DatasetError(message, f"line {line}")
        points.append([_cell(c, line, col) for col, c in enumerate(cells)])
        label_lines.append((line, cells[2].strip()))
    if len(points) < MIN_CSV_ROWS:
        raise DatasetError(
            f"{len(points)} data rows, at least {MIN_CSV_ROWS} needed", f"line {rows[-1][0]}"
        )
    labels = [p[2] for p in points]
    if task is None:
        ok = all(x.is_integer() and 0 <= x < MAX_CLASSES for x in labels)
        task = "classification" if ok else "regression"
    if task == "classification":
        for (line, raw), x in zip(label_lines, labels, strict=True):
            if not (x.is_integer() and 0 <= x < MAX_CLASSES):
                raise DatasetError(f"class label {raw!r} is not an integer 0..{MAX_CLASSES - 1}",
                                   f"line {line}, column 3 (label)")  # fmt: skip
        for p in points:
            p[2] = int(p[2])
    spec = {k: v for k, v in (base or {}).items() if k not in ("name", "points", "task")}
    return validate_spec({**spec, "name": "csv", "points": points, "task": task})


def _number(x) -> str:
    """Shortest text that reads back as the same float (integers without '.0')."""
    if isinstance(x, int | np.integer):
        return str(int(x))
    return repr(float(x))


def to_csv(points, labels) -> str:
    """CSV text ``x1,x2,label`` for points ``(n, 2)`` and labels ``(n,)``; integer
    labels are written as integers, floats so that they read back bit-identical."""
    P = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    y = np.asarray(labels)
    if y.shape != (P.shape[0],):
        raise ValueError(f"labels: expected shape ({P.shape[0]},), got {y.shape}")
    lines = [",".join(HEADER)]
    for (x1, x2), label in zip(P.tolist(), y.tolist(), strict=True):
        lines.append(f"{_number(x1)},{_number(x2)},{_number(label)}")
    return "\n".join(lines) + "\n"
