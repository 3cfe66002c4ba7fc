"""Embedded mode's periodic jobs: a thread of the web process enqueues workers/schedule.py's jobs
on the in-process runner when they are due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import click

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from workers.runner import JobRunner
from workers.schedule import SCHEDULE, Periodic

log = logging.getLogger(__name__)

# Wake at least this often (seconds), so a wall clock set forward is noticed within a minute.
MAX_SLEEP = 60.0


class EmbeddedScheduler:
    """Enqueues each periodic job when due: an interval job first at start, a cron job at its
    next time (as RQ's cron does). A job still queued or running is not enqueued again, so a slow
    run cannot pile up copies of itself on the two job threads."""

    def __init__(
        self,
        runner: JobRunner,
        schedule: Sequence[Periodic] = SCHEDULE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = runner
        self._schedule = schedule
        self._clock = clock
        self._due: dict[str, datetime] = {}
        self._job_ids: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> dict[str, str]:
        """Enqueue the jobs whose time has come; returns their job ids by name."""
        now = self._clock()
        enqueued: dict[str, str] = {}
        for job in self._schedule:
            first = now if job.interval is not None else job.next_after(now)
            if now < self._due.setdefault(job.name, first):
                continue
            self._due[job.name] = job.next_after(now)
            if self._still_running(job.name):
                log.warning("periodic job %s is still running; skipped this time", job.name)
                continue
            enqueued[job.name] = self._job_ids[job.name] = self._runner.enqueue(
                job.func, org_id=SYSTEM.org_id, user_id=None, queue=job.queue, description=job.name
            )
        return enqueued

    def seconds_to_next(self) -> float:
        if not self._due:
            return MAX_SLEEP
        wait = (min(self._due.values()) - self._clock()).total_seconds()
        return min(max(wait, 0.0), MAX_SLEEP)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _still_running(self, name: str) -> bool:
        job_id = self._job_ids.get(name)
        info = self._runner.fetch(job_id) if job_id else None
        return info is not None and info.status in ("queued", "started")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the thread must outlive one bad tick, or nothing runs again
                log.exception("periodic jobs could not be enqueued")
            self._stop.wait(self.seconds_to_next())


def start_embedded(runner: JobRunner) -> EmbeddedScheduler | None:
    """Called by create_app in embedded mode: run the schedule in this process, unless it is a
    one-off CLI command (init-db, recycle, ...), which must not start sweeps of its own."""
    command = click.get_current_context(silent=True)
    if command is not None and command.info_name != "run":
        return None
    scheduler = EmbeddedScheduler(runner)
    scheduler.start()
    return scheduler
