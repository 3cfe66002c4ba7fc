"""The periodic-job list and what runs it: RQ's cron scheduler in production, a thread of the web
process in embedded mode. Clocks are injected; nothing sleeps more than a fraction of a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import click
import pytest
from rq import Queue

from crm.db import utcnow
from crm.extensions import runtime
from tests.services import redis_or_skip
from workers import cron
from workers.execution import execute, resolve
from workers.queues import QUEUES
from workers.runner import JobInfo
from workers.schedule import SCHEDULE, Periodic
from workers.scheduler import EmbeddedScheduler, start_embedded

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# interval jobs run first at start; cron jobs (the nightly re-score) first at their time
AT_START = [job for job in SCHEDULE if job.interval is not None]


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingRunner:
    """Takes jobs without running them; `status` is what fetch() reports for each."""

    def __init__(self, status: str = "finished") -> None:
        self.enqueued: list[tuple[str, str]] = []
        self.status = status

    def enqueue(self, func, *args, org_id, user_id, queue="default", description="", job_id=None):
        self.enqueued.append((func, queue))
        return f"job-{len(self.enqueued)}"

    def fetch(self, job_id: str) -> JobInfo:
        return JobInfo(job_id, 0, None, self.status, 0.0, None, None)


def test_every_periodic_job_names_an_importable_function_and_a_declared_queue():
    assert len({job.name for job in SCHEDULE}) == len(SCHEDULE)
    for job in SCHEDULE:
        assert callable(resolve(job.func)), job.func
        assert job.queue in QUEUES
    intervals = {job.func: job.interval for job in SCHEDULE}
    assert intervals["workers.jobs.recycle.run"] == timedelta(hours=1)
    assert intervals["workers.jobs.escalate.run"] == timedelta(minutes=10)
    # each org's repayment reminders go out within the hour its calling hours open
    assert intervals["workers.jobs.loan_reminders.run"] == timedelta(hours=1)


def test_a_periodic_job_has_an_interval_or_a_cron_line():
    with pytest.raises(ValueError):
        Periodic("both", "workers.jobs.recycle.run", "default", timedelta(hours=1), "0 3 * * *")
    nightly = Periodic("nightly", "workers.jobs.recycle.run", "default", cron="0 3 * * *")
    after = nightly.next_after(T0).astimezone()
    assert (after.hour, after.minute) == (3, 0)
    assert timedelta(0) < after - T0 <= timedelta(days=1)


def test_the_nightly_rescore_waits_for_the_night_not_for_start_up():
    clock, runner = FakeClock(), RecordingRunner()
    scheduler = EmbeddedScheduler(runner, clock=clock)

    assert "rescore-orgs" not in scheduler.run_due()
    clock.now = T0 + timedelta(days=1)
    assert "rescore-orgs" in scheduler.run_due()
    assert ("workers.jobs.score_leads.every_org", "scoring") in runner.enqueued


def test_embedded_scheduler_enqueues_each_job_when_it_is_due():
    clock, runner = FakeClock(), RecordingRunner()
    sweeps = [job for job in SCHEDULE if job.name in ("recycle-leads", "escalate-followups")]
    scheduler = EmbeddedScheduler(runner, schedule=sweeps, clock=clock)

    assert list(scheduler.run_due()) == ["recycle-leads", "escalate-followups"]
    clock.now = T0 + timedelta(minutes=9)
    assert scheduler.run_due() == {}
    assert scheduler.seconds_to_next() == 60.0
    clock.now = T0 + timedelta(minutes=10)
    assert list(scheduler.run_due()) == ["escalate-followups"]
    clock.now = T0 + timedelta(hours=1)
    assert list(scheduler.run_due()) == ["recycle-leads", "escalate-followups"]
    assert runner.enqueued[-1] == ("workers.jobs.escalate.run", "default")


def test_embedded_scheduler_does_not_pile_up_a_job_still_running():
    clock, runner = FakeClock(), RecordingRunner(status="started")
    scheduler = EmbeddedScheduler(runner, clock=clock)
    scheduler.run_due()

    clock.now = T0 + timedelta(hours=1)

    assert scheduler.run_due() == {}


def test_embedded_scheduler_thread_enqueues_at_start_and_stops_promptly():
    runner = RecordingRunner()
    scheduler = EmbeddedScheduler(runner, clock=FakeClock())
    scheduler.start()
    deadline = time.monotonic() + 0.5
    while len(runner.enqueued) < len(AT_START) and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    scheduler.stop()

    assert len(runner.enqueued) == len(AT_START)
    assert time.monotonic() - started < 0.5  # stop() wakes the thread from its wait


def test_embedded_scheduler_runs_the_real_jobs_on_the_in_process_runner(make):
    org = make.org()
    make.lead(org, owner=make.user("agent", org=org), claimed_at=utcnow() - timedelta(days=8))
    scheduler = EmbeddedScheduler(runtime.jobs)

    # the suite's runner is synchronous: the jobs have run when this returns
    job_ids = scheduler.run_due()

    results = {name: runtime.jobs.fetch(job_id) for name, job_id in job_ids.items()}
    assert {name: info.status for name, info in results.items()} == {
        job.name: "finished" for job in AT_START
    }
    assert results["recycle-leads"].result == {"recycled": 1, "no_followup": 1, "stale": 0}
    assert results["escalate-followups"].result == {"escalated": 0, "reassigned": 0, "returned": 0}


def test_a_one_off_cli_command_starts_no_scheduler():
    with click.Context(click.Command("recycle"), info_name="recycle"):
        assert start_embedded(RecordingRunner()) is None


def test_rq_cron_scheduler_enqueues_the_schedule_for_the_workers():
    redis = redis_or_skip()
    scheduler = cron.build(redis)
    queues = {name: Queue(name, connection=redis) for name in {job.queue for job in SCHEDULE}}
    before = {name: set(queue.job_ids) for name, queue in queues.items()}
    try:
        scheduler.enqueue_jobs()
        new = [
            job
            for name, queue in queues.items()
            for job in queue.jobs
            if job.id not in before[name]
        ]
        assert sorted((job.func, job.args) for job in new) == sorted(
            (execute, (entry.func,)) for entry in AT_START
        )
        assert {cron_job.name for cron_job in scheduler.get_jobs()} == {j.name for j in SCHEDULE}
    finally:
        for queue in queues.values():
            for job in queue.jobs:
                if job.id not in before[queue.name]:
                    job.delete()
