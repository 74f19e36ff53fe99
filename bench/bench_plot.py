"""Output plot benchmark in Chromium (not a test: no asserts): what painting the decision map
costs per frame, smooth (the engine's 60 x 60 map, scaled by the browser) and discretized
(regions found on a 240 x 240 grid interpolated from it, static/js/boundary.js).

    .venv/bin/python bench/bench_plot.py [--repeat 200]

For each case it opens the page, trains a little (Play, then Pause), and paints the paused
frame's map `--repeat` times each way onto a canvas of the page's, timing each paint
(performance.now()); the points' canvas is drawn once, as while training plays.
Writes bench/results/plot.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, cpu_model, free_port, start_server, stop_server
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "plot.md"
CASES = {
    "circle (one output: binary map)": "data=circle",
    "spiral3 (3 classes)": "data=spiral3",
    "blobs, 8 classes": "data=blobs&k=8",
}

PAINT = """async (n) => {
  const { drawBoundary } = await import("/static/js/boundary.js");
  const f = window.nnplay.state.frame, data = window.nnplay.state.dataset;
  const map = document.createElement("canvas"), points = document.createElement("canvas");
  points.width = points.height = 512;
  const time = (discretize) => {
    const t = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      drawBoundary({ map, points }, f.boundary, data, { discretize });
      t.push(performance.now() - t0);
    }
    return { ms: t, side: map.width };
  };
  time(false);  // warm-up (and the points, drawn once)
  const b = f.boundary;
  return { kind: b.kind, size: b.size, smooth: time(false), discrete: time(true) };
}"""


def machine() -> str:
    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                              text=True).stdout.strip()
    return (f"nproc {os.cpu_count()}, {cpu_model()}; Python {platform.python_version()}; "
            f"{chromium or 'Chromium'} headless, software rendering; page 1280x800")


def measure(browser, base: str, query: str, repeat: int) -> dict:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/?{query}")
    page.wait_for_function("() => window.nnplay && window.nnplay.state.frame"
                           " && window.nnplay.state.frame.boundary")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => window.nnplay.state.frame.epoch >= 50")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function("() => !window.nnplay.state.playing")
    r = page.evaluate(PAINT, repeat)
    page.context.close()

    def stats(ms):
        ms = sorted(ms)
        return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]

    return {"kind": r["kind"], "size": r["size"], "smooth": stats(r["smooth"]["ms"]),
            "smooth_side": r["smooth"]["side"], "discrete": stats(r["discrete"]["ms"]),
            "discrete_side": r["discrete"]["side"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = os.getloadavg()
    port = free_port()
    proc = start_server(port)
    rows = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, query in CASES.items():
                rows[name] = measure(browser, f"http://127.0.0.1:{port}", query, args.repeat)
                print(name, rows[name], flush=True)
            browser.close()
    finally:
        stop_server(proc)
    load_after = os.getloadavg()
    lines = [
        "# Output plot benchmark (browser)", "",
        f"Machine: {machine()}; load average (1, 5, 15 min) "
        f"{' '.join(f'{v:.1f}' for v in load_before)} at the start, "
        f"{' '.join(f'{v:.1f}' for v in load_after)} at the end.", "",
        f"Run: `.venv/bin/python bench/bench_plot.py --repeat {args.repeat}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC, each paint of one paused frame's map timed "
        "with performance.now().", "",
        "| case | map kind | engine grid | smooth: canvas side, p50 / p95 ms | "
        "discretized: canvas side, p50 / p95 ms |",
        "|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['kind']} | {r['size']} x {r['size']} | {r['smooth_side']}, "
            f"{r['smooth'][0]:.2f} / {r['smooth'][1]:.2f} | {r['discrete_side']}, "
            f"{r['discrete'][0]:.2f} / {r['discrete'][1]:.2f} |")
    lines += ["", "Smooth: the engine's map painted at its own size; the browser scales it "
              "up (bilinear) when it composites the page, outside this timing. Discretized: "
              "each class's score (one output: its value) interpolated onto a grid 4 times "
              "finer, three classes per pass (R, G, B), and each pixel given the class with "
              "the largest score, so the regions' edges have no stair steps.", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
