// The playground controller: wires the data, training and output panels to the
// session's stream (docs/PROTOCOL.md). Server messages in, clicks out; every
// number shown is the engine's (metrics.js), pictures come from frames (boundary.js,
// chart.js). The panels themselves are server-rendered htmx partials.

import { drawBoundary, toPlane } from "./boundary.js";
import { LossChart } from "./chart.js";
import { forgetFigures, showMetrics } from "./metrics.js";
import { copyText, exportModel, exportPng, exportSvg } from "./share.js";

const CHART_MS = 100;

const SOCKET_ACTIONS = {
  play: () => ({ type: "play" }),
  pause: () => ({ type: "pause" }),
  step: () => ({ type: "step", unit: "epoch" }),
  reset: () => ({ type: "reset", new_seed: false }),
  "new-seed": () => ({ type: "reset", new_seed: true }),
};

/**
 * `held()` says whether the step animation is holding live frames back (they show at its
 * evaluation phase): the panels then keep showing the numbers from before the step, and
 * `render()` (returned) is called again when the animation lets go.
 */
export function initPlayground({ connection, root = document.body, sessionId, held = () => false }) {
  const $ = (sel) => root.querySelector(sel);
  const host = root.body || root;  // `root` may be the document: its body carries the flags
  const state = {
    data: null, frame: null, status: null, snapshots: 0,
    chart: new LossChart(), chartAt: 0, pending: false, rate: { t: 0, epoch: 0, frames: 0 },
  };
  const options = () => ({
    showTest: !!$('[data-toggle="show_test"]')?.checked,
    discretize: !!$('[data-toggle="discretize"]')?.checked,
  });
  const hideText = () => $('input[name="hide"]')?.value || "";
  const viewQuery = () => {
    const q = new URLSearchParams({ hide: hideText() });
    if (options().showTest) q.set("show_test", "1");
    if (options().discretize) q.set("discretize", "1");
    return q;
  };

  /** Draw the panels for `frame`: the newest, or while training plays the one main.js's
   * pacer shows in this animation frame. */
  function render(frame = state.frame) {
    state.pending = false;
    if (held()) return;
    const t0 = performance.now();
    const map = $("#pg-boundary-map"), points = $("#pg-boundary");
    if (map && points) drawBoundary({ map, points }, frame && frame.boundary, state.data, options());
    showMetrics(root, frame);
    // The chart is a whole SVG redrawn: ten times a second is plenty while training runs.
    const playing = host.dataset && host.dataset.playing === "true";
    if (!playing || t0 - state.chartAt >= CHART_MS) {
      state.chart.draw($("#pg-loss-chart"));
      state.chartAt = t0;
    }
    showSpeed();
    // The bench (bench/bench_playground.py) reads these through the Performance API.
    performance.measure("pg-render", { start: t0, end: performance.now() });
  }
  const schedule = () => {
    if (!state.pending) {
      state.pending = true;
      requestAnimationFrame(() => {
        if (state.pending) render();
      });
    }
  };

  function showSpeed() {
    // Frames and epochs per second as this page receives them while training plays (what
    // reaches the page, not an engine number), over windows of a second.
    const f = state.frame, r = state.rate, now = performance.now();
    if (!f || !f.playing) return;
    if (!r.t) Object.assign(r, { t: now, epoch: f.epoch, frames: 0 });
    if (now - r.t >= 1000) {
      const s = (now - r.t) / 1000;
      writeSpeed(Math.max(0, f.epoch - r.epoch) / s, r.frames / s);
      Object.assign(r, { t: now, epoch: f.epoch, frames: 0 });
    }
  }

  function writeSpeed(eps, fps) {
    for (const el of root.querySelectorAll('[data-metric="epochs_per_second"]')) el.textContent = eps.toFixed(1);
    for (const el of root.querySelectorAll('[data-metric="frames_per_second"]')) el.textContent = fps.toFixed(1);
  }

  function setPlaying(playing) {
    const value = playing ? "true" : "false";
    if (host.dataset.playing === value) return;
    host.dataset.playing = value;
    // Play and Pause take each other's place: the focus goes with them, so Space or Enter
    // toggles again (a hidden button would drop the focus to the page).
    const gone = $(playing ? ".pg-play" : ".pg-pause"), shown = $(playing ? ".pg-pause" : ".pg-play");
    if (gone && shown && document.activeElement === gone) shown.focus({ preventScroll: true });
    // Each run is measured from its start; paused, nothing trains and the speed reads 0
    // (not the last run's figure).
    state.rate = { t: 0, epoch: 0, frames: 0 };
    if (!playing) writeSpeed(0, 0);
  }

  function showStatus() {
    const el = $("#pg-status");
    const s = state.status;
    if (!el || !s) return;
    const bad = s.reason === "diverged" || s.reason === "error";
    el.textContent = bad || (s.message && s.reason !== "paused" && s.reason !== "playing")
      ? s.message || s.reason : "";
    el.classList.toggle("pg-status--bad", bad);
    el.dataset.reason = s.reason || "";
  }

  function refreshPanels() {
    // A structural change (import, reset with a new seed, another tab) re-renders the panels.
    if (!window.htmx || !$("#controls")) return;
    window.htmx.ajax("GET", `/ui/${encodeURIComponent(sessionId)}/panels?${viewQuery()}`,
      { target: "#controls", swap: "outerHTML" });
  }

  async function updateUrl() {
    try {
      const res = await fetch(`/ui/${encodeURIComponent(sessionId)}/url?${viewQuery()}`);
      if (res.ok) history.replaceState(null, "", (await res.json()).url);
    } catch { /* offline: the address bar keeps the last URL */ }
  }

  function onSnapshot(msg) {
    state.snapshots++;
    state.data = msg.dataset;
    state.chart.reset(msg.session && msg.session.history);
    setPlaying(msg.session && msg.session.training && msg.session.training.playing);
    if (msg.frame) state.frame = msg.frame;
    if (state.snapshots > 1) {
      refreshPanels();
      updateUrl();
    }
    schedule();
  }

  function onFrame(msg) {
    state.frame = msg;
    if (msg.playing) state.rate.frames++;  // received, whether or not a paint shows it
    state.chart.append(msg.history);
    if (typeof msg.playing === "boolean") setPlaying(msg.playing);
    // Paused, a frame answers the user's own change: drawn at once. Playing, main.js's
    // pacer calls `render` with the frame to show, in step with the network view.
    if (msg.playing === false) render();
  }

  connection.on("snapshot", onSnapshot);
  connection.on("frame", onFrame);
  connection.on("status", (msg) => {
    state.status = msg;
    setPlaying(msg.playing);
    showStatus();
  });
  connection.on("error", (msg) => {
    // A diverged run's message says why training stopped: keep it in view.
    if (state.status && state.status.reason === "diverged" && !state.status.playing) return;
    state.status = { reason: "error", message: `${msg.field ? msg.field + ": " : ""}${msg.message}` };
    showStatus();
  });
  if (connection.last && connection.last.snapshot) onSnapshot(connection.last.snapshot);

  root.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-action]");
    if (!btn || !root.contains(btn)) return;
    const action = btn.dataset.action;
    if (SOCKET_ACTIONS[action]) {
      ev.preventDefault();
      connection.send(SOCKET_ACTIONS[action]());
      if (action === "play") setPlaying(true);
      if (action === "pause") setPlaying(false);
      return;
    }
    try {
      if (action === "export-model") await exportModel(sessionId);
      else if (action === "export-svg") exportSvg();
      else if (action === "export-png") await exportPng();
    } catch (err) {
      shareError(err.message);
    }
  });

  root.addEventListener("change", (ev) => {
    const el = ev.target;
    if (el.matches("[data-toggle]")) {
      schedule();
      updateUrl();
    }
  });

  function shareError(text) {
    const el = $("[data-share-error]");
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  // Click on the data plot: add a training point of the chosen class there.
  root.addEventListener("click", (ev) => {
    const canvas = ev.target.closest("#pg-boundary");
    const select = $("[data-add-class]");
    if (!canvas || !select || !window.htmx) return;
    const box = canvas.getBoundingClientRect();
    const extent = (state.frame && state.frame.boundary && state.frame.boundary.extent) || [-6, 6];
    const [x1, x2] = toPlane(ev.clientX - box.left, ev.clientY - box.top, extent, box.width, box.height);
    window.htmx.ajax("POST", `/ui/${encodeURIComponent(sessionId)}/point`, {
      target: "#data-panel", swap: "outerHTML",
      values: { x1: x1.toFixed(3), x2: x2.toFixed(3), label: select.value, hide: hideText() },
    });
  });

  // Open drop-downs (<details data-keep>) stay open across a swap of their panel.
  let openKeep = [];
  document.body.addEventListener("htmx:beforeSwap", () => {
    openKeep = [...root.querySelectorAll("details[data-keep][open]")].map((d) => d.dataset.keep);
  });
  document.body.addEventListener("htmx:afterSwap", () => {
    for (const k of openKeep) {
      const d = root.querySelector(`details[data-keep="${k}"]`);
      if (d) d.open = true;
    }
  });

  // After any htmx swap the new elements get the newest numbers and pictures.
  document.body.addEventListener("htmx:afterSettle", (ev) => {
    forgetFigures();
    showStatus();
    schedule();
    // A new link (each Share renders the panel anew) goes to the clipboard; the note says
    // whether the browser let it.
    const url = $("[data-share-url]");
    if (url && !url.nvCopied) {
      url.nvCopied = true;
      copyText(url.value).then((ok) => {
        const note = $("[data-share-note]");
        if (!note) return;
        note.textContent = ok ? "Link copied to the clipboard." : "Could not copy: select the link and copy it.";
      });
    }
  });

  return { state, render };
}
