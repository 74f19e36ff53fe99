// The decision-boundary (or regression) picture: the engine's frame.boundary map,
// scaled up onto a large canvas, with the training points and, toggled, the test
// points on top. Draws what it is given; no fetching, no numbers recomputed.

import { colorOf, decodeBase64, paintClasses, paintHeatmap } from "./heatmap.js";

// Okabe-Ito based class colours; 0 and 1 match the diverging ramp's ends.
export const CLASS_RGB = [
  [179, 88, 6], [5, 113, 176], [0, 158, 115], [204, 121, 167],
  [86, 180, 233], [213, 94, 0], [240, 228, 66], [0, 0, 0],
];
export const classColor = (k) => `rgb(${CLASS_RGB[k % CLASS_RGB.length].join(",")})`;

const scratch = document.createElement("canvas");
const MAP_ALPHA = 0.72;

/**
 * Paint `boundary` (frame.boundary) and `data` (snapshot.dataset) onto `canvas`.
 * options: {showTest, discretize}.
 */
export function drawBoundary(canvas, boundary, data, { showTest = false, discretize = false } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (boundary) {
    paintMap(boundary, discretize);
    // The map a little faded over white, so the points (same palette) stand out on it.
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.globalAlpha = MAP_ALPHA;
    ctx.imageSmoothingEnabled = !discretize;
    ctx.drawImage(scratch, 0, 0, W, H);
    ctx.globalAlpha = 1;
  }
  if (!data) return;
  const extent = (boundary && boundary.extent) || [-6, 6];
  const regression = data.task === "regression";
  const range = regressionRange(boundary, data);
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

function paintMap(b, discretize) {
  if (b.kind === "classes") {
    paintClasses(scratch, {
      data: b.data, size: b.size, colors: CLASS_RGB,
      confidence: discretize ? null : b.confidence,
    });
    return;
  }
  if (discretize) {
    // Each pixel to the side of the midpoint it lies on: the engine's bytes, thresholded.
    const bytes = decodeBase64(b.data);
    const out = new Uint8Array(bytes.length);
    for (let k = 0; k < bytes.length; k++) out[k] = bytes[k] >= 128 ? 255 : 0;
    paintHeatmap(scratch, { data: out, size: b.size, range: b.range });
    return;
  }
  paintHeatmap(scratch, { data: b.data, size: b.size, range: b.range });
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
