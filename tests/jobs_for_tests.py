"""Job functions the job tests enqueue by dotted path (`tests.jobs_for_tests.<name>`)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from crm.auth.actor import SYSTEM
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.orgs.models import Org
from workers import progress

# In-process jobs (embedded runner) coordinate with the test through module state; they touch
# no database, since the test's rolled-back transaction is invisible from a pool thread.
_gates: dict[str, threading.Event] = {}
_attempts: Counter[str] = Counter()


def _gate(token: str) -> threading.Event:
    return _gates.setdefault(token, threading.Event())


def release(token: str) -> None:
    _gate(token).set()


def halfway_then_wait(token: str) -> dict:
    progress.report(0.5)
    if not _gate(token).wait(timeout=10):
        raise TimeoutError("the test never released the job")
    return {"token": token}


def refuse(code: str) -> None:
    raise DomainError(code, "the uploaded file is not a spreadsheet", details={"row": 3})


def fail_once(token: str) -> dict:
    _attempts[token] += 1
    if _attempts[token] == 1:
        raise RuntimeError("a flaky dependency")
    return {"attempts": _attempts[token]}


def always_fail() -> None:
    raise RuntimeError("internal detail that must not reach the API")


# Jobs for a real `python -m workers.worker` process: they use the Redis and database that the
# worker entry configured, and leave a trace in Redis the test can read.


def counted_orgs_after_gate(gate_key: str) -> dict:
    progress.report(0.5)
    if runtime.redis.blpop([gate_key], timeout=10) is None:
        raise TimeoutError("the test never opened the gate")
    with db.unit_of_work(SYSTEM) as session:
        return {"orgs": session.scalar(select(func.count()).select_from(Org))}


def logged_refusal(log_key: str) -> None:
    runtime.redis.rpush(log_key, "ran")
    raise DomainError("file_unreadable", "the uploaded file is not a spreadsheet")


def logged_fail_once(log_key: str) -> dict:
    runs = runtime.redis.rpush(log_key, "ran")
    if runs == 1:
        raise RuntimeError("a flaky dependency")
    return {"runs": runs}


def logged_failure(log_key: str) -> None:
    runtime.redis.rpush(log_key, "ran")
    raise RuntimeError("internal detail that must not reach the API")
