"""What `GET /metrics` reports, in the Prometheus text format (`prometheus-client`).

One `Metrics` per app, each with its own registry (nothing is registered at import):
sessions held and playing are read from the session store when scraped; the counters and
the store's latency histogram are bumped where the work happens (app/live.py,
app/store.py, app/redis_store.py).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Store calls take about a millisecond on loopback; the top buckets catch an outage's timeouts.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The app's counters, gauges and histograms, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_held = Gauge("nnplay_sessions_held", "Sessions held in memory by this "
                                   "process", registry=r)
        self.sessions_playing = Gauge("nnplay_sessions_playing", "Sessions held here whose "
                                      "training plays", registry=r)
        self.frames_sent = Counter("nnplay_frames_sent", "Frames and snapshots sent to "
                                   "clients on the live stream", registry=r)
        self.epochs_trained = Counter("nnplay_epochs_trained", "Epochs completed by the "
                                      "training loop while sessions play", registry=r)
        self.store_seconds = Histogram("nnplay_store_seconds", "Latency of the session "
                                       "store, by operation (read: a document loaded, "
                                       "write: one saved)", ["op"], registry=r,
                                       buckets=LATENCY_BUCKETS)
        self.lease_moves = Counter("nnplay_lease_moves", "Sessions that changed replica "
                                   "(redis store): 'in' taken from another replica, 'out' "
                                   "let go on another's request", ["direction"], registry=r)
        for op in ("read", "write"):
            self.store_seconds.labels(op)
        for direction in ("in", "out"):
            self.lease_moves.labels(direction)

    def watch_sessions(self, held: Callable[[], float], playing: Callable[[], float]) -> None:
        """Read the two session gauges from these functions at each scrape."""
        self.sessions_held.set_function(held)
        self.sessions_playing.set_function(playing)

    def render(self) -> bytes:
        """The text exposition format (CONTENT_TYPE)."""
        return generate_latest(self.registry)
