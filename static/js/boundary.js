// The decision-boundary (or regression) picture: the engine's frame.boundary map on
// its own canvas, scaled up by the browser, with the training points and, toggled, the
// test points on a canvas on top. Draws what it is given; no fetching, no numbers recomputed.

// classColor, classRgb: the class colours (app/palette.py); 0 and 1 are the ramp's ends.
import { classColor, classRgb, colorOf, decodeBase64, paintClasses, paintHeatmap } from "./heatmap.js";
import { formatNumber } from "./format.js";

const FINE = 4;  // a discretized map is drawn at 4x the engine's grid, its edges interpolated

/**
 * Paint `boundary` (frame.boundary) and `data` (snapshot.dataset) onto the plot's two
 * canvases: `map` takes the engine's map at its own size (the browser scales it up
 * smoothly; discretized, its regions are found on a 4x finer grid interpolated from the
 * engine's, so their edges have no stair steps); `points` (transparent, on top) takes the data
 * points, drawn again only when the points, their colours or the options change, not
 * on every frame. options: {showTest, discretize}.
 */
export function drawBoundary({ map, points }, boundary, data, { showTest = false, discretize = false } = {}) {
  if (boundary) {
    paintMap(map, boundary, discretize);
  } else {
    map.getContext("2d").clearRect(0, 0, map.width, map.height);
  }
  const extent = (boundary && boundary.extent) || [-6, 6];
  const range = regressionRange(boundary, data);
  const key = [showTest, extent.join(","), data && data.task === "regression" ? range.join(",") : ""].join("|");
  if (points.nvData === data && points.nvKey === key) return;
  points.nvData = data;
  points.nvKey = key;
  drawPoints(points, data, extent, range, showTest);
}

/**
 * Draw the points again at the next `drawBoundary` (after an htmx swap: htmx sets a swapped
 * element's width and height again when it settles, which clears a canvas).
 */
export function forgetPoints(points) {
  points.nvData = undefined;
  points.nvKey = undefined;
}

function drawPoints(canvas, data, extent, range, showTest) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (!data) return;
  const regression = data.task === "regression";
  const dot = (P, labels, test) => {
    const r = Math.max(2.5, W / 150);
    for (let i = 0; i < P.length; i++) {
      const [x, y] = toCanvas(P[i], extent, W, H);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = regression ? colorOf(scaleTo(labels[i], range)) : classColor(labels[i]);
      ctx.fill();
      ctx.lineWidth = test ? 2 : 1;
      ctx.strokeStyle = test ? "#111" : "#fff";
      ctx.stroke();
    }
  };
  dot(data.train.points, data.train.labels, false);
  if (showTest) dot(data.test.points, data.test.labels, true);
}

function paintMap(canvas, b, discretize) {
  if (discretize) {
    paintRegions(canvas, b);
    return;
  }
  if (b.kind === "classes") {
    paintClasses(canvas, { data: b.data, size: b.size, colors: classRgb(), confidence: b.confidence });
    return;
  }
  paintHeatmap(canvas, { data: b.data, size: b.size, range: b.range });
}

// Two work canvases: the engine's grid (indicator channels) and the finer one it is
// interpolated onto (read back, hence willReadFrequently).
const coarse = document.createElement("canvas");
const fine = document.createElement("canvas");

/**
 * The flat regions of a map (Discretize) on a FINE-times finer grid, their edges where the
 * output crosses over between the engine's pixels, not on the coarse grid's pixel edges
 * (the stair steps). One output (binary, regression): its value interpolated bilinearly,
 * each fine pixel on the side of the midpoint it lies on. Classes: each class's score
 * interpolated, the largest wins; a pixel's score is its class's probability (the frame's
 * confidence), the rest shared evenly by the other classes (exact for two classes, where
 * the other class has the rest). Pixel values are the class colours (or the ramp's two
 * ends), nothing blended.
 */
function paintRegions(canvas, b) {
  const size = b.size, n = size * FINE, bytes = decodeBase64(b.data);
  const classes = b.kind === "classes";
  const k = classes ? Math.max(2, b.range[1] + 1) : 1;
  const conf = classes ? decodeBase64(b.confidence) : null;
  coarse.width = coarse.height = size;
  fine.width = fine.height = n;
  const cctx = coarse.getContext("2d");
  const fctx = fine.getContext("2d", { willReadFrequently: true });
  fctx.imageSmoothingEnabled = true;
  fctx.imageSmoothingQuality = "high";
  const best = new Uint8Array(n * n), top = new Int16Array(n * n).fill(-1);
  const img = cctx.createImageData(size, size);
  for (let c0 = 0; c0 < k; c0 += 3) {  // three classes' scores at a time, in R, G and B
    for (let p = 0; p < size * size; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const own = classes ? conf[p] : bytes[p];
        img.data[4 * p + ch] = !classes ? own
          : bytes[p] === c0 + ch ? own : Math.round((255 - own) / (k - 1));
      }
      img.data[4 * p + 3] = 255;
    }
    cctx.putImageData(img, 0, 0);
    fctx.drawImage(coarse, 0, 0, n, n);
    const px = fctx.getImageData(0, 0, n, n).data;
    if (!classes) {
      for (let q = 0; q < n * n; q++) best[q] = px[4 * q] >= 128 ? 255 : 0;
      break;
    }
    for (let q = 0; q < n * n; q++) {
      for (let ch = 0; ch < 3 && c0 + ch < k; ch++) {
        const v = px[4 * q + ch];
        if (v > top[q]) { top[q] = v; best[q] = c0 + ch; }
      }
    }
  }
  if (classes) paintClasses(canvas, { data: best, size: n, colors: classRgb() });
  else paintHeatmap(canvas, { data: best, size: n, range: b.range });
}

