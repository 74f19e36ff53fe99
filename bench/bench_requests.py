"""What one request can cost the server (issue 13), against a real uvicorn process: the
largest gradient check, step trace and forward answer the limits allow, share links that
inflate, and the time SIGTERM takes with the worst of them in flight. Not a test: no asserts.

    .venv/bin/python bench/bench_requests.py [--quick] [--root DIR] [--label NAME]

`--root` runs the server from another checkout (e.g. an older commit unpacked with
`git archive`, with this checkout's node_modules linked in) to compare before and after;
the figures are appended to bench/results/requests.md under `--label`.
Memory is the server's resident set (/proc/<pid>/status): `VmHWM` (its peak) is reset
before each measurement (/proc/<pid>/clear_refs), so "peak +MB" is what that request
added at its highest.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import httpx
from common import cpu_model, free_port  # bench/common.py
from websockets.asyncio.client import connect

from app import ui_table
from tests.app.test_bounded_work import LARGEST, LARGEST_BATCH
from tests.conftest import stop_server, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "requests.md"
PER_FORWARD_ROW = 7 + 2 * (8 * 12 + 8) + 8  # numbers a forward answer holds per row


def start(root: Path, port: int, env: dict | None = None) -> subprocess.Popen:
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop_server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root, env={**os.environ, "NNPLAY_DATA_DIR": tempfile.mkdtemp(), **(env or {})},
        stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log = log
    wait_healthy(proc, f"http://127.0.0.1:{port}")
    return proc


def memory(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024  # MB
    return out


def reset_peak(pid: int) -> float:
    """Reset the peak resident set to the current one; returns the current, MB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return memory(pid)["VmRSS"]


class Healthz:
    """/healthz polled from a thread while something else runs: the slowest answer, ms."""

    def __init__(self, base: str) -> None:
        self.base, self.times, self.stop = base, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as c:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                c.get("/healthz")
                self.times.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def worst(self) -> str:
        return f"{max(self.times):.0f}" if self.times else "-"  # "-": over before one answer


def largest_session(base: str) -> str:
    r = httpx.post(f"{base}/api/sessions", timeout=60,
                   json={"model": ui_table.model_document(LARGEST),
                         "dataset": ui_table.dataset_spec(LARGEST)})
    sid = r.json()["id"]

    async def batch():
        async with connect(base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream",
                           max_size=None) as ws:
            await ws.send(json.dumps({"type": "set", "batch_size": LARGEST_BATCH, "id": "b"}))
            while json.loads(await ws.recv()).get("reply_to") != "b":
                pass

    asyncio.run(batch())
    return sid


def timed(pid: int, base: str, n: int, method: str, path: str, **kw) -> dict:
    """`n` copies of one request at once: seconds to the last answer, bytes of one answer,
    its status, the server's peak memory over the start, /healthz's slowest meanwhile."""
    before = reset_peak(pid)
    answers = [None] * n

    def one(k):
        with httpx.Client(base_url=base, timeout=600) as c:
            answers[k] = c.request(method, path, **kw)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    with Healthz(base) as health:
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
    r = answers[0]
    return {"status": r.status_code, "bytes": len(r.content), "seconds": seconds,
            "peak_mb": memory(pid)["VmHWM"] - before, "healthz_ms": health.worst,
            "body": r.json() if r.headers.get("content-type", "").startswith(
                "application/json") else None}


