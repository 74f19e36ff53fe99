// Renders the network as SVG: neurons in columns with their value and heatmap,
// edges coloured by sign and as thick as their magnitude, bias markers. It turns
// frames (and, during the step animation, trace overlays) into DOM; it never
// fetches or sends anything: clicks are reported through `onPick`.

import { paintAtlas } from "./heatmap.js";
import { fmt, neuronName } from "./equations.js";
import { setData, setText } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const XHTML = "http://www.w3.org/1999/xhtml";
const S = 36;            // neuron square (the heatmap), viewBox units
const PITCH = S + 26;    // vertical distance between neurons (value label below each)
const TOP = 34;          // room for the column titles
const LEFT = 70;         // room for the feature names
const HEAT_INSET = 1.25; // a map sits this far inside its neuron's box (the box's stroke shows)
const VALUE_W = 64;      // width of a value label's column
const VALUE_MS = 100;    // neuron values are rewritten at most this often while training plays
const EDGE_MS = 30;      // edges and bias markers are restyled at most this often while it plays

/**
 * `run(arg, limited)` calls `fn(arg)` at once, or, when `limited` (training plays), at most
 * every `ms`: a call that comes sooner is kept, and the newest kept arg is run when the
 * interval ends.
 */
class Throttle {
  constructor(ms, fn) {
    this.ms = ms;
    this.fn = fn;
    this.at = -Infinity;
    this.timer = null;
    this.pending = null;
  }

  run(arg, limited) {
    const wait = this.ms - (performance.now() - this.at);
    if (limited && wait > 0) {
      this.pending = arg;
      if (!this.timer) this.timer = setTimeout(() => this.run(this.pending, false), wait);
      return;
    }
    this.cancel();
    this.at = performance.now();
    this.fn(arg);
  }

  /** Forget a kept call; `restart` also lets the next call run at once. */
  cancel(restart = false) {
    clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    if (restart) this.at = -Infinity;
  }
}

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/**
 * Edge stroke width for a weight `w` of a layer whose largest |weight| is `most`: from 0.5
 * (zero) to 5 (the layer's largest, or 1 when all of the layer's weights are smaller), so a
 * trained network with large weights is not a wall of thick lines, and a layer's widest
 * edge is at most ten times its narrowest.
 */
export function edgeWidth(w, most = 1) {
  return 0.5 + 4.5 * Math.min(1, Math.abs(w) / Math.max(1, most));
}

/** The largest |weight| of a layer's matrix `Wl` (rows of weights). */
function largest(Wl) {
  let m = 0;
  for (const row of Wl) for (const w of row) if (Math.abs(w) > m) m = Math.abs(w);
  return m;
}

/** Geometry only: neuron centres and the viewBox for layer sizes `sizes`. */
export function layout(sizes) {
  const cols = sizes.length;
  const colW = cols <= 5 ? 170 : cols <= 7 ? 135 : 112;
  const tallest = Math.max(...sizes);
  const height = TOP + tallest * PITCH + 10;
  const width = LEFT + (cols - 1) * colW + S / 2 + 84;  // room for the output notes
  const pos = sizes.map((n, l) => {
    const x = LEFT + S / 2 + l * colW;
    const y0 = TOP + (tallest - n) * PITCH / 2 + PITCH / 2 - 6;
    return Array.from({ length: n }, (_, j) => ({ x, y: y0 + j * PITCH }));
  });
  return { pos, width, height, colW };
}

function bezier(a, b) {
  const x0 = a.x + S / 2, x1 = b.x - S / 2, mx = (x0 + x1) / 2;
  return { d: `M${x0},${a.y} C${mx},${a.y} ${mx},${b.y} ${x1},${b.y}`, x0, x1, y0: a.y, y1: b.y };
}

/** Point at parameter t of the edge curve (used to place edge labels near the source). */
function along(c, t) {
  const u = 1 - t;
  const x = u * u * u * c.x0 + 3 * u * u * t * ((c.x0 + c.x1) / 2) + 3 * u * t * t * ((c.x0 + c.x1) / 2) + t * t * t * c.x1;
  const y = (u * u * u + 3 * u * u * t) * c.y0 + (3 * u * t * t + t * t * t) * c.y1;
  return { x, y };
}

