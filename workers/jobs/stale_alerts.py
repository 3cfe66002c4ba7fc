"""Job: alert team leads to applied leads left untouched in their agents' private pools."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.reminders.service import alert_stale_leads
from workers.jobs.console_push import push


def run() -> dict[str, int]:
    return alert_stale_leads(lambda: db.unit_of_work(SYSTEM), utcnow(), push)
