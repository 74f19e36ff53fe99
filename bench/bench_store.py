"""Session store benchmark (not a test: no asserts). Needs Debian's redis-server
(`make setup-test` installs it).

    .venv/bin/python bench/bench_store.py [--quick]

Measures, on this machine:
1. the latency of saving a 6x8 session (layers [2,8,8,8,8,8,8,1], trained, with its
   history) to SQLite and to Redis: `Sessions.save`, the document encoded and written
   (p50, p99), in process;
2. what persistence costs training: one client's frames/s and epochs/s while the 6x8
   network plays, on servers with memory://, SQLite and Redis, taken in turns in one run;
3. 50 sessions of 6x8 playing, one client each, on one replica against two replicas
   sharing Redis (25 each): frames/s each.
Writes bench/results/store.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from bench_server import SIX_BY_EIGHT, count_frames, machine, new_session, pct, ws_url
from common import free_port, start_server, stop_server  # bench/common.py
from websockets.asyncio.client import connect

from app.config import Settings
from app.store import Sessions
from tests.services import RedisServer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "store.md"


# ---- 1. save latency, in process ----------------------------------------------------------

async def save_latency(url: str, n: int) -> dict:
    store = Sessions(Settings(store=url))
    await store.start()
    try:
        session = await store.create(model=SIX_BY_EIGHT)
        session.play()
        for _ in range(200):  # a trained session with a history, as a class leaves them
            session.train_chunk(0.01)
        session.pause()
        await store.save(session)
        size = len(await store.backend.load(session.id))
        times = []
        for _ in range(n):
            began = time.perf_counter()
            await store.save(session)
            times.append((time.perf_counter() - began) * 1e3)
        return {"p50": pct(times, 50), "p99": pct(times, 99), "bytes": size,
                "epoch": session.training["epoch"]}
    finally:
        await store.close()


# ---- 2. training throughput with and without a store --------------------------------------

async def playing_rate(base: str, seconds: float) -> tuple[float, float]:
    """(frames/s, epochs/s) one client gets while the 6x8 network plays."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        sid = await new_session(http, SIX_BY_EIGHT)
        async with connect(ws_url(base, sid), max_size=2**24) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out
            await ws.send(json.dumps({"type": "play"}))
            await count_frames(ws, 1.0)  # warm-up
            start = (await http.get(f"/api/sessions/{sid}")).json()["training"]["epoch"]
            frames = await count_frames(ws, seconds)
            end = (await http.get(f"/api/sessions/{sid}")).json()["training"]["epoch"]
            await ws.send(json.dumps({"type": "pause"}))
        await http.delete(f"/api/sessions/{sid}")
    return frames / seconds, (end - start) / seconds


# ---- 3. many sessions on one replica or two ------------------------------------------------

async def epochs_trained(http: httpx.AsyncClient) -> float:
    text = (await http.get("/metrics")).text
    return float(re.search(r"^nnplay_epochs_trained_total (\S+)$", text, re.M).group(1))


async def many_playing(bases: list[str], n: int, seconds: float) -> tuple[list[float], float]:
    """frames/s of each of `n` sessions playing, spread evenly over the replicas `bases`,
    each session created on (and streamed from) its own replica; and the epochs/s trained
    by all of them together."""
    https = [httpx.AsyncClient(base_url=b, timeout=60) for b in bases]
    try:
        placed = [(bases[k % len(bases)], https[k % len(bases)]) for k in range(n)]
        sids = [await new_session(http, SIX_BY_EIGHT) for _, http in placed]
        sockets = [await connect(ws_url(base, sid), max_size=2**24).__aenter__()
                   for (base, _), sid in zip(placed, sids, strict=True)]
        for ws, sid in zip(sockets, sids, strict=True):
            first = json.loads(await ws.recv())
            if first["type"] != "snapshot":
                raise RuntimeError(f"session {sid}: {first}")
            await ws.send(json.dumps({"type": "set", "speed": "max"}))  # flat out
            await ws.send(json.dumps({"type": "play"}))
        await asyncio.gather(*(count_frames(ws, 1.0) for ws in sockets))  # warm-up
        began = [await epochs_trained(http) for http in https]
        counts = await asyncio.gather(*(count_frames(ws, seconds) for ws in sockets))
        ended = [await epochs_trained(http) for http in https]
        for ws in sockets:
            await ws.send(json.dumps({"type": "pause"}))
            await ws.close()
        for (_, http), sid in zip(placed, sids, strict=True):
            await http.delete(f"/api/sessions/{sid}")
        return [c / seconds for c in counts], (sum(ended) - sum(began)) / seconds
    finally:
        for http in https:
            await http.aclose()


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def start(env: dict) -> tuple[str, object]:
    port = free_port()
    return f"http://127.0.0.1:{port}", start_server(port, env={"NNPLAY_MAX_SESSIONS": "1000",
                                                               **env})