export class NetworkView {
  /**
   * `svg`: the <svg> element to draw in; `onPick({kind, layer, ...}, event)`: a click on a
   * part; `shown()`: the page's frame of record (page_state.js), the one drawn again after the
   * step animation's overlay and read for a focused edge's label.
   */
  constructor(svg, { onPick = () => {}, shown = () => null } = {}) {
    this.svg = svg;
    this.onPick = onPick;
    this.shown = shown;
    this.sizes = null;
    this.selection = null;
    this.heatIndex = new Map();
    this.heatKey = "";
    // While training plays, neuron values are rewritten at most every VALUE_MS (numbers
    // changing 60 times a second cannot be read, and each rewrite costs layout and paint),
    // and edges and bias markers restyled at most every EDGE_MS (a restyled edge makes the
    // browser repaint and rasterize the whole drawing again; bench/results/playground.md
    // has the measurements). Paused, both show at once.
    this.valueLimit = new Throttle(VALUE_MS, (a) => this.writeValues(a));
    this.weightLimit = new Throttle(EDGE_MS, (f) => this.paintWeights(f.weights, f.biases, f.playing));
    svg.addEventListener("click", (ev) => this.handleClick(ev));
    svg.addEventListener("focusin", (ev) => {
      if (ev.target.classList && ev.target.classList.contains("nv-hit")) this.labelEdge(ev.target);
    });
    svg.addEventListener("keydown", (ev) => {
      if ((ev.key === "Enter" || ev.key === " ") && ev.target.closest("[data-pick]")) {
        ev.preventDefault();
        ev.stopPropagation();
        this.handleClick(ev);
      }
    });
  }

  /** Build the drawing for layer sizes and names; a no-op if nothing changed. */
  setModel({ sizes, features = [], activations = [] }) {
    const key = JSON.stringify([sizes, features, activations]);
    if (key === this.modelKey) return;
    this.modelKey = key;
    this.sizes = sizes;
    this.features = features;
    this.activations = activations;
    this.geo = layout(sizes);
    this.build();
  }

  name(l, j) {
    return neuronName(l, j, { nLayers: this.sizes.length, features: this.features });
  }

  edgeName(l, i, j) {
    return `weight from ${this.name(l, i)} to ${this.name(l + 1, j)}`;
  }

  /** The focused edge's label names its weight and value ("weight from x1 to hidden 1
   * neuron 1: 0.23"); only the focused one is kept up to date (hundreds of labels rewritten
   * per frame would cost the page, and a screen reader reads the focused one). */
  labelEdge(hit) {
    const l = Number(hit.dataset.layer), i = Number(hit.dataset.from), j = Number(hit.dataset.to);
    const f = this.shown();
    const w = f && f.weights && f.weights[l]?.[i]?.[j];
    const label = this.edgeName(l, i, j) + (w === undefined ? "" : `: ${fmt(w)}`);
    if (hit.getAttribute("aria-label") !== label) hit.setAttribute("aria-label", label);
  }

  focusedEdge() {
    const a = document.activeElement;
    return a && a.classList && a.classList.contains("nv-hit") && this.svg.contains(a) ? a : null;
  }

