"""deployment/nginx.conf, run by Debian's real nginx in front of two nnplay replicas sharing a
real Redis, all on loopback: the config passes `nginx -t`, and every kind of request for a
session (the JSON API, the page, the htmx endpoints, the live stream) goes through it to one
replica, the same one each time."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import free_port
from tests.services import RedisServer, start_replicas, stop_replicas

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
CONFIG = ROOT / "deployment" / "nginx.conf"
WAIT = 30.0
MOVED_IN = 'nnplay_lease_moves_total{direction="in"}'

# The image's own nginx.conf holds what compose leaves to it; here, in a temporary prefix.
MAIN = """daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/nnplay.conf;
}}
"""


def local_config(replicas: list[str], port: int) -> str:
    """deployment/nginx.conf with compose's host names replaced by the replicas' loopback
    addresses, listening on 127.0.0.1:`port`."""
    text = CONFIG.read_text()
    servers = re.findall(r"^\s*server nnplay\d:8000;\n", text, re.M)
    assert len(servers) == 3, "compose.yaml's three replicas"
    lines = "".join(f"    server {url.removeprefix('http://')};\n" for url in replicas)
    text = text.replace("".join(servers), lines)
    assert "listen 8000;" in text
    return text.replace("listen 8000;", f"listen 127.0.0.1:{port};")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis")).start()
    started = start_replicas(2, {"NNPLAY_STORE": redis.url, "NNPLAY_LEASE_SECONDS": "2"})
    yield [url for url, _ in started]
    stop_replicas(started)
    redis.stop()


@pytest.fixture(scope="module")
def prefix(replicas, tmp_path_factory):
    """A temporary nginx prefix holding the config; (its folder, the port nginx listens on)."""
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    (folder / "nnplay.conf").write_text(local_config(replicas, port))
    (folder / "nginx.conf").write_text(MAIN.format(prefix=folder))
    return folder, port


def nginx(folder: Path, *args: str, **kw):
    return [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), *args]


@pytest.fixture(scope="module")
def balancer(prefix):
    folder, port = prefix
    proc = subprocess.Popen(nginx(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def moves(replicas: list[str]) -> float:
    total = 0.0
    for base in replicas:
        text = httpx.get(base + "/metrics", timeout=WAIT).text
        total += float(re.search(rf"^{re.escape(MOVED_IN)} (\S+)$", text, re.M).group(1))
    return total


def test_nginx_accepts_the_config(prefix):
    folder, _ = prefix
    result = subprocess.run(nginx(folder, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_a_session_s_requests_all_reach_one_replica_through_nginx(balancer, replicas):
    with httpx.Client(base_url=balancer, timeout=WAIT) as http:
        for _ in range(3):
            sid = http.post("/api/sessions").json()["id"]  # no id yet: either replica
            assert http.get(f"/api/sessions/{sid}").status_code == 200  # now on its own
            held = [httpx.get(b + "/healthz").json()["sessions"] for b in replicas]
            before = moves(replicas)

            r = http.patch(f"/api/sessions/{sid}/weights",
                           json={"layer": 0, "from": 0, "to": 0, "value": 0.5})
            assert r.status_code == 200
            page = http.get(f"/s/{sid}")
            assert f'data-session-id="{sid}"' in page.text
            assert http.get(f"/ui/{sid}/url").json()["url"].startswith("/")
            assert http.get(f"/ui/{sid}/panels").status_code == 200
            assert http.post(f"/ui/sessions/{sid}/preset/worked-example").status_code == 204
            url = balancer.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
            with connect(url, max_size=2**23, open_timeout=WAIT) as ws:
                first = json.loads(ws.recv(timeout=WAIT))
                assert first["type"] == "snapshot" and first["session"]["id"] == sid
                ws.send(json.dumps({"type": "ping", "id": 1}))
                for _ in range(100):
                    if json.loads(ws.recv(timeout=WAIT)).get("reply_to") == 1:
                        break
                else:
                    raise AssertionError("no pong")
            assert http.delete(f"/api/sessions/{sid}").status_code == 204

            # Had any of them reached the other replica, the session would have moved.
            assert moves(replicas) == before
            assert sum(held) == 1
