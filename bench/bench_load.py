"""Load benchmark (issue 13): many sessions playing at once, over loopback against a real
server (not a test: no asserts).

    .venv/bin/python bench/bench_load.py [--quick] [--seconds S]

For 50 and then 200 sessions of the page's default model (2-4-2-1 on the circle), each
with one client, all playing for 60 s: the frames per second each client receives (median
and 5th percentile over the sessions), /healthz latency meanwhile (p50, p99, every
0.2 s), and the server's resident memory before, during (peak of samples every second)
and after (the sessions paused and deleted). All clients come from one address here, so
the per-address limits are raised for the run. Writes bench/results/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
from bench_abuse import rss_mb
from bench_server import FRAME_PREFIX, machine, ws_url
from common import free_port, start_server, stop_server  # bench/common.py
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "load.md"
ONE_ADDRESS = {  # every client of this run shares 127.0.0.1
    "NNPLAY_MAX_SESSIONS": "1000", "NNPLAY_STORE": "memory://",
    "NNPLAY_SOCKETS_PER_CLIENT": "1000", "NNPLAY_SESSIONS_BURST": "1000",
    "NNPLAY_CHANGES_BURST": "1000", "NNPLAY_MESSAGES_BURST": "5000",
}


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


async def count_frames(ws, seconds: float) -> int:
    frames, deadline = 0, time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        try:
            text = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        frames += text.startswith(FRAME_PREFIX)
    return frames


async def run(base: str, pid: int, n: int, seconds: float) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        rss_before = rss_mb(pid)
        sids = []
        for _ in range(n):
            r = await http.post("/api/sessions")
            r.raise_for_status()
            sids.append(r.json()["id"])
        sockets = [await connect(ws_url(base, s), max_size=2**24).__aenter__() for s in sids]
        for ws in sockets:
            await ws.recv()
        for ws in sockets:
            await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out (the
            await ws.send(json.dumps({"type": "play"}))  # default is 10 epochs a second)
        await asyncio.gather(*(count_frames(ws, 2.0) for ws in sockets))  # warm-up
        health: list[float] = []
        rss: list[float] = []

        async def probe():
            deadline = time.perf_counter() + seconds
            async with httpx.AsyncClient(base_url=base, timeout=30) as h:
                while time.perf_counter() < deadline:
                    began = time.perf_counter()
                    await h.get("/healthz")
                    health.append((time.perf_counter() - began) * 1e3)
                    await asyncio.sleep(0.2)

        async def memory():
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                rss.append(rss_mb(pid))
                await asyncio.sleep(1.0)

        counts = await asyncio.gather(*(count_frames(ws, seconds) for ws in sockets),
                                      probe(), memory())
        fps = [c / seconds for c in counts[:n]]
        for ws in sockets:
            await ws.send(json.dumps({"type": "pause"}))
            await ws.close()
        for s in sids:
            await http.delete(f"/api/sessions/{s}")
        await asyncio.sleep(2.0)
        return {"n": n, "median_fps": statistics.median(fps), "p5_fps": pct(fps, 5),
                "health_p50": pct(health, 50), "health_p99": pct(health, 99),
                "rss_before": rss_before, "rss_during": max(rss), "rss_after": rss_mb(pid)}


async def main(seconds: float, counts: tuple[int, ...], command: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load = Path("/proc/loadavg").read_text().split()[:3]
    proc = start_server(port, env=ONE_ADDRESS)
    rows = []
    try:
        await run(base, proc.pid, 2, 2.0)  # warm the numba kernels
        for n in counts:
            rows.append(await run(base, proc.pid, n, seconds))
            print(rows[-1], flush=True)
    finally:
        stop_server(proc)
    lines = [
        "# Load benchmark: many sessions playing", "",
        f"Machine: {machine()}; load average (1, 5, 15 min) before the run: "
        f"{', '.join(load)}. Other processes shared the machine's 2 cores: the figures are "
        "from a loaded machine.", "",
        f"Run: `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{seconds:.0f} s per row; the default model (2-4-2-1, circle), one client per "
        "session, server and clients on the same machine.", "",
        "| sessions playing | frames/s per session, median | p5 | /healthz p50 ms | p99 ms "
        "| RSS before MB | during (peak) MB | after MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['n']} | {r['median_fps']:.1f} | {r['p5_fps']:.1f} | "
                     f"{r['health_p50']:.1f} | {r['health_p99']:.1f} | {r['rss_before']:.0f} "
                     f"| {r['rss_during']:.0f} | {r['rss_after']:.0f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 s rows")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    cmd = "python bench/bench_load.py" + (" --quick" if args.quick else "")
    asyncio.run(main(10.0 if args.quick else args.seconds, (50, 200), cmd))
