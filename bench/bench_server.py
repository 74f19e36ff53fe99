"""Server benchmark over loopback against a real uvicorn process (not a test: no asserts).

    .venv/bin/python bench/bench_server.py [--quick]

Measures, on this machine:
1. the round trip from a `set_weight` sent on the socket to the first frame that shows
   the new value (p50, p99), paused, for the classic 2-4-2-1 network and for 6x8;
2. frames per second delivered to one client while the 6x8 network trains, every frame
   carrying all heatmaps and the boundary;
3. N sessions training at once, one client each: the frames per second each receives
   (minimum over sessions) and /healthz latency meanwhile.
Writes bench/results/server.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
from common import cpu_model, free_port, start_server, stop_server  # bench/common.py
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "server.md"
SIX_BY_EIGHT = {"layers": [2, 8, 8, 8, 8, 8, 8, 1], "activation": "tanh"}
CLASSIC = {"layers": [2, 4, 2, 1], "activation": "tanh"}
# Messages are compact JSON with "type" first: a frame is told from its first bytes.
FRAME_PREFIX = '{"type":"frame"'


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


async def new_session(http: httpx.AsyncClient, model: dict) -> str:
    r = await http.post("/api/sessions", json={"model": model})
    r.raise_for_status()
    return r.json()["id"]


def ws_url(base: str, sid: str) -> str:
    return base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"


async def round_trip(base: str, http, model: dict, n: int) -> list[float]:
    """ms from sending set_weight to receiving the first frame that carries the value."""
    sid = await new_session(http, model)
    times = []
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()  # snapshot
        for k in range(n):
            value = 0.001 * (k + 1)
            began = time.perf_counter()
            await ws.send(json.dumps({"type": "set_weight", "layer": 1, "from": 0, "to": 0,
                                      "value": value}))
            for _ in range(100):
                text = await ws.recv()
                if text.startswith(FRAME_PREFIX):
                    frame = json.loads(text)
                    if frame["weights"][1][0][0] == value:
                        times.append((time.perf_counter() - began) * 1e3)
                        break
    await http.delete(f"/api/sessions/{sid}")
    return times


async def count_frames(ws, seconds: float, sizes: list | None = None) -> int:
    frames = 0
    deadline = time.perf_counter() + seconds
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return frames
        try:
            text = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            return frames
        if text.startswith(FRAME_PREFIX):
            frames += 1
            if sizes is not None:
                sizes.append(len(text))


async def one_client_fps(base: str, http, seconds: float) -> tuple[float, int, int]:
    sid = await new_session(http, SIX_BY_EIGHT)
    sizes: list[int] = []
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out
        await ws.send(json.dumps({"type": "play"}))
        await count_frames(ws, 1.0)  # warm-up
        frames = await count_frames(ws, seconds, sizes)
        await ws.send(json.dumps({"type": "pause"}))
    epochs = (await http.get(f"/api/sessions/{sid}")).json()["training"]["epoch"]
    await http.delete(f"/api/sessions/{sid}")
    return frames / seconds, max(sizes), epochs


async def many_sessions(base: str, http, n: int, model: dict, seconds: float) -> dict:
    sids = [await new_session(http, model) for _ in range(n)]
    sockets = [await connect(ws_url(base, s), max_size=2**24).__aenter__() for s in sids]
    for ws in sockets:
        await ws.recv()
    for ws in sockets:
        await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out
        await ws.send(json.dumps({"type": "play"}))
    await asyncio.gather(*(count_frames(ws, 1.0) for ws in sockets))  # warm-up
    health: list[float] = []

    async def probe():
        deadline = time.perf_counter() + seconds
        async with httpx.AsyncClient(base_url=base, timeout=10) as h:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                await h.get("/healthz")
                health.append((time.perf_counter() - began) * 1e3)
                await asyncio.sleep(0.2)

    counts = await asyncio.gather(*(count_frames(ws, seconds) for ws in sockets), probe())
    fps = [c / seconds for c in counts[:-1]]
    for ws in sockets:
        await ws.send(json.dumps({"type": "pause"}))
        await ws.close()
    for s in sids:
        await http.delete(f"/api/sessions/{s}")
    return {"n": n, "min_fps": min(fps), "median_fps": statistics.median(fps),
            "health_p50": pct(health, 50), "health_max": max(health)}


def machine() -> str:
    cpu = cpu_model()
    import fastapi
    import uvicorn
    return (f"nproc {os.cpu_count()}, CPU {cpu}; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, FastAPI {fastapi.__version__}, "
            f"uvicorn {uvicorn.__version__}; loopback, server and client on the same machine; "
            f"load average at the start {open('/proc/loadavg').read().split()[0]}")


async def main(quick: bool) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One address for every client here: the per-address socket cap raised for the run.
    proc = start_server(port, env={"NNPLAY_MAX_SESSIONS": "1000",
                                   "NNPLAY_SOCKETS_PER_CLIENT": "1000"})
    if True:
        try:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                # Warm the numba kernels (compiled on first use, cached on disk after).
                await one_client_fps(base, http, 1.0)
                lines = ["# Server benchmark", "", f"Machine: {machine()}.", "",
                         f"Run: `.venv/bin/python bench/bench_server.py` on "
                         f"{time.strftime('%Y-%m-%d')}.", ""]
                n = 100 if quick else 500
                lines += ["## Weight change -> frame that shows it (paused)", "",
                          "| network | n | p50 ms | p99 ms | target p99 |", "|---|---|---|---|---|"]
                for name, model in (("2-4-2-1", CLASSIC), ("6x8", SIX_BY_EIGHT)):
                    t = await round_trip(base, http, model, n)
                    lines.append(f"| {name} | {len(t)} | {pct(t, 50):.2f} | {pct(t, 99):.2f} "
                                 f"| <= 10 |")
                    print(lines[-1], flush=True)
                seconds = 3.0 if quick else 10.0
                fps, biggest, epochs = await one_client_fps(base, http, seconds)
                lines += ["", "## One client, 6x8 training, every frame with all heatmaps", "",
                          f"- frames/s delivered: **{fps:.1f}** (target >= 60)",
                          f"- largest frame: {biggest} bytes (limit 65536)",
                          f"- epochs trained meanwhile (incl. warm-up): {epochs}", ""]
                print(lines[-4], flush=True)
                lines += ["## Sessions training at once, one client each", "",
                          "| sessions | network | min frames/s | median frames/s | "
                          "/healthz p50 ms | /healthz max ms |", "|---|---|---|---|---|---|"]
                counts = (10, 50) if quick else (10, 25, 50, 75, 100)
                for name, model in (("2-4-2-1", CLASSIC), ("6x8", SIX_BY_EIGHT)):
                    for k in counts:
                        r = await many_sessions(base, http, k, model, seconds)
                        lines.append(f"| {k} | {name} | {r['min_fps']:.1f} | "
                                     f"{r['median_fps']:.1f} | {r['health_p50']:.1f} | "
                                     f"{r['health_max']:.1f} |")
                        print(lines[-1], flush=True)
                lines += ["", "Targets: >= 50 sessions at >= 10 frames/s each, /healthz < 100 ms."]
        finally:
            stop_server(proc)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    asyncio.run(main(parser.parse_args().quick))
