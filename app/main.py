"""The FastAPI application, built by `create_app(settings)`.

``app = create_app()`` at module level is cheap: it wires routes and an empty
session store; the worker threads start with the server (lifespan) and sessions
are created by requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import presets, security
from app.config import Settings
from app.errors import install_handlers
from app.jsonsafe import SafeJSONResponse
from app.live import Live
from app.routes import api, pages, stream, ui
from app.store import Sessions
from app.templating import STATIC_DIR, VENDOR_DIR, VENDOR_FILES


class RevalidatedStatic(StaticFiles):
    """Static files that the browser must revalidate (ETag) before each use.

    ES modules import each other by plain path, so a changed file must never be
    served from a stale cache: ``no-cache`` + ETag gives a cheap 304 when unchanged.
    """

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def _check_vendor() -> None:
    missing = [str(p) for p in VENDOR_FILES.values() if not p.is_file()]
    if missing:
        raise RuntimeError(
            f"nnplay: front-end library missing ({', '.join(missing)}); "
            "run `make setup` (it runs `npm ci`) in the project folder first"
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: routes, static files, the session store and the live stream."""
    settings = settings or Settings.from_env()
    _check_vendor()
    store = Sessions(settings)
    live = Live(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        live.start(asyncio.get_running_loop())
        await store.start()
        saver = asyncio.create_task(store.save_forever())
        try:
            yield
        finally:
            app.state.stopping.set()
            saver.cancel()
            await live.stop()
            await store.close()  # every session written before the process exits

    app = FastAPI(
        title="nnplay",
        summary="A visual neural-network playground: every propagation step, with its numbers.",
        version="0.1.0",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        docs_url=None, redoc_url=None,  # they load from a CDN: see pages.read_api_docs
    )
    app.state.settings = settings
    # Set when the server starts shutting down (app/cli.py's Server): long requests (a
    # gradient check) end early instead of holding the exit up.
    app.state.stopping = threading.Event()
    app.state.store = store
    app.state.live = live
    install_handlers(app)
    security.install(app, settings)  # hosts, origins, body size and nesting, headers
    app.add_middleware(FlushBeforeAnswer, store=store)
    for module in (api, stream, pages, ui, presets):
        app.include_router(module.router)
    app.mount("/static/vendor", RevalidatedStatic(directory=Path(VENDOR_DIR)), name="vendor")
    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", RevalidatedStatic(directory=STATIC_DIR), name="static")
    return app


class FlushBeforeAnswer:
    """What a request changed is written to the session store before its answer starts:
    a person's edit is never lost, even if the process is killed right after."""

    def __init__(self, app, store: Sessions) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)

        async def flushed_send(message):
            if message["type"] == "http.response.start":
                await self.store.flush()
            await send(message)

        await self.app(scope, receive, flushed_send)


app = create_app()
