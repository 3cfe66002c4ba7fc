"""Job progress for the status API: jobs call `report(fraction)`, the runner stores it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rq.job import Job

# Jobs report per batch; a progress bar needs no more than two updates a second, and Redis is
# spared a write per batch of a million-row import.
MIN_INTERVAL_SECONDS = 0.5


@dataclass
class _Sink:
    write: Callable[[float], None]
    last_write: float = float("-inf")


_sink: ContextVar[_Sink | None] = ContextVar("loanline_job_progress", default=None)


def report(fraction: float) -> None:
    """Record how far the running job is (clamped to 0..1); a no-op outside a job."""
    sink = _sink.get()
    if sink is None:
        return
    value = min(max(fraction, 0.0), 1.0)
    now = time.monotonic()
    if value < 1.0 and now - sink.last_write < MIN_INTERVAL_SECONDS:
        return
    sink.last_write = now
    sink.write(value)


@contextmanager
def reporting_to(write: Callable[[float], None]) -> Iterator[None]:
    """Send the `report()` calls made inside the block (in this context) to `write`."""
    token = _sink.set(_Sink(write))
    try:
        yield
    finally:
        _sink.reset(token)


def save_to_meta(job: Job, fraction: float) -> None:
    """The RQ sink: the status API reads `job.meta["progress"]`."""
    job.meta["progress"] = fraction
    job.save_meta()
