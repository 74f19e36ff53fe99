"""Per-client rate limits: token buckets by client address (docs/PROTOCOL.md, "Limits").

A bucket holds at most `burst` tokens and gains `rate` a second; a request takes one (or
its cost). An empty bucket says how long until the next token: the server answers 429
with ``Retry-After`` (HTTP) or an ``error`` with ``retry_after`` (the socket stays open).

`RateLimit` is the HTTP middleware (added by `app.security.install`); the live stream keeps
its own `Limiter` for socket messages (app/live.py).
"""

from __future__ import annotations

import math
import threading
import time

from app.config import Settings
from app.jsonsafe import SafeJSONResponse

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEYS = 10_000  # addresses remembered; full buckets are forgotten first


class TokenBucket:
    """`burst` tokens at most, `rate` more a second (monotonic clock)."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, cost: float = 1.0, now: float | None = None) -> float:
        """Take `cost` tokens: 0.0 if there were enough, else the seconds until there are
        (nothing taken then)."""
        self._refill(time.monotonic() if now is None else now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (cost - self.tokens) / self.rate

    def charge(self, cost: float, now: float | None = None) -> None:
        """Take `cost` tokens after the fact (the bucket may go below zero: a debt)."""
        self._refill(time.monotonic() if now is None else now)
        self.tokens -= cost

    def wait(self, now: float | None = None) -> float:
        """Seconds until the bucket is out of debt (0.0 if it is not in debt)."""
        self._refill(time.monotonic() if now is None else now)
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate >= self.burst


class Limiter:
    """One `TokenBucket` per key (a client address); thread-safe."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        """0.0 if `key` may go on, else the seconds until it may (see `TokenBucket.take`)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget_full()
                bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            return bucket.take(cost)

    def _forget_full(self) -> None:
        now = time.monotonic()
        for key in [k for k, b in self._buckets.items() if b.full(now)]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # all busy: forget the oldest half
            for key in list(self._buckets)[:MAX_KEYS // 2]:
                del self._buckets[key]


def client_address(scope) -> str:
    """The client's address as the server sees it (uvicorn applies X-Forwarded-For from
    the proxies it trusts: FORWARDED_ALLOW_IPS)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def retry_after(seconds: float) -> int:
    """Whole seconds for a ``Retry-After`` header: at least 1."""
    return max(1, math.ceil(seconds))


def creates_session(method: str, path: str) -> bool:
    """Whether the request makes a new session: ``POST /api/sessions``, a page view of
    ``/`` (a provisional session) and a fork (``POST /ui/{id}/fork``)."""
    if method == "POST":
        return path.rstrip("/") == "/api/sessions" or (
            path.startswith("/ui/") and path.endswith("/fork"))
    return method == "GET" and path == "/"


class RateLimit:
    """429 with Retry-After for a client address over its rate of new sessions or of
    state-changing requests (the settings' ``sessions_*`` and ``changes_*``)."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.sessions = Limiter(settings.sessions_per_minute / 60.0, settings.sessions_burst)
        self.changes = Limiter(settings.changes_per_second, settings.changes_burst)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        address = client_address(scope)
        wait = 0.0
        what = ""
        if creates_session(method, path):
            wait, what = self.sessions.take(address), "new sessions"
        if not wait and method in STATE_CHANGING:
            wait, what = self.changes.take(address), "changes"
        if not wait:
            return await self.app(scope, receive, send)
        after = retry_after(wait)
        response = SafeJSONResponse(
            {"detail": {"field": "rate", "message": f"too many {what} from this address; "
                                                    f"try again in {after} s"}},
            status_code=429, headers={"Retry-After": str(after)})
        await response(scope, receive, send)
