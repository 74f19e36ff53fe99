// The playground controller: wires the data, training and output panels to the page's
// state (page_state.js, fed by the session's stream, docs/PROTOCOL.md). State in, clicks out;
// every number shown is the engine's (metrics.js), pictures come from frames (boundary.js,
// chart.js). The panels themselves are server-rendered htmx partials.

import { drawBoundary, drawGuides, forgetPoints, toPlane } from "./boundary.js";
import { LossChart } from "./chart.js";
import { formatNumber } from "./format.js";
import { forgetFigures, showMetrics } from "./metrics.js";
import {
  followLiveSettings, keepNewestPanels, nameThePage, panelsShow, sendChangesInOrder,
  showRangeValues, whenAnswered,
} from "./panels.js";
import { copyText, exportChartPng, exportModel, exportPlotPng, exportPng, exportSvg } from "./share.js";
import { WarningsPanel } from "./warnings.js";

const CHART_MS = 100;

const SOCKET_ACTIONS = {
  play: () => ({ type: "play" }),
  pause: () => ({ type: "pause" }),
  step: () => ({ type: "step", unit: "epoch" }),
  reset: () => ({ type: "reset", new_seed: false }),
  "new-seed": () => ({ type: "reset", new_seed: true }),
  "go-back": () => ({ type: "go_back" }),
};

/** The "train N epochs / until a test loss" message from its fields, or null (the field's
 * own validity message shows instead). */
function goalMessage(root) {
  const epochs = root.querySelector('[data-goal="epochs"]');
  const until = root.querySelector('[data-goal="until_loss"]');
  if (!epochs || !until) return null;
  for (const el of [epochs, until]) {
    if (!el.checkValidity() || (el === epochs && !el.value)) {
      el.reportValidity();
      return null;
    }
  }
  const message = { type: "train", epochs: Number(epochs.value) };
  if (until.value !== "") message.until_loss = Number(until.value);
  return message;
}

/**
 * The panels draw the page's state (`state`, page_state.js): its shown frame, data points,
 * history and status. While the step animation holds live frames back (`state.held`; they
 * show at its evaluation phase) the panels keep showing the numbers from before the step.
 */
