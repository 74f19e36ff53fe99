"""`nnplay --host H --port P`: serve the playground with uvicorn.

Flags override ``NNPLAY_HOST`` / ``NNPLAY_PORT``, which override the defaults
(127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from app.config import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nnplay", description="Serve the nnplay playground.")
    parser.add_argument("--host", help="address to listen on (env NNPLAY_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (env NNPLAY_PORT, default 8000)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port)
    # The factory re-reads the environment in the server process: pass the flags along.
    os.environ["NNPLAY_HOST"] = settings.host
    os.environ["NNPLAY_PORT"] = str(settings.port)
    print(f"nnplay: serving on http://{settings.host}:{settings.port}", flush=True)
    # Messages over the limit get an error answer; far larger ones are cut off by uvicorn.
    ws_max_size = max(1 << 20, 4 * settings.max_message_bytes)
    # No per-message deflate: frames are mostly base64 heatmaps that compress little, and
    # zlib on every frame cost a fifth of the server's CPU with 50 sessions playing.
    uvicorn.run("app.main:create_app", factory=True, host=settings.host, port=settings.port,
                ws_max_size=ws_max_size, ws_per_message_deflate=False)


if __name__ == "__main__":
    main()
