"""The RQ worker entry point: builds the app once, then runs jobs from the queues it is given.

    REDIS_URL=redis://… DATABASE_URL=… SECRET_KEY=… PII_KEYS=… \\
        .venv/bin/python -m workers.worker [--burst] [queue ...]

Queues default to all of workers.queues.QUEUES, served in that order. The worker also runs RQ's
scheduler, which re-enqueues jobs whose retry back-off has elapsed (plain `rq worker` needs
`--with-scheduler` for that). `--burst` quits once the queues are empty.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rq import Worker

from crm import create_app
from crm.extensions import db, runtime
from workers.queues import QUEUES


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        sys.exit(
            "workers.worker: REDIS_URL is not set; without Redis (embedded mode) jobs run "
            "inside the web process and no worker is needed"
        )
    create_app()
    # Each job runs in a forked work horse; a pooled DB connection inherited from this process
    # must not be used by both (SQLAlchemy: "Using Connection Pools with ... os.fork()").
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    worker = Worker(args.queues or list(QUEUES), connection=runtime.redis)
    worker.work(burst=args.burst, with_scheduler=True)


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
