"""The periodic-job process: enqueues workers/schedule.py's jobs on RQ when they are due.

    REDIS_URL=redis://… .venv/bin/python -m workers.cron

It only enqueues (RQ's CronScheduler); `python -m workers.worker` processes run the jobs. Run one
per deployment: RQ's cron scheduler elects no leader, so a second one would enqueue every job
twice (harmless, the jobs are idempotent, but wasted work), and this one refuses to start while
another is alive. `rq worker --with-scheduler` does not replace it: that scheduler only moves
delayed jobs and retries onto their queues.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from redis import Redis
from rq.cron import CronScheduler

from workers.execution import execute
from workers.runner import JOB_TIMEOUT_SECONDS, KEEP_SECONDS
from workers.schedule import SCHEDULE, Periodic


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


def main() -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit(
            "workers.cron: REDIS_URL is not set; without Redis (embedded mode) the web process "
            "runs the periodic jobs itself"
        )
    connection = Redis.from_url(url)
    # stale registrations (no heartbeat for two minutes) are dropped by all() first
    alive = CronScheduler.all(connection)
    if alive:
        sys.exit(f"workers.cron: {alive[0].name} is already running; run one per deployment")
    build(connection).start()


if __name__ == "__main__":
    main()
