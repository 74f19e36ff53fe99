# nnplay: `make run` serves the playground, `make test` runs every test.
# Both set themselves up on a fresh machine (Python venv, npm packages; for
# tests also Debian's Chromium, Redis and nginx). Re-running skips what is already installed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Empty: nnplay's own defaults (127.0.0.1:8000, or NNPLAY_HOST / NNPLAY_PORT).
HOST   ?=
PORT   ?=

.PHONY: run setup setup-test test lint bench

run: setup
	$(VENV)/bin/nnplay $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

setup: $(VENV)/.installed node_modules/.installed $(VENV)/.kernels

# The engine's numba kernels, compiled once into their on-disk cache (again when the
# engine changes), so the first training step does not wait seconds for the compiler.
$(VENV)/.kernels: $(VENV)/.installed $(wildcard engine/*.py)
	$(PY) -m engine.warmup
	touch $@

# The app and its pinned dependencies; constraints.txt pins every transitive one, and the
# build tools too: the venv's own pip and setuptools (Python 3.11's venv brings setuptools
# 65.5.0, with known CVEs) are replaced by the pinned ones first.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt pip setuptools
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# Front-end libraries from the npm registry, exactly as package-lock.json says.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup-test: setup $(VENV)/.installed-test /usr/bin/chromium /usr/bin/redis-server /usr/sbin/nginx

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own download is not used).
/usr/bin/chromium:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The replica tests run Debian's Redis and nginx (deployment/) as real servers on loopback.
/usr/bin/redis-server:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

/usr/sbin/nginx:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx

test: setup-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: setup-test
	$(VENV)/bin/ruff check .

bench: setup /usr/bin/redis-server
	$(PY) bench/run_all.py
