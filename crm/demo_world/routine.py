"""The periodic jobs of workers/schedule.py in the demo's history, each at its hour of the
simulated day and in its own transactions, as the cron process runs them: yesterday's KPI
snapshot, recycling and follow-up escalation overnight, repayment reminders when the calling
hours open, and the re-score of every org. That one runs nightly in production; here once, at
the end, over the whole history's source figures: run every night it would read every lead
ninety times, minutes at a bench's million leads, for scores the last run rewrites anyway."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update

from crm.demo_world.staff import Run
from crm.loans.reminders import send_loan_reminders
from crm.loans.senders import RecordingSender
from crm.notifications.models import Notification
from crm.pools.recycle import escalate, recycle
from crm.reports.kpi_snapshots import snapshot_yesterday
from crm.scoring import runs
from crm.sweeps import Transaction

SNAPSHOT_AT, SWEEP_AT, REMINDERS_AT = time(0, 30), time(2, 0), time(10, 5)
READ_AFTER = timedelta(hours=8)


def overnight(transaction: Transaction, run: Run, day: date) -> None:
    """What runs in the night before `day`'s work: the snapshot, recycling, escalation."""
    snapshot, swept = run.hq.at(day, SNAPSHOT_AT), run.hq.at(day, SWEEP_AT)
    if snapshot <= run.now:
        snapshot_yesterday(transaction, snapshot)
    if swept <= run.now:
        with notices_of(transaction, run, swept):
            recycle(transaction, swept)
            escalate(transaction, swept)


def rescore(transaction: Transaction, org_ids: list[int], day: date, at: datetime) -> None:
    """Every org re-scored as the 03:30 job does (its run of `day`, at `at`), so the scores
    learn each source's conversions."""
    for org_id in org_ids:
        runs.run(
            transaction,
            runs.daily_run_id(org_id, day),
            runs.RunRequest(org_id),
            None,
            progress=lambda _: None,
            now=lambda: at,
        )


def reminders(transaction: Transaction, run: Run, day: date) -> None:
    at = run.hq.at(day, REMINDERS_AT)
    if at <= run.now:
        with notices_of(transaction, run, at):
            send_loan_reminders(transaction, at, lambda *_: None, RecordingSender())


@contextmanager
def notices_of(transaction: Transaction, run: Run, at: datetime) -> Iterator[None]:
    """The console notices a job sends at `at` (stamped with the clock it is given), read a
    while later when sent before today, as agents read them; today's wait for their agent."""
    with transaction() as session:
        before = session.scalar(select(func.max(Notification.id))) or 0
    yield
    if at.astimezone(run.hq.zone).date() == run.today:
        return
    with transaction() as session:
        session.execute(
            update(Notification)
            .where(Notification.id > before)
            .values(read_at=at + READ_AFTER)
            .execution_options(synchronize_session=False)
        )
