"""Fair sharing under abuse (issue 13, item 4), over loopback against a real server (not a
test: no asserts; tests/app/test_abuse.py asserts the same with generous margins).

    .venv/bin/python bench/bench_abuse.py [--quick]

A well-behaved person has two sessions: one playing (6x8, its frames per second counted)
and one paused where a slider is dragged (set_weight, 20 a second; the time from sending
each to the first frame showing it). Measured alone, then beside two abusive clients on
the largest sessions the limits allow (8 hidden layers of 12, every feature, the most
points, batch size 1): one looping whole-epoch steps without waiting for the answers, one
flooding set_weight as fast as its socket takes them. Also /healthz p99 (every 0.1 s) and
the server's memory peak. Targets (issue 13): >= 80 % of the frames per second, slider p99
< 50 ms, /healthz p99 < 50 ms. Writes bench/results/abuse.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from pathlib import Path

import httpx
import numpy as np
from bench_server import FRAME_PREFIX, SIX_BY_EIGHT, machine, new_session, ws_url
from common import free_port, start_server, stop_server  # bench/common.py
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "abuse.md"
FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
LARGEST_MODEL = {"layers": [len(FEATURES), *[12] * 8, 1], "activation": "tanh"}
LARGEST_DATA = {"name": "circle", "n_points": 5000, "train_fraction": 0.9,
                "features": FEATURES}
SLIDER_GAP = 0.05  # a drag sends about 20 values a second
ABUSER_ADDRESS = "127.0.0.2"


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


async def largest_session(http) -> str:
    r = await http.post("/api/sessions", json={"model": LARGEST_MODEL, "dataset": LARGEST_DATA})
    r.raise_for_status()
    return r.json()["id"]


async def drain(ws, stop: asyncio.Event) -> None:
    """Read and drop whatever comes (an abuser that reads, so it is not dropped)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue


def elsewhere(base: str) -> socket.socket:
    """A TCP connection to the server from another loopback address (127.0.0.2): the
    abusers are other people, with limits of their own (the limits are per address)."""
    url = httpx.URL(base)
    sock = socket.socket()
    sock.bind((ABUSER_ADDRESS, 0))
    sock.connect((url.host, url.port))
    return sock


async def step_abuser(base: str, http, stop: asyncio.Event, sent: list) -> None:
    sid = await largest_session(http)
    async with connect(ws_url(base, sid), sock=elsewhere(base), max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "set", "batch_size": 1}))
        reader = asyncio.create_task(drain(ws, stop))
        try:
            while not stop.is_set():
                await ws.send(json.dumps({"type": "step", "unit": "epoch"}))
                sent[0] += 1
                await asyncio.sleep(0)
        finally:
            reader.cancel()
            ws.transport.abort()  # no closing handshake behind the messages still queued


async def flood_abuser(base: str, http, stop: asyncio.Event, sent: list) -> None:
    sid = await largest_session(http)
    async with connect(ws_url(base, sid), sock=elsewhere(base), max_size=2**24) as ws:
        await ws.recv()
        reader = asyncio.create_task(drain(ws, stop))
        k = 0
        try:
            while not stop.is_set():
                k += 1
                await ws.send(json.dumps({"type": "set_weight", "layer": 1, "from": 0,
                                          "to": 0, "value": (k % 100) / 100}))
                sent[0] += 1
                await asyncio.sleep(0)
        finally:
            reader.cancel()
            ws.transport.abort()  # no closing handshake behind the messages still queued


