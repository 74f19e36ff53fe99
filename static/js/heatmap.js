// Paints the engine's quantized maps (docs/PROTOCOL.md "Heatmaps") onto canvases.
// A byte b stands for range[0] + b / 255 * (range[1] - range[0]); the palette is
// a colour-blind-safe diverging ramp: orange (negative), white (0), blue (positive).
// Also the class colours (the page's, from app/palette.py) for class maps and points.

const STOPS = [
  [-1.0, [179, 88, 6]],     // PuOr dark orange
  [-0.5, [253, 184, 99]],
  [0.0, [247, 247, 247]],
  [0.5, [146, 197, 222]],   // RdBu light blue
  [1.0, [5, 113, 176]],
];

// The class colours, defined once in app/palette.py: the page receives them in its <body>'s
// data-class-colours attribute (templates/base.html), a JSON list of "#rrggbb". Classes 0
// and 1 are the ramp's two ends above.
let classes = null;

/** The class colours as [r, g, b] triples, read from the page once. */
export function classRgb() {
  if (!classes) {
    const list = JSON.parse(document.body.dataset.classColours);
    classes = list.map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
  }
  return classes;
}

/** The CSS colour of class `k` (the list repeats past its end). */
export function classColor(k) {
  const c = classRgb();
  return `rgb(${c[k % c.length].join(",")})`;
}

/** CSS colour of a value in [-1, 1] on the same ramp (for legends and points). */
export function colorOf(v) {
  const [r, g, b] = rgbOf(v);
  return `rgb(${r},${g},${b})`;
}

function rgbOf(v) {
  const x = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  for (let k = 1; k < STOPS.length; k++) {
    const [x1, c1] = STOPS[k];
    if (x <= x1) {
      const [x0, c0] = STOPS[k - 1];
      const t = (x - x0) / (x1 - x0);
      return c0.map((c, i) => Math.round(c + t * (c1[i] - c)));
    }
  }
  return STOPS[STOPS.length - 1][1];
}

// One 32-bit RGBA entry per (range, byte) is cached: a frame paints many maps
// with the same range, so the colour of each byte is looked up, not recomputed.
const lutCache = new Map();
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function lutFor(range) {
  const key = `${range[0]},${range[1]}`;
  let lut = lutCache.get(key);
  if (lut) return lut;
  lut = new Uint32Array(256);
  // Symmetric ranges put 0 at white; otherwise the ends of the range are the ends of the ramp.
  const lo = range[0], hi = range[1];
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const symmetric = lo < 0 && hi > 0;
  for (let b = 0; b < 256; b++) {
    const v = lo + (b / 255) * (hi - lo);
    const u = symmetric ? v / m : (2 * (v - lo)) / (hi - lo || 1) - 1;
    const [r, g, bl] = rgbOf(u);
    lut[b] = LITTLE ? (255 << 24) | (bl << 16) | (g << 8) | r : (r << 24) | (g << 16) | (bl << 8) | 255;
  }
  if (lutCache.size > 64) lutCache.clear();
  lutCache.set(key, lut);
  return lut;
}

/** Decode a base64 string to bytes (once per frame; slice maps out with `offset`). */
export function decodeBase64(data) {
  if (data instanceof Uint8Array) return data;
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(data);
  const s = atob(data);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `canvas` made size x size, and a blank image of it with its pixels as 32-bit words. */
function pixels(canvas, size) {
  if (canvas.width !== size) canvas.width = size;
  if (canvas.height !== size) canvas.height = size;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  return { ctx, img, px: new Uint32Array(img.data.buffer) };
}

/**
 * Paint one size x size map onto `canvas` (resized to size x size if needed).
 * `data` is base64 or the already-decoded bytes; `index` picks the map when
 * `data` holds several (nodes x size x size). Row 0 is the top (largest x2).
 * `alpha` (optional, base64 or bytes) scales each pixel's opacity (0..255),
 * as the boundary's `confidence` does.
 */
export function paintHeatmap(canvas, { data, size, range = [-1, 1], index = 0, alpha = null }) {
  const bytes = decodeBase64(data);
  const { ctx, img, px } = pixels(canvas, size);
  const lut = lutFor(range);
  const off = index * size * size;
  for (let k = 0; k < size * size; k++) px[k] = lut[bytes[off + k]];
  if (alpha) {
    const a = decodeBase64(alpha);
    for (let k = 0; k < size * size; k++) img.data[4 * k + 3] = a[off + k];
  }
  ctx.putImageData(img, 0, 0);
}

const atlasCanvas = document.createElement("canvas");

/**
 * All maps of `heatmaps` (docs/PROTOCOL.md "Heatmaps": nodes x size x size bytes) on one
 * offscreen canvas, map k at rows k * (size + 2) + 1, each with a one-pixel border copied
 * from its edge, so that drawing a map smoothed never blends in its neighbour's pixels.
 * One decode and one pixel write a frame, however many maps.
 */
export function paintAtlas({ data, size, range = [-1, 1], nodes }) {
  const bytes = decodeBase64(data);
  const count = nodes.length, side = size + 2;
  if (atlasCanvas.width !== side) atlasCanvas.width = side;
  if (atlasCanvas.height !== side * count) atlasCanvas.height = Math.max(1, side * count);
  const ctx = atlasCanvas.getContext("2d");
  const img = ctx.createImageData(side, Math.max(1, side * count));
  const px = new Uint32Array(img.data.buffer);
  const lut = lutFor(range);
  const clamp = (v) => (v < 0 ? 0 : v >= size ? size - 1 : v);
  for (let m = 0; m < count; m++) {
    const src = m * size * size, dst = m * side * side;
    for (let y = 0; y < side; y++) {
      const row = src + clamp(y - 1) * size, out = dst + y * side;
      px[out] = lut[bytes[row]];
      for (let x = 0; x < size; x++) px[out + x + 1] = lut[bytes[row + x]];
      px[out + side - 1] = lut[bytes[row + size - 1]];
    }
  }
  ctx.putImageData(img, 0, 0);
  return atlasCanvas;
}

/** Paint a class map (`boundary.kind == "classes"`): byte = class index, one colour each. */
export function paintClasses(canvas, { data, size, colors, confidence = null }) {
  const bytes = decodeBase64(data);
  const { ctx, img, px } = pixels(canvas, size);
  const conf = confidence ? decodeBase64(confidence) : null;
  const rgba = colors.map(([r, g, b]) => (LITTLE ? (b << 16) | (g << 8) | r : (r << 24) | (g << 16) | (b << 8)) >>> 0);
  for (let k = 0; k < size * size; k++) {
    const a = conf ? conf[k] : 255;
    px[k] = (LITTLE ? rgba[bytes[k] % rgba.length] | (a << 24) : rgba[bytes[k] % rgba.length] | a) >>> 0;
  }
  ctx.putImageData(img, 0, 0);
}
