// Loss curves for train and test as an SVG chart with axes; hovering shows the values.
// The points are the engine's history, as the page's state holds it (page_state.js).

const NS = "http://www.w3.org/2000/svg";
const W = 320, H = 140, PAD = { l: 40, r: 8, t: 8, b: 22 };
const MAX_POINTS = 400;  // drawn points per curve; longer histories are thinned

export class LossChart {
  /** `history`: the page's loss history (page_state.js `History`), read, never changed here. */
  constructor(history) {
    this.history = history;
    this.drawn = -1;  // the history's version last drawn
  }

  /** Draw into `svg` (an <svg> with viewBox 0 0 320 140); a no-op when nothing changed. */
  draw(svg) {
    const h = this.history;
    if (!svg || (svg === this.svg && this.drawn === h.version && svg.firstChild)) return;
    this.svg = svg;
    this.drawn = h.version;
    const n = h.epoch.length;
    // The first epochs' loss can dwarf the rest: past 20 points, the axis is scaled to the
    // points after the first twentieth (earlier ones are clipped at the top).
    const skip = n > 20 ? Math.ceil(n / 20) : 0;
    const finite = (a) => a.slice(skip).filter(Number.isFinite);
    const ys = finite(h.train).concat(finite(h.test));
    const yMax = niceMax(ys.length ? Math.max(...ys) : 1);
    const x0 = n ? h.epoch[0] : 0;
    const x1 = n ? Math.max(h.epoch[n - 1], x0 + 1) : 1;
    const sx = (e) => PAD.l + ((e - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
    const sy = (v) => H - PAD.b - (Math.min(v, yMax) / yMax) * (H - PAD.t - PAD.b);
    this.scale = { sx, x0, x1 };
    const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
    const line = (vals) => {
      const pts = [];
      for (let i = 0; i < n; i += stride) if (Number.isFinite(vals[i])) pts.push(`${sx(h.epoch[i]).toFixed(1)},${sy(vals[i]).toFixed(1)}`);
      if (n && (n - 1) % stride && Number.isFinite(vals[n - 1])) pts.push(`${sx(h.epoch[n - 1]).toFixed(1)},${sy(vals[n - 1]).toFixed(1)}`);
      return pts.join(" ");
    };
    const yTicks = [0, yMax / 2, yMax];
    const xTicks = [x0, Math.round((x0 + x1) / 2), x1];
    svg.innerHTML = `
      <g class="pg-axis">
        <line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}"/>
        <line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}"/>
        ${yTicks.map((v) => `<text x="${PAD.l - 4}" y="${sy(v) + 3}" text-anchor="end">${fmt(v)}</text>
          <line class="pg-grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(v)}" y2="${sy(v)}"/>`).join("")}
        ${xTicks.map((e) => `<text x="${sx(e)}" y="${H - 6}" text-anchor="middle">${e}</text>`).join("")}
        <text x="${W - PAD.r}" y="${H - PAD.b - 4}" text-anchor="end" class="pg-axis-title">epoch</text>
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
    t1.textContent = `epoch ${h.epoch[i]}  train ${fmt(h.train[i])}`;
    t2.textContent = `test ${fmt(h.test[i])}`;
    svg.dataset.hoverEpoch = String(h.epoch[i]);
  }
}

function niceMax(v) {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (!Number.isFinite(v)) return "\u2013";
  if (v === 0) return "0";
  return Math.abs(v) >= 100 || Math.abs(v) < 0.01 ? v.toExponential(1) : v.toPrecision(3);
}
