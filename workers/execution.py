"""The one wrapper every job runs in, under either runner: progress routing and failure rules."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from rq import get_current_job
from rq.job import Job

from crm.compliance import audit
from crm.errors import DomainError
from workers import progress

# Back-off in seconds before each retry after an unexpected error: three retries, then failed.
RETRY_INTERVALS: tuple[int, ...] = (5, 30, 120)

# Tracebacks stay in the worker log; the status API only ever shows these.
JOB_FAILED: dict[str, Any] = {
    "code": "job_failed",
    "message": "the job failed after retries; see the worker log",
    "details": {},
}
JOB_STOPPED: dict[str, Any] = {
    "code": "job_stopped",
    "message": "the job was stopped or canceled before it finished",
    "details": {},
}


def execute(func_path: str, *args: Any) -> Any:
    """Run the job function at `func_path` (e.g. "workers.jobs.import_leads.run") with `args`.

    Under an RQ worker, progress goes to the job's meta and a DomainError fails the job at once:
    a refusal (a broken upload, a lead that is gone) would give the same answer on every retry.
    """
    func = resolve(func_path)
    job = get_current_job()
    with audit.accessed_via(f"job {func_path}"):
        if job is None:  # the inline runner records progress and failures itself
            return func(*args)
        with progress.reporting_to(partial(progress.save_to_meta, job)):
            try:
                return func(*args)
            except DomainError as err:
                _refuse(job, err)
                raise


def resolve(func_path: str) -> Callable[..., Any]:
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, DomainError)


def error_for(exc: BaseException) -> dict[str, Any]:
    """What the status API shows for a job that ended with `exc`."""
    if isinstance(exc, DomainError):
        return {"code": exc.code, "message": exc.message, "details": exc.details}
    return dict(JOB_FAILED)


def _refuse(job: Job, err: DomainError) -> None:
    job.meta["error"] = error_for(err)
    job.save_meta()
    # get_current_job() is the very Job instance the worker's handle_job_failure() asks
    # `should_retry`, so this stops the retries RQ would otherwise schedule.
    job.retries_left = 0
