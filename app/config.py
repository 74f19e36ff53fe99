"""Settings: where the server listens and the limits that keep one user from starving others.

Every field can be set from the environment (``NNPLAY_<FIELD>`` in upper case, e.g.
``NNPLAY_PORT=9000``, ``NNPLAY_MAX_SESSIONS=50``); the command-line flags of
``nnplay`` override the host and port.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Host header names answered, comma-separated, any port (others get 400): `*` for any,
    # `*.example.org` for its subdomains. The loopback names (localhost, 127.0.0.1, [::1])
    # are always answered. Empty: only those and `host` when `host` is loopback, any name
    # when it is not (0.0.0.0 behind a proxy: list the public names here).
    allowed_hosts: str = ""
    # Origins whose pages may change state (POST/PUT/PATCH/DELETE) or open the socket,
    # besides the server's own (the Host header's): `scheme://host[:port]`, comma-separated.
    # Others get 403 (field "origin"); a request without an Origin header passes.
    allowed_origins: str = ""
    # Where session documents are kept: sqlite:///path.db, redis://host:port/db or memory://
    # (empty: sqlite, nnplay.db in data_dir).
    store: str = ""
    data_dir: str = "./data"
    save_interval_seconds: float = 1.0  # while training plays, progress is written this often
    store_max_sessions: int = 10_000  # documents kept; the longest idle go first
    lease_seconds: float = 5.0  # redis: a replica's hold on a session lasts this long unrenewed
    # Sessions held in memory (claimed ones; see provisional_seconds): at the limit the
    # least recently used idle one is written to the store and let go ("evicted").
    max_sessions: int = 500
    session_idle_seconds: float = 1800.0  # a session nobody touched for this long is dropped
    max_points: int = 5000
    max_upload_bytes: int = 1_000_000  # any request body: CSV uploads, model documents
    max_message_bytes: int = 65_536  # one WebSocket message from a client
    # Work one request may cost: a gradient check ends after this long with what it
    # checked (also when its client leaves); a step trace or a forward answer that would
    # hold more numbers than max_answer_values (about 20 bytes of JSON each) is refused
    # with 413 before it is built.
    gradcheck_seconds: float = 2.0
    max_answer_values: int = 200_000
    heatmap_size: int = 20  # per-neuron maps, pixels a side (6x8 frames stay under 64 KB)
    boundary_size: int = 60  # the decision-boundary picture, pixels a side (3 x heatmap_size:
    # one pass over the plane gives both pictures)
    frame_history_max: int = 5000  # loss-history points kept per session
    # Training work done in one go before a frame can go out: with the frame, about 67
    # turns a second for the 6x8 network, a little more than a 60 Hz display shows.
    train_chunk_seconds: float = 0.010
    train_threads: int = 1  # threads running training chunks (the compiled kernel frees the GIL)
    worker_threads: int = 2  # threads building frames and applying messages
    # ---- fair use (app/limits.py, app/store.py, app/live.py) ------------------------
    # Per client address, token buckets: a burst of `*_burst`, refilled at the rate. Over
    # the limit: 429 with Retry-After (HTTP), an `error` with `retry_after` (socket). Many
    # people behind one address (a classroom's NAT, a proxy not trusted for
    # X-Forwarded-For) share these: raise them there.
    sessions_per_minute: float = 120.0  # new sessions: POST /api/sessions, GET /, a fork
    sessions_burst: int = 200
    changes_per_second: float = 30.0  # state-changing HTTP requests (POST, PUT, ...)
    changes_burst: int = 300
    messages_per_second: float = 200.0  # WebSocket messages, all of an address's sockets
    messages_burst: int = 1000
    # Processor seconds one socket may use per second, on average (a burst of 1 s): its
    # messages' work and the frames built for it. Past it, that client's next message or
    # frame waits its turn; nobody else's does.
    work_share: float = 0.25
    sockets_per_session: int = 16  # more sockets on one session are refused (close 4429)
    sockets_per_client: int = 64  # ... and more from one client address
    # A client whose socket has not taken a message for this long (its send stalled: it
    # does not read) is dropped (close 4408) and its session pauses.
    send_timeout_seconds: float = 20.0
    # A page view's session (GET /) is provisional: in memory only, not counted in
    # max_sessions, dropped after this long unless the page's script claims it (its socket
    # connects or it changes something); at most `provisional_per_client` per address
    # (the oldest go first) and `provisional_max` in all.
    provisional_seconds: float = 60.0
    provisional_per_client: int = 20
    provisional_max: int = 1000
    # A session with no socket and no use for this long leaves memory (written to the
    # store first: /s/{id} brings it back).
    release_seconds: float = 300.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ``NNPLAY_*`` variables, then `overrides` (e.g. CLI flags)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"NNPLAY_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = type(f.default)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ValueError(
                    f"NNPLAY_{f.name.upper()}={raw!r}: expected {kind.__name__}"
                ) from None
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    def limits(self) -> dict:
        """The limits a client may need to know (sent in every snapshot); the network's
        come from the settings table (app/ui_table.py), like every other setting's."""
        from app.ui_table import BY_NAME

        hidden = BY_NAME["hidden"]
        return {
            "max_hidden_layers": hidden.most,
            "max_neurons_per_layer": int(hidden.hi),
            "max_points": self.max_points,
            "max_upload_bytes": self.max_upload_bytes,
            "max_message_bytes": self.max_message_bytes,
        }