async def main(quick: bool) -> None:
    load = loadavg()
    folder = Path(tempfile.mkdtemp(prefix="nnplay-bench-store-"))
    redis = RedisServer(folder / "redis").start()
    stores = {"memory://": "memory://", "sqlite": f"sqlite:///{folder / 'bench.db'}",
              "redis": redis.url}
    lines = ["# Session store benchmark", "", f"Machine: {machine()} (1, 5 and 15 min: "
             f"{', '.join(load)}; other work on the machine moves the figures). Redis: "
             f"Debian's redis-server, loopback, append-only file on (everysec).", "",
             f"Run: `.venv/bin/python bench/bench_store.py{' --quick' if quick else ''}` on "
             f"{time.strftime('%Y-%m-%d')}.", ""]
    try:
        n = 100 if quick else 500
        lines += ["## Saving a 6x8 session (encode + write, in process)", "",
                  "| store | saves | document bytes | p50 ms | p99 ms |", "|---|---|---|---|---|"]
        saved = {}
        for name in ("sqlite", "redis"):
            r = await save_latency(stores[name], n)
            saved[name] = r["p50"]
            lines.append(f"| {name} | {n} | {r['bytes']} | {r['p50']:.2f} | {r['p99']:.2f} |")
            print(lines[-1], flush=True)

        seconds, rounds = (3.0, 1) if quick else (3.0, 8)
        servers = {name: start({"NNPLAY_STORE": url}) for name, url in stores.items()}
        try:
            await playing_rate(servers["memory://"][0], 1.0)  # numba's cache loaded
            rates: dict[str, list] = {name: [] for name in servers}
            names = list(servers)
            for r in range(rounds):  # in turns, each first in turn, so that the machine's
                for name in names[r % 3:] + names[:r % 3]:  # load falls on each alike
                    rates[name].append(await playing_rate(servers[name][0], seconds))
        finally:
            for _, proc in servers.values():
                stop_server(proc)
        lines += ["", f"## Training throughput with the store (one client, 6x8 playing; "
                  f"{rounds} rounds of {seconds:.0f} s on each server, medians)", "",
                  "| store | frames/s | epochs/s | epochs/s lost against memory:// (median "
                  "of the rounds) |", "|---|---|---|---|"]
        bare = [e for _, e in rates["memory://"]]
        for name, got in rates.items():
            fps = statistics.median(f for f, _ in got)
            eps = statistics.median(e for _, e in got)
            ratios = [1 - e / b for (_, e), b in zip(got, bare, strict=True)]
            lost = "" if name == "memory://" else f"{100 * statistics.median(ratios):.1f} %"
            lines.append(f"| {name} | {fps:.1f} | {eps:.0f} | {lost} |")
            print(lines[-1], flush=True)
        spread = {name: f"{min(e for _, e in got):.0f}-{max(e for _, e in got):.0f}"
                  for name, got in rates.items()}
        lines += ["", "Target: under 5 % lost. Training progress is written every "
                  "`save_interval_seconds` (1 s), and a save holds the session's lock only "
                  "while its document is taken (part of the save time above): about "
                  f"{saved['sqlite']:.2f} ms a second with SQLite, {saved['redis']:.2f} ms "
                  f"with Redis (p50), {saved['sqlite'] / 10:.2f} % and "
                  f"{saved['redis'] / 10:.2f} % of the trainer's time at most. The turns' "
                  f"epochs/s ranged {', '.join(f'{k} {v}' for k, v in spread.items())}: "
                  "differences inside that range are the machine's, not the store's.", ""]

        k = 20 if quick else 50
        seconds = 4.0 if quick else 10.0
        lines += [f"## {k} sessions of 6x8 playing, one client each: one replica against two",
                  "", "| replicas | store | min frames/s | median frames/s | total frames/s "
                  "| epochs/s, all sessions |", "|---|---|---|---|---|---|"]
        for count in (1, 2) if quick else (1, 2, 2, 1):  # twice each, in turns: the load moves
            env = {"NNPLAY_STORE": stores["sqlite"] if count == 1 else redis.url}
            started = [start(env) for _ in range(count)]
            try:
                fps, epochs = await many_playing([b for b, _ in started], k, seconds)
            finally:
                for _, proc in started:
                    stop_server(proc)
            lines.append(f"| {count} | {'sqlite' if count == 1 else 'redis'} | "
                         f"{min(fps):.1f} | {statistics.median(fps):.1f} | "
                         f"{sum(fps):.0f} | {epochs:.0f} |")
            print(lines[-1], flush=True)
        lines += ["", "One replica is one process with one training thread, which trains "
                  "as much as it is given time for; two have two. Here the replicas, Redis "
                  "and the benchmark's client (one Python process reading every frame) share "
                  "the machine's cores, so the figures say how the work divides on one "
                  "machine, not what two machines would give."]
    finally:
        redis.stop()
    lines.append(f"\nLoad average after the run: "
                 f"{', '.join(loadavg())}.")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    asyncio.run(main(parser.parse_args().quick))
