"""Job: tell agents, in their console, of follow-ups coming due (each due time once)."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.reminders.service import remind_due_followups
from workers.jobs.console_push import push


def run() -> dict[str, int]:
    return remind_due_followups(lambda: db.unit_of_work(SYSTEM), utcnow(), push)
