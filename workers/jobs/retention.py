"""Job: de-identify leads past their org's retention period, in every org."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.compliance.retention import retire_expired
from crm.db import utcnow
from crm.extensions import db, runtime


def run() -> dict[str, int]:
    """How many leads were de-identified. Each batch commits with its audit entries, and a
    re-run (or a retry after a crash) takes only the leads not yet done."""
    return retire_expired(lambda: db.unit_of_work(SYSTEM), runtime.vault, utcnow())
