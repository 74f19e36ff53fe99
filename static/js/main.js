// The page's controller: opens the session's stream, keeps its state in one holder
// (static/js/page_state.js), draws the network from it, wires the weight and bias sliders
// and the step panel, and starts the playground's panels (static/js/playground.js).

import { Connection } from "./connection.js";
import { PageState } from "./page_state.js";
import { NetworkView } from "./network_view.js";
import { StepController, renderEquations } from "./animation.js";
import { fmt, neuronName, forwardEquationFromFrame } from "./equations.js";
import { formatNumber } from "./format.js";
import { paintHeatmap } from "./heatmap.js";
import { setData, setText } from "./dom.js";
import { FramePacer } from "./pacer.js";
import { initPlayground } from "./playground.js";
import { initGuide } from "./guide.js";
import { initExercise } from "./exercise.js";

const sessionId = document.body.dataset.sessionId;
const connection = new Connection(sessionId);
const state = new PageState(connection);
const root = document.getElementById("network-view");
const svg = root.querySelector(".nv-svg");
const popover = root.querySelector(".nv-popover");
const stepRoot = document.getElementById("step-panel");
const paramsBox = stepRoot.querySelector('[data-role="params"]');
const eqBox = stepRoot.querySelector('[data-role="equations"]');

// What the user picked and the control that opened the popover: the view's own, not the
// session's (that is in `state`).
const ui = { selection: null, opener: null };

const view = new NetworkView(svg, { onPick: (sel, ev) => pick(sel, ev), shown: () => state.frame });
const steps = new StepController(stepRoot, { connection, state, view, context: () => context() });
steps.onIdle = () => showSelectionEquations();
steps.onGradients = (gradients) => {
  if (state.frame) refreshSliders({ ...state.frame, gradients });
};

// ---- model structure ---------------------------------------------------------------

function sizesOf(frame) {
  const W = frame.weights;
  return [W[0].length, ...W.map((m) => m[0].length)];
}

function activationsOf(model, n) {
  if (!model) return [];
  const hidden = Array.from({ length: n - 2 }, (_, k) => (model.layer_activations && model.layer_activations[k]) || model.activation);
  return [...hidden, model.output_activation];
}

function name(l, j) {
  return neuronName(l, j, { nLayers: view.sizes ? view.sizes.length : 0, features: state.features });
}

function context() {
  const f = (state.step && state.step.before) || state.frame;
  return {
    features: state.features,
    preprocessing: state.preprocessing,
    point: f && f.sample ? f.sample.point : null,
    name: (l, j) => name(l, j),
  };
}

function setStructure(frame) {
  const sizes = sizesOf(frame);
  view.setModel({ sizes, features: state.features, activations: activationsOf(state.model, sizes.length) });
}

// ---- frames ------------------------------------------------------------------------

/** Draw the network, its readouts and sliders for `frame`: the page's (state.frame), or
 * one given (bench/bench_browser.py times this with recorded frames). */
function applyFrame(frame = state.frame) {
  if (!frame || !frame.weights) return;
  setStructure(frame);
  view.applyFrame(frame);
  readout(frame);
  refreshSliders(frame);
  paintBigMap(frame);
  if (!steps.stepper.trace) equationsSoon(frame.playing);
}

// While training runs, the equation panel (text nobody can read at 60 Hz) is
// rewritten at most five times a second; otherwise at once.
let eqTimer = null;
function equationsSoon(playing) {
  if (!playing) {
    clearTimeout(eqTimer);
    eqTimer = null;
    showSelectionEquations();
  } else if (!eqTimer) {
    eqTimer = setTimeout(() => {
      eqTimer = null;
      if (!steps.stepper.trace) showSelectionEquations();
    }, 200);
  }
}

