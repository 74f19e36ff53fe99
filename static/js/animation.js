// The step-by-step animation of one training step: a state machine over the
// steps of a trace (Stepper), what each step lights up in the network
// (overlayFor), its caption and equations, and the controller that wires the
// step panel (partials/step_panel.html) and the keyboard to them.

import {
  fmt, term, forwardEquation, lossEquation, deltaEquation, weightGradientEquation,
  biasGradientEquation, updateEquation,
} from "./equations.js";
import { setText } from "./dom.js";
import { formatNumber } from "./format.js";

export const PHASES = [
  { key: "sample", letter: "a", title: "Sample" },
  { key: "forward", letter: "b", title: "Forward" },
  { key: "loss", letter: "c", title: "Loss" },
  { key: "backward", letter: "d", title: "Backward" },
  { key: "update", letter: "e", title: "Update" },
  { key: "evaluate", letter: "f", title: "Evaluation" },
];

/** The ordered steps of one trace: forward layer by layer, backward from the output.
 * `quick`: one stop a layer each way (the values arriving and the activation together;
 * the δs and the gradients together), for a quick pass; otherwise every stage, for study. */
export function buildSteps(trace, { quick = false } = {}) {
  const n = trace.layers.length;
  const steps = [{ phase: "sample" }];
  for (let l = 1; l < n; l++) {
    if (quick) steps.push({ phase: "forward", layer: l, stage: "activate", merged: true });
    else for (const stage of ["travel", "sum", "activate"]) steps.push({ phase: "forward", layer: l, stage });
  }
  steps.push({ phase: "loss" });
  for (let l = n - 1; l >= 1; l--) {
    if (!quick) steps.push({ phase: "backward", layer: l, stage: "delta" });
    steps.push({ phase: "backward", layer: l, stage: "gradient", merged: quick });
  }
  steps.push({ phase: "update" });
  steps.push({ phase: "evaluate" });
  return steps;
}

/** Plays, pauses and moves through the steps; `onChange(state)` after every change. */
export class Stepper {
  constructor({ onChange = () => {}, baseMs = 1400, schedule = (fn, ms) => setTimeout(fn, ms), cancel = (t) => clearTimeout(t) } = {}) {
    this.onChange = onChange;
    this.baseMs = baseMs;
    this.schedule = schedule;
    this.cancel = cancel;
    this.speed = 1;
    this.quick = false;  // one stop a layer (buildSteps)
    this.playing = false;
    this.trace = null;
    this.steps = [];
    this.index = -1;
    this.timer = null;
  }

  get step() {
    return this.steps[this.index] || null;
  }

  get last() {
    return this.steps.length - 1;
  }

  get msPerStep() {
    return this.baseMs / this.speed;
  }

  load(trace, { play = true } = {}) {
    this.trace = trace;
    this.steps = buildSteps(trace, { quick: this.quick });
    this.index = 0;
    this.playing = false;
    this.stopTimer();
    if (play) this.play();
    else this.emit();
  }

  unload() {
    this.stopTimer();
    this.trace = null;
    this.steps = [];
    this.index = -1;
    this.playing = false;
    this.emit();
  }

  go(index) {
    if (!this.trace) return;
    this.index = Math.max(0, Math.min(this.last, index));
    if (this.playing) this.arm();
    this.emit();
  }

  next() {
    this.go(this.index + 1);
  }

  prev() {
    this.go(this.index - 1);
  }

  jump(phase) {
    const k = this.steps.findIndex((s) => s.phase === phase);
    if (k >= 0) this.go(k);
  }

  play() {
    if (!this.trace) return;
    if (this.index >= this.last) this.index = 0;
    this.playing = true;
    this.arm();
    this.emit();
  }

