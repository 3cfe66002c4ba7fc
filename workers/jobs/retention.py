"""Job: the daily clean-up: leads past their org's retention period de-identified, in every org,
the repayment reminders' sent rows that can no longer stop a reminder deleted, uploaded lead
sheets deleted once their import can no longer need them, and document files no row names."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM
from crm.compliance.retention import retire_expired
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.leads.uploads import purge_uploads
from crm.loans.orphan_files import remove_orphan_files
from crm.loans.reminders import prune_sent


def run() -> dict[str, int]:
    """How many leads were de-identified, reminder rows, uploads and files deleted. Each batch
    commits (the de-identified leads with their audit entries), and a re-run (or a retry after
    a crash) takes only what is not done yet."""
    now = utcnow()
    return {
        **retire_expired(_transaction, runtime.vault, now),
        **prune_sent(_transaction, now),
        **purge_uploads(_transaction, now),
        **remove_orphan_files(_reading, runtime.documents, now),
    }


def _transaction() -> AbstractContextManager[Session]:
    return db.unit_of_work(SYSTEM)


def _reading() -> AbstractContextManager[Session]:
    return db.unit_of_work(SYSTEM, readonly=True)
