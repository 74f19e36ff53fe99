"""First paint: how long after navigation a first-time visitor sees the network drawn.

Each run opens a fresh browser context (an empty cache, a first visit) on the default page
and on a 6x8 network (six hidden layers of eight, all seven features, spiral), and times
from the start of navigation to the animation frame after the network's neurons and
their maps are drawn. It counts the requests the page made up to then. Target
(issue 15): <= 400 ms for both pages on a quiet machine.

    .venv/bin/python bench/bench_first_paint.py [--runs 15] [--write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu_model, free_port, start_server, stop_server
from playwright.sync_api import sync_playwright

PAGES = {
    "default page (2-4-2-1, circle)": "/",
    "6x8 (spiral, 7 features)":
        "/?data=spiral&h=8,8,8,8,8,8&f=x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)",
}
# Runs in the page before any of its scripts: the time (since navigation started) of the
# animation frame after the network's neurons are in the drawing and their maps painted.
WATCH = """(() => {
  const done = () => requestAnimationFrame(() => { window.__drawnAt = performance.now(); });
  const seen = () => document.querySelector("#network-view .nv-node")
    && document.querySelector("[data-readout='prediction']")?.dataset.value;
  const obs = new MutationObserver(() => { if (seen()) { obs.disconnect(); done(); } });
  document.addEventListener("DOMContentLoaded", () => {
    if (seen()) done();
    else obs.observe(document.body, {subtree: true, childList: true, attributes: true});
  });
})();"""


def run(browser, base: str, path: str) -> tuple[float, int]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(base + path)
    page.wait_for_function("() => window.__drawnAt !== undefined", timeout=30_000)
    drawn = page.evaluate("window.__drawnAt")
    n = sum(1 for _ in requests)
    context.close()
    return drawn, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--write", action="store_true", help="write bench/results/first_paint.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = start_server(port, {"NNPLAY_DATA_DIR": data})
        base = f"http://127.0.0.1:{port}"
        rows = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                version = browser.version
                for name, path in PAGES.items():
                    run(browser, base, path)  # warm the server (compiled kernels, templates)
                    times, counts = [], []
                    for _ in range(args.runs):
                        t, n = run(browser, base, path)
                        times.append(t)
                        counts.append(n)
                    times.sort()
                    rows.append((name, statistics.median(times), times[int(0.9 * (len(times) - 1))],
                                 statistics.median(counts)))
                browser.close()
        finally:
            stop_server(server)
    load_after = os.getloadavg()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# First paint (bench/bench_first_paint.py)",
        "",
        "From the start of navigation to the animation frame after the network is drawn",
        "(neurons, maps and the sample's prediction), a fresh browser context each run (empty",
        "cache: a first visit), the page at 1280x800, server and browser on one machine.",
        "Target (issue 15): <= 400 ms for both pages.",
        "",
        "## Machine",
        "",
        f"{cpu_model()}, {os.cpu_count()} cores; Chromium {version} headless (software "
        f"rendering); commit {commit}; load average {load:.2f} before the run, "
        f"{load_after:.2f} after; {args.runs} runs a page after one warm-up.",
        "",
        "## Results",
        "",
        "| page | median ms | p90 ms | requests |",
        "|---|---|---|---|",
        *[f"| {name} | {med:.0f} | {p90:.0f} | {n:.0f} |" for name, med, p90, n in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (Path(ROOT) / "bench" / "results" / "first_paint.md").write_text(text)


if __name__ == "__main__":
    main()
