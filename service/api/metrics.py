"""Prometheus metrics of one app (own registry, so several apps in one test process do not collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]

_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)


class Metrics:
    """Request counts and latencies by route template, and scoring outcomes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "catchall_http_requests",
            "HTTP requests by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "catchall_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ("route",),
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.scores = Counter(
            "catchall_scores",
            "Shipments scored and stored, by action.",
            ("action",),
            registry=self.registry,
        )
        self.score_batch = Histogram(
            "catchall_score_batch_shipments",
            "Shipments per scoring pipeline call (concurrent requests are scored together).",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.ready = Gauge(
            "catchall_ready", "1 when model, graph and database are ready.", registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
