"""Real services for the tests that need them, on loopback: Debian's `redis-server` and
several nnplay replicas sharing it (installed by `make setup-test`)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
from websockets.sync.client import connect

from tests.conftest import free_port, start_server, stop_server

MAX_MESSAGES = 3000  # messages a test reads at most while waiting for one
WAIT = 30.0  # seconds one receive or request may take before the test fails


def stream(base: str, sid: str):
    """A socket to session `sid` of the server at `base`."""
    return connect(base.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream",
                   max_size=2**23, open_timeout=WAIT)


def read_until(ws, test) -> dict:
    """The first message for which `test` holds."""
    for _ in range(MAX_MESSAGES):
        msg = json.loads(ws.recv(timeout=WAIT))
        if test(msg):
            return msg
    raise AssertionError("the message never came")

REDIS_SERVER = "/usr/bin/redis-server"
START_SECONDS = 20.0


class RedisServer:
    """`redis-server` on 127.0.0.1:`port` with its data in `folder` (append-only file on, as
    in deployment/compose.yaml: a restart keeps the documents)."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "redis.log", "a")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--appendonly", "yes", "--save", "",
             "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        self.proc.log = log
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_text = (self.folder / "redis.log").read_text()
                raise RuntimeError(f"redis-server exited: {log_text}")
            with contextlib.suppress(redis.exceptions.RedisError):
                if self.client().ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.log.close()
        self.proc = None


def start_replicas(n: int, env: dict) -> list[tuple[str, subprocess.Popen]]:
    """`n` nnplay processes with `env`, started at once: [(base URL, process)]."""
    ports = [free_port() for _ in range(n)]
    with ThreadPoolExecutor(n) as pool:
        procs = list(pool.map(lambda p: start_server(p, env=env), ports))
    return [(f"http://127.0.0.1:{p}", proc) for p, proc in zip(ports, procs, strict=True)]


def stop_replicas(replicas) -> None:
    for _, proc in replicas:
        if proc.poll() is None:
            stop_server(proc)
        else:
            proc.log.close()