  build() {
    const { pos, width, height } = this.geo;
    const svg = this.svg;
    this.cancelValues();
    this.weightLimit.cancel(true);  // the new drawing's edges are styled by its first frame
    this.lastHeat = null;  // maps of the previous drawing's nodes: the next frame brings new ones
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    // small networks stay at most 1.5x their natural size, so text does not balloon
    svg.style.maxWidth = `${Math.round(width * 1.5)}px`;
    svg.dataset.layers = String(this.sizes.length);
    const titles = el("g", { class: "nv-titles" }, svg);
    const edgeG = el("g", { class: "nv-edges" }, svg);
    const hitG = el("g", { class: "nv-hits" }, svg);
    this.labelG = el("g", { class: "nv-labels" }, svg);
    this.dotG = el("g", { class: "nv-dots" }, svg);
    const nodeG = el("g", { class: "nv-nodes" }, svg);
    const valueG = el("g", { class: "nv-value-cols" }, svg);
    this.edges = [];
    this.curves = [];
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const rows = [], crows = [];
      for (let i = 0; i < this.sizes[l]; i++) {
        const row = [], crow = [];
        for (let j = 0; j < this.sizes[l + 1]; j++) {
          const c = bezier(pos[l][i], pos[l + 1][j]);
          const id = `nv-e-${l}-${i}-${j}`;
          const p = el("path", { id, d: c.d, class: "nv-edge", "data-layer": l, "data-from": i, "data-to": j }, edgeG);
          // The hit path is the edge's control: it takes clicks, and the keyboard's focus
          // (its label gains the weight's value while focused, see labelEdge).
          el("path", {
            d: c.d, class: "nv-hit", "data-pick": "edge", "data-layer": l, "data-from": i, "data-to": j,
            tabindex: "0", role: "button", "aria-label": this.edgeName(l, i, j),
          }, hitG).appendChild(this.title(this.edgeName(l, i, j)));
          row.push(p);
          crow.push(c);
        }
        rows.push(row);
        crows.push(crow);
      }
      this.edges.push(rows);
      this.curves.push(crows);
    }
    this.values = [];
    this.nodes = [];
    this.biasMarks = [];
    pos.forEach((col, l) => {
      const title = l === 0 ? "input" : l === this.sizes.length - 1 ? "output" : `hidden ${l}`;
      const act = l > 0 ? this.activations[l - 1] : "";
      const t = el("text", { x: col[0].x, y: 14, class: "nv-col-title" }, titles);
      t.textContent = title;
      if (act) {
        const a = el("text", { x: col[0].x, y: 27, class: "nv-col-act" }, titles);
        a.textContent = act;
      }
      const nodes = [], marks = [];
      col.forEach((p, j) => {
        const g = el("g", {
          class: "nv-node", transform: `translate(${p.x - S / 2},${p.y - S / 2})`,
          "data-pick": "neuron", "data-layer": l, "data-neuron": j, tabindex: "0", role: "button",
          "aria-label": `${this.name(l, j)}: show its parameters`,
        }, nodeG);
        // A finger's target around the box (touch screens only, static/css/layout.css): half
        // the gap to the next neuron on each side.
        const pad = (PITCH - S) / 2;
        el("rect", { x: -pad, y: -pad, width: S + 2 * pad, height: S + 2 * pad, class: "nv-pad" }, g);
        el("rect", { width: S, height: S, class: "nv-box", rx: 2 }, g);
        if (l === 0) {
          const n = el("text", { x: -6, y: S / 2 + 4, class: "nv-feature" }, g);
          n.textContent = this.features[j] || `x${j + 1}`;
        } else {
          const m = el("circle", {
            cx: -3, cy: S + 1, r: 3, class: "nv-bias", "data-pick": "bias", "data-layer": l - 1, "data-neuron": j,
          }, g);
          m.appendChild(this.title(`bias of ${this.name(l, j)}`));
          marks.push(m);
        }
        nodes.push(g);
      });
      this.values.push(this.valueColumn(valueG, col, l));
      this.nodes.push(nodes);
      this.biasMarks.push(marks);
    });
    this.buildHeatLayer(svg);
    this.markSelection();
  }

  /**
   * A column's value labels, one under each neuron: HTML in one foreignObject per column,
   * each label on a small box of the panel's colour so it stays legible over the edges.
   */
  valueColumn(parent, col, l) {
    const fo = el("foreignObject", {
      x: col[0].x - VALUE_W / 2, y: col[0].y - S / 2, width: VALUE_W, height: (col.length - 1) * PITCH + S + 16,
      class: "nv-values",
    }, parent);
    const box = document.createElementNS(XHTML, "div");
    box.className = "nv-value-col";
    fo.appendChild(box);
    return col.map((_, j) => {
      const v = document.createElementNS(XHTML, "span");
      v.className = "nv-value";
      v.dataset.layer = String(l);
      v.dataset.neuron = String(j);
      v.style.top = `${j * PITCH + S + 2}px`;
      box.appendChild(v);
      return v;
    });
  }

  /**
   * The neurons' maps: one canvas per column, in a foreignObject drawn last, above
   * everything else and transparent but for the squares (clicks pass through it).
   * A column is one composited layer; a canvas per neuron made two layers per neuron
   * (its canvas and the box drawn over it), and the browser's per-frame layer work
   * grew with them.
   */
  buildHeatLayer(svg) {
    const heatG = el("g", { class: "nv-heats", "aria-hidden": "true" }, svg);
    this.heatCols = this.geo.pos.map((col, l) => {
      const top = col[0].y - S / 2;
      const height = (col.length - 1) * PITCH + S;
      const fo = el("foreignObject", { x: col[0].x - S / 2, y: top, width: S, height, "data-layer": l }, heatG);
      const canvas = document.createElementNS(XHTML, "canvas");
      canvas.className = "nv-heat";
      canvas.dataset.layer = String(l);
      fo.appendChild(canvas);
      return { canvas, height, n: col.length };
    });
    this.heatScale = 0;
    this.fitHeatLayer();
    if (!this.resizeWatch && typeof ResizeObserver === "function") {
      this.resizeWatch = new ResizeObserver(() => this.fitHeatLayer());
      this.resizeWatch.observe(svg);
      this.watchPixelRatio();
    }
  }

  /** A zoom that changes the device pixel ratio, not the layout, re-fits the maps too. */
  watchPixelRatio() {
    if (typeof matchMedia !== "function") return;
    matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`).addEventListener("change", () => {
      this.fitHeatLayer();
      this.watchPixelRatio();
    }, { once: true });
  }

  /** Canvas pixels per viewBox unit: enough for the displayed size, so maps stay smooth. */
  fitHeatLayer() {
    if (!this.heatCols) return;
    const box = this.svg.getBoundingClientRect();
    const fit = box.width ? Math.min(box.width / this.geo.width, box.height / this.geo.height) : 1;
    // Labels are sized in viewBox units: a drawing shown smaller than its viewBox scales
    // them up by as much (static/css/layout.css), so none reads under its CSS size.
    this.svg.style.setProperty("--nv-zoom", Math.max(1, 1 / (fit || 1)).toFixed(3));
    const k = Math.min(4, Math.max(1, Math.ceil(fit * (window.devicePixelRatio || 1) * 2) / 2));
    if (k === this.heatScale) return;
    this.heatScale = k;
    for (const c of this.heatCols) {
      c.canvas.width = Math.round(S * k);
      c.canvas.height = Math.round(c.height * k);
    }
    if (this.lastHeat) this.paintHeatmaps(this.lastHeat);
  }

  title(text) {
    const t = document.createElementNS(SVG, "title");
    t.textContent = text;
    return t;
  }

  handleClick(ev) {
    const target = ev.target.closest("[data-pick]");
    if (!target) return;
    const d = target.dataset;
    const l = Number(d.layer);
    if (d.pick === "edge") this.onPick({ kind: "weight", layer: l, from: Number(d.from), to: Number(d.to) }, ev);
    else if (d.pick === "bias") this.onPick({ kind: "bias", layer: l, neuron: Number(d.neuron) }, ev);
    else this.onPick({ kind: "neuron", layer: l, neuron: Number(d.neuron) }, ev);
  }

  /** Apply a frame (docs/PROTOCOL.md "Frames"): weights, biases, the sample's values, heatmaps. */
  applyFrame(frame) {
    if (!this.sizes) return;
    this.weightLimit.run(frame, frame.playing);
    const smp = frame.sample;
    if (smp && smp.a) this.valueLimit.run(smp.a, frame.playing);
    if (frame.heatmaps) this.paintHeatmaps(frame.heatmaps);
  }

  /** Forget values waiting to be shown (the step animation or a new drawing takes over). */
  cancelValues() {
    this.valueLimit.cancel();
  }

  /** The neurons' values for the selected sample: `a[l][j]`, activation of neuron j in layer l. */
  writeValues(a) {
    for (let l = 0; l < this.values.length; l++) {
      const row = a[l] || [];
      const vals = this.values[l];
      for (let j = 0; j < vals.length; j++) this.setValue(vals[j], row[j]);
    }
  }

  setValue(node, x, prefix = "") {
    setText(node, x === undefined ? "" : prefix + fmt(x));
    node.dataset.value = x === undefined ? "" : String(x);
  }

  paintWeights(W, B, playing = false) {
    if (!W) return;
    for (let l = 0; l < this.edges.length; l++) {
      const rows = this.edges[l], Wl = W[l];
      if (!Wl || Wl.length !== rows.length) continue;
      const most = largest(Wl);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i], Wi = Wl[i];
        for (let j = 0; j < row.length; j++) {
          const w = Wi[j], p = row[j];
          // Only a visible change of width (a tenth of a unit) restyles the edge (most
          // training frames move weights by less than 0.05): that keeps a frame's style work small.
          const tenths = Math.round(edgeWidth(w, most) * 10);
          if (p.nvWidth !== tenths) {
            p.nvWidth = tenths;
            p.setAttribute("stroke-width", (tenths / 10).toFixed(1));
            // fainter as well as thinner: the small weights of a wide layer stay in the back
            p.setAttribute("stroke-opacity", (0.3 + 0.6 * (tenths / 10 - 0.5) / 4.5).toFixed(2));
          }
          const pos = w >= 0;
          if (p.nvPos !== pos) {
            p.nvPos = pos;
            p.classList.toggle("pos", pos);
            p.classList.toggle("neg", !pos);
          }
        }
      }
    }
    this.scheduleDataValues(W, B, playing);
    if (!B) return;
    for (let l = 1; l < this.biasMarks.length; l++) {
      const marks = this.biasMarks[l], b = B[l - 1];
      for (let j = 0; j < marks.length; j++) {
        const m = marks[j], r = (2 + Math.min(Math.abs(b[j]), 4) * 1.2).toFixed(1);
        if (m.nvR !== r) {
          m.nvR = r;
          m.setAttribute("r", r);
        }
        const pos = b[j] >= 0;
        if (m.nvPos !== pos) {
          m.nvPos = pos;
          m.classList.toggle("pos", pos);
          m.classList.toggle("neg", !pos);
        }
      }
    }
  }

  /**
   * Each weight's and bias's exact value goes into its edge's or marker's data-value (for
   * tests and assistive tools) at most every 100 ms, every second while training plays:
   * writing 400 attributes costs more than the rest of a frame, and nothing reads them
   * between frames.
   */
  scheduleDataValues(W, B, playing) {
    this.pendingData = { W, B };
    if (this.dataTimer && !(this.dataTimerLong && !playing)) return;
    clearTimeout(this.dataTimer);
    this.dataTimerLong = playing;
    this.dataTimer = setTimeout(() => {
      this.dataTimer = null;
      this.writeDataValues(this.pendingData);
    }, playing ? 1000 : 100);
  }

  writeDataValues({ W, B }) {
    const focused = this.focusedEdge();
    if (focused) this.labelEdge(focused);
    const put = (e, v) => setData(e, "value", String(v));
    for (let l = 0; l < this.edges.length; l++) {
      const rows = this.edges[l], Wl = W[l];
      if (!Wl || Wl.length !== rows.length) continue;
      for (let i = 0; i < rows.length; i++) {
        for (let j = 0; j < rows[i].length; j++) put(rows[i][j], Wl[i][j]);
      }
    }
    for (let l = 1; B && l < this.biasMarks.length; l++) {
      const marks = this.biasMarks[l], b = B[l - 1];
      if (!b || b.length !== marks.length) continue;
      for (let j = 0; j < marks.length; j++) put(marks[j], b[j]);
    }
  }

  /** Where neuron (l, j)'s map is drawn: its column's canvas and the rectangle, in canvas pixels. */
  heatRect(l, j) {
    const k = this.heatScale, inset = HEAT_INSET;
    return { canvas: this.heatCols[l].canvas, x: inset * k, y: (j * PITCH + inset) * k, side: (S - 2 * inset) * k };
  }

  /** Paint every node's map (frame.heatmaps) into its column; dimmed nodes (the step) faintly. */
  paintHeatmaps(h) {
    this.lastHeat = h;
    if (!this.heatCols || !this.heatScale) return;
    const key = `${h.size}:${h.nodes.length}:${this.modelKey}`;
    if (key !== this.heatKey) {
      this.heatKey = key;
      this.heatIndex = new Map(h.nodes.map(([l, j], k) => [`${l},${j}`, k]));
    }
    const atlas = paintAtlas(h);
    const size = h.size;
    const dim = this.dimmed;
    for (let l = 0; l < this.heatCols.length; l++) {
      const { canvas, n } = this.heatCols[l];
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = true;
      for (let j = 0; j < n; j++) {
        const m = this.heatIndex.get(`${l},${j}`);
        const { x, y, side } = this.heatRect(l, j);
        ctx.clearRect(x, y, side, side);
        if (m === undefined) continue;
        ctx.globalAlpha = dim && dim.has(`${l},${j}`) ? dim.alpha : 1;
        ctx.drawImage(atlas, 1, m * (size + 2) + 1, size, size, x, y, side, side);
      }
      ctx.globalAlpha = 1;
    }
  }

  /** Highlight a picked part (or nothing); the equation panel and sliders follow it elsewhere. */
  select(sel) {
    this.selection = sel;
    this.markSelection();
  }

  markSelection() {
    if (!this.sizes) return;
    this.svg.querySelectorAll(".selected").forEach((e) => e.classList.remove("selected"));
    const s = this.selection;
    if (!s) return;
    if (s.kind === "weight") this.edges[s.layer]?.[s.from]?.[s.to]?.classList.add("selected");
    else if (s.kind === "bias") this.nodes[s.layer + 1]?.[s.neuron]?.classList.add("selected");
    else this.nodes[s.layer]?.[s.neuron]?.classList.add("selected");
  }

  /** Where a part is on screen (for placing its slider), in client pixels. */
  clientPoint(sel) {
    const { pos } = this.geo;
    let p;
    if (sel.kind === "weight") p = along(this.curves[sel.layer][sel.from][sel.to], 0.5);
    else if (sel.kind === "bias") p = pos[sel.layer + 1][sel.neuron];
    else p = pos[sel.layer][sel.neuron];
    const pt = this.svg.createSVGPoint();
    pt.x = p.x;
    pt.y = p.y + (sel.kind === "weight" ? 0 : S / 2);
    const m = this.svg.getScreenCTM();
    return m ? pt.matrixTransform(m) : { x: 0, y: 0 };
  }

  // ---- the step animation's overlay -------------------------------------

  /**
   * Show one step of the animation (animation.js): `view` says which neurons are lit
   * and what their labels read, which edges are active, and which edge labels to draw.
   * `view` = {values: [[{text, value}|null]], lit: Set("l,j"), edges: [{l,i,j,text}],
   * activeEdges: Set("l,i,j"), dots: [l] (edges into layer l carry travelling dots)}.
   */
  showOverlay(view) {
    this.svg.classList.add("animating");
    const alpha = Number(getComputedStyle(this.svg).getPropertyValue("--dim")) || 0.3;
    this.dimmed = Object.assign(new Set(), { alpha });
    this.cancelValues();
    this.labelG.replaceChildren();
    this.dotG.replaceChildren();
    for (let l = 0; l < this.values.length; l++) {
      for (let j = 0; j < this.values[l].length; j++) {
        const v = view.values[l]?.[j];
        const node = this.nodes[l][j];
        node.classList.toggle("dim", !view.lit.has(`${l},${j}`));
        this.values[l][j].classList.toggle("dim", !view.lit.has(`${l},${j}`));
        if (!view.lit.has(`${l},${j}`)) this.dimmed.add(`${l},${j}`);
        node.classList.toggle("active", view.activeNodes.has(`${l},${j}`));
        if (v) this.setValue(this.values[l][j], v.value, v.prefix || "");
        else this.setValue(this.values[l][j], undefined);
      }
    }
    for (let l = 0; l < this.edges.length; l++) {
      for (let i = 0; i < this.edges[l].length; i++) {
        for (let j = 0; j < this.edges[l][i].length; j++) {
          this.edges[l][i][j].classList.toggle("active", view.activeEdges.has(`${l},${i},${j}`));
        }
      }
    }
    this.placeEdgeLabels(view.edgeLabels);
    for (const note of view.notes || []) {
      const p = this.geo.pos[note.l][note.j];
      const t = el("text", { x: p.x + S / 2 + 6, y: p.y + 4, class: "nv-note" }, this.labelG);
      t.textContent = note.text;
    }
    if (this.lastHeat) this.paintHeatmaps(this.lastHeat);
    if (view.dotsInto !== null && view.dotsInto !== undefined) this.travel(view.dotsInto, view.duration || 800);
  }

  /**
   * Edge labels where none overlaps another, a neuron (where the curves end) or a neuron's
   * value: each tries places along its edge, nearest its source first, above then below
   * the line, and takes the first free one. The focused neuron's labels go first; a label
   * with no free place is left out (the focused neuron's numbers are in the equations).
   */
  placeEdgeLabels(labels) {
    const taken = [];
    const pad = 1.5;
    const hits = (b) => taken.some((o) => b.x < o.x + o.width + pad && o.x < b.x + b.width + pad
      && b.y < o.y + o.height + pad && o.y < b.y + b.height + pad);
    const zoom = parseFloat(getComputedStyle(this.svg).getPropertyValue("--nv-zoom")) || 1;
    for (const col of this.geo.pos) {
      for (const p of col) taken.push({ x: p.x - S / 2, y: p.y - S / 2, width: S, height: S });
    }
    // The neurons' values as drawn (HTML boxes), in the drawing's units.
    const toSvg = this.svg.getScreenCTM()?.inverse();
    for (const col of this.values) {
      for (const v of col) {
        if (!toSvg || !v.textContent.trim()) continue;
        const r = v.getBoundingClientRect();
        if (!r.width) continue;
        const a = new DOMPoint(r.left, r.top).matrixTransform(toSvg);
        const b = new DOMPoint(r.right, r.bottom).matrixTransform(toSvg);
        taken.push({ x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y });
      }
    }
    const order = [...labels].sort((a, b) => (b.focus ? 1 : 0) - (a.focus ? 1 : 0));
    // Along the edge, nearest its source first (where the edges of one neuron fan out).
    const spots = [0.3, 0.22, 0.38, 0.15, 0.46, 0.54, 0.08, 0.62, 0.7, 0.78, 0.86, 0.93];
    let left = 0;
    for (const lab of order) {
      const c = this.curves[lab.l][lab.i][lab.j];
      const t = el("text", { class: "nv-edge-label" }, this.labelG);
      t.textContent = lab.text;
      let placed = false;
      if (lab.focus) {
        // The focused neuron's labels first try the start of their edge, right of its
        // source: each comes from a neuron of its own, so they never share that place.
        t.style.textAnchor = "start";
        t.setAttribute("x", (c.x0 + 3).toFixed(1));
        t.setAttribute("y", (c.y0 - 3).toFixed(1));
        const b = t.getBBox();
        if (!hits(b)) {
          taken.push(b);
          placed = true;
        } else {
          t.style.textAnchor = "";
        }
      }
      for (const at of placed ? [] : spots) {
        const p = along(c, at);
        for (const dy of [-3, 4 + 10 * zoom, -3 - 7 * zoom, 4 + 17 * zoom]) {
          t.setAttribute("x", p.x.toFixed(1));
          t.setAttribute("y", (p.y + dy).toFixed(1));
          const b = t.getBBox();
          if (!hits(b)) {
            taken.push(b);
            placed = true;
            break;
          }
        }
        if (placed) break;
      }
      if (!placed) {
        t.remove();
        left++;
      }
    }
    this.labelsLeftOut = left;
  }

  /** Dots travel along every edge into layer l (SVG animateMotion on the edge's own path). */
  travel(l, ms) {
    const rows = this.edges[l - 1];
    // A person who asked for less motion sees the edges light up, without moving dots.
    if (!rows || matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    let count = 0;
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < rows[i].length; j++) {
        if (++count > 300) return;
        const dot = el("circle", { r: 3.2, class: "nv-dot" }, this.dotG);
        const anim = el("animateMotion", { dur: `${ms}ms`, fill: "freeze", begin: "indefinite" }, dot);
        el("mpath", { href: `#nv-e-${l - 1}-${i}-${j}` }, anim);
        anim.beginElement?.();
      }
    }
  }

  clearOverlay() {
    this.svg.classList.remove("animating");
    this.dimmed = null;
    this.labelG?.replaceChildren();
    this.dotG?.replaceChildren();
    this.svg.querySelectorAll(".dim, .active").forEach((e) => e.classList.remove("dim", "active"));
    const f = this.shown();
    if (f) this.applyFrame(f);
  }
}
