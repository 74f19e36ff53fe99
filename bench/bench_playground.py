"""Playground benchmark in Chromium against a real uvicorn process (not a test: no asserts).

    .venv/bin/python bench/bench_playground.py [--seconds 10]

Opens the page with the 6x8 network (six hidden layers of eight tanh neurons) on the
spiral, every heatmap live, presses play and measures for `--seconds`:

- epochs per second as the page shows them (the `epoch` figure's growth);
- frames per second the page receives (WebSocket messages) and paints (renders of the
  output panel, `pg-render` Performance API measures, at most one per animation frame);
- epochs per painted frame;
- the output panel's own cost per render (p50, p95 ms);
- where the page's main thread spends its time (a CPU profile, share per script).

Target (issue 5): >= 60 painted frames per second with >= 1 epoch per frame.
Writes bench/results/playground.md (its "Reading" section, written by hand, is kept).
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, cpu_model, free_port, start_server, stop_server
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "playground.md"
NOTES = "\n## Reading\n"
ALL_FEATURES = "x1,x2,x1%5E2,x2%5E2,x1*x2,sin(x1),sin(x2)"
CASES = {
    "6x8, 2 features": "data=spiral&h=8-8-8-8-8-8",
    "6x8, 7 features": f"data=spiral&h=8-8-8-8-8-8&f={ALL_FEATURES}",
    "2-4-2-1 (default), circle": "data=circle",
}

COUNTERS = """(() => {
  const W = window.WebSocket;
  window.__bench = { msgs: 0, raf: 0 };
  window.WebSocket = function (...args) {
    const ws = new W(...args);
    ws.addEventListener("message", () => { window.__bench.msgs++; });
    return ws;
  };
  window.WebSocket.prototype = W.prototype;
  const tick = () => { window.__bench.raf++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();"""

SAMPLE = """() => ({
  t: performance.now(),
  msgs: window.__bench.msgs,
  raf: window.__bench.raf,
  epoch: parseInt(document.querySelector('[data-metric="epoch"]').textContent),
  renders: performance.getEntriesByName("pg-render").map((e) => e.duration),
  shown: document.querySelector('[data-metric="epochs_per_second"]').textContent,
})"""


def measure(browser, base: str, query: str, seconds: float, profile: bool) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(COUNTERS)
    page.set_default_timeout(60_000)
    page.goto(f"{base}/?{query}&speed=max")  # flat out (issue 14's paces: bench_pace.py)
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"train_loss\"]').textContent)")
    page.click('[data-action="play"]')
    time.sleep(2.0)  # warm-up: numba compiled, the stream flowing
    cdp = None
    if profile:
        cdp = context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
        cdp.send("Profiler.start")
    a = page.evaluate(SAMPLE)
    time.sleep(seconds)
    b = page.evaluate(SAMPLE)
    shares = profile_shares(cdp.send("Profiler.stop")["profile"]) if cdp else {}
    page.click('[data-action="pause"]')
    context.close()
    dt = (b["t"] - a["t"]) / 1000
    renders = b["renders"][len(a["renders"]):]
    painted = len(renders) / dt
    epochs = (b["epoch"] - a["epoch"]) / dt
    return {
        "epochs_per_s": epochs,
        "received_per_s": (b["msgs"] - a["msgs"]) / dt,
        "painted_per_s": painted,
        "raf_per_s": (b["raf"] - a["raf"]) / dt,
        "epochs_per_frame": epochs / painted if painted else float("nan"),
        "render_p50": statistics.median(renders) if renders else float("nan"),
        "render_p95": (sorted(renders)[int(0.95 * (len(renders) - 1))]
                       if renders else float("nan")),
        "shown": b["shown"],
        "shares": shares,
    }


def profile_shares(prof: dict) -> dict:
    """Share of sampled main-thread time per script file (plus the browser's own work)."""
    nodes = {n["id"]: n for n in prof["nodes"]}
    by = collections.Counter()
    for sample, delta in zip(prof["samples"], prof["timeDeltas"], strict=True):
        frame = nodes[sample]["callFrame"]
        name = frame["url"].rsplit("/", 1)[-1].split("?")[0]
        if not name:
            fn = frame["functionName"]
            name = fn if fn in ("(idle)", "(program)", "(garbage collector)") else "(native)"
        by[name] += delta
    total = sum(by.values()) or 1
    return {k: v / total for k, v in by.most_common(8)}


def machine() -> str:
    cpu = cpu_model()
    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                              text=True).stdout.strip()
    load = os.getloadavg()[0]
    return (f"nproc {os.cpu_count()}, {cpu}; Python {platform.python_version()}; "
            f"{chromium or 'Chromium'} headless, software rendering; page 1280x800; "
            f"load average {load:.1f} at the start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    rows, about = run(free_port(), args.seconds)
    write(rows, about, args.seconds, args.out)


def run(port: int, seconds: float) -> tuple[dict, str]:
    proc = start_server(port)
    about = machine()
    rows = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for k, (name, query) in enumerate(CASES.items()):
                rows[name] = measure(browser, f"http://127.0.0.1:{port}", query, seconds,
                                     profile=k == 1)
                r = rows[name]
                print(f"{name}: {r['epochs_per_s']:.1f} epochs/s, received "
                      f"{r['received_per_s']:.1f}/s, painted {r['painted_per_s']:.1f}/s",
                      flush=True)
            browser.close()
    finally:
        stop_server(proc)
    return rows, about


def write(rows: dict, about: str, seconds: float, out: Path = RESULTS) -> None:
    lines = [
        "# Playground benchmark (browser)", "",
        f"Machine: {about}.", "",
        f"Run: `.venv/bin/python bench/bench_playground.py` on {time.strftime('%Y-%m-%d')}, "
        f"{seconds:g} s of training per case after a 2 s warm-up.", "",
        "## Training with every heatmap live", "",
        "| case | epochs/s shown | frames/s received | frames/s painted | browser animation "
        "frames/s | epochs per painted frame | output panel render p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['epochs_per_s']:.1f} | {r['received_per_s']:.1f} | "
            f"{r['painted_per_s']:.1f} | {r['raf_per_s']:.1f} | {r['epochs_per_frame']:.1f} | "
            f"{r['render_p50']:.2f} / {r['render_p95']:.2f} |")
    lines += ["", "Target (issue 5): >= 60 painted frames per second with >= 1 epoch per "
              "frame, for 6x8 on spiral.", "",
              "\"Painted\" counts renders of the output panel; it paints at most once per "
              "browser animation frame, a frame received (the page's pacer, "
              "static/js/pacer.js). When painted ~= "
              "animation frames/s < 60, the browser itself (style, layout, paint of the whole "
              "page, software-rendered) is what limits the rate, not the frames arriving or "
              "the panel's own work (its render p50 above).", ""]
    shares = next((r["shares"] for r in rows.values() if r["shares"]), {})
    if shares:
        lines += ["## Where the page's main thread went (6x8, 7 features)", "",
                  "| script / activity | share of sampled time |", "|---|---|"]
        lines += [f"| {k} | {v * 100:.0f}% |" for k, v in shares.items()]
        lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    # The hand-written reading below its heading in the results file is kept across runs.
    old = out.read_text() if out.exists() else ""
    notes = NOTES + old.split(NOTES, 1)[1] if NOTES in old else ""
    out.write_text("\n".join(lines) + "\n" + notes)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