async def playing_fps(base: str, sid: str, seconds: float) -> float:
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out (the default
        await ws.send(json.dumps({"type": "play"}))  # speed is 10 epochs a second)
        frames, deadline = 0, time.perf_counter() + 1.0  # warm-up
        while time.perf_counter() < deadline:
            await asyncio.wait_for(ws.recv(), 10)
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            frames += text.startswith(FRAME_PREFIX)
        await ws.send(json.dumps({"type": "pause"}))
    return frames / seconds


async def slider(base: str, sid: str, seconds: float) -> list[float]:
    """ms from each set_weight to the first frame showing it, one every SLIDER_GAP."""
    times: list[float] = []
    async with connect(ws_url(base, sid), max_size=2**24) as ws:
        await ws.recv()
        deadline, k = time.perf_counter() + seconds, 0
        while time.perf_counter() < deadline:
            k += 1
            value = round(0.001 * k, 6)
            began = time.perf_counter()
            await ws.send(json.dumps({"type": "set_weight", "layer": 1, "from": 0, "to": 0,
                                      "value": value}))
            while True:
                text = await asyncio.wait_for(ws.recv(), 30)
                if text.startswith(FRAME_PREFIX) and json.loads(text)["weights"][1][0][0] == value:
                    times.append((time.perf_counter() - began) * 1e3)
                    break
            await asyncio.sleep(SLIDER_GAP)
    return times


async def health(base: str, seconds: float) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as h:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await h.get("/healthz")
            times.append((time.perf_counter() - began) * 1e3)
            await asyncio.sleep(0.1)
    return times


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def phase(base: str, http, seconds: float, abusers: bool) -> dict:
    playing = await new_session(http, SIX_BY_EIGHT)
    paused = await new_session(http, SIX_BY_EIGHT)
    stop = asyncio.Event()
    steps, edits = [0], [0]
    tasks = []
    if abusers:
        tasks = [asyncio.create_task(step_abuser(base, http, stop, steps)),
                 asyncio.create_task(step_abuser(base, http, stop, steps)),
                 asyncio.create_task(flood_abuser(base, http, stop, edits))]
        await asyncio.sleep(2.0)  # the abuse under way
    fps, slides, probes = await asyncio.gather(
        playing_fps(base, playing, seconds), slider(base, paused, seconds + 1),
        health(base, seconds + 1))
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"fps": fps, "slider_p50": pct(slides, 50), "slider_p99": pct(slides, 99),
            "health_p50": pct(probes, 50), "health_p99": pct(probes, 99),
            "steps_sent": steps[0], "edits_sent": edits[0]}


async def main(quick: bool) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    proc = start_server(port, env={"NNPLAY_MAX_SESSIONS": "1000", "NNPLAY_STORE": "memory://"})
    seconds = 8.0 if quick else 20.0
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            await phase(base, http, 2.0, abusers=False)  # warm the numba kernels
            rss_before = rss_mb(proc.pid)
            alone = await phase(base, http, seconds, abusers=False)
            print("alone", alone, flush=True)
            abused = await phase(base, http, seconds, abusers=True)
            print("abused", abused, flush=True)
            peak = rss_mb(proc.pid, "VmHWM")
    finally:
        stop_server(proc)
    share = 100 * abused["fps"] / alone["fps"]
    lines = [
        "# Abuse benchmark: fair sharing", "",
        f"Machine: {machine()}; load average (1, 5, 15 min) before the run: "
        f"{', '.join(uptime)}. Other processes shared the machine's 2 cores: the figures "
        "are from a loaded machine.", "",
        f"Run: `.venv/bin/python bench/bench_abuse.py{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {seconds:.0f} s a phase, "
        "default limits.", "",
        "| | alone | beside the abusers | target |", "|---|---|---|---|",
        f"| playing 6x8 session, frames/s | {alone['fps']:.1f} | {abused['fps']:.1f} "
        f"({share:.0f} %) | >= 80 % |",
        f"| slider to frame p50 ms | {alone['slider_p50']:.1f} | {abused['slider_p50']:.1f} | |",
        f"| slider to frame p99 ms | {alone['slider_p99']:.1f} | {abused['slider_p99']:.1f} "
        "| < 50 |",
        f"| /healthz p50 ms | {alone['health_p50']:.1f} | {abused['health_p50']:.1f} | |",
        f"| /healthz p99 ms | {alone['health_p99']:.1f} | {abused['health_p99']:.1f} | < 50 |",
        f"| epoch steps sent by the two step abusers | | {abused['steps_sent']} | |",
        f"| set_weight sent by the flooder | | {abused['edits_sent']} | |", "",
        f"Server memory: {rss_before:.0f} MB resident before the measured phases, peak "
        f"(VmHWM) {peak:.0f} MB.", "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter phases")
    asyncio.run(main(parser.parse_args().quick))
