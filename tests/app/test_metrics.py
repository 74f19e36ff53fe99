"""GET /metrics (app/metrics.py): the Prometheus text format, counting what the server did."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

pytestmark = pytest.mark.timeout(120)
MAX_MESSAGES = 2000


def read(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_metrics_count_sessions_frames_epochs_and_store_latency(tmp_path):
    settings = Settings(store=f"sqlite:///{tmp_path / 'm.db'}")
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        sid = client.post("/api/sessions").json()["id"]
        frames = 0
        with client.websocket_connect(f"ws://localhost/api/sessions/{sid}/stream") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            ws.send_json({"type": "play"})
            for _ in range(MAX_MESSAGES):
                msg = ws.receive_json()
                frames += msg["type"] == "frame"
                if msg["type"] == "frame" and msg["epoch"] >= 3:
                    break
            r = client.get("/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            assert read(r.text, "nnplay_sessions_playing") == 1
            ws.send_json({"type": "pause", "id": 1})
            for _ in range(MAX_MESSAGES):
                if ws.receive_json().get("reply_to") == 1:
                    break
        text = client.get("/metrics").text
        assert read(text, "nnplay_sessions_held") == 1
        assert read(text, "nnplay_sessions_playing") == 0
        assert read(text, "nnplay_frames_sent_total") >= frames + 1  # and the snapshot
        assert read(text, "nnplay_epochs_trained_total") >= 3
        assert read(text, 'nnplay_store_seconds_count{op="write"}') >= 2  # created, paused
        assert read(text, 'nnplay_store_seconds_count{op="read"}') == 0
        assert read(text, 'nnplay_lease_moves_total{direction="in"}') == 0
    # a restart: read from the store
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get(f"/api/sessions/{sid}").status_code == 200
        text = client.get("/metrics").text
        assert read(text, 'nnplay_store_seconds_count{op="read"}') == 1
        assert read(text, 'nnplay_store_seconds_bucket{le="+Inf",op="read"}') == 1
