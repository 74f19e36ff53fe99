// Fills every [data-metric] element and the confusion matrix with the engine's numbers.

import { setText } from "./dom.js";
import { formatNumber } from "./format.js";

// The kind of each figure (format.js): how many digits it deserves.
const KIND = { epoch: "count", step: "count", accuracy: "ratio", precision: "ratio", recall: "ratio", f1: "ratio" };
const RATIOS = ["precision", "recall", "f1"];

// Why precision or recall of class k is undefined (0/0) on a split, in plain words.
const WHY = {
  precision: (split, k) => `no ${split} sample is predicted as class ${k}`,
  recall: (split, k) => `no ${split} sample is of class ${k}`,
};

/**
 * The hover text of a precision, recall or F1 figure: why it reads "n/a" (binary), or which
 * classes the macro mean leaves out; "" when every class counts. `m` is a frame's metrics.
 */
export function ratioNote(name, m) {
  const classes = (m.undefined && m.undefined[name]) || [];
  if (!classes.length) return "";
  const split = m.split || "test";
  // F1 is undefined where precision or recall is: it gives their reasons.
  const reasons = classes.map((k) => name in WHY ? WHY[name](split, k)
    : Object.keys(WHY).filter((r) => (m.undefined[r] || []).includes(k))
      .map((r) => WHY[r](split, k)).join(" and "));
  const text = reasons.join("; ");
  if (m[name] === null) {
    return name === "f1" ? `F1 needs both precision and recall: ${text}` : text;
  }
  return `the mean over the classes where it is defined (${text})`;
}

/** Text for one figure (format.js): counts whole, ratios with 4 decimals, losses with 4
 * significant digits, exponent form for very large or small values. */
export function formatMetric(name, v) {
  if (v === null && RATIOS.includes(name)) return "n/a";
  if (v === null || v === undefined || !Number.isFinite(v)) return "\u2013";
  return formatNumber(v, KIND[name] || "loss");
}

// The page's figures, found once and again only after the page changed around them (an
// htmx swap replaces them): searching the whole page for them on every frame cost more
// than writing them.
let found = { root: null, els: [] };
function figures(root) {
  const { els } = found;
  if (found.root !== root || !els.length || !els[0].isConnected || !els[els.length - 1].isConnected) {
    found = { root, els: [...root.querySelectorAll("[data-metric], [data-cell]")] };
  }
  return found.els;
}

/** Forget the figures found (call after the page's panels were swapped). */
export function forgetFigures() {
  found = { root: null, els: [] };
}

/** Show a frame's epoch, step, losses and test metrics (one pass over the page's figures). */
export function showMetrics(root, frame) {
  if (!frame) return;
  const m = frame.metrics || {};
  const values = { epoch: frame.epoch, step: frame.step };
  if (frame.loss) Object.assign(values, { train_loss: frame.loss.train, test_loss: frame.loss.test });
  for (const key of ["accuracy", "precision", "recall", "f1", "mse", "mae", "r2"]) {
    if (key in m) values[key] = m[key];
  }
  for (const el of figures(root)) {
    const name = el.dataset.metric;
    if (name !== undefined) {
      if (name in values) setText(el, formatMetric(name, values[name]));
      if (RATIOS.includes(name) && name in m) setTitle(el, ratioNote(name, m));
      continue;
    }
    if (!m.confusion) continue;
    const [i, j] = el.dataset.cell.split("-").map(Number);
    const n = m.confusion[i] && m.confusion[i][j];
    if (n === undefined) continue;
    setText(el, formatNumber(n, "count"));
    el.classList.toggle("pg-diag", i === j);
  }
}

function setTitle(el, text) {
  if (text) {
    if (el.title !== text) el.title = text;
  } else if (el.hasAttribute("title")) {
    el.removeAttribute("title");
  }
}
