"""The class colours, defined once for the whole page.

Class k is drawn in `CLASS_COLOURS[k % len(CLASS_COLOURS)]` everywhere: the dataset
thumbnails (app/routes/ui.py), the confusion matrix's swatches
(templates/partials/pg_metrics.html) and, through the `data-class-colours` attribute of
the page's `<body>` (templates/base.html), the data plot (static/js/boundary.js).

Okabe-Ito based, colour-blind safe. Classes 0 and 1 are the two ends of the diverging
orange-blue ramp of static/js/heatmap.js, so two-class data reads the same as the
decision boundary's map behind it (tests/app/test_palette.py checks both).
"""

from __future__ import annotations

CLASS_COLOURS: tuple[str, ...] = (
    "#b35806",  # the ramp's orange end (PuOr)
    "#0571b0",  # the ramp's blue end (RdBu)
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
)


def class_colour(k: int) -> str:
    """The colour of class `k` (`#rrggbb`); the list repeats past its end."""
    return CLASS_COLOURS[int(k) % len(CLASS_COLOURS)]