  pause() {
    this.playing = false;
    this.stopTimer();
    this.emit();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(speed) {
    this.speed = Math.max(0.1, Number(speed) || 1);
    if (this.playing) this.arm();
    this.emit();
  }

  arm() {
    this.stopTimer();
    this.timer = this.schedule(() => this.tick(), this.msPerStep);
  }

  stopTimer() {
    if (this.timer !== null) this.cancel(this.timer);
    this.timer = null;
  }

  tick() {
    this.timer = null;
    if (this.index < this.last) {
      this.index++;
      if (this.index < this.last) this.arm();
      else this.playing = false;
    } else {
      this.playing = false;
    }
    this.emit();
  }

  emit() {
    this.onChange(this);
  }
}

const key2 = (l, j) => `${l},${j}`;
const key3 = (l, i, j) => `${l},${i},${j}`;

/** Which neuron an equation list starts from in layer l: the selected one if it is there. */
export function focusIn(l, size, selection) {
  if (selection && selection.kind === "neuron" && selection.layer === l && selection.neuron < size) return selection.neuron;
  if (selection && selection.kind === "weight" && selection.layer + 1 === l) return selection.to;
  if (selection && selection.kind === "bias" && selection.layer + 1 === l) return selection.neuron;
  return 0;
}

/** What the network shows at a step: lit neurons, their labels, active edges, edge labels. */
export function overlayFor(step, trace, selection, { whole = false } = {}) {
  // On a big network the edges are short: their labels say less (2 significant digits;
  // the update, the new value only), and the equations below give every number in full.
  const big = trace.layers.length > 4 || trace.layers.some((L) => L.a[0].length > 6);
  const lab = (x) => (big ? formatNumber(x, "label") : fmt(x));
  const n = trace.layers.length;
  const sizes = trace.layers.map((L) => L.a[0].length);
  const W0 = trace.update.weights_before, W1 = trace.update.weights_after;
  const out = { values: [], lit: new Set(), activeNodes: new Set(), activeEdges: new Set(), edgeLabels: [], dotsInto: null };
  const showA = (l) => {
    out.values[l] = trace.layers[l].a[0].map((value) => ({ value }));
    sizes[l] && trace.layers[l].a[0].forEach((_, j) => out.lit.add(key2(l, j)));
  };
  const edgesInto = (l, label) => {
    const focus = focusIn(l, sizes[l], selection);
    const many = sizes[l - 1] * sizes[l] > 12;
    for (let i = 0; i < sizes[l - 1]; i++) {
      for (let j = 0; j < sizes[l]; j++) {
        out.activeEdges.add(key3(l - 1, i, j));
        if (label && (whole || !many || j === focus)) {
          out.edgeLabels.push({ l: l - 1, i, j, text: label(i, j), focus: j === focus });
        }
      }
    }
  };
  const activate = (l) => sizes[l] && trace.layers[l].a[0].forEach((_, j) => out.activeNodes.add(key2(l, j)));
  out.notes = [];
  const { phase, layer: l, stage } = step;
  if (phase === "sample") {
    showA(0);
    activate(0);
  } else if (phase === "forward") {
    for (let k = 0; k < l; k++) showA(k);
    if (stage === "travel" || step.merged) {
      edgesInto(l, (i, j) => `×${lab(W0[l - 1][i][j])}`);
      out.dotsInto = l;
    }
    if (stage !== "travel") {
      const L = trace.layers[l];
      out.values[l] = stage === "sum"
        ? L.z[0].map((value) => ({ value, prefix: "z=" }))
        : L.a[0].map((value) => ({ value }));
      L.a[0].forEach((_, j) => out.lit.add(key2(l, j)));
    }
    activate(l);
  } else if (phase === "loss") {
    for (let k = 0; k < n; k++) showA(k);
    out.values[n - 1] = trace.layers[n - 1].a[0].map((value) => ({ value, prefix: "y=" }));
    trace.targets[0].forEach((t, j) => out.notes.push({ l: n - 1, j, text: `target ${fmt(t)}` }));
    activate(n - 1);
  } else if (phase === "backward") {
    for (let k = 0; k < n; k++) showA(k);
    for (let k = l; k < n; k++) out.values[k] = trace.layers[k].delta[0].map((value) => ({ value, prefix: "δ=" }));
    activate(l);
    if (stage === "gradient") {
      edgesInto(l, (i, j) => `∂${big ? "" : "="}${lab(trace.gradients.weights[l - 1][i][j])}`);
    }
  } else if (phase === "update") {
    for (let k = 0; k < n; k++) showA(k);
    const total = W0.reduce((s, m) => s + m.length * m[0].length, 0);
    for (let k = 1; k < n; k++) {
      const focus = focusIn(k, sizes[k], selection);
      for (let i = 0; i < sizes[k - 1]; i++) {
        for (let j = 0; j < sizes[k]; j++) {
          out.activeEdges.add(key3(k - 1, i, j));
          const focused = j === focus && k === (selection?.layer ?? 1);
          if (whole || total <= 12 || focused) {
            out.edgeLabels.push({ l: k - 1, i, j, focus: focused,
              text: big ? `→${lab(W1[k - 1][i][j])}` : `${fmt(W0[k - 1][i][j])}→${fmt(W1[k - 1][i][j])}` });
          }
        }
      }
    }
  }
  return out;
}

/** The plain-words caption of a step. `ctx`: {features, preprocessing, point, optimizer, before, after}. */
export function captionFor(step, trace, ctx = {}) {
  const n = trace.layers.length;
  const u = trace.update;
  const where = (l) => (l === n - 1 ? "the output layer" : `hidden layer ${l}`);
  switch (step.phase) {
    case "sample": {
      const b = trace.batch || {};
      const which = b.indices && b.indices.length === 1 ? `${b.split} sample #${b.indices[0]}` : `a batch of ${trace.inputs.length} ${b.split || ""} samples`;
      const prep = ctx.preprocessing && ctx.preprocessing !== "none" ? `preprocessed with "${ctx.preprocessing}"` : "with no preprocessing";
      return `We take ${which}. Its point becomes the network's inputs (${(ctx.features || []).join(", ")}) ${prep}: (${trace.inputs[0].map(fmt).join(", ")}). The answer we want is the target (${trace.targets[0].map(fmt).join(", ")}).`;
    }
    case "forward":
      if (step.merged) return `The values of the layer before travel along the edges into ${where(step.layer)}, each multiplied by its edge's weight; each neuron adds them and its bias (z) and passes z through its activation (${trace.layers[step.layer].activation}).`;
      if (step.stage === "travel") return `Every value of the layer before travels along its edges into ${where(step.layer)}, multiplied by the edge's weight.`;
      if (step.stage === "sum") return `Each neuron of ${where(step.layer)} adds up what arrives and its own bias: that total is its weighted sum z.`;
      return `Each neuron of ${where(step.layer)} passes z through its activation (${trace.layers[step.layer].activation}); the result a is what ${step.layer === n - 1 ? "the network predicts" : "the next layer receives"}.`;
    case "loss":
      return `The loss (${trace.loss.name}) measures how far the prediction (${trace.layers[n - 1].a[0].map(fmt).join(", ")}) is from the target (${trace.targets[0].map(fmt).join(", ")}): ${fmt(trace.loss.total)}. Training is making this number smaller.`;
    case "backward":
      if (step.stage === "delta") {
        return step.layer === n - 1
          ? "Starting at the output, each neuron's δ = ∂L/∂z says how much the loss changes when its weighted sum z changes."
          : `Each neuron of ${where(step.layer)} collects the δs of the layer above through the same weights, times the slope of its activation (the chain rule).`;
      }
      if (step.merged) return `Each neuron of ${where(step.layer)} gets its δ = ∂L/∂z (through the chain rule from the layer above), and each weight into it its gradient: the value that entered it times that δ.`;
      return `Each weight into ${where(step.layer)} gets its gradient: the value that entered it times the δ of the neuron it feeds. A negative gradient means raising the weight lowers the loss.`;
    case "update": {
      const lr = u.hyperparameters.learning_rate;
      return `The optimizer (${u.optimizer}, learning rate ${fmt(lr)}) moves every weight and bias a small step against its gradient: each edge goes from its old to its new value.`;
    }
    case "evaluate": {
      const a = ctx.before?.loss, b = ctx.after?.loss;
      const change = a && b ? ` Training loss ${fmt(a.train)} → ${fmt(b.train)}, test loss ${fmt(a.test)} → ${fmt(b.test)}.` : "";
      return `With the new weights the network is evaluated again and the metrics are refreshed.${change}`;
    }
    default:
      return "";
  }
}

/** The equations of a step: a list of {title, lines: [{label, text}]}. */
export function equationsFor(step, trace, selection, ctx = {}) {
  const sizes = trace.layers.map((L) => L.a[0].length);
  const upTo = (l, cap) => {
    const f = focusIn(l, sizes[l], selection);
    const rest = Array.from({ length: sizes[l] }, (_, j) => j).filter((j) => j !== f);
    return [f, ...rest].slice(0, cap);
  };
  const named = (eq, name) => ({ ...eq, title: `${eq.title}: ${name}` });
  const nm = ctx.name || ((l, j) => `layer ${l} neuron ${j + 1}`);
  switch (step.phase) {
    case "sample": {
      const lines = [];
      if (ctx.point) lines.push({ label: "point", text: `(x1, x2) = (${ctx.point.map(fmt).join(", ")})` });
      lines.push({ label: "inputs", text: `(${(ctx.features || []).join(", ")}) = (${trace.inputs[0].map(fmt).join(", ")})` });
      lines.push({ label: "target", text: `t = (${trace.targets[0].map(fmt).join(", ")})` });
      return [{ title: "sample", lines }];
    }
    case "forward":
      return upTo(step.layer, 4).map((j) => named(forwardEquation(trace, step.layer, j), nm(step.layer, j)));
    case "loss":
      return [lossEquation(trace)];
    case "backward": {
      const l = step.layer;
      if (step.stage === "delta") return upTo(l, 4).map((j) => named(deltaEquation(trace, l, j), nm(l, j)));
      const j = focusIn(l, sizes[l], selection);
      const eqs = Array.from({ length: sizes[l - 1] }, (_, i) =>
        named(weightGradientEquation(trace, l - 1, i, j), `${nm(l - 1, i)} → ${nm(l, j)}`));
      eqs.push(named(biasGradientEquation(trace, l - 1, j), `bias of ${nm(l, j)}`));
      return eqs;
    }
    case "update": {
      const sel = selection || { kind: "neuron", layer: 1, neuron: 0 };
      if (sel.kind === "weight") return [named(updateEquation(trace, "weight", sel.layer, sel.from, sel.to), `${nm(sel.layer, sel.from)} → ${nm(sel.layer + 1, sel.to)}`)];
      const l = sel.kind === "bias" ? sel.layer + 1 : Math.max(1, sel.layer);
      const j = focusIn(l, sizes[l], sel);
      const eqs = Array.from({ length: sizes[l - 1] }, (_, i) =>
        named(updateEquation(trace, "weight", l - 1, i, j), `${nm(l - 1, i)} → ${nm(l, j)}`));
      eqs.push(named(updateEquation(trace, "bias", l - 1, 0, j), `bias of ${nm(l, j)}`));
      return eqs;
    }
    case "evaluate": {
      const a = ctx.before, b = ctx.after;
      const lines = [];
      if (a?.loss && b?.loss) {
        lines.push({ label: "train loss", text: `${fmt(a.loss.train)} → ${fmt(b.loss.train)}` });
        lines.push({ label: "test loss", text: `${fmt(a.loss.test)} → ${fmt(b.loss.test)}` });
      }
      const m = b?.metrics;
      if (m) {
        for (const k of ["accuracy", "precision", "recall", "f1", "mse", "mae", "r2"]) {
          if (m[k] !== undefined && m[k] !== null) lines.push({ label: `${k} (${m.split})`, text: fmt(m[k]) });
        }
      }
      if (b?.sample) lines.push({ label: "this sample", text: `prediction (${b.sample.a[b.sample.a.length - 1].map(fmt).join(", ")}), loss ${fmt(b.sample.loss)}` });
      return [{ title: "evaluation", lines }];
    }
    default:
      return [];
  }
}

/** Write equation groups ({title, lines}) into `box` as text (no HTML from numbers). */
export function renderEquations(box, groups) {
  groups = groups.filter(Boolean);
  // The same groups and lines as on screen (a slider moving, a live frame): only the
  // texts that changed are rewritten, so the panel is not rebuilt and relaid out.
  const shape = JSON.stringify(groups.map((g) => [g.title, g.lines.map((l) => l.label)]));
  if (box.nvShape === shape && box.children.length === groups.length) {
    groups.forEach((g, k) => {
      const codes = box.children[k].querySelectorAll("code");
      g.lines.forEach((line, i) => setText(codes[i], line.text));
    });
    return;
  }
  box.nvShape = shape;
  box.replaceChildren();
  for (const g of groups) {
    const sec = document.createElement("div");
    sec.className = "eq-group";
    const h = document.createElement("div");
    h.className = "eq-title";
    h.textContent = g.title;
    sec.appendChild(h);
    for (const line of g.lines) {
      const row = document.createElement("div");
      row.className = "eq-line";
      const lab = document.createElement("span");
      lab.className = "eq-label";
      lab.textContent = line.label;
      const code = document.createElement("code");
      code.textContent = line.text;
      row.append(lab, code);
      sec.appendChild(row);
    }
    box.appendChild(sec);
  }
}

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);

