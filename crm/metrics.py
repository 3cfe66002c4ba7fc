"""`GET /metrics` in the Prometheus text format, one web process's view.

Each gunicorn runs one process on its own port, and Prometheus scrapes every one of them there
(never through nginx, which would show one process at random): request latency by endpoint and
the consoles and calls of this process add up across processes; the queue figures are Redis's,
the same from every process (aggregate them with max, not sum)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import func, select

from crm.auth.actor import SYSTEM
from crm.extensions import db, runtime
from dialer.models import Call
from workers.queues import QUEUES

# a claim or a list answers in milliseconds, an import upload or an export in seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class LiveFigures(Collector):
    """Read when scraped: queue depths and failed jobs (Redis), and this process's consoles and
    calls in progress."""

    def __init__(self, consoles: Callable[[], int]) -> None:
        self._consoles = consoles

    def collect(self) -> Iterator[GaugeMetricFamily]:
        consoles = GaugeMetricFamily(
            "loanline_consoles_connected", "Agent consoles connected to this process (/dialer)"
        )
        consoles.add_metric([], self._consoles())
        yield consoles
        calls = GaugeMetricFamily(
            "loanline_calls_in_progress", "Calls placed by this process that have not ended"
        )
        calls.add_metric([], _calls_in_progress())
        yield calls
        if runtime.redis is not None:
            yield from _queue_figures()


def _calls_in_progress() -> int:
    heartbeat = runtime.dialer.heartbeat
    server_id = heartbeat.server_id if heartbeat is not None else None
    if server_id is None:  # this process has placed no call yet
        return 0
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        open_calls = select(func.count()).where(Call.server_id == server_id, Call.state != "ended")
        return session.scalar(open_calls) or 0


def _queue_figures() -> Iterator[GaugeMetricFamily]:
    jobs = GaugeMetricFamily(
        "loanline_queue_jobs",
        "RQ jobs by queue and state: queued (the depth), started, scheduled (a retry waiting "
        "out its back-off), failed (failed for good, kept 7 days)",
        labels=["queue", "state"],
    )
    try:
        with runtime.redis.pipeline() as pipe:
            for name in QUEUES:
                queue = Queue(name, connection=runtime.redis)
                pipe.llen(queue.key)
                for registry in (queue.started_job_registry, queue.scheduled_job_registry):
                    pipe.zcard(registry.key)
                pipe.zcard(queue.failed_job_registry.key)
            counts = pipe.execute()
    except RedisError:
        return  # Redis down: /healthz says so; a scrape still gets the rest
    states = ("queued", "started", "scheduled", "failed")
    for n, name in enumerate(QUEUES):
        for k, state in enumerate(states):
            jobs.add_metric([name, state], counts[n * len(states) + k])
    yield jobs


def init_app(app: Flask, consoles: Callable[[], int]) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "loanline_http_request_duration_seconds",
        "HTTP request latency by endpoint (Flask endpoint name; Socket.IO traffic excluded)",
        ["method", "endpoint"],
        buckets=BUCKETS,
        registry=registry,
    )
    answered = Counter(
        "loanline_http_requests",
        "HTTP requests answered, by endpoint and status",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    registry.register(LiveFigures(consoles))

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"  # a 404's path would be unbounded
            latency.labels(request.method, endpoint).observe(time.perf_counter() - started)
            answered.labels(request.method, endpoint, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
