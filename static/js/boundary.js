// The decision-boundary (or regression) picture: the engine's frame.boundary map on
// its own canvas, scaled up by the browser, with the training points and, toggled, the
// test points on a canvas on top. Draws what it is given; no fetching, no numbers recomputed.

// classColor, classRgb: the class colours (app/palette.py); 0 and 1 are the ramp's ends.
import { classColor, classRgb, colorOf, decodeBase64, paintClasses, paintHeatmap } from "./heatmap.js";

/**
 * Paint `boundary` (frame.boundary) and `data` (snapshot.dataset) onto the plot's two
 * canvases: `map` takes the engine's map at its own size (the browser scales it up,
 * smoothly or, discretized, in blocks); `points` (transparent, on top) takes the data
 * points, drawn again only when the points, their colours or the options change, not
 * on every frame. options: {showTest, discretize}.
 */
export function drawBoundary({ map, points }, boundary, data, { showTest = false, discretize = false } = {}) {
  if (boundary) {
    paintMap(map, boundary, discretize);
    map.classList.toggle("pg-boundary-map--blocks", discretize);
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
  if (b.kind === "classes") {
    paintClasses(canvas, {
      data: b.data, size: b.size, colors: classRgb(),
      confidence: discretize ? null : b.confidence,
    });
    return;
  }
  if (discretize) {
    // Each pixel to the side of the midpoint it lies on: the engine's bytes, thresholded.
    const bytes = decodeBase64(b.data);
    const out = new Uint8Array(bytes.length);
    for (let k = 0; k < bytes.length; k++) out[k] = bytes[k] >= 128 ? 255 : 0;
    paintHeatmap(canvas, { data: out, size: b.size, range: b.range });
    return;
  }
  paintHeatmap(canvas, { data: b.data, size: b.size, range: b.range });
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
