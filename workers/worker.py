"""The RQ worker entry point: builds the app once, then runs jobs from the queues it is given.

    REDIS_URL=redis://… DATABASE_URL=… SECRET_KEY=… PII_KEYS=… \\
        .venv/bin/python -m workers.worker [--burst] [queue ...]

Queues default to all of workers.queues.QUEUES, served in that order. The worker also runs RQ's
scheduler, which re-enqueues jobs whose retry back-off has elapsed (plain `rq worker` needs
`--with-scheduler` for that). `--burst` quits once the queues are empty.

A job whose worker died (SIGKILL, OOM, power) stays "started" in RQ until its execution's
heartbeat expires (about 90 s) and a worker's maintenance pass, every 10 minutes by default,
notices it. So at start the worker looks for jobs left by dead workers of this host and hands
them to RQ's own abandoned-job handling at once (retried, without back-off, while retries are
left, else failed with their progress), and it runs maintenance every minute for workers that
died elsewhere.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

from redis import Redis
from rq import Queue, Worker
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from crm import create_app
from crm.extensions import db, runtime
from workers.queues import QUEUES

log = logging.getLogger(__name__)
MAINTENANCE_SECONDS = 60
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        sys.exit(
            "workers.worker: REDIS_URL is not set; without Redis (embedded mode) jobs run "
            "inside the web process and no worker is needed"
        )
    create_app()
    os.register_at_fork(after_in_child=_in_work_horse)
    queues = args.queues or list(QUEUES)
    requeue_abandoned(runtime.redis, queues)
    worker = Worker(queues, connection=runtime.redis, maintenance_interval=MAINTENANCE_SECONDS)
    worker.work(burst=args.burst, with_scheduler=True)


def _in_work_horse() -> None:
    # Each job runs in a forked work horse; a pooled DB connection inherited from this process
    # must not be used by both (SQLAlchemy: "Using Connection Pools with ... os.fork()").
    db.engine.dispose(close=False)
    # RQ puts the horse in a process group of its own, so it outlives a SIGKILLed worker and
    # would run on, unwatched, while the next worker requeues its job: it dies with the worker.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def requeue_abandoned(connection: Redis, queues: Sequence[str]) -> list[str]:
    """Expire the started-registry entries of jobs whose worker is gone, then let RQ clean the
    registry: its cleanup retries each such job (if retries are left) or fails it. Returns the
    job ids found. A worker on another host is left to RQ's heartbeat expiry."""
    found = []
    for name in queues:
        registry = StartedJobRegistry(name, connection=connection)
        dead = [
            f"{job_id}:{execution_id}"
            for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False)
            if not _worker_alive(connection, job_id, execution_id)
        ]
        if dead:
            connection.zadd(registry.key, dict.fromkeys(dead, 0), xx=True)
            registry.cleanup()
            job_ids = [key.split(":")[0] for key in dead]
            _skip_back_off(Queue(name, connection=connection), job_ids)
            found += job_ids
    if found:
        log.warning("requeued or failed jobs of dead workers: %s", ", ".join(found))
    return found


def _skip_back_off(queue: Queue, job_ids: list[str]) -> None:
    """Run the retried ones now: nothing went wrong in the job itself, and the dead worker's
    scheduler lock would hold back every scheduled retry for up to two minutes."""
    for job in Job.fetch_many(job_ids, connection=queue.connection):
        if job is not None and job.get_status() == JobStatus.SCHEDULED:
            queue.scheduled_job_registry.remove(job)
            queue.enqueue_job(job)


def _worker_alive(connection: Redis, job_id: str, execution_id: str) -> bool:
    try:
        execution = Execution.fetch(execution_id, job_id, connection)
    except ValueError:
        return False  # the execution's heartbeat key expired
    key = Worker.redis_worker_namespace_prefix + execution.worker_name
    worker = Worker.find_by_key(key, connection=connection)
    if worker is None:
        return False
    if worker.hostname != socket.gethostname():
        return True
    # this process has not registered yet, so its own pid (pid 1 again after a container
    # restart) means a predecessor's registration
    if worker.pid == os.getpid():
        return False
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workers.worker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--burst", action="store_true", help="quit once the queues are empty")
    parser.add_argument("queues", nargs="*", metavar="queue", help=f"default: {' '.join(QUEUES)}")
    args = parser.parse_args(argv)
    # checked here, not with choices=: argparse rejects an empty nargs="*" list against choices
    unknown = [q for q in args.queues if q not in QUEUES]
    if unknown:
        parser.error(f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(QUEUES)}")
    return args


if __name__ == "__main__":
    main()