const readouts = new Map();  // data-readout key -> element (the network view is not swapped)
function put(key, text, value) {
  if (!readouts.has(key)) readouts.set(key, root.querySelector(`[data-readout="${key}"]`));
  const e = readouts.get(key);
  if (!e) return;
  setText(e, text);
  setData(e, "value", value === undefined ? "" : JSON.stringify(value));
}

function vec(v) {
  return v ? `(${v.map(fmt).join(", ")})` : "–";
}

function readout(frame) {
  const s = frame.sample;
  if (s) {
    put("sample", `${s.split} #${s.index} at ${vec(s.point)}`, s.point);
    put("target", vec(s.target), s.target);
    const out = s.a[s.a.length - 1];
    put("prediction", vec(out), out);
    put("sample-loss", fmt(s.loss), s.loss);
  }
  if (frame.loss) {
    put("train-loss", fmt(frame.loss.train), frame.loss.train);
    put("test-loss", fmt(frame.loss.test), frame.loss.test);
  }
}

state.on("snapshot", () => {
  pacer.clear();
  hideBigMap();  // the neurons are drawn anew
  const frame = state.frame;
  if (ui.selection && !validSelection(ui.selection, sizesOf(frame))) select(null);
  // The drawing of the new shape before the step on screen is forgotten: that draws the
  // page's frame (the new one) again.
  if (frame.weights) setStructure(frame);
  steps.reset();
  closePopover();
  applyFrame();
});

// While training plays, frames are shown one per animation frame (static/js/pacer.js),
// the network view and the playground's panels together; no work is spent on a frame that
// would never be seen. While paused a frame answers the user's own change (a slider): it
// is shown at once, ready for the next paint, instead of waiting for an animation frame.
// While a step is explained, the state holds frames back (its evaluation phase shows them).
const pacer = new FramePacer((frame) => state.show(frame));
state.on("frame", (frame) => {
  if (state.held) return;
  if (frame.playing) {
    pacer.push(frame);
    return;
  }
  pacer.clear();
  state.show(frame);
});
state.on("show", () => applyFrame());

state.on("trace", (trace) => {
  // A step pauses training first (docs/PROTOCOL.md): frames still waiting to be drawn
  // are older than the step and must not draw over its animation.
  pacer.clear();
  closePopover();
  steps.load(trace);
});

state.on("error", (msg) => {
  const c = stepRoot.querySelector('[data-role="caption"]');
  c.textContent = `Not done: ${msg.field ? msg.field + ": " : ""}${msg.message}`;
});

// ---- selection, sliders ------------------------------------------------------------

function validSelection(sel, sizes) {
  if (sel.kind === "weight") return sel.layer + 1 < sizes.length && sel.from < sizes[sel.layer] && sel.to < sizes[sel.layer + 1];
  if (sel.kind === "bias") return sel.layer + 1 < sizes.length && sel.neuron < sizes[sel.layer + 1];
  return sel.layer < sizes.length && sel.neuron < sizes[sel.layer];
}

function select(sel) {
  ui.selection = sel;
  view.select(sel);
  steps.setSelection(sel);
  renderParams();
  if (!steps.stepper.trace) showSelectionEquations();
}

function pick(sel, ev) {
  select(sel);
  openPopover(sel, ev);
}

function weightLabel(l, i, j) {
  return `weight from ${name(l, i)} to ${name(l + 1, j)}`;
}

function biasLabel(l, j) {
  return `bias of ${name(l + 1, j)}`;
}

function paramValue(frame, p) {
  return p.kind === "weight" ? frame.weights[p.layer][p.from][p.to] : frame.biases[p.layer][p.neuron];
}

function gradientOf(frame, p) {
  const g = frame.gradients;
  if (!g || !g.weights) return null;
  return p.kind === "weight" ? g.weights[p.layer][p.from][p.to] : g.biases[p.layer][p.neuron];
}

