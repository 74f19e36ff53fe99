// The class colours, defined once in app/palette.py: the page receives them in its
// <body>'s data-class-colours attribute (templates/base.html), a JSON list of "#rrggbb".

let rgb = null;

/** The class colours as [r, g, b] triples, read from the page once. */
export function classRgb() {
  if (!rgb) {
    const list = JSON.parse(document.body.dataset.classColours);
    rgb = list.map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
  }
  return rgb;
}

/** The CSS colour of class `k` (the list repeats past its end). */
export function classColor(k) {
  const c = classRgb();
  return `rgb(${c[k % c.length].join(",")})`;
}
