# nnplay in a container: the same set-up as the README (`make setup`), served on port 8000.
#   docker build -t nnplay .
#   docker run -p 8000:8000 -v nnplay-data:/home/nnplay/data nnplay
# Sessions are kept in SQLite in /home/nnplay/data (a volume); deployment/compose.yaml runs
# three replicas sharing Redis instead.

# ---- front-end packages: Node.js and npm live in this stage only ---------------------------
FROM python:3.11.13-slim-bookworm AS frontend

# Debian's versions are not pinned: the base image tag fixes the release (bookworm), whose
# security updates replace exact package versions, so a pinned version would stop building.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
COPY Makefile package.json package-lock.json ./
# The README's front-end step (`npm ci`, exactly as package-lock.json says), by its make target.
RUN make node_modules/.installed

# ---- the image: Python and the app, no Node ---------------------------------------------------
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NNPLAY_DATA_DIR=/home/nnplay/data

# make runs `make setup` (venv + pinned Python packages; the front end comes from above).
# Unpinned for the same reason as above.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 nnplay \
    && useradd --create-home --no-log-init -l --uid 10001 --gid 10001 nnplay \
    && install -d -o 10001 -g 10001 /home/nnplay/data
WORKDIR /home/nnplay/app
COPY --chown=10001:10001 . .
COPY --from=frontend --chown=10001:10001 /build/node_modules node_modules
# The base image's own pip and setuptools, pinned as `make setup` pins the venv's (the
# image's are older, with known CVEs), by the same constraints file.
RUN python -m pip install --no-cache-dir -c constraints.txt pip setuptools
# A numeric user, so that the host can resolve it (not root).
USER 10001:10001

# The README's set-up: Python packages pinned by constraints.txt, htmx by package-lock.json.
# `-o node_modules/.installed`: the front end is installed (by the stage above), whatever the
# files' times say, so make never looks for npm here.
RUN make setup -o node_modules/.installed

# The SQLite store (NNPLAY_DATA_DIR): sessions outlive the container.
VOLUME ["/home/nnplay/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD [".venv/bin/python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD [".venv/bin/nnplay", "--host", "0.0.0.0", "--port", "8000"]