/** Which way lowers the loss, from the engine's gradient (its sign only). */
function hint(g, source, sym) {
  if (g === null || g === undefined) return "";
  const where = source === "this_step" ? "in this step" : source === "last_step" ? "at the last step" : "now";
  const d = `∂L/∂${sym} = ${fmt(g)} ${where}`;
  if (g < 0) return `▲ raise it to lower the loss · ${d}`;
  if (g > 0) return `▼ lower it to lower the loss · ${d}`;
  return `no effect on the loss · ${d}`;
}

/** One labelled slider for a weight or a bias (the test hooks are its data-* attributes). */
function slider(p) {
  const frame = state.frame;
  const value = paramValue(frame, p);
  const wrap = document.createElement("div");
  wrap.className = "nv-slider";
  const label = p.kind === "weight" ? weightLabel(p.layer, p.from, p.to) : biasLabel(p.layer, p.neuron);
  const short = p.kind === "weight" ? `w: ${name(p.layer, p.from)} → ${name(p.layer + 1, p.to)}` : `bias b`;
  const input = document.createElement("input");
  input.type = "range";
  // ±5, or as far as the value when it is beyond (up to ±100: past that the box takes it)
  const lim = Math.min(100, Math.max(5, Math.ceil(Math.abs(value))));
  input.min = String(-lim);
  input.max = String(lim);
  input.step = "0.01";
  input.value = String(value);
  input.dataset.layer = String(p.layer);
  if (p.kind === "weight") {
    input.dataset.from = String(p.from);
    input.dataset.to = String(p.to);
  } else {
    input.dataset.neuron = String(p.neuron);
  }
  input.dataset.kind = p.kind;
  input.setAttribute("aria-label", label);
  const head = document.createElement("span");
  head.className = "nv-slider-name";
  head.textContent = short;
  const out = document.createElement("output");
  out.className = "nv-slider-value";
  out.textContent = fmt(value);
  const h = document.createElement("span");
  h.className = "nv-gradient";
  h.dataset.role = "gradient";
  const g = gradientOf(frame, p);
  h.textContent = hint(g, frame.gradients && frame.gradients.source, p.kind === "weight" ? "w" : "b");
  h.dataset.sign = g === null ? "" : String(Math.sign(g));
  // The box takes any finite number (the engine's bound), beyond the slider's ends; the
  // slider follows as far as it reaches.
  const box = document.createElement("input");
  box.type = "number";
  box.step = "any";
  box.className = "nv-slider-typed";
  box.value = String(value);
  box.setAttribute("aria-label", `${label} (number)`);
  const send = (v) => {
    out.textContent = fmt(v);
    input.setAttribute("aria-valuetext", fmt(v));
    steps.reset();
    if (p.kind === "weight") connection.send({ type: "set_weight", layer: p.layer, from: p.from, to: p.to, value: v });
    else connection.send({ type: "set_bias", layer: p.layer, neuron: p.neuron, value: v });
  };
  input.addEventListener("input", () => {
    send(Number(input.value));
    box.value = input.value;
    // the twin slider (popover / panel) follows at once; the frame brings the rest
    for (const other of document.querySelectorAll(selectorOf(p))) if (other !== input) other.value = input.value;
  });
  box.addEventListener("change", () => {
    const v = box.value.trim() === "" ? NaN : Number(box.value);
    box.setCustomValidity(Number.isFinite(v) ? "" : "a finite number");
    if (!Number.isFinite(v)) {
      box.reportValidity();
      return;
    }
    send(v);
    for (const other of document.querySelectorAll(selectorOf(p))) other.value = String(v);
  });
  wrap.append(head, input, out, box, h);
  wrap.param = p;
  return wrap;
}

function selectorOf(p) {
  return p.kind === "weight"
    ? `input[data-kind="weight"][data-layer="${p.layer}"][data-from="${p.from}"][data-to="${p.to}"]`
    : `input[data-kind="bias"][data-layer="${p.layer}"][data-neuron="${p.neuron}"]`;
}

