// Loss curves for train and test as an SVG chart with axes and ticks, from epoch 0, on a
// linear or logarithmic loss axis; hovering shows the values.
// The points are the engine's history, as the page's state holds it (page_state.js).

import { formatNumber } from "./format.js";

const W = 320, H = 140, PAD = { l: 40, r: 14, t: 24, b: 22 };  // t: room for the axis title
const MAX_POINTS = 400;  // drawn points per curve; longer histories are thinned

export class LossChart {
  /** `history`: the page's loss history (page_state.js `History`), read, never changed here. */
  constructor(history) {
    this.history = history;
    this.drawn = -1;  // the history's version last drawn
  }

  /**
   * Draw into `svg` (an <svg> with viewBox 0 0 320 140): the whole run from epoch 0, on a
   * linear or (`log`) logarithmic loss axis; a no-op when nothing changed.
   */
  draw(svg, { log = false } = {}) {
    const h = this.history;
    if (!svg || (svg === this.svg && this.drawn === h.version && this.log === log && svg.firstChild)) return;
    this.svg = svg;
    this.drawn = h.version;
    this.log = log;
    const n = h.epoch.length;
    const ys = h.train.concat(h.test).filter(Number.isFinite);
    const x0 = n ? Math.min(0, h.epoch[0]) : 0;
    const x1 = n ? Math.max(h.epoch[n - 1], x0 + 1) : 1;
    const sx = (e) => PAD.l + ((e - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
    const y = log ? logAxis(ys) : linearAxis(ys);
    const sy = (v) => H - PAD.b - y.unit(v) * (H - PAD.t - PAD.b);
    this.scale = { sx, x0, x1 };
    const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
    const pt = (i, vals) => `${sx(h.epoch[i]).toFixed(1)},${sy(vals[i]).toFixed(1)}`;
    const line = (vals) => {
      const pts = [];
      for (let i = 0; i < n; i += stride) if (Number.isFinite(vals[i])) pts.push(pt(i, vals));
      if (n && (n - 1) % stride && Number.isFinite(vals[n - 1])) pts.push(pt(n - 1, vals));
      return pts.join(" ");
    };
    // Round epochs, and the run's last epoch at the axis's end (a round one too near it
    // gives way, so that labels never overlap).
    const xTicks = niceTicks(x0, x1, 5)
      .filter((e) => e === Math.round(e) && e <= x1 - 0.15 * (x1 - x0)).concat([x1]);
    svg.dataset.scale = log ? "log" : "linear";
    svg.innerHTML = `
      <g class="pg-axis">
        <line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}"/>
        <line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}"/>
        ${y.ticks.map((v) => `<text class="pg-tick-y" x="${PAD.l - 4}" y="${sy(v) + 3}" text-anchor="end">${formatNumber(v, "tick")}</text>
          <line class="pg-grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(v)}" y2="${sy(v)}"/>`).join("")}
        ${xTicks.map((e) => `<line x1="${sx(e)}" x2="${sx(e)}" y1="${H - PAD.b}" y2="${H - PAD.b + 3}"/>
          <text class="pg-tick-x" x="${sx(e)}" y="${H - 9}" text-anchor="middle">${formatNumber(e, "count")}</text>`).join("")}
        <text x="${PAD.l - 4}" y="${H - 1}" text-anchor="end" class="pg-axis-title">epoch</text>
        <text x="2" y="12" class="pg-axis-title">loss${log ? " (log)" : ""}</text>
      </g>
      <polyline class="pg-line pg-line--train" points="${line(h.train)}"/>
      <polyline class="pg-line pg-line--test" points="${line(h.test)}"/>
      <g class="pg-hover" visibility="hidden">
        <line y1="${PAD.t}" y2="${H - PAD.b}"/>
        <rect rx="3" height="30" width="120" y="${PAD.t}"/>
        <text class="pg-hover-text" y="${PAD.t + 12}"></text>
        <text class="pg-hover-text2" y="${PAD.t + 25}"></text>
      </g>`;
    if (!svg.dataset.hover) {
      svg.dataset.hover = "1";
      svg.addEventListener("mousemove", (ev) => this.hover(ev));
      svg.addEventListener("mouseleave", () => {
        const g = svg.querySelector(".pg-hover");
        if (g) g.setAttribute("visibility", "hidden");
      });
    }
  }

  hover(ev) {
    const svg = this.svg, h = this.history, n = h.epoch.length;
    if (!svg || !n || !this.scale) return;
    const box = svg.getBoundingClientRect();
    const x = ((ev.clientX - box.left) / box.width) * W;
    const { x0, x1 } = this.scale;
    const e = x0 + ((x - PAD.l) / (W - PAD.l - PAD.r)) * (x1 - x0);
    let i = 0;  // the history point nearest to the pointer's epoch
    let lo = 0, hi = n - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (h.epoch[mid] < e) lo = mid + 1; else hi = mid; }
    i = lo > 0 && Math.abs(h.epoch[lo - 1] - e) < Math.abs(h.epoch[lo] - e) ? lo - 1 : lo;
    const g = svg.querySelector(".pg-hover");
    const px = this.scale.sx(h.epoch[i]);
    g.setAttribute("visibility", "visible");
    g.querySelector("line").setAttribute("x1", px);
    g.querySelector("line").setAttribute("x2", px);
    const left = px > W / 2 ? px - 126 : px + 6;
    g.querySelector("rect").setAttribute("x", left);
    const t1 = g.querySelector(".pg-hover-text"), t2 = g.querySelector(".pg-hover-text2");
    t1.setAttribute("x", left + 5); t2.setAttribute("x", left + 5);
    t1.textContent = `epoch ${formatNumber(h.epoch[i], "count")}  train ${formatNumber(h.train[i], "loss")}`;
    t2.textContent = `test ${formatNumber(h.test[i], "loss")}`;
    svg.dataset.hoverEpoch = String(h.epoch[i]);
  }
}

/** Round values from `lo` to `hi`, about `count` of them, spaced 1, 2 or 5 times a power of ten. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return out;
}

/** A linear loss axis from 0 to a round value above every point; `unit(v)` in [0, 1]. */
function linearAxis(ys) {
  const top = Math.max(0, ...ys);
  const ticks = niceTicks(0, top > 0 ? top : 1, 4);
  const hi = ticks[ticks.length - 1] < top ? ticks[ticks.length - 1] + (ticks[1] - ticks[0]) : ticks[ticks.length - 1];
  if (ticks[ticks.length - 1] < hi) ticks.push(hi);
  return { ticks, unit: (v) => Math.min(Math.max(v, 0), hi) / hi };
}

/**
 * A log loss axis over whole decades around the points; zeros (and anything below the
 * smallest positive point) sit at the axis's bottom.
 */
function logAxis(ys) {
  const pos = ys.filter((v) => v > 0);
  const top = pos.length ? Math.max(...pos) : 1;
  const bottom = pos.length ? Math.min(...pos) : top / 10;
  const d0 = Math.floor(Math.log10(bottom));
  const span = Math.max(1, Math.ceil(Math.log10(top)) - d0);
  const every = Math.ceil(span / 5);  // at most six labelled decades
  const d1 = d0 + every * Math.ceil(span / every);
  const ticks = [];
  for (let d = d0; d <= d1; d += every) ticks.push(10 ** d);
  const unit = (v) => (v > 0 ? Math.min(1, Math.max(0, (Math.log10(v) - d0) / (d1 - d0))) : 0);
  return { ticks, unit };
}
