"""Job: freeze yesterday's KPI figures of every org (idempotent per org and day)."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.reports.kpi_snapshots import snapshot_yesterday


def run() -> dict[str, int]:
    return snapshot_yesterday(lambda: db.unit_of_work(SYSTEM), utcnow())