function refreshSliders(frame) {
  for (const wrap of document.querySelectorAll(".nv-slider")) {
    const p = wrap.param;
    if (!p || !validSelection(p.kind === "weight" ? p : { ...p }, sizesOf(frame))) continue;
    const input = wrap.querySelector('input[type="range"]');
    const v = paramValue(frame, p);
    if (v === undefined) continue;
    // Never move a slider under the user's hand: the frame may be older than its position.
    const box = wrap.querySelector(".nv-slider-typed");
    if (document.activeElement !== input && document.activeElement !== box) {
      if (input.value !== String(v)) input.value = String(v);
      if (box && box.value !== String(v)) box.value = String(v);
      setText(wrap.querySelector("output"), fmt(v));
    }
    const g = gradientOf(frame, p);
    const h = wrap.querySelector('[data-role="gradient"]');
    setText(h, hint(g, frame.gradients && frame.gradients.source, p.kind === "weight" ? "w" : "b"));
    setData(h, "sign", g === null ? "" : String(Math.sign(g)));
  }
}

/** The parameters of a selection: a neuron's incoming weights and bias (an input's outgoing weights). */
function paramsOf(sel) {
  const sizes = view.sizes;
  if (!sel || !sizes) return [];
  if (sel.kind === "weight") return [sel];
  const l = sel.kind === "bias" ? sel.layer + 1 : sel.layer;
  const j = sel.neuron;
  if (l === 0) return Array.from({ length: sizes[1] }, (_, k) => ({ kind: "weight", layer: 0, from: j, to: k }));
  const ps = Array.from({ length: sizes[l - 1] }, (_, i) => ({ kind: "weight", layer: l - 1, from: i, to: j }));
  ps.push({ kind: "bias", layer: l - 1, neuron: j });
  return ps;
}

function renderParams() {
  paramsBox.replaceChildren();
  const sel = ui.selection;
  if (!sel || !state.frame) return;
  const h = document.createElement("div");
  h.className = "sp-params-title";
  const l = sel.kind === "bias" ? sel.layer + 1 : sel.kind === "weight" ? sel.layer + 1 : sel.layer;
  const j = sel.kind === "weight" ? sel.to : sel.neuron;
  h.textContent = sel.kind === "weight" ? weightLabel(sel.layer, sel.from, sel.to) : `${name(l, j)}: ${l === 0 ? "outgoing weights" : "incoming weights and bias"}`;
  paramsBox.appendChild(h);
  const ps = sel.kind === "weight" ? paramsOf({ kind: "neuron", layer: sel.layer + 1, neuron: sel.to }) : paramsOf(sel);
  for (const p of ps.slice(0, 65)) paramsBox.appendChild(slider(p));
}

function openPopover(sel, ev) {
  const ps = sel.kind === "neuron" ? paramsOf(sel).filter((p) => p.kind === "bias") : [sel];
  const body = popover.querySelector(".nv-pop-body");
  body.replaceChildren();
  const l = sel.kind === "neuron" ? sel.layer : sel.layer + 1;
  popover.querySelector(".nv-pop-title").textContent = sel.kind === "weight"
    ? weightLabel(sel.layer, sel.from, sel.to)
    : sel.kind === "bias" ? biasLabel(sel.layer, sel.neuron) : name(l, sel.neuron);
  if (!ps.length) {
    const p = document.createElement("p");
    p.textContent = "An input has no parameters of its own: its outgoing weights are listed below the network.";
    body.appendChild(p);
  }
  for (const p of ps) body.appendChild(slider(p));
  popover.hidden = false;
  const stage = popover.parentElement.getBoundingClientRect();
  const pt = view.clientPoint(sel);
  const w = popover.offsetWidth, hgt = popover.offsetHeight;
  const x = Math.max(4, Math.min(stage.width - w - 4, pt.x - stage.left - w / 2));
  const y = Math.max(4, Math.min(stage.height - hgt - 4, pt.y - stage.top + 10));
  popover.style.left = `${x}px`;
  popover.style.top = `${y}px`;
  ui.opener = ev && ev.target ? ev.target.closest("[data-pick]") : null;
  const keyboard = ev && (ev.type === "keydown" || ev.detail === 0);
  if (keyboard) (body.querySelector("input") || popover.querySelector("button")).focus();
}