export function initPlayground({ connection, state, root = document.body, sessionId }) {
  const $ = (sel) => root.querySelector(sel);
  const host = root.body || root;  // `root` may be the document: its body carries the flags
  // These panels' own drawing state (the session's is the page state's, `state`).
  const ui = {
    chart: new LossChart(state.history), chartAt: 0, warnings: new WarningsPanel(), pending: false, rate: { t: 0, epoch: 0, frames: 0 },
  };
  const options = () => ({
    showTest: !!$('[data-toggle="show_test"]')?.checked,
    discretize: !!$('[data-toggle="discretize"]')?.checked,
    projector: !!$('[data-toggle="projector"]')?.checked,
    lossLog: !!$('[data-toggle="loss_log"]')?.checked,
  });
  const hideText = () => $('input[name="hide"]')?.value || "";
  const viewQuery = () => {
    const q = new URLSearchParams({ hide: hideText() });
    if (options().showTest) q.set("show_test", "1");
    if (options().discretize) q.set("discretize", "1");
    if (options().projector) q.set("projector", "1");
    if (options().lossLog) q.set("loss_log", "1");
    return q;
  };

  /** Draw the panels for the page's frame (state.frame: while training plays, the one
   * main.js's pacer shows in this animation frame). */
  function render() {
    ui.pending = false;
    if (state.held) return;
    const t0 = performance.now();
    const frame = state.frame;
    const map = $("#pg-boundary-map"), points = $("#pg-boundary");
    if (map && points) drawBoundary({ map, points }, frame && frame.boundary, state.dataset, options());
    drawGuides({ x: $(".pg-ticks--x"), y: $(".pg-ticks--y"), legend: $(".pg-legend"),
      maps: $(".nv-legend [data-maps-key]") }, frame && frame.boundary, frame && frame.heatmaps);
    showMetrics(root, frame);
    // The charts are whole SVGs redrawn: ten times a second is plenty while training runs.
    const charts = !state.playing || t0 - ui.chartAt >= CHART_MS;
    ui.warnings.show(root, frame, charts);
    if (charts) {
      ui.chart.draw($("#pg-loss-chart"), { log: options().lossLog });
      ui.chartAt = t0;
    }
    showSpeed();
    // The bench (bench/bench_playground.py) reads these through the Performance API.
    performance.measure("pg-render", { start: t0, end: performance.now() });
  }
  const schedule = () => {
    if (!ui.pending) {
      ui.pending = true;
      requestAnimationFrame(() => {
        if (ui.pending) render();
      });
    }
  };

  function showSpeed() {
    // Frames and epochs per second as this page receives them while training plays (what
    // reaches the page, not an engine number), over windows of a second.
    const f = state.newest, r = ui.rate, now = performance.now();
    if (!f || !f.playing) return;
    if (!r.t) Object.assign(r, { t: now, epoch: f.epoch, frames: 0 });
    if (now - r.t >= 1000) {
      const s = (now - r.t) / 1000;
      writeSpeed(Math.max(0, f.epoch - r.epoch) / s, r.frames / s);
      Object.assign(r, { t: now, epoch: f.epoch, frames: 0 });
    }
  }

  function writeSpeed(eps, fps) {
    for (const el of root.querySelectorAll('[data-metric="epochs_per_second"]')) el.textContent = formatNumber(eps, "speed");
    for (const el of root.querySelectorAll('[data-metric="frames_per_second"]')) el.textContent = formatNumber(fps, "speed");
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
    ui.rate = { t: 0, epoch: 0, frames: 0 };
    if (!playing) writeSpeed(0, 0);
  }

  /** The goal's progress bar, from the frame: epochs done of the epochs asked for. */
  function showGoal(frame) {
    const bar = $('[data-goal="progress"]');
    if (!bar) return;
    const goal = frame && frame.playing && frame.goal;
    bar.closest("label").hidden = !goal;
    if (!goal) return;
    const done = Math.max(0, frame.epoch - goal.start_epoch);
    bar.max = goal.epochs;
    bar.value = Math.min(done, goal.epochs);
    const text = $('[data-goal="text"]');
    if (text) text.textContent = `${done} of ${goal.epochs} epochs`;
  }

  function showStatus() {
    const el = $("#pg-status");
    const s = state.status;
    const back = $('[data-action="go-back"]');
    if (back) {
      const to = s && s.reason === "diverged" ? s.back_to : null;
      back.hidden = to === null || to === undefined;
      if (!back.hidden) back.querySelector("[data-back-to]").textContent = String(to);
    }
    if (!el || !s) return;
    const bad = s.reason === "diverged" || s.reason === "error";
    el.textContent = bad || (s.message && s.reason !== "paused" && s.reason !== "playing")
      || (s.goal && s.playing)
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

  // A structural change shows in the panels: this page's own change comes back with them
  // redrawn (its answer), one made elsewhere (import, reset, another tab) needs a refresh.
  // The snapshot often arrives before the answer: wait a moment and for the answers on their
  // way, then refresh only the panels still older than it (a needless refresh replaces the
  // controls under the person's next change).
  const REFRESH_WAIT_MS = 150;
  function onSnapshot() {
    setPlaying(state.playing);
    if (state.snapshots > 1) {
      const version = state.session && state.session.version;
      setTimeout(() => whenAnswered().then(() => {
        if (!panelsShow(version)) refreshPanels();
        updateUrl();
      }), REFRESH_WAIT_MS);
    }
    schedule();
  }

  state.on("snapshot", onSnapshot);
  function followLive(frame) {
    const reg = frame.regularization || {};
    const live = `${frame.learning_rate}|${frame.batch_size}|${reg.name}|${reg.rate}|${frame.speed}`;
    if (live !== ui.live) {  // changed (here or in another tab): the controls follow
      ui.live = live;
      followLiveSettings(frame, root);
    }
  }
  if (state.newest) followLive(state.newest);  // frames that came before this module did
  state.on("frame", (frame) => {
    if (frame.playing) ui.rate.frames++;  // received, whether or not a paint shows it
    setPlaying(state.playing);
    followLive(frame);
    showGoal(frame);
  });
  // A frame shown (main.js: paused, at once; playing, by its pacer, in step with the
  // network view; or the step animation's evaluation phase).
  state.on("show", render);
  state.on("status", () => {
    setPlaying(state.playing);
    showStatus();
  });
  state.on("error", showStatus);
  if (state.session) onSnapshot();  // this module loaded after the first snapshot came

  root.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-action]");
    if (!btn || !root.contains(btn)) return;
    const action = btn.dataset.action;
    if (action === "train-goal") {
      ev.preventDefault();
      const message = goalMessage(root);
      if (message) {
        connection.send(message);
        setPlaying(true);
      }
      return;
    }
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
      else if (action === "export-plot-png") await exportPlotPng();
      else if (action === "export-chart-png") await exportChartPng();
    } catch (err) {
      shareError(err.message);
    }
  });

  root.addEventListener("change", (ev) => {
    const el = ev.target;
    if (el.matches("[data-toggle]")) {
      if (el.dataset.toggle === "projector") host.classList.toggle("projector", el.checked);
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
  function rememberOpen() {
    openKeep = [...root.querySelectorAll("details[data-keep][open]")].map((d) => d.dataset.keep);
  }
  document.body.addEventListener("htmx:beforeSwap", rememberOpen);
  document.body.addEventListener("htmx:afterSwap", () => {
    for (const k of openKeep) {
      const d = root.querySelector(`details[data-keep="${k}"]`);
      if (d) d.open = true;
    }
  });

  // After any htmx swap the new elements get the newest numbers and pictures.
  document.body.addEventListener("htmx:afterSettle", (ev) => {
    forgetFigures();
    const points = $("#pg-boundary");
    if (points) forgetPoints(points);
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

  keepNewestPanels(document.body);
  showRangeValues(document.body);
  sendChangesInOrder(document.body, { beforeSwap: rememberOpen });
  nameThePage(document);
  return { render };
}