def link(raw: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def sized_link(unit: bytes, chars: int) -> tuple[str, int]:
    """A `w=` value of at most `chars` characters (and near it) whose JSON repeats `unit`:
    (link, JSON bytes)."""
    n = 1000
    for _ in range(6):  # the link's length grows about linearly with n
        text = link(b"[" + unit * n + b"0]")
        n = max(1, int(n * chars * 0.98 / len(text)))
    while len(text := link(b"[" + unit * n + b"0]")) > chars:
        n = int(n * 0.99)
    return text, len(unit) * n + 3


def sigterm_seconds(root: Path, quick: bool) -> float:
    """Exit time after SIGTERM with six gradient checks of the largest session in flight."""
    port = free_port()
    proc = start(root, port, env={"NNPLAY_GRADCHECK_SECONDS": "120"})
    base = f"http://127.0.0.1:{port}"
    sid = largest_session(base)

    def check():
        with contextlib.suppress(httpx.HTTPError):  # the server going away
            httpx.get(f"{base}/api/sessions/{sid}/gradient-check", timeout=600)

    threads = [threading.Thread(target=check, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
    seconds = time.perf_counter() - t0
    stop_server(proc)
    return seconds


def left_checks_seconds(base: str, sid: str, n: int = 30) -> float:
    """`n` gradient checks whose clients leave after 0.3 s: seconds from their start until
    the session answers a read again (its lock free)."""
    def leave():
        with httpx.Client(base_url=base, timeout=0.3) as c, \
                contextlib.suppress(httpx.TimeoutException):
            c.get(f"/api/sessions/{sid}/gradient-check")

    threads = [threading.Thread(target=leave) for _ in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    httpx.get(f"{base}/api/sessions/{sid}", timeout=600)
    return time.perf_counter() - t0


def run(root: Path, quick: bool) -> list[str]:
    port = free_port()
    proc = start(root, port)
    base = f"http://127.0.0.1:{port}"
    rows = []

    def row(what, m, note=""):
        rows.append(f"| {what} | {m['status']} | {m['bytes'] / 1e6:.2f} | {m['seconds']:.2f} "
                    f"| {m['peak_mb']:+.0f} | {m['healthz_ms']} | {note} |")

    try:
        sid = largest_session(base)
        api = f"/api/sessions/{sid}"
        m = timed(proc.pid, base, 1, "GET", f"{api}/gradient-check")
        body = m["body"] or {}
        row("gradient check, largest network, batch 500", m,
            f"{body.get('checked')} of {body.get('total')} parameters; "
            f"stopped: {body.get('stopped')}")
        m = timed(proc.pid, base, 1, "POST", f"{api}/step", json={"unit": "batch"})
        row("step by batch (500 rows), largest network", m)
        m = timed(proc.pid, base, 4, "POST", f"{api}/step", json={"unit": "batch"})
        row("4 of those at once", m)
        m = timed(proc.pid, base, 1, "POST", f"{api}/forward",
                  json={"points": [[0.5, -1.0]] * 5000})
        row("forward, 5000 points (max_points), largest network", m,
            (m["body"] or {}).get("detail", {}).get("message", "")[:90]
            if m["status"] != 200 else "")
        most = 200_000 // PER_FORWARD_ROW
        m = timed(proc.pid, base, 1, "POST", f"{api}/forward",
                  json={"points": [[0.5, -1.0]] * most})
        row(f"forward, {most} points (the most 200,000 numbers allow)", m)
        for name, unit in (("64 KB link, `0,` repeated", b"0,"),
                           ("64 KB link, `[0.1,-2e5],` repeated", b"[0.1,-2e5],")):
            text, inflated = sized_link(unit, 64_000)
            note = f"{len(text) / 1000:.0f} KB of link, {inflated / 1e6:.0f} MB of JSON"
            m = timed(proc.pid, base, 1, "GET", "/", params={"w": text})
            row(f"share link: {name}", m, note)
            m = timed(proc.pid, base, 4, "GET", "/", params={"w": text})
            row(f"share link: {name}, 4 at once", m, note)
        rows.append(f"| 30 gradient checks of the largest network, each client gone after "
                    f"0.3 s | | | {left_checks_seconds(base, sid):.2f} | | | seconds until "
                    "the session answers again |")
        limit_json = b"[" + b"0," * (128 * 1024 - 2) + b"0]"
        text = link(limit_json)
        m = timed(proc.pid, base, 4, "GET", "/", params={"w": text})
        row("share link: 256 KB of JSON (the limit), 4 at once", m,
            f"{len(text)} chars of link")
    finally:
        stop_server(proc)
    rows.append(f"| SIGTERM with 6 gradient checks of the largest network in flight | | | "
                f"{sigterm_seconds(root, quick):.2f} | | | seconds to exit |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--label", default="this checkout")
    args = parser.parse_args()
    load = os.getloadavg()
    rows = run(args.root.resolve(), args.quick)
    lines = [
        f"## {args.label}",
        "",
        f"Machine: nproc {os.cpu_count()}, CPU {cpu_model()}; Python "
        f"{platform.python_version()}; load average at the start {load[0]:.2f} "
        f"(1 min), {load[1]:.2f} (5 min); after: {os.getloadavg()[0]:.2f}. Run "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| request | status | answer MB | seconds | peak memory +MB | /healthz max ms | note |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Request costs (issue 13)\n\n"
                           "Written by `bench/bench_requests.py` (its docstring says how).\n\n")
    with RESULTS.open("a") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
