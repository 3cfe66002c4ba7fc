"""Job: return leads past their follow-up or stage limits to the pool, in every org."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.pools.recycle import recycle
from workers.jobs.console_push import push


def run() -> dict[str, int]:
    """Counts by reason. Each batch commits on its own: a killed run keeps what it did, and the
    next run (or a retry) picks up only the leads still due."""
    return recycle(lambda: db.unit_of_work(SYSTEM), utcnow(), push)
