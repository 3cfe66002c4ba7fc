"""Periodic jobs, one declarative list (as Redash's tasks/schedule.py): what runs, how often, where.

Production enqueues them from one `python -m workers.cron` process (RQ's cron scheduler) for the
`python -m workers.worker` processes to run; the embedded mode from a thread of the web process
(workers/scheduler.py). Either way a job is `workers.execution.execute(func)`, as every job is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path of the job function; it takes no arguments
    queue: str  # one of workers.queues.QUEUES
    interval: timedelta | None = None
    cron: str | None = None  # a crontab line in the server's local time, as RQ reads it

    def __post_init__(self) -> None:
        if (self.interval is None) == (self.cron is None):
            raise ValueError(f"{self.name}: give either an interval or a cron line")

    def next_after(self, moment: datetime) -> datetime:
        """When the job is due next, after running at `moment` (an aware datetime)."""
        if self.interval is not None:
            return moment + self.interval
        return croniter(self.cron, moment.astimezone()).get_next(datetime)


SCHEDULE: tuple[Periodic, ...] = (
    # leads idle past their org's limits go back to the public pool (DESIGN.md §2); the limits
    # are days, so an hour late is nothing, and a sweep of 10M leads is not cheap
    Periodic(
        name="recycle-leads",
        func="workers.jobs.recycle.run",
        queue="default",
        interval=timedelta(hours=1),
    ),
    # the limits are hours: a team lead hears of a missed follow-up within minutes
    Periodic(
        name="escalate-followups",
        func="workers.jobs.escalate.run",
        queue="default",
        interval=timedelta(minutes=10),
    ),
    # reminders go out 15 minutes ahead (crm/reminders/service.py), so every 5 minutes each one
    # reaches the agent 10 to 15 minutes before the call is due
    Periodic(
        name="followup-reminders",
        func="workers.jobs.followup_reminders.run",
        queue="notifications",
        interval=timedelta(minutes=5),
    ),
    # repayment reminders go out inside each org's calling hours (crm/loans/reminders.py):
    # hourly, an org's borrowers hear within the hour its calling hours open, in whichever time
    # zone it is, and the runs outside them cost one query over the orgs each
    Periodic(
        name="loan-reminders",
        func="workers.jobs.loan_reminders.run",
        queue="notifications",
        interval=timedelta(hours=1),
    ),
    # stale means days untouched (stale_after_days): once a day is soon enough for a team lead
    Periodic(
        name="stale-lead-alerts",
        func="workers.jobs.stale_alerts.run",
        queue="notifications",
        interval=timedelta(days=1),
    ),
    # each org's snapshot is of the day before its local today, so it is complete whenever it
    # runs; hourly, a run soon after midnight freezes the day and later runs add calls logged late
    Periodic(
        name="kpi-snapshot",
        func="workers.jobs.kpi_snapshot.run",
        queue="reports",
        interval=timedelta(hours=1),
    ),
    # the source-conversion factor learns from each org's latest re-score: nightly, so scores
    # follow the day's conversions. At 03:30 server time (run the cron process with
    # TZ=Asia/Shanghai, README): no agent is calling, and a re-score only locks, briefly, the
    # leads whose score moved. A cron line, not an interval, so it never runs at start-up.
    Periodic(
        name="rescore-orgs",
        func="workers.jobs.score_leads.every_org",
        queue="scoring",
        cron="30 3 * * *",
    ),
    # retention is counted in days (730 by default)
    Periodic(
        name="retention",
        func="workers.jobs.retention.run",
        queue="privacy",
        interval=timedelta(days=1),
    ),
    # each org's audit chain head as of the day, for operators to export and keep elsewhere
    # (flask export-audit-anchors); hourly, so a day is anchored whenever the process started,
    # and the first run of a day is the anchor kept
    Periodic(
        name="audit-anchor",
        func="workers.jobs.audit_anchor.run",
        queue="privacy",
        interval=timedelta(hours=1),
    ),
)
