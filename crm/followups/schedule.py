"""Scheduled follow-ups (约定跟进): every promised time stays on the agent's lists until a later
contact keeps or replaces it — a message on another channel never silently moves a promise.

Rules of a new follow-up (crm/followups/service.py records it):
- a next time given is a new promise, beside the ones already open;
- `replaces` given: it closes exactly those open promises of the lead (any due time);
- otherwise it closes only promises already due: kept when the person was reached, replaced
  when the agent set a new time instead; a future promise is never closed implicitly;
- a lead leaving the funnel (disbursed, lost, rejected) closes all of its promises.
The lead's `next_followup_at` is the earliest open promise (reminders, escalation and the due
lists by lead read it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from crm.errors import DomainError
from crm.followups.models import Followup, ScheduledFollowup
from crm.leads.models import Lead

WHEN = ("overdue", "today", "upcoming")


def open_promises(session: Session, lead: Lead) -> list[ScheduledFollowup]:
    return list(
        session.scalars(
            select(ScheduledFollowup)
            .where(ScheduledFollowup.lead_id == lead.id, ScheduledFollowup.closed_at.is_(None))
            .order_by(ScheduledFollowup.due_at, ScheduledFollowup.id)
        )
    )


def apply_followup(
    session: Session,
    lead: Lead,
    followup: Followup,
    replaces: Sequence[int] | None,
    now: datetime,
) -> None:
    """Close what `followup` keeps or replaces, add its own promise, and re-derive the lead's
    next follow-up time."""
    promises = open_promises(session, lead)
    if replaces is not None:
        unknown = set(replaces) - {p.id for p in promises}
        if unknown:
            raise DomainError(
                "unknown_scheduled_followup",
                "a follow-up to replace is not an open one of this lead",
                details={"ids": sorted(unknown)},
            )
        closing = [p for p in promises if p.id in set(replaces)]
    elif followup.reached or followup.next_followup_at is not None:
        closing = [p for p in promises if p.due_at <= now]
    else:
        closing = []
    reason = "kept" if followup.reached else "replaced"
    for promise in closing:
        close(promise, now, reason, followup.id)
    if followup.next_followup_at is not None:
        session.add(
            ScheduledFollowup(
                org_id=lead.org_id,
                lead_id=lead.id,
                followup_id=followup.id,
                due_at=followup.next_followup_at,
                created_at=now,
            )
        )
    session.flush()
    sync_next_followup(session, lead)


def close_all(session: Session, lead: Lead, now: datetime, reason: str) -> None:
    session.execute(
        update(ScheduledFollowup)
        .where(ScheduledFollowup.lead_id == lead.id, ScheduledFollowup.closed_at.is_(None))
        .values(closed_at=now, close_reason=reason)
        .execution_options(synchronize_session=False)
    )
    lead.next_followup_at = None


def close(
    promise: ScheduledFollowup, now: datetime, reason: str, followup_id: int | None = None
) -> None:
    promise.closed_at, promise.close_reason = now, reason
    promise.closed_by_followup_id = followup_id


def sync_next_followup(session: Session, lead: Lead) -> None:
    lead.next_followup_at = session.scalar(
        select(func.min(ScheduledFollowup.due_at)).where(
            ScheduledFollowup.lead_id == lead.id, ScheduledFollowup.closed_at.is_(None)
        )
    )


def due_window(due: Any, when: str, now: datetime, day_end: datetime) -> ColumnElement[bool]:
    """The due times (`due`, a column) of each list: overdue before now, today from now to the
    day's end (the org's calendar), upcoming after it. The three never overlap, so their
    counts add up."""
    return {
        "overdue": due < now,
        "today": and_(due >= now, due < day_end),
        "upcoming": due >= day_end,
    }[when]


def owned_open(owner_id: int):
    """Open promises of the leads `owner_id` owns now (a lead handed over brings its promises
    to the new owner)."""
    return (
        select(ScheduledFollowup)
        .join(Lead, Lead.id == ScheduledFollowup.lead_id)
        .where(Lead.owner_id == owner_id, ScheduledFollowup.closed_at.is_(None))
    )
