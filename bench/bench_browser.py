"""Browser benchmark of the network view (issue 4, "Speed"), in Debian's Chromium.

For the 6x8 network (6 hidden layers of 8 tanh neurons) on spiral with all seven
features, so every one of the 7 + 48 + 1 nodes has its heatmap in every frame:

1. apply one frame: real frames recorded from the live stream while training are
   replayed through the page's frame handler (`window.nnplay.applyFrame`: edges,
   biases, values, 56 heatmaps, readout, sliders), then style and layout are forced
   (`getBoundingClientRect`); timed with `performance.now()`. Target p95 <= 8 ms.
2. slider input -> redrawn output: an `input` event on a weight slider, the
   `set_weight` message, the server's frame, and the frame applied (paused, the page
   applies a frame as it arrives) with style and layout forced, timed in the page from
   the event to the end of the apply. Target p95 <= 16 ms. Also reported: the time to
   the start of the animation frame that paints it.
3. the floor of (2): the same inputs with the page's own frame handlers taken out and
   one number written per frame instead: the socket, the server and the browser's own
   pipeline, with no page work. A page can not answer faster than this on the machine.

Run: `.venv/bin/python bench/bench_browser.py [--size 1920x1080] [--out FILE]`; writes
bench/results/browser.md (its "Reading" section, written by hand, is kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "browser.md"
# The hand-written reading below this heading in the results file is kept across runs.
NOTES = "\n## Reading\n"
sys.path.insert(0, str(ROOT))

from common import CHROMIUM, CHROMIUM_ARGS, cpu_model, free_port, start_server, stop_server  # noqa: E402

FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
LAYERS = [7, 8, 8, 8, 8, 8, 8, 1]
FRAMES = 200
INPUTS = 120


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]


def summary(name, xs, target):
    return (f"| {name} | {len(xs)} | {statistics.median(xs):.2f} | {pct(xs, 95):.2f} | "
            f"{max(xs):.2f} | {target} |")


RECORD = """async (n) => {
  const frames = [];
  await new Promise((done) => {
    const off = window.nnplay.connection.on("frame", (f) => {
      frames.push(f);
      if (frames.length >= n) { off(); done(); }
    });
  });
  window.__frames = frames;
  return frames.length;
}"""

REPLAY = """() => {
  const svg = document.querySelector("#network-view svg");
  const times = [];
  for (const f of window.__frames) {
    const t0 = performance.now();
    window.nnplay.applyFrame(f);
    svg.getBoundingClientRect();
    document.querySelector('[data-readout="prediction"]').getBoundingClientRect();
    times.push(performance.now() - t0);
  }
  return times;
}"""

SLIDER = """async (n) => {
  const input = document.querySelector(
    '.nv-popover input[data-layer="3"][data-from="2"][data-to="4"]');
  const svg = document.querySelector("#network-view svg");
  const readout = document.querySelector('[data-readout="prediction"]');
  const conn = window.nnplay.connection;
  if (!conn.__timed) {  // note when each frame message has been parsed, before it is applied
    const emit = conn.emit.bind(conn);
    conn.emit = (type, msg) => {
      if (type === "frame") conn.__arrived = performance.now();
      emit(type, msg);
    };
    conn.__timed = true;
  }
  const ready = [], painted = [], page = [];
  for (let k = 0; k < n; k++) {
    const v = Math.round((k % 2 ? 1 : -1) * (0.5 + (k % 17) * 0.1) * 100) / 100;
    const done = new Promise((resolve) => {
      const off = window.nnplay.connection.on("frame", (f) => {
        // this listener runs after the page's own (main.js, playground.js) have applied
        // the frame: force style and layout, then wait for the animation frame that paints
        if (f.weights[3][2][4] === v) {
          off();
          svg.getBoundingClientRect();
          readout.getBoundingClientRect();
          const t1 = performance.now();
          requestAnimationFrame(() => resolve([t1, performance.now()]));
        }
      });
    });
    input.value = String(v);
    const t0 = performance.now();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    const sent = performance.now();
    const [t1, t2] = await done;
    ready.push(t1 - t0);
    painted.push(t2 - t0);
    page.push((sent - t0) + (t1 - conn.__arrived));
  }
  return [ready, painted, page];
}"""


# The floor: the page's own frame handlers out, one number written per frame instead.
STRIP = """() => {
  const conn = window.nnplay.connection;
  conn.handlers.get("frame").clear();
  const readout = document.querySelector('[data-readout="prediction"]');
  conn.on("frame", (f) => { readout.textContent = String(f.seq); });
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1920x1080", help="the page's viewport, WxH")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p, httpx.Client(base_url=base, timeout=60) as api:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(base + "/")
            page.wait_for_selector("#network-view .nv-node")
            sid = page.eval_on_selector("body", "b => b.dataset.sessionId")
            r = api.put(f"/api/sessions/{sid}/dataset", json={
                "name": "spiral", "n_points": 500, "noise": 0, "features": FEATURES})
            r.raise_for_status()
            r = api.put(f"/api/sessions/{sid}/model", json={
                "layers": LAYERS, "activation": "tanh", "output_activation": "tanh",
                "loss": "mse", "optimizer": {"name": "sgd", "learning_rate": 0.03}})
            r.raise_for_status()
            page.wait_for_function("n => document.querySelectorAll('.nv-node').length === n",
                                   arg=sum(LAYERS))
            nodes = page.evaluate("() => window.nnplay.state.frame.heatmaps.nodes.length")
            # 1. record real frames while training, then replay them through the handler
            page.evaluate("() => window.nnplay.connection.send({type: 'play'})")
            page.evaluate(RECORD, FRAMES)
            page.evaluate("() => window.nnplay.connection.send({type: 'pause'})")
            page.wait_for_timeout(500)
            page.evaluate(REPLAY)  # warm-up pass (JIT, canvas allocation)
            apply_ms = page.evaluate(REPLAY)
            # 2. slider input -> frame -> redrawn output
            page.locator('path.nv-hit[data-layer="3"][data-from="2"][data-to="4"]').dispatch_event(
                "click")
            page.evaluate(SLIDER, 10)  # warm-up
            slider_ms, painted_ms, client_ms = page.evaluate(SLIDER, INPUTS)
            # 3. the same with no page work: the floor (the page is of no use after this)
            page.evaluate(STRIP)
            page.evaluate(SLIDER, 10)  # warm-up
            floor_ms = page.evaluate(SLIDER, INPUTS)[0]
            version = browser.version
            browser.close()
    finally:
        stop_server(proc)
    cpu = cpu_model()
    load = os.getloadavg()
    lines = [
        "# Browser benchmark: the network view (bench/bench_browser.py)",
        "",
        f"Network {LAYERS} on spiral with all seven features: {nodes} heatmaps of 20x20",
        f"in every frame, 384 edges; the page at {width}x{height}.",
        "",
        "- **apply one frame**: real frames recorded from the live stream while training,",
        "  replayed through the page's frame handler, then style and layout forced;",
        "  paint and compositing are not included.",
        "- **slider input -> redrawn output**: an `input` event on a weight slider, the",
        "  `set_weight` message, the server's frame, and that frame applied by the page",
        "  (network view, readouts, decision boundary, metrics) with style and layout",
        "  forced: the output is ready to paint. Timed in the page. The next row goes on",
        "  to the start of the next animation frame, the one that paints it (it adds the",
        "  wait for the display's next 60 Hz tick, 0 to 16.7 ms); the last row is the",
        "  part spent in the page's own code (the input handler, applying the frame).",
        "- **the floor**: the same round trip with the page's frame handlers taken out and",
        "  one number written per frame instead (socket, server, browser; no page work).",
        "",
        "## Machine",
        "",
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()},",
        f"Chromium {version} headless with `--disable-gpu` (software rendering);",
        f"server and browser on the same machine; load average during the run: "
        f"{load[0]:.2f}.",
        "",
        "## Results",
        "",
        "| measure | n | median ms | p95 ms | max ms | target |",
        "|---|---|---|---|---|---|",
        summary("apply one frame (JS + style + layout)", apply_ms, "p95 <= 8 ms"),
        summary("slider input -> redrawn output (round trip)", slider_ms, "p95 <= 16 ms"),
        summary("  ... to the animation frame that paints it", painted_ms, ""),
        summary("  of which in the page's code", client_ms, ""),
        summary("slider round trip, no page work (the floor)", floor_ms, ""),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = args.out
    old = out.read_text() if out.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    out.write_text(text + NOTES + notes)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
