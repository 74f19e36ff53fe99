"""The Dockerfile passes hadolint and ships the README's set-up (`make setup`).

This machine has no Docker engine, so the image itself is not built here; the test
makes sure the image runs the same steps as the tested path.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _instructions() -> list[str]:
    """The Dockerfile's instructions with continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_hadolint_passes():
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hadolint_ignore_says_why():
    lines = DOCKERFILE.read_text().splitlines()
    for k, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert k > 0 and lines[k - 1].startswith("#") and len(lines[k - 1]) > 20, (
                f"line {k + 1}: an ignore needs a comment above it giving the reason")


def _stages() -> list[list[str]]:
    """The instructions of each build stage, in order (the last one is the image)."""
    stages: list[list[str]] = []
    for ins in _instructions():
        if ins.startswith("FROM "):
            stages.append([])
        stages[-1].append(ins)
    return stages


def test_image_runs_the_readme_setup():
    runs = [i for i in _instructions() if i.startswith("RUN ")]
    assert any(re.search(r"\bmake setup\b", r) for r in runs)
    assert "make run" in (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: setup$", makefile, re.M)
    # The tools `make setup` needs come from Debian.
    assert any(all(p in r for p in ("make", "nodejs", "npm")) for r in runs)


def test_node_only_in_the_build_stage():
    *builds, image = _stages()
    build = next(b for b in builds if any("npm" in i for i in b))
    name = build[0].split()[-1]
    assert build[0].split()[-2] == "AS"
    # The front end is fetched by the Makefile's own step (`npm ci`), the README's set-up.
    assert "RUN make node_modules/.installed" in build
    assert re.search(r"^node_modules/\.installed: .*\n\tnpm ci\b", (ROOT / "Makefile").read_text(),
                     re.M)
    assert not any(re.search(r"\b(node|nodejs|npm)\b", i) for i in image
                   if i.startswith("RUN apt-get"))
    assert any(i.startswith(f"COPY --from={name} ") and i.endswith(" node_modules")
               for i in image)
    # make setup in the image never asks for npm: the front end is already there.
    assert "RUN make setup -o node_modules/.installed" in image


def test_the_sqlite_data_directory_is_a_volume():
    image = _stages()[-1]
    env = " ".join(i for i in image if i.startswith("ENV "))
    data = re.search(r"NNPLAY_DATA_DIR=(\S+)", env).group(1)
    assert f'VOLUME ["{data}"]' in image


def test_image_shape():
    ins = _stages()[-1]
    assert ins[0].startswith("FROM python:3.11") and "slim" in ins[0]
    users = [i for i in ins if i.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in ("root", "0")
    assert "EXPOSE 8000" in ins
    health = [i for i in ins if i.startswith("HEALTHCHECK")]
    assert len(health) == 1 and "/healthz" in health[0] and "curl" not in health[0]
    cmd = [i for i in ins if i.startswith("CMD ")]
    assert cmd == ['CMD [".venv/bin/nnplay", "--host", "0.0.0.0", "--port", "8000"]']


def test_dockerignore_keeps_local_environments_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for name in (".venv", "node_modules", ".git"):
        assert name in ignored


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3])


def test_the_build_tools_are_pinned_in_the_setup_and_the_image():
    pins = _pins()
    # Versions with the fixes for the advisories known when they were pinned: setuptools
    # CVE-2022-40897 (65.5.0, what Python 3.11's venv brings), CVE-2024-6345,
    # CVE-2025-47273, CVE-2026-59890 (fixed in 83.0.0); pip CVE-2025-8869, CVE-2026-1703,
    # CVE-2026-3219, CVE-2026-6357, CVE-2026-8643 (fixed in 26.1.2).
    assert _version(pins["setuptools"]) >= (83, 0, 0)
    assert _version(pins["pip"]) >= (26, 1, 2)
    makefile = (ROOT / "Makefile").read_text()
    venv_step = re.search(r"^\$\(VENV\)/\.installed:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    lines = venv_step.splitlines()
    # Right after the venv is made, before anything else is installed into it.
    assert lines[0].strip() == "$(PYTHON) -m venv $(VENV)"
    assert lines[1].strip() == "$(PY) -m pip install --quiet -c constraints.txt pip setuptools"
    assert "--upgrade" not in makefile and "-U " not in makefile
    # The app's own build backend, the same setuptools.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'requires = ["setuptools=={pins["setuptools"]}"]' in pyproject
    # The image: `make setup` (above) for the venv, and the base image's own tools pinned
    # by the same file; no pip install without it.
    runs = [i for i in _stages()[-1] if i.startswith("RUN ")]
    assert "RUN python -m pip install --no-cache-dir -c constraints.txt pip setuptools" in runs
    assert all("-c constraints.txt" in r for r in runs if "pip install" in r)
