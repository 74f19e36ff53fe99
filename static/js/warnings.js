// Training warnings (saturated units, dead ReLUs, vanishing or exploding gradients) and a
// small chart of each layer's gradient size over the frames received. Every number is the
// engine's (engine/diagnostics.py, in each frame's `diagnostics`); this module only keeps
// the last frames' norms and draws them.

const W = 320, H = 80, PAD = { l: 34, r: 6, t: 6, b: 14 };
const KEEP = 240;  // frames of gradient norms kept for the chart
const COLOURS = ["#1f77b4", "#d95f02", "#2ca02c", "#7570b3", "#e7298a", "#8c6d31", "#17becf", "#666"];

export class WarningsPanel {
  constructor() {
    this.points = [];  // {epoch, norms}
    this.shownText = null;
    this.layers = 0;
  }

  /** Forget the kept norms (a new network or a new run). */
  clear() {
    this.points.length = 0;
  }

  /** Take the frame's diagnostics and redraw the list, and with `draw` the chart, in `root`. */
  show(root, frame, draw = true) {
    const d = frame && frame.diagnostics;
    if (!d) return;
    const last = this.points[this.points.length - 1];
    if (d.grad_norms.length !== this.layers || (last && frame.epoch < last.epoch)) this.clear();
    this.layers = d.grad_norms.length;
    if (!last || last.epoch !== frame.epoch || this.points.length === 0) {
      this.points.push({ epoch: frame.epoch, norms: d.grad_norms });
      if (this.points.length > KEEP) this.points.shift();
    }
    this.list(root.querySelector("[data-warnings]"), d.warnings);
    if (draw) this.chart(root.querySelector("#pg-grad-chart"), root.querySelector("[data-grad-legend]"));
  }

  list(ul, warnings) {
    if (!ul) return;
    const text = warnings.map((w) => w.message).join("\n");
    if (text === this.shownText) return;
    this.shownText = text;
    ul.replaceChildren(...(warnings.length ? warnings.map((w) => {
      const li = document.createElement("li");
      li.className = "pg-warning";
      li.dataset.kind = w.kind;
      li.textContent = w.message;
      return li;
    }) : [Object.assign(document.createElement("li"), { className: "pg-muted", textContent: "none" })]));
  }

  chart(svg, legend) {
    if (!svg) return;
    const pts = this.points;
    const logs = pts.flatMap((p) => p.norms.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10));
    const lo = logs.length ? Math.floor(Math.min(...logs)) : -3;
    const hi = logs.length ? Math.max(Math.ceil(Math.max(...logs)), lo + 1) : 0;
    const n = pts.length;
    const sx = (k) => PAD.l + (n > 1 ? k / (n - 1) : 1) * (W - PAD.l - PAD.r);
    const sy = (v) => H - PAD.b - ((Math.log10(v) - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
    const lines = [];
    // A zero gradient (dead units, nothing to learn) has no logarithm: drawn on the axis.
    const y = (v) => (v > 0 && Number.isFinite(v) ? sy(Math.max(v, 10 ** lo)) : H - PAD.b);
    for (let l = 0; l < this.layers; l++) {
      const colour = COLOURS[l % COLOURS.length];
      const p = pts.map((q, k) => `${sx(k).toFixed(1)},${y(q.norms[l]).toFixed(1)}`);
      lines.push(`<polyline fill="none" stroke-width="1.5" stroke="${colour}" points="${p.join(" ")}"/>`);
      if (n) lines.push(`<circle r="2.5" fill="${colour}" cx="${sx(n - 1).toFixed(1)}" cy="${y(pts[n - 1].norms[l]).toFixed(1)}"/>`);
    }
    const ticks = [lo, hi];
    svg.innerHTML = `
      <g class="pg-axis">
        <line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}"/>
        <line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}"/>
        ${ticks.map((t) => `<text x="${PAD.l - 4}" y="${sy(10 ** t) + 3}" text-anchor="end">1e${t}</text>`).join("")}
        ${n ? `<text x="${PAD.l}" y="${H - 2}">epoch ${pts[0].epoch}</text>
        <text x="${W - PAD.r}" y="${H - 2}" text-anchor="end">${pts[n - 1].epoch}</text>` : ""}
      </g>${lines.join("")}`;
    if (legend && legend.dataset.layers !== String(this.layers)) {
      legend.dataset.layers = String(this.layers);
      legend.innerHTML = Array.from({ length: this.layers }, (_, l) =>
        `<span class="pg-grad-key"><span class="pg-grad-swatch" style="background:${COLOURS[l % COLOURS.length]}"></span> ${l === this.layers - 1 ? "to output" : `to hidden ${l + 1}`}</span>`).join("");
    }
  }
}
