"""Training at a watchable pace (issue 14, section 5), in Chromium against a real server
(not a test: no asserts). Writes bench/results/pace.md.

    .venv/bin/python bench/bench_pace.py [--seconds 10]

For the default 2-4-2-1 network on circle and the 6x8 network (six hidden layers of eight
tanh neurons, all seven features) on spiral, every map live, at one epoch per frame
(speed "60") and flat out ("max"), it measures over `--seconds` of playing after a 2 s
warm-up:

- frames painted a second (renders of the output panel, `pg-render` measures) and epochs
  a second as the page shows them;
- CPU per painted frame: the server process's and the browser's (every Chromium process
  this script started) CPU time from /proc, divided by the frames painted.

And the server's CPU while one page plays at 1 epoch a second (`--seconds` of it): the
paced trainer sleeps between epochs, so the server should be nearly idle.

Targets (issue 14): at one epoch a frame, >= 58 painted frames a second on 6x8, CPU per
painted frame <= 21 ms on 2-4-2-1 and < 25 ms on 6x8.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import httpx
from common import CHROMIUM, CHROMIUM_ARGS, cpu_model, free_port, start_server, stop_server
from playwright.sync_api import sync_playwright
from websockets.sync.client import connect

from app import ui_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pace.md"
ALL_FEATURES = "x1,x2,x1%5E2,x2%5E2,x1*x2,sin(x1),sin(x2)"
SOCKET_CASES = {  # the same networks, as settings for the JSON API
    "2-4-2-1 (default), circle": {"dataset": "circle"},
    "6x8, 7 features, spiral": {"dataset": "spiral", "hidden": (8,) * 6,
                                "features": ui_table.ALL_FEATURES},
}
NETWORKS = {
    "2-4-2-1 (default), circle": "data=circle",
    "6x8, 7 features, spiral": f"data=spiral&h=8-8-8-8-8-8&f={ALL_FEATURES}",
}
TICK = os.sysconf("SC_CLK_TCK")

COUNTERS = """(() => {
  const W = window.WebSocket;
  window.__bench = { msgs: 0 };
  window.WebSocket = function (...args) {
    const ws = new W(...args);
    ws.addEventListener("message", () => { window.__bench.msgs++; });
    return ws;
  };
  window.WebSocket.prototype = W.prototype;
})();"""

SAMPLE = """() => ({
  t: performance.now(),
  msgs: window.__bench.msgs,
  epoch: parseInt(document.querySelector('[data-metric="epoch"]').textContent),
  renders: performance.getEntriesByName("pg-render").length,
})"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` (and its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process below `root`."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            parent[int(d.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), name)
    out, frontier = [], {root}
    while frontier:
        kids = {p for p, (pp, _) in parent.items() if pp in frontier}
        out += [(p, parent[p][1]) for p in kids]
        frontier = kids
    return out


def browser_cpu(server_pid: int) -> float:
    """CPU seconds of every Chromium process this script started (not the server's)."""
    return sum(cpu_seconds(p) for p, name in descendants(os.getpid())
               if "chrom" in name.lower() and p != server_pid)


def measure(browser, base: str, query: str, speed: str, seconds: float, server_pid: int):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(COUNTERS)
    page.set_default_timeout(60_000)
    page.goto(f"{base}/?{query}&speed={speed}")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"train_loss\"]').textContent)")
    page.click('[data-action="play"]')
    time.sleep(2.0)  # warm-up: the kernel compiled, the stream flowing
    a, sa, ba = page.evaluate(SAMPLE), cpu_seconds(server_pid), browser_cpu(server_pid)
    time.sleep(seconds)
    b, sb, bb = page.evaluate(SAMPLE), cpu_seconds(server_pid), browser_cpu(server_pid)
    page.click('[data-action="pause"]')
    context.close()
    dt = (b["t"] - a["t"]) / 1000
    painted = b["renders"] - a["renders"]
    return {
        "painted_per_s": painted / dt, "received_per_s": (b["msgs"] - a["msgs"]) / dt,
        "epochs_per_s": (b["epoch"] - a["epoch"]) / dt,
        "server_ms": 1000 * (sb - sa) / max(painted, 1),
        "browser_ms": 1000 * (bb - ba) / max(painted, 1),
        "server_share": (sb - sa) / dt,
    }


def socket_rate(base: str, changes: dict, speed: str, seconds: float) -> float:
    """Frames a second the server sends one socket client (no browser) while playing."""
    values = {**ui_table.defaults(), **changes}
    sid = httpx.post(f"{base}/api/sessions", json={
        "model": ui_table.model_document(values),
        "dataset": ui_table.dataset_spec(values)}).json()["id"]
    with connect(base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream",
                 max_size=2**24) as ws:
        ws.recv()
        ws.send(json.dumps({"type": "set", "speed": speed}))
        ws.send(json.dumps({"type": "play"}))
        began, frames = time.perf_counter(), 0
        while time.perf_counter() - began < seconds:
            frames += json.loads(ws.recv())["type"] == "frame"
        ws.send(json.dumps({"type": "pause"}))
    return frames / seconds


