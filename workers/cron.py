"""The periodic-job process: enqueues workers/schedule.py's jobs on RQ when they are due.

    REDIS_URL=redis://… .venv/bin/python -m workers.cron

It only enqueues (RQ's CronScheduler); `python -m workers.worker` processes run the jobs. RQ's
cron scheduler elects no leader, so two would enqueue every job twice: this process enqueues
only while it holds a lock in Redis, renewed every few seconds, and a second one stands by
until the lock is free (released at SIGTERM, or expired with a process that died), so one can
run on each of two machines. A holder that finds its lock gone (a pause longer than the lock's
life) exits instead of enqueuing beside the new holder. `rq worker --with-scheduler` does not
replace it: that scheduler only moves delayed jobs and retries onto their queues.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress

from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock
from rq.cron import CronScheduler

from workers.execution import execute
from workers.runner import JOB_TIMEOUT_SECONDS, KEEP_SECONDS
from workers.schedule import SCHEDULE, Periodic

log = logging.getLogger(__name__)
LOCK_NAME = "loanline:cron:leader"
LOCK_SECONDS = 30
# the holder renews and the standby retries this often, well inside the lock's life
RENEW_SECONDS = 5.0


def build(connection: Redis, schedule: Sequence[Periodic] = SCHEDULE) -> CronScheduler:
    """A CronScheduler with every periodic job registered (not started)."""
    scheduler = CronScheduler(connection=connection)
    for job in schedule:
        scheduler.register(
            execute,
            job.queue,
            args=(job.func,),
            interval=int(job.interval.total_seconds()) if job.interval else None,
            cron=job.cron,
            job_timeout=JOB_TIMEOUT_SECONDS,
            failure_ttl=KEEP_SECONDS,
            name=job.name,
        )
    return scheduler


def lead(connection: Redis, stop: threading.Event) -> Lock | None:
    """Wait for the leader lock; None if `stop` came first."""
    # not thread-local: whoever runs the loop renews and releases the token lead() took
    lock = connection.lock(LOCK_NAME, timeout=LOCK_SECONDS, thread_local=False)
    standing_by = False
    while not stop.is_set():
        if lock.acquire(blocking=False):
            log.info("workers.cron: holding the scheduler lock, enqueuing periodic jobs")
            return lock
        if not standing_by:
            log.info("workers.cron: another scheduler holds the lock; standing by")
            standing_by = True
        stop.wait(RENEW_SECONDS)
    return None


def run(scheduler: CronScheduler, lock: Lock, stop: threading.Event) -> None:
    """Enqueue due jobs until `stop`, renewing the lock before each round; raises LockError
    (the lock was lost) rather than enqueue without it."""
    scheduler.register_birth()
    try:
        while not stop.is_set():
            lock.reacquire()
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            stop.wait(min(scheduler.calculate_sleep_interval(), RENEW_SECONDS))
    finally:
        scheduler.register_death()
        with suppress(LockError):  # already expired: nothing to give back
            lock.release()


def main() -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit(
            "workers.cron: REDIS_URL is not set; without Redis (embedded mode) the web process "
            "runs the periodic jobs itself"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    connection = Redis.from_url(url)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    lock = lead(connection, stop)
    if lock is not None:
        run(build(connection), lock, stop)


if __name__ == "__main__":
    main()
