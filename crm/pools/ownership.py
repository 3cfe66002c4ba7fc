"""Every change of a lead's owner goes through here: the owner columns, the timeline event and,
when a lead goes back to the pool, the former owner's reclaim cooldown."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.leads.models import Lead
from crm.leads.service import add_event
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.pools.models import ClaimBlock


def org_settings(session: Session, org_id: int) -> OrgSettings:
    return parse_settings(session.scalar(select(Org.settings).where(Org.id == org_id)))


def parse_settings(stored: dict[str, Any] | None) -> OrgSettings:
    """An org's settings as stored (JSON), defaults filled in.

    Every request of an agent reads them, and validating them was a tenth of a claim's CPU:
    the parsed settings are kept by their canonical JSON (they are frozen, so sharing is safe),
    and a changed setting is a new key, read at once."""
    return _parsed(json.dumps(stored or {}, sort_keys=True, default=str))


@lru_cache(maxsize=1024)
def _parsed(canonical: str) -> OrgSettings:
    return OrgSettings.model_validate_json(canonical, strict=False)


def take_unowned(session: Session, lead_id: int, user_id: int, now: datetime) -> bool:
    """Atomically make `user_id` the owner if nobody owns the lead: true when this call won.

    A conditional UPDATE is atomic on SQLite and PostgreSQL alike, so under any concurrency a
    lead gets at most one owner."""
    won = session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.owner_id.is_(None))
        .values(owner_id=user_id, claimed_at=now, escalated_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return won == 1


def record_owner_change(
    session: Session,
    actor: Actor,
    lead: Lead,
    kind: str,
    previous_owner: int | None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """The timeline event of a change already applied to `lead` (claimed, assigned, ...)."""
    add_event(session, lead, actor, kind, owner_change(previous_owner, lead, data), at=at)


def owner_change(
    previous_owner: int | None, lead: Lead, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What an owner change's timeline event records."""
    return {"from_user_id": previous_owner, "to_user_id": lead.owner_id, **(data or {})}


def hand_to(
    session: Session,
    actor: Actor,
    lead: Lead,
    user_id: int,
    kind: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Give a lead to `user_id` (assignment, reassignment), whoever owned it before."""
    now = now or utcnow()
    previous = lead.owner_id
    lead.owner_id, lead.claimed_at, lead.escalated_at, lead.updated_at = user_id, now, None, now
    record_owner_change(session, actor, lead, kind, previous, data, at=now)


def return_to_pool(
    session: Session,
    actor: Actor,
    lead: Lead,
    kind: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Release or recycle: the lead goes back to its public pool and the former owner waits out
    the org's `reclaim_cooldown_days` before claiming it again."""
    now = now or utcnow()
    previous = lead.owner_id
    # claimed_at stays: when the lead was last worked (crm/compliance/retention.idle_since)
    lead.owner_id, lead.escalated_at, lead.updated_at = None, None, now
    cooldown = org_settings(session, lead.org_id).reclaim_cooldown_days
    if previous is not None and cooldown:
        session.add(
            ClaimBlock(
                org_id=lead.org_id,
                lead_id=lead.id,
                user_id=previous,
                until=now + timedelta(days=cooldown),
            )
        )
    record_owner_change(session, actor, lead, kind, previous, data, at=now)