/**
 * The plot's axes (`x`, `y`: their tick boxes) and colour legend (`legend`) for a frame's
 * boundary and heatmaps (docs/PROTOCOL.md "Frames"): ticks every 2 units of the plane, the
 * class colours with their names, or the ramp with the output's range; the neuron maps'
 * ramp and range beside, and in the network view's legend (`maps`). Rewritten only when
 * what they show changes.
 */
export function drawGuides({ x, y, legend, maps }, boundary, heatmaps) {
  const extent = (boundary && boundary.extent) || [-6, 6];
  const kind = boundary ? boundary.kind : "none";
  const key = [extent, kind, boundary && boundary.range, heatmaps && heatmaps.range].join("|");
  if (legend && legend.nvKey !== key) {
    legend.nvKey = key;
    legend.replaceChildren(...legendItems(boundary, heatmaps));
  }
  // The network view's legend names the same ramp for its neurons' maps.
  const mapsKey = heatmaps ? heatmaps.range.join(",") : "";
  if (maps && maps.nvKey !== mapsKey) {
    maps.nvKey = mapsKey;
    maps.replaceChildren(...(heatmaps ? ramp(heatmaps.range, "maps") : []));
  }
  const tickKey = extent.join(",");
  for (const [box, axis] of [[x, "x"], [y, "y"]]) {
    if (!box || box.nvKey === tickKey) continue;
    box.nvKey = tickKey;
    box.replaceChildren(...planeTicks(extent).map((v) => {
      const t = document.createElement("span");
      t.className = "pg-tick";
      const at = ((v - extent[0]) / (extent[1] - extent[0])) * 100;
      if (axis === "x") t.style.left = `${at}%`;
      else t.style.top = `${100 - at}%`;
      t.textContent = formatNumber(v, "tick");
      return t;
    }));
  }
}

function planeTicks([lo, hi]) {
  const step = (hi - lo) / 6;
  return Array.from({ length: 7 }, (_, i) => Number((lo + i * step).toPrecision(12)));
}

function item(parts, cls = "") {
  const li = document.createElement("li");
  li.className = `pg-legend-item ${cls}`.trim();
  li.append(...parts);
  return li;
}

function swatch(color) {
  const s = document.createElement("span");
  s.className = "pg-legend-swatch";
  s.style.background = color;
  return s;
}

/** A ramp from range[0] to range[1] with the two ends' values (and 0 when it is inside). */
function ramp(range, label) {
  const [lo, hi] = range;
  const bar = document.createElement("span");
  bar.className = "pg-legend-ramp";
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1, symmetric = lo < 0 && hi > 0;
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const v = lo + t * (hi - lo);
    return `${colorOf(symmetric ? v / m : 2 * t - 1)} ${t * 100}%`;
  });
  bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  const text = (v) => {
    const t = document.createElement("span");
    t.className = "pg-legend-value";
    t.textContent = formatNumber(v, "tick");
    return t;
  };
  const name = document.createElement("span");
  name.textContent = label;
  return [name, text(lo), bar, text(hi)];
}

function legendItems(boundary, heatmaps) {
  const out = [];
  if (boundary && boundary.kind === "classes") {
    const k = Math.max(2, boundary.range[1] + 1);
    for (let c = 0; c < k; c++) out.push(item([swatch(classColor(c)), `class ${c}`], "pg-legend-class"));
  } else if (boundary && boundary.kind === "binary") {
    out.push(item([swatch(classColor(0)), "class 0"], "pg-legend-class"));
    out.push(item([swatch(classColor(1)), "class 1"], "pg-legend-class"));
    const output = item(ramp(boundary.range, "output"), "pg-legend-output");
    output.title = "the output, mapped so that class 0's target is -1 and class 1's is 1";
    out.push(output);
  } else if (boundary) {
    out.push(item(ramp(boundary.range, "output"), "pg-legend-output"));
  }
  if (heatmaps) out.push(item(ramp(heatmaps.range, "neuron maps"), "pg-legend-neurons"));
  return out;
}

function regressionRange(boundary, data) {
  if (boundary && boundary.kind === "regression") return boundary.range;
  return [-1, 1];
}

function scaleTo(v, [lo, hi]) {
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  return lo < 0 && hi > 0 ? v / m : (2 * (v - lo)) / (hi - lo || 1) - 1;
}

/** Plane point (x1, x2) to canvas pixels (x2 grows upwards). */
export function toCanvas([x1, x2], [lo, hi], W, H) {
  return [((x1 - lo) / (hi - lo)) * W, ((hi - x2) / (hi - lo)) * H];
}

/** Canvas pixels (CSS pixels of the element) back to the plane. */
export function toPlane(px, py, [lo, hi], w, h) {
  return [lo + (px / w) * (hi - lo), hi - (py / h) * (hi - lo)];
}
