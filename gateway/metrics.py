"""Prometheus metrics: request counts and latencies, decisions by outcome."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("livegate_http_requests_total", "HTTP requests", ["endpoint", "method", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("livegate_http_request_seconds", "HTTP request latency", ["endpoint"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DECISIONS = Counter("livegate_verification_decisions_total", "Verification decisions", ["decision"],
                    registry=REGISTRY)


def observe_decision(decision: str | None) -> None:
    DECISIONS.labels(decision or "none").inc()


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g._t0 = time.perf_counter()

    @app.after_request
    def _count(resp):
        endpoint = request.endpoint or "unknown"
        REQUESTS.labels(endpoint, request.method, str(resp.status_code)).inc()
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.get("_t0", time.perf_counter()))
        return resp

    @app.get("/metrics")
    def metrics():
        """Prometheus exposition."""
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
