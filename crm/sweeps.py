"""How the periodic sweeps over leads run (recycling, escalation, reminders, retention): orgs
grouped by the settings a sweep reads, rows taken in batches of one committed transaction each,
and one notice per person per batch.

A batch commits on its own, so a run stopped halfway keeps what it did and a re-run finds only
what is still due. Time is injected by the caller."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.orm import Session

from crm.db import after_commit
from crm.leads.models import Lead
from crm.notifications.service import notify
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings

BATCH_SIZE = 500

Transaction = Callable[[], AbstractContextManager[Session]]
# a batch's work: what it did, counted by outcome
Handler = Callable[[Session, Sequence[Row[Any]]], Counter[str]]
# notices to send at the end of a batch: (org id, user id) -> lead ids
Notices = defaultdict[tuple[int, int], list[int]]
# sends an event to a Socket.IO room: (event, data, room, namespace)
Push = Callable[[str, dict[str, Any], str, str], None]


def org_groups(
    transaction: Transaction, key: Callable[[OrgSettings], Hashable]
) -> dict[Any, list[int]]:
    """Org ids grouped by the settings a sweep uses: most orgs keep the defaults, so one query
    per group serves them all instead of one per org."""
    from crm.pools.ownership import org_settings  # the pools import the sweeps

    groups: dict[Any, list[int]] = defaultdict(list)
    with transaction() as session:
        for org_id in session.scalars(select(Org.id).order_by(Org.id)):
            groups[key(org_settings(session, org_id))].append(org_id)
    return groups


def in_batches(
    transaction: Transaction, due: Select, batch_size: int, handle: Handler, lock: bool = True
) -> Counter[str]:
    """Run `handle` over the rows `due` selects, one committed transaction per batch.

    Keyset pagination on the lead id reads each row once per sweep, and SKIP LOCKED passes over
    leads a user's request holds right now (the next sweep takes them), so a sweep never waits
    on the people working. `lock=False` leaves the locking to `handle`."""
    done: Counter[str] = Counter()
    after = 0
    while True:
        with transaction() as session:
            stmt = due.where(Lead.id > after).order_by(Lead.id).limit(batch_size)
            if lock:
                stmt = stmt.with_for_update(skip_locked=True, of=Lead)
            rows = session.execute(stmt).all()
            if rows:
                done += handle(session, rows)
        if len(rows) < batch_size:
            return done
        after = rows[-1][0].id


def send_notices(
    session: Session,
    notices: dict[tuple[int, int], list[int]],
    push: Push | None,
    code: str,
    message: str,
    now: datetime,
) -> None:
    """One notice per person and batch, listing the leads (a sweep over a thousand of someone's
    leads must not bury their console under a thousand notices); pushed to their consoles' room
    once the batch is committed (a rolled-back batch must not have told anyone). Without `push`
    (the demo world's history, tests) the notice waits in the person's list."""
    for (org_id, user_id), lead_ids in notices.items():
        text = message.format(n=len(lead_ids))
        notify(session, org_id, user_id, code, text, {"lead_ids": lead_ids}, now)
        if push is not None:
            payload = {"code": code, "message": text, "lead_ids": lead_ids}
            after_commit(session, partial(push, "notice", payload, f"user:{user_id}", "/dialer"))


def delete_in_batches(transaction: Transaction, model: Any, ids: Select, batch_size: int) -> int:
    """Delete the rows of `model` whose ids `ids` selects, `batch_size` per committed
    transaction, until a batch comes back short; how many went. A run stopped halfway keeps
    what it deleted, and a re-run finds what is left."""
    deleted, ids = 0, ids.limit(batch_size)
    while True:
        with transaction() as session:
            batch = list(session.scalars(ids))
            if batch:
                session.execute(
                    delete(model).where(model.id.in_(batch)),
                    execution_options={"synchronize_session": False},
                )
        deleted += len(batch)
        if len(batch) < batch_size:
            return deleted