/**
 * Wires the step panel: "Step one sample" asks the server for a traced step; the
 * trace that answers is played phase by phase on the network view. While a step is
 * on screen (before its evaluation phase) the page's state (page_state.js) holds live frames
 * back, so the page shows the numbers of the step being explained; the evaluation phase
 * shows the newest frame. The frames before and after the step are the state's
 * (`state.step`), not copies kept here.
 */
export class StepController {
  constructor(root, { connection, state, view, context = () => ({}) }) {
    this.root = root;
    this.connection = connection;
    this.state = state;
    this.view = view;
    this.context = context;
    this.selection = null;
    this.stepper = new Stepper({
      onChange: () => {
        state.hold(this.active);
        this.render();
      },
    });
    // A frame held back during the update phase brings the values the update shows.
    state.on("frame", () => {
      if (state.held && this.stepper.step.phase === "update") this.render();
    });
    this.q = (sel) => root.querySelector(sel);
    this.eqBox = this.q('[data-role="equations"]');
    this.caption = this.q('[data-role="caption"]');
    root.addEventListener("click", (ev) => this.click(ev));
    this.whole = false;  // label every edge (else the focused neuron's only, on big layers)
    this.q('[data-action="anim-detail"]')?.addEventListener("change", (ev) => {
      this.whole = ev.target.value === "network";
      if (this.stepper.trace) this.render();
    });
    this.q('[data-action="anim-pace"]')?.addEventListener("change", (ev) => {
      this.stepper.quick = ev.target.value === "quick";
    });
    const speed = this.q('[data-action="anim-speed"]');
    speed?.addEventListener("input", () => {
      this.stepper.setSpeed(Number(speed.value));
      this.q('[data-role="speed"]').textContent = `${speed.value}×`;
    });
    document.addEventListener("keydown", (ev) => this.key(ev));
  }