def time_to_solve(browser, base: str, speed: str) -> dict:
    """Seconds from Play to a shown test accuracy >= 0.95 on the default page (circle,
    2-4-2-1), at `speed`; the epoch it took."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{base}/?speed={speed}")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-metric=\"accuracy\"]').textContent)")
    began = time.perf_counter()
    page.click('[data-action="play"]')
    page.wait_for_function(
        "() => parseFloat(document.querySelector('[data-metric=\"accuracy\"]').textContent)"
        " >= 0.95", polling=10)
    seconds = time.perf_counter() - began
    epoch = int(page.locator('[data-metric="epoch"]').inner_text())
    page.click('[data-action="pause"]')
    context.close()
    return {"seconds": seconds, "epoch": epoch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    rows, idle = {}, None
    sent = {}
    try:
        for name, changes in SOCKET_CASES.items():
            for speed in ("60", "max"):
                sent[(name, speed)] = socket_rate(base, changes, speed, args.seconds / 2)
        print("sent", sent, flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, query in NETWORKS.items():
                for speed in ("60", "max"):
                    r = measure(browser, base, query, speed, args.seconds, proc.pid)
                    rows[(name, speed)] = r
                    print(name, speed, {k: round(v, 2) for k, v in r.items()}, flush=True)
            idle = measure(browser, base, "data=circle", "1", args.seconds, proc.pid)
            print("1 epoch/s", idle, flush=True)
            solve = {speed: time_to_solve(browser, base, speed) for speed in ("10", "60")}
            print("circle solved", solve, flush=True)
            browser.close()
    finally:
        stop_server(proc)
    write(rows, idle, solve, sent, args.seconds, load_before)


def write(rows: dict, idle: dict, solve: dict, sent: dict, seconds: float,
          load_before) -> None:
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True,
                              text=True).stdout.strip()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Training at a watchable pace (browser and server)", "",
        f"Machine: nproc {os.cpu_count()}, {cpu_model()}; Python "
        f"{platform.python_version()}; {chromium} headless, software rendering; page "
        f"1280x800. Load average at the start {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}; at the end `{uptime}` (the benchmark's own browser and "
        "server load both cores; other work on the machine makes the figures upper bounds "
        "for CPU and lower bounds for frames).", "",
        f"Run: `.venv/bin/python bench/bench_pace.py` on {time.strftime('%Y-%m-%d')}, "
        f"{seconds:g} s of playing per case after a 2 s warm-up, every map live.", "",
        "| network | speed | frames the server sends / s (a socket client, no browser) "
        "| messages received / s (the page) | frames painted / s | epochs / s shown | "
        "CPU per painted frame: server + browser = total (ms) | server CPU (share of a core) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, speed), r in rows.items():
        label = "60 epochs/s: one per frame" if speed == "60" else "flat out"
        lines.append(
            f"| {name} | {label} | {sent[(name, speed)]:.1f} | {r['received_per_s']:.1f} | "
            f"{r['painted_per_s']:.1f} | "
            f"{r['epochs_per_s']:.1f} | "
            f"{r['server_ms']:.1f} + {r['browser_ms']:.1f} = "
            f"{r['server_ms'] + r['browser_ms']:.1f} | {r['server_share'] * 100:.0f} % |")
    lines += [
        "", "Targets (issue 14): at one epoch a frame, >= 58 painted frames a second on 6x8; "
        "CPU per painted frame <= 21 ms on 2-4-2-1 and < 25 ms on 6x8.", "",
        "Reading: the first column is the server alone (a socket client that only counts): "
        "at one epoch a frame it sends a frame per epoch and a few more (the status and "
        "settings changes), paced by sleeping, not spinning. Where the page paints fewer "
        "frames than the server sends, the browser (software rendering, every map live, on "
        "the same 2 cores as the server and the other work) is what limits, not the "
        "training or the pace.", "",
        "## The server while playing at 1 epoch a second", "",
        f"2-4-2-1 on circle, one page connected, {seconds:g} s: the server process used "
        f"{idle['server_share'] * 100:.1f} % of a core ({idle['epochs_per_s']:.2f} epochs/s "
        f"shown, {idle['painted_per_s']:.1f} frames painted a second: the page paints "
        "when a frame arrives and when the animation of the network view asks).", "",
        "## The default page: how long the circle takes", "",
        "From Play on the default page (circle, 2-4-2-1, Adam 0.003) to a shown test "
        "accuracy of 0.95 or more: "
        + "; ".join(f"at {k} epochs/s {v['seconds']:.1f} s (epoch {v['epoch']})"
                    for k, v in solve.items())
        + ". The default speed is 10 epochs a second: the boundary forms over a few "
        "seconds, one epoch every tenth of a second, where at one epoch a frame it is "
        "done in under a second.", ""]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
