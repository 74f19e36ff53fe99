// Fills every [data-metric] element and the confusion matrix with the engine's numbers.

import { setText } from "./dom.js";

const DIGITS = { epoch: 0 };

/** Text for one figure: integers as they are, others with 4 significant digits. */
export function formatMetric(name, v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "\u2013";
  if (name in DIGITS) return String(v);
  if (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)) return v.toExponential(3);
  return v.toFixed(4);
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

/** Show a frame's epoch, losses and test metrics (one pass over the page's figures). */
export function showMetrics(root, frame) {
  if (!frame) return;
  const m = frame.metrics || {};
  const values = { epoch: frame.epoch };
  if (frame.loss) Object.assign(values, { train_loss: frame.loss.train, test_loss: frame.loss.test });
  for (const key of ["accuracy", "precision", "recall", "f1", "mse", "mae", "r2"]) {
    if (key in m) values[key] = m[key];
  }
  for (const el of figures(root)) {
    const name = el.dataset.metric;
    if (name !== undefined) {
      if (name in values) setText(el, formatMetric(name, values[name]));
      continue;
    }
    if (!m.confusion) continue;
    const [i, j] = el.dataset.cell.split("-").map(Number);
    const n = m.confusion[i] && m.confusion[i][j];
    if (n === undefined) continue;
    setText(el, String(n));
    el.classList.toggle("pg-diag", i === j);
  }
}