  /** True while a step is being explained (live frames are held back). */
  get active() {
    return !!this.stepper.trace && this.stepper.index < this.stepper.last;
  }

  requestStep() {
    this.connection.send({ type: "step", unit: "sample" });
  }

  /** Play a step's trace (the state's `step` began with it). */
  load(trace) {
    this.stepper.load(trace, { play: true });
  }

  /** Forget the step on screen (a new snapshot, a dragged weight). */
  reset() {
    if (!this.stepper.trace) return;
    this.state.endStep();
    this.stepper.unload();
  }

  setSelection(sel) {
    this.selection = sel;
    if (this.stepper.trace) this.render();
  }

  click(ev) {
    const b = ev.target.closest("button");
    if (!b || b.disabled) return;
    const s = this.stepper;
    if (b.dataset.phase) s.jump(b.dataset.phase);
    else if (b.dataset.action === "step-sample") this.requestStep();
    else if (b.dataset.action === "anim-prev") s.prev();
    else if (b.dataset.action === "anim-next") s.next();
    else if (b.dataset.action === "anim-toggle") s.toggle();
  }

  key(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (this.root.hidden || this.root.classList.contains("nn-locked")) return;  // an exercise's
    const t = ev.target;
    if (t && (TYPING.has(t.tagName) || t.isContentEditable)) return;
    const s = this.stepper;
    if (ev.key === " " || ev.code === "Space") {
      if (t && t.tagName === "BUTTON") return;  // space presses the focused button
      if (t && t.closest && t.closest("[data-pick]")) return;
      ev.preventDefault();
      if (s.trace && s.index < s.last) s.toggle();
      else this.requestStep();
    } else if (ev.key === "ArrowRight" && s.trace) {
      ev.preventDefault();
      s.next();
    } else if (ev.key === "ArrowLeft" && s.trace) {
      ev.preventDefault();
      s.prev();
    }
  }

