// Fills every [data-metric] element and the confusion matrix with the engine's numbers.

const DIGITS = { epoch: 0 };

/** Text for one figure: integers as they are, others with 4 significant digits. */
export function formatMetric(name, v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "\u2013";
  if (name in DIGITS) return String(v);
  if (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)) return v.toExponential(3);
  return v.toFixed(4);
}

function set(root, name, v) {
  for (const el of root.querySelectorAll(`[data-metric="${name}"]`)) {
    const text = formatMetric(name, v);
    if (el.textContent !== text) el.textContent = text;
  }
}

/** Show a frame's epoch, losses and test metrics. */
export function showMetrics(root, frame) {
  if (!frame) return;
  set(root, "epoch", frame.epoch);
  if (frame.loss) {
    set(root, "train_loss", frame.loss.train);
    set(root, "test_loss", frame.loss.test);
  }
  const m = frame.metrics;
  if (!m) return;
  for (const key of ["accuracy", "precision", "recall", "f1", "mse", "mae", "r2"]) {
    if (key in m) set(root, key, m[key]);
  }
  if (m.confusion) {
    m.confusion.forEach((row, i) => row.forEach((n, j) => {
      const cell = root.querySelector(`[data-cell="${i}-${j}"]`);
      if (cell && cell.textContent !== String(n)) {
        cell.textContent = String(n);
        cell.classList.toggle("pg-diag", i === j);
      }
    }));
  }
}
