"""Fixtures shared by the whole suite: a real nnplay server process (`live_server`)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0

# Sessions are kept in the default store (SQLite) in a folder of this run, not ./data: the
# suite's servers and in-process apps share it, and nothing is left in the checkout.
os.environ.setdefault("NNPLAY_DATA_DIR", tempfile.mkdtemp(prefix="nnplay-test-"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    """`nnplay` (as `python -m app.cli`) on 127.0.0.1:`port`, answering /healthz on return."""
    # A file, not a pipe: a full pipe would block the server. Closed in stop_server.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    proc.log = log
    wait_healthy(proc, f"http://127.0.0.1:{port}")
    return proc


def wait_healthy(proc: subprocess.Popen, base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            proc.log.seek(0)
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{proc.log.read()}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer {base_url}/healthz in {START_TIMEOUT} s")


def stop_server(proc: subprocess.Popen) -> str:
    """Stop the server; returns what it logged."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log.seek(0)
    text = proc.log.read()
    proc.log.close()
    return text


@contextlib.contextmanager
def running_server(env: dict | None = None, clean_log: bool = True):
    """A real nnplay server process for the `with` block: its base URL
    (``http://127.0.0.1:<port>``). With `clean_log`, its log must hold no traceback: no
    internal error, even one answered as a 4xx."""
    port = free_port()
    proc = start_server(port, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        log = stop_server(proc)
        if clean_log:
            assert "Traceback" not in log, log


@pytest.fixture(scope="session")
def live_server():
    """The base URL (``http://127.0.0.1:<port>``) of a real nnplay server process."""
    with running_server(clean_log=False) as url:
        yield url
