"""The do-not-call list (免打扰): adding numbers, by hand or from a `do_not_call` disposition."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.followups.schedule import close_all
from crm.leads.models import Lead
from crm.leads.phone import normalize_phone
from crm.queries import paginate
from crm.schemas import PageArgs, PageResult
from dialer.models import DncEntry


def add_number(
    session: Session, actor: Actor, vault: PiiVault, phone: str, reason: str
) -> DncEntry:
    info = normalize_phone(phone)
    return add_indexed(
        session,
        actor,
        actor.org_id,
        vault.phone_index(info.e164),
        vault.protect_phone(info.e164, info.national).masked,
        reason,
        "manual",
    )


def add_indexed(
    session: Session,
    actor: Actor,
    org_id: int,
    phone_bidx: str,
    masked: str,
    reason: str,
    source: str,
    now: datetime | None = None,
) -> DncEntry:
    """Add by blind index (a disposition knows the lead, not the plain number); idempotent.
    `now` is the caller's clock when it has one (a disposition's). Nobody calls a number on
    the list back: the promised follow-ups of the org's leads with it close."""
    now = now or utcnow()
    for lead in session.scalars(
        select(Lead).where(Lead.org_id == org_id, Lead.phone_bidx == phone_bidx).with_for_update()
    ):
        close_all(session, lead, now, "do_not_call")
    existing = session.scalars(
        select(DncEntry).where(DncEntry.org_id == org_id, DncEntry.phone_bidx == phone_bidx)
    ).first()
    if existing is not None:
        return existing
    entry = DncEntry(
        org_id=org_id,
        phone_bidx=phone_bidx,
        phone_masked=masked,
        reason=reason,
        source=source,
        created_by=actor.user_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # added concurrently: the number is on the list either way
        return session.scalars(
            select(DncEntry).where(DncEntry.org_id == org_id, DncEntry.phone_bidx == phone_bidx)
        ).one()
    return entry


def list_entries(session: Session, args: PageArgs) -> PageResult:
    stmt = select(DncEntry).order_by(DncEntry.created_at.desc(), DncEntry.id.desc())
    return paginate(session, stmt, args)