function closePopover() {
  if (popover.hidden) return;
  const hadFocus = popover.contains(document.activeElement);
  popover.hidden = true;
  popover.querySelector(".nv-pop-body").replaceChildren();
  if (ui.opener && hadFocus) ui.opener.focus();
}

popover.querySelector('[data-action="close-slider"]').addEventListener("click", closePopover);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closePopover();
});
document.addEventListener("pointerdown", (ev) => {
  if (!popover.hidden && !popover.contains(ev.target) && !ev.target.closest?.("[data-pick]")) closePopover();
});

// ---- equations when no step is on screen -------------------------------------------

function showSelectionEquations() {
  const sel = ui.selection, frame = state.frame;
  if (!frame || !view.sizes) return;
  const groups = [];
  if (sel && sel.kind === "neuron" && sel.layer > 0) {
    const act = activationsOf(state.model, view.sizes.length)[sel.layer - 1];
    const eq = forwardEquationFromFrame(frame, sel.layer, sel.neuron, act);
    if (eq) groups.push({ ...eq, title: `forward: ${name(sel.layer, sel.neuron)} (selected sample)` });
  }
  for (const p of sel ? paramsOf(sel).slice(0, 8) : []) {
    const g = gradientOf(frame, p);
    const lab = p.kind === "weight" ? `${name(p.layer, p.from)} → ${name(p.layer + 1, p.to)}` : biasLabel(p.layer, p.neuron);
    const sym = p.kind === "weight" ? "w" : "b";
    const lines = [{ label: "value", text: `${sym} = ${fmt(paramValue(frame, p))}` }];
    if (g !== null) lines.push({ label: "gradient", text: `∂L/∂${sym} = ${fmt(g)} (${frame.gradients.source === "last_step" ? "of the last step" : "on the current batch"})` });
    groups.push({ title: lab, lines });
  }
  if (!groups.length) {
    const s = frame.sample;
    if (s) groups.push({
      title: "selected sample",
      lines: [
        { label: "inputs", text: `(${state.features.join(", ")}) = ${vec(s.a[0])}` },
        { label: "prediction", text: `y = ${vec(s.a[s.a.length - 1])}, target t = ${vec(s.target)}` },
        { label: "loss", text: `L = ${fmt(s.loss)}` },
      ],
    });
  }
  renderEquations(eqBox, groups);
}

// ---- the worked example button (htmx posts it; the socket brings the snapshot) ----------

stepRoot.querySelector('[data-action="worked-example"]')?.addEventListener("htmx:afterRequest", (ev) => {
  const c = stepRoot.querySelector('[data-role="caption"]');
  c.textContent = ev.detail.successful
    ? "Worked example loaded (the seed document's network): x = (0.5, −1), target (1, 0), two ReLU hidden neurons, two linear outputs, squared-error loss, SGD with learning rate 0.1. Press “Step one sample” to follow one training step."
    : "The worked example could not be loaded.";
});

// ---- gradient check: backpropagation against central differences (the engine's numbers) ----

