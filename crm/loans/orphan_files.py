"""Document files no row points at, removed once they are a day old.

A crash between storing a file and committing its row (an upload, a contract's PDF, a key
rotation's new copy), or a delete that failed after its commit (a rotation's old copy), leaves
a file of personal data that nothing will ever read or delete: kept for no purpose (PIPL art.
19), and copied into every backup of the folder. The daily retention job removes them. A day is
longer than any transaction that could still commit a row naming a file, so a file being stored
right now is never taken for an orphan."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.loans.models import ApplicationDocument, Contract
from crm.loans.storage import DocumentStorage, is_storage_key
from crm.queries import among

log = logging.getLogger(__name__)

GRACE = timedelta(days=1)
BATCH = 5_000
# every column that names a stored file
NAMED_BY = (ApplicationDocument.storage_key, Contract.pdf_key)


def remove_orphan_files(
    reading: Callable[[], AbstractContextManager[Session]],
    storage: DocumentStorage,
    now: datetime,
    grace: timedelta = GRACE,
) -> dict[str, int]:
    """Remove the stored files older than `grace` that no row names, and what interrupted
    stores left; how many of each. `reading` opens a read-only transaction per batch."""
    cutoff, removed = now - grace, 0
    for keys in _batches(storage.keys(older_than=cutoff), BATCH):
        with reading() as session:
            named = _named(session, keys)
        for key in keys:
            # only a name the store gave: whatever else is in the folder is not ours to judge
            if key not in named and is_storage_key(key):
                storage.delete(key)
                log.warning("removed %s: no row names this file", key)
                removed += 1
    return {
        "orphan_files_removed": removed,
        "abandoned_files_removed": storage.remove_abandoned(older_than=cutoff),
    }


def _named(session: Session, keys: list[str]) -> set[str]:
    """Those of `keys` a row names."""
    return {
        key
        for column in NAMED_BY
        for condition in among(session, column, keys)
        for key in session.scalars(select(column).where(condition))
    }


def _batches(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(keys)
    while batch := list(islice(iterator, size)):
        yield batch
