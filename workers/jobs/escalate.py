"""Job: alert team leads to missed follow-ups and reassign leads left too long, in every org."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.pools.recycle import escalate
from workers.jobs.console_push import push


def run() -> dict[str, int]:
    """Counts of leads escalated, reassigned and returned; batches commit on their own, and a
    lead is escalated once per missed follow-up however often this runs."""
    return escalate(lambda: db.unit_of_work(SYSTEM), utcnow(), push)
