# nnplay in a container: the same set-up as the README (`make setup`), served on port 8000.
#   docker build -t nnplay .
#   docker run -p 8000:8000 nnplay
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# make, Node.js and npm run `make setup` (venv + pinned Python packages + `npm ci`).
# Debian's versions are not pinned: the base image tag fixes the release (bookworm), whose
# security updates replace exact package versions, so a pinned version would stop building.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 nnplay \
    && useradd --create-home --no-log-init -l --uid 10001 --gid 10001 nnplay
WORKDIR /home/nnplay/app
COPY --chown=10001:10001 . .
# A numeric user, so that the host can resolve it (not root).
USER 10001:10001

# The README's set-up: Python packages pinned by constraints.txt, htmx by package-lock.json.
RUN make setup

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD [".venv/bin/python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD [".venv/bin/nnplay", "--host", "0.0.0.0", "--port", "8000"]
