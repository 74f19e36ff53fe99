"""deployment/compose.yaml holds together with the Dockerfile and the nginx config (there is
no Docker engine here to run it; tests/deployment/test_nginx.py runs the nginx config)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "deployment"


def compose() -> dict:
    return yaml.safe_load((FOLDER / "compose.yaml").read_text())


def test_three_replicas_built_from_the_dockerfile_share_redis():
    services = compose()["services"]
    replicas = sorted(name for name in services if name.startswith("nnplay"))
    assert replicas == ["nnplay1", "nnplay2", "nnplay3"]
    for name in replicas:
        s = services[name]
        assert (FOLDER / s["build"]["context"] / s["build"]["dockerfile"]).resolve() == (
            ROOT / "Dockerfile")
        assert s["environment"]["NNPLAY_STORE"] == "redis://redis:6379/0"
        assert s["depends_on"]["redis"]["condition"] == "service_healthy"


def test_redis_keeps_its_data_in_a_volume():
    spec = compose()
    redis = spec["services"]["redis"]
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-\w+", redis["image"])  # a pinned version
    assert "--appendonly" in redis["command"]
    volume = redis["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in spec["volumes"]


def test_the_load_balancer_is_nginx_with_the_tested_config():
    spec = compose()
    lb = spec["services"]["lb"]
    assert lb["image"].startswith("nginx:")
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in lb["volumes"]
    listen = re.search(r"^\s*listen (\d+);", (FOLDER / "nginx.conf").read_text(), re.M)
    assert lb["ports"] == [f"8000:{listen.group(1)}"]
    servers = re.findall(r"^\s*server (\w+):8000;", (FOLDER / "nginx.conf").read_text(), re.M)
    assert servers == sorted(n for n in spec["services"] if n.startswith("nnplay"))
