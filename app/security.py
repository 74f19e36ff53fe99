"""What every request passes before a route sees it: the Host allow-list, the Origin check,
the body's size and JSON nesting, and the security headers on every answer.

`install(app, settings)` adds them in one place. From the outside in:

- `TrustedHostMiddleware` (Starlette): a Host header not in `allowed_hosts(settings)` gets
  400. The share link is built from the Host header, and a server on loopback must not
  answer a DNS-rebinding page's requests.
- `SecurityHeaders`: a Content-Security-Policy with no inline script, nosniff, no framing,
  the referrer kept to the site itself.
- `OriginCheck`: a state-changing request (POST, PUT, PATCH, DELETE) or a WebSocket whose
  `Origin` is neither the server's own nor listed in `NNPLAY_ALLOWED_ORIGINS` gets 403
  (field "origin"). Requests without an Origin (curl, scripts, tests) pass: a browser
  always sends one on these.
- `RateLimit` (app/limits.py): a client address over its rate of new sessions or of
  state-changing requests gets 429 with Retry-After.
- `BodyLimit`: a body over `max_upload_bytes` gets 413, declared or chunked.
- `JsonDepthLimit`: a JSON body nesting deeper than `jsonsafe.MAX_JSON_DEPTH` gets 422
  before any parser sees it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app import jsonsafe
from app.config import Settings
from app.errors import TooLarge
from app.jsonsafe import SafeJSONResponse
from app.limits import RateLimit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# Scripts only from the server's own files (no inline script or handler, no eval); styles
# may be inline (the page sets style attributes); images also from data: and blob: URLs
# (the PNG export draws the network's SVG through one); the socket is 'self'.
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


def install(app: FastAPI, settings: Settings) -> None:
    """Add this module's middleware to `app` (the last added runs first)."""
    app.add_middleware(JsonDepthLimit)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(RateLimit, settings=settings)  # after the checks, before the body
    app.add_middleware(OriginCheck, allowed=allowed_origins(settings))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings),
                       www_redirect=False)


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host names answered (any port). `allowed_hosts` empty: every name when the
    server listens beyond loopback, else the loopback names and the bound host. Otherwise
    the listed names (``*`` for any, ``*.example.org`` for its subdomains) plus the
    loopback names, always: a request naming loopback comes from this machine (a health
    check), never from a rebound DNS name."""
    listed = _names(settings.allowed_hosts)
    if not listed:
        if not is_loopback(settings.host):
            return ["*"]
        listed = [settings.host]
    if "*" in listed:
        return ["*"]
    return list(dict.fromkeys([*LOOPBACK_NAMES, *(_host_name(n) for n in listed)]))


def _host_name(entry: str) -> str:
    """An allowed-hosts entry as the Host header's name reads: lower case, an IPv6 address
    in brackets, a port dropped (every port is allowed)."""
    name = entry.lower()
    try:
        if ipaddress.ip_address(name.strip("[]")).version == 6:
            return f"[{name.strip('[]')}]"
    except ValueError:
        pass
    if name.startswith("["):  # [v6]:port
        return name.split("]")[0] + "]"
    return name.rsplit(":", 1)[0]


def _origin(text: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin such as ``https://example.org``; None if it is not
    one (``null``, a path, no host)."""
    try:
        parts = urlsplit(text.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def allowed_origins(settings: Settings) -> frozenset[tuple[str, str, int]]:
    """The origins of `allowed_origins` (``scheme://host[:port]``, comma-separated);
    ValueError naming one that is not an origin."""
    out = set()
    for text in _names(settings.allowed_origins):
        origin = _origin(text)
        if origin is None:
            raise ValueError(f"NNPLAY_ALLOWED_ORIGINS: {text!r} is not an origin "
                             "(scheme://host[:port])")
        out.add(origin)
    return frozenset(out)


def same_origin(origin: tuple[str, str, int], host_header: str) -> bool:
    """Whether `origin` is this server as the request reached it: the Host header's name
    and port. The scheme is not compared (a proxy may end TLS in front of the server), nor
    the port when the Host header has none (a proxy that forwards only the name, as
    nginx's ``$host`` does)."""
    try:
        parts = urlsplit(f"//{host_header.strip().lower()}")
        port = parts.port
    except ValueError:
        return False
    if parts.hostname != origin[1]:
        return False
    return port is None or port == origin[2]


def _refuse(status: int, field: str, message: str) -> SafeJSONResponse:
    return SafeJSONResponse({"detail": {"field": field, "message": message}},
                            status_code=status)


class OriginCheck:
    """403 for a state-changing request or a WebSocket from a page of another site."""

    def __init__(self, app, allowed: frozenset) -> None:
        self.app = app
        self.allowed = allowed

    def permits(self, headers: Headers) -> bool:
        text = headers.get("origin")
        if text is None:
            return True
        origin = _origin(text)
        if origin is None:
            return False
        return origin in self.allowed or same_origin(origin, headers.get("host", ""))

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http" and scope["method"] not in STATE_CHANGING or kind not in (
                "http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.permits(headers):
            return await self.app(scope, receive, send)
        response = _refuse(403, "origin", f"requests from {headers['origin']!r} are not "
                                          "accepted here (not this site's origin)")
        if kind == "http":
            return await response(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await receive()  # websocket.connect
            return await response(scope, receive, send)
        await send({"type": "websocket.close", "code": 1008})  # the server answers 403


class SecurityHeaders:
    """The headers of `SECURITY_HEADERS` on every HTTP answer (a route may set its own)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413, declared (Content-Length) or
    streamed (chunked): the route never sees more than `limit` bytes. Whatever the route's
    body parser makes of the cut-off stream (FastAPI answers 400 "error parsing the body"),
    the answer is the 413."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _response(self) -> SafeJSONResponse:
        return _refuse(413, "body", f"over the limit of {self.limit} bytes")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return await self._response()(scope, receive, send)
        seen = 0
        over = False
        started = False

        async def limited_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise TooLarge(f"over the limit of {self.limit} bytes", "body")
            return message

        async def guarded_send(message):
            nonlocal started
            if over:  # the route's own answer to the cut-off body is dropped
                if not started:
                    started = True
                    await self._response()(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except TooLarge:
            if started:
                raise
            await self._response()(scope, receive, send)


class JsonDepthLimit:
    """A JSON body (``application/json`` or ``+json``) nesting deeper than
    `jsonsafe.MAX_JSON_DEPTH` is refused with 422 (field "body") before FastAPI parses it:
    the standard parser recurses once per level and a deep one would exhaust the stack."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            return await self.app(scope, receive, send)
        kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if not (kind == "application/json" or kind.endswith("+json")):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        limit = jsonsafe.MAX_JSON_DEPTH
        if jsonsafe.depth(body) > limit:
            response = _refuse(422, "body", f"JSON nested deeper than {limit} levels")
            return await response(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
