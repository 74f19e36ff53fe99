"""Settings from the environment, the `nnplay` command and its flags."""

import subprocess
import sys
import urllib.request

import pytest

from app.cli import parse_args
from app.config import Settings
from tests.conftest import ROOT, free_port, stop_server, wait_healthy


def test_defaults():
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.limits()["max_hidden_layers"] == 8 and s.limits()["max_neurons_per_layer"] == 12


def test_environment_then_overrides():
    env = {"NNPLAY_HOST": "0.0.0.0", "NNPLAY_PORT": "9001", "NNPLAY_MAX_SESSIONS": "7",
           "NNPLAY_SESSION_IDLE_SECONDS": "2.5", "NNPLAY_MAX_UPLOAD_BYTES": ""}
    s = Settings.from_env(env)
    assert (s.host, s.port, s.max_sessions, s.session_idle_seconds) == ("0.0.0.0", 9001, 7, 2.5)
    assert s.max_upload_bytes == Settings().max_upload_bytes
    assert Settings.from_env(env, port=9100, host=None).port == 9100


def test_a_bad_environment_value_says_which():
    with pytest.raises(ValueError, match="NNPLAY_PORT"):
        Settings.from_env({"NNPLAY_PORT": "eighty"})


def test_cli_flags():
    args = parse_args(["--host", "0.0.0.0", "--port", "8123"])
    assert (args.host, args.port) == ("0.0.0.0", 8123)
    args = parse_args([])
    assert (args.host, args.port) == (None, None)


@pytest.mark.timeout(120)
def test_the_command_serves_on_the_flag_port_over_the_env_port(tmp_path):
    port, other = free_port(), free_port()
    with open(tmp_path / "log", "w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "--port", str(port)], cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "NNPLAY_PORT": str(other)},
            stdout=log, stderr=subprocess.STDOUT)
        proc.log = log
        try:
            wait_healthy(proc, f"http://127.0.0.1:{port}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    assert stop_server is not None