const gradBox = stepRoot.querySelector('[data-role="gradcheck"]');
stepRoot.querySelector('[data-action="gradient-check"]')?.addEventListener("click", async () => {
  gradBox.hidden = false;
  gradBox.textContent = "Checking the gradients…";
  try {
    const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/gradient-check`);
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail?.message || res.statusText);
    const [lo, hi] = body.batch.indices;
    const verdict = body.max_relative_error < 1e-5
      ? "backpropagation agrees with the slopes measured numerically"
      : "backpropagation and the numerical slopes differ (near a kink such as relu's 0 this can be expected)";
    gradBox.dataset.value = String(body.max_relative_error);
    gradBox.textContent = `Gradient check on training rows ${lo}–${hi - 1}: largest relative error `
      + `${formatNumber(body.max_relative_error, "rate")} over ${body.checked} of ${body.total} parameters `
      + `(central differences, step ${body.eps}): ${verdict}.`
      + (body.stopped ? ` The check ${body.stopped.replace(/^stopped/, "stopped early")}.` : "");
  } catch (err) {
    gradBox.textContent = `The gradient check failed: ${err.message}`;
  }
});

// ---- a neuron's map, large, while the pointer or the focus is on it -----------------------

const bigMap = root.querySelector(".nv-bigmap");
let bigNode = null;  // [layer, neuron] shown, or null

function paintBigMap(frame = state.frame) {
  const h = frame && frame.heatmaps;
  if (!bigNode || !h) return;
  const index = h.nodes.findIndex(([l, j]) => l === bigNode[0] && j === bigNode[1]);
  if (index < 0) return;
  paintHeatmap(bigMap.querySelector("canvas"), { data: h.data, size: h.size, range: h.range, index });
}

function showBigMap(node) {
  const l = Number(node.dataset.layer), j = Number(node.dataset.neuron);
  bigNode = [l, j];
  bigMap.dataset.layer = String(l);
  bigMap.dataset.neuron = String(j);
  bigMap.querySelector("figcaption").textContent = name(l, j);
  paintBigMap();
  bigMap.hidden = false;
  // Beside the neuron, on whichever side has room, inside the stage.
  const stage = bigMap.parentElement.getBoundingClientRect(), r = node.getBoundingClientRect();
  const w = bigMap.offsetWidth, hgt = bigMap.offsetHeight;
  const right = r.right - stage.left + 8;
  const x = right + w <= stage.width ? right : Math.max(0, r.left - stage.left - w - 8);
  const y = Math.min(Math.max(0, r.top - stage.top + r.height / 2 - hgt / 2), Math.max(0, stage.height - hgt));
  bigMap.style.left = `${x}px`;
  bigMap.style.top = `${y}px`;
}

function hideBigMap() {
  bigNode = null;
  bigMap.hidden = true;
}

for (const [enter, leave] of [["pointerover", "pointerout"], ["focusin", "focusout"]]) {
  svg.addEventListener(enter, (ev) => {
    const node = ev.target.closest('.nv-node[data-pick="neuron"]');
    if (node) showBigMap(node);
  });
  svg.addEventListener(leave, (ev) => {
    const node = ev.target.closest('.nv-node[data-pick="neuron"]');
    if (node && !node.contains(ev.relatedTarget)) hideBigMap();
  });
}

// ---- the playground's panels ----------------------------------------------------------

// Imported with the rest (not loaded later): a click on Play, Step or a panel right after
// the page shows must not find its handler missing.
initPlayground({ connection, state, root: document, sessionId });
initGuide();
initExercise();

// ---- a session that is gone (deleted, expired, lost in a restart): said once, with a way on ----

connection.on("gone", () => {
  const top = document.querySelector(".nn-top");
  if (!top || top.querySelector('[data-role="gone"]')) return;
  const box = document.createElement("div");
  box.className = "nn-url-errors";
  box.dataset.role = "gone";
  box.setAttribute("role", "alert");
  const text = document.createElement("p");
  text.textContent = "This session no longer exists on the server (it expired, or the server "
    + "restarted without it): changes here are not kept any more.";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Start a new session with these settings";
  // The address bar holds this page's settings (`/s/{id}?<settings>`, kept current by the
  // controls' answers); `/?<settings>` starts a new session from them (PROTOCOL.md).
  button.addEventListener("click", () => window.location.assign(`/${window.location.search}`));
  text.append(" ", button);
  box.append(text);
  top.append(box);
});

window.nnplay = { connection, state, view, steps, applyFrame };  // for bench/ and debugging