  render() {
    const s = this.stepper, step = s.step, trace = s.trace;
    const has = !!trace;
    this.root.querySelectorAll("[data-phase]").forEach((b) => {
      if (b === this.root) return;
      b.disabled = !has;
      const current = has && step.phase === b.dataset.phase;
      b.classList.toggle("current", current);
      if (current) b.setAttribute("aria-current", "step");
      else b.removeAttribute("aria-current");
    });
    for (const a of ["anim-prev", "anim-next", "anim-toggle"]) {
      const b = this.q(`[data-action="${a}"]`);
      if (b) b.disabled = !has;
    }
    const toggle = this.q('[data-action="anim-toggle"]');
    if (toggle) {
      toggle.textContent = s.playing ? "❚❚" : "▶";
      toggle.setAttribute("aria-label", s.playing ? "pause (space)" : "play (space)");
    }
    this.root.dataset.currentPhase = has ? step.phase : "";
    this.root.dataset.stepIndex = has ? String(s.index) : "";
    this.root.dataset.playing = String(s.playing);
    if (!has) {
      this.view.clearOverlay();
      this.onIdle?.();
      return;
    }
    const { before, after } = this.state.step || {};
    const ctx = { ...this.context(), before, after };
    const u = trace.update;
    if (step.phase !== "evaluate") {
      // The sliders' gradient hints follow the step: from its backward phase on they give
      // this step's gradients; before it, those of the frame the step started from.
      const backward = PHASES.findIndex((p) => p.key === "backward");
      const mine = PHASES.findIndex((p) => p.key === step.phase) >= backward;
      this.onGradients?.(mine ? { source: "this_step", ...trace.gradients } : before?.gradients ?? null);
    }
    if (step.phase === "evaluate") {
      this.view.clearOverlay();
      // the newest frame becomes the page's (every panel draws it), or, if none came yet,
      // the panels held back during the step are drawn again
      this.state.show(after || this.state.frame);
    } else {
      const late = step.phase === "update";
      const base = { ...(late && after ? after : before || {}) };
      base.weights = late ? u.weights_after : u.weights_before;
      base.biases = late ? u.biases_after : u.biases_before;
      this.view.applyFrame(base);
      this.view.showOverlay({ ...overlayFor(step, trace, this.selection, { whole: this.whole }),
        duration: Math.min(900, s.msPerStep * 0.7) });
    }
    const phase = PHASES.find((p) => p.key === step.phase);
    const n = trace.layers.length;
    const where = !step.layer ? "" : step.layer === n - 1 ? ", output layer" : `, hidden layer ${step.layer}`;
    this.caption.textContent = `(${phase.letter}) ${phase.title}${where}: ${captionFor(step, trace, ctx)}`;
    renderEquations(this.eqBox, equationsFor(step, trace, this.selection, ctx));
  }
}
