"""Background jobs behind one interface: in-process threads (embedded) or RQ (production)."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from uuid import uuid4

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from crm.errors import DomainError
from workers import progress
from workers.execution import (
    JOB_FAILED,
    JOB_STOPPED,
    RETRY_INTERVALS,
    error_for,
    execute,
    is_refusal,
)
from workers.queues import QUEUES

log = logging.getLogger(__name__)

# Ids are uuid4 hex; anything else is answered "not found" without a Redis round trip (and
# RQ would read "id:suffix" as an execution key of job "id").
_JOB_ID = re.compile(r"[0-9a-f]{32}")
JOB_TIMEOUT_SECONDS = 3600
KEEP_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class JobInfo:
    id: str
    org_id: int
    user_id: int | None
    status: str  # "queued" | "started" | "finished" | "failed"
    progress: float  # 0..1
    result: Any | None  # the job function's return value (JSON-able dict) when finished
    error: dict | None  # {"code", "message", "details"} when failed


class JobRunner(Protocol):
    def enqueue(
        self,
        func: str,
        *args: Any,
        org_id: int,
        user_id: int | None,
        queue: str = "default",
        description: str = "",
        job_id: str | None = None,
    ) -> str: ...

    def fetch(self, job_id: str) -> JobInfo | None: ...


def _check_queue(queue: str) -> None:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; declare it in workers/queues.py")


@dataclass(frozen=True)
class _Task:
    id: str
    func: str
    args: tuple[Any, ...]
    label: str


class InlineJobRunner:
    """Embedded mode: jobs run on a small thread pool of this process; status lives in memory."""

    def __init__(
        self, retry_intervals: Sequence[int] = RETRY_INTERVALS, synchronous: bool = False
    ) -> None:
        # synchronous: run in the caller's thread, as RQ's is_async=False does (tests that need
        # a job to see the caller's uncommitted transaction)
        self._synchronous = synchronous
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job")
        self._lock = threading.Lock()
        self._jobs: dict[str, JobInfo] = {}
        self._retry_intervals = tuple(retry_intervals)

    def enqueue(
        self,
        func: str,
        *args: Any,
        org_id: int,
        user_id: int | None,
        queue: str = "default",
        description: str = "",
        job_id: str | None = None,
    ) -> str:
        _check_queue(queue)
        task = _Task(job_id or uuid4().hex, func, args, description or func)
        with self._lock:
            self._jobs[task.id] = JobInfo(task.id, org_id, user_id, "queued", 0.0, None, None)
        if self._synchronous:
            self._run(task, 0)
        else:
            self._pool.submit(self._run, task, 0)
        return task.id

    def fetch(self, job_id: str) -> JobInfo | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, task: _Task, attempt: int) -> None:
        self._update(task.id, status="started")
        try:
            with progress.reporting_to(partial(self._set_progress, task.id)):
                result = execute(task.func, *task.args)
        except Exception as exc:
            self._handle_failure(task, attempt, exc)
        else:
            self._update(task.id, status="finished", progress=1.0, result=result)

    def _handle_failure(self, task: _Task, attempt: int, exc: Exception) -> None:
        if not is_refusal(exc) and attempt < len(self._retry_intervals):
            self._retry_later(task, attempt, exc)
            return
        if is_refusal(exc):
            log.info("job %s (%s) refused: %s", task.id, task.label, exc)
        else:
            log.error("job %s (%s) failed after retries", task.id, task.label, exc_info=exc)
        self._update(task.id, status="failed", error=error_for(exc))

    def _retry_later(self, task: _Task, attempt: int, exc: Exception) -> None:
        delay = self._retry_intervals[attempt]
        log.warning("job %s (%s) failed, retry in %ss", task.id, task.label, delay, exc_info=exc)
        self._update(task.id, status="queued")
        # a timer, not a sleep, so a back-off does not hold one of the two pool threads
        timer = threading.Timer(delay, self._pool.submit, (self._run, task, attempt + 1))
        timer.daemon = True
        timer.start()

    def _set_progress(self, job_id: str, fraction: float) -> None:
        self._update(job_id, progress=fraction)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = dataclasses.replace(self._jobs[job_id], **changes)


# A job re-enqueued or scheduled for a retry is still waiting to run, hence "queued".
_STATUS = {
    JobStatus.STARTED: "started",
    JobStatus.FINISHED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


class RQJobRunner:
    """Production: jobs are RQ jobs in Redis, run by `python -m workers.worker` processes."""

    def __init__(self, redis: Redis, retry_intervals: Sequence[int] = RETRY_INTERVALS) -> None:
        self._redis = redis
        self._retry = Retry(max=len(retry_intervals), interval=list(retry_intervals))

    def enqueue(
        self,
        func: str,
        *args: Any,
        org_id: int,
        user_id: int | None,
        queue: str = "default",
        description: str = "",
        job_id: str | None = None,
    ) -> str:
        _check_queue(queue)
        with _queue_reachable():
            job = Queue(queue, connection=self._redis).enqueue(
                execute,
                func,
                *args,
                job_id=job_id or uuid4().hex,
                meta={"org_id": org_id, "user_id": user_id, "progress": 0.0},
                retry=self._retry,
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=KEEP_SECONDS,
                failure_ttl=KEEP_SECONDS,
                description=description or func,
            )
        return job.id

    def fetch(self, job_id: str) -> JobInfo | None:
        if not _JOB_ID.fullmatch(job_id):
            return None
        try:
            with _queue_reachable():
                job = Job.fetch(job_id, connection=self._redis)
        except NoSuchJobError:
            return None
        if "org_id" not in job.meta:  # not enqueued by a runner, so no org may read it
            return None
        return _info(job)


class JobsUnavailable(DomainError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "jobs_unavailable",
            "background jobs cannot be started or read right now (the job queue is unreachable); "
            "try again in a few minutes",
        )


@contextmanager
def _queue_reachable() -> Iterator[None]:
    """Redis down is an outage the caller can wait out (503), not a bug of ours (500)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("job queue unreachable: %s", exc)
        raise JobsUnavailable() from exc


def _info(job: Job) -> JobInfo:
    rq_status = job.get_status(refresh=False)
    status = _STATUS.get(rq_status, "queued")
    error = None
    if status == "failed":
        stopped = rq_status in (JobStatus.STOPPED, JobStatus.CANCELED)
        error = job.meta.get("error") or dict(JOB_STOPPED if stopped else JOB_FAILED)
    return JobInfo(
        id=job.id,
        org_id=job.meta["org_id"],
        user_id=job.meta.get("user_id"),
        status=status,
        progress=1.0 if status == "finished" else job.meta.get("progress", 0.0),
        result=job.return_value() if status == "finished" else None,
        error=error,
    )
