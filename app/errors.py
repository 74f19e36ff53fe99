"""The web layer's errors: each names the field at fault and maps to one HTTP status.

Routes raise these (or let the engine's `EngineError` through); `install_handlers`
turns both into ``{"detail": {"field": ..., "message": ...}}`` responses.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import EngineError


class AppError(Exception):
    """A request the server refuses; `status` is the HTTP status it answers with."""

    status = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def detail(self) -> dict:
        return {"field": self.field, "message": self.message}


class BadInput(AppError):
    status = 422


class SessionNotFound(AppError):
    status = 404

    def __init__(self, session_id: str = "") -> None:
        super().__init__("no such session (it may have expired)", "id")


class TooManySessions(AppError):
    status = 503

    def __init__(self, limit: int) -> None:
        super().__init__(f"the server holds its limit of {limit} sessions; try again later", None)


class TooLarge(AppError):
    status = 413


class Busy(AppError):
    status = 409


def error_detail(exc: Exception) -> dict:
    """``{"field", "message"}`` for an AppError, an EngineError or anything else."""
    if isinstance(exc, AppError):
        return exc.detail()
    if isinstance(exc, EngineError):
        return {"field": exc.field, "message": exc.message}
    return {"field": None, "message": str(exc)}


def field_path(loc) -> str:
    """A pydantic error location as a path: ``("body", "weights", 1, 0)`` -> ``weights[1][0]``."""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "body"


def install_handlers(app: FastAPI) -> None:
    """Answer every refused request with a 4xx naming the field."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status)

    @app.exception_handler(EngineError)
    async def _engine_error(request: Request, exc: EngineError) -> JSONResponse:
        return JSONResponse({"detail": error_detail(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
        return JSONResponse(
            {"detail": {"field": field_path(first.get("loc", ())), "message": first["msg"]}},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        # FastAPI answers a JSON body that is not UTF-8 with a bare 400 (found by fuzzing):
        # refused like any JSON that cannot be read, naming the body.
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            return JSONResponse({"detail": {"field": "body",
                                            "message": "not readable as JSON (not UTF-8 text)"}},
                                status_code=422)
        return await http_exception_handler(request, exc)
