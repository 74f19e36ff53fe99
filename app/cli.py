"""`nnplay --host H --port P`: serve the playground with uvicorn.

Flags override ``NNPLAY_HOST`` / ``NNPLAY_PORT``, which override the defaults
(127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
from types import FrameType

import uvicorn
from fastapi import FastAPI

from app.config import Settings

# After SIGTERM, requests in flight get this long to finish (a gradient check ends at once:
# `Server.handle_exit`); then uvicorn cancels what is left, the lifespan's end writes every
# session, and the process exits: within 5 s, whatever runs.
GRACEFUL_SHUTDOWN_SECONDS = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nnplay", description="Serve the nnplay playground.")
    parser.add_argument("--host", help="address to listen on (env NNPLAY_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (env NNPLAY_PORT, default 8000)")
    return parser.parse_args(argv)


class Server(uvicorn.Server):
    """uvicorn's server, telling the app the moment its shutdown begins (SIGTERM, Ctrl-C):
    `app.state.stopping` is set, and long requests end early instead of being waited for."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.app.state.stopping.set()
        super().handle_exit(sig, frame)


def main(argv: list[str] | None = None) -> None:
    from app.main import create_app

    args = parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port)
    print(f"nnplay: serving on http://{settings.host}:{settings.port}", flush=True)
    app = create_app(settings)
    # Messages over the limit get an error answer; far larger ones are cut off by uvicorn.
    ws_max_size = max(1 << 20, 4 * settings.max_message_bytes)
    # No per-message deflate: frames are mostly base64 heatmaps that compress little, and
    # zlib on every frame cost a fifth of the server's CPU with 50 sessions playing.
    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            ws_max_size=ws_max_size, ws_per_message_deflate=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    Server(config, app).run()


if __name__ == "__main__":
    main()
