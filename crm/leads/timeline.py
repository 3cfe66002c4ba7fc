"""A lead's timeline: stored events plus its creation, newest first."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.leads.models import Lead, LeadEvent
from crm.leads.service import get_lead
from crm.schemas import PageArgs, PageResult


def events(session: Session, actor: Actor, lead_id: int, args: PageArgs) -> PageResult:
    lead = get_lead(session, actor, lead_id)
    stored = session.scalar(select(func.count()).where(LeadEvent.lead_id == lead.id)) or 0
    offset = (args.page - 1) * args.per_page
    items: list = list(
        session.scalars(
            select(LeadEvent)
            .where(LeadEvent.lead_id == lead.id)
            .order_by(LeadEvent.at.desc(), LeadEvent.id.desc())
            .limit(args.per_page)
            .offset(offset)
        )
    )
    # Creation is the oldest event; it is read off the lead row instead of being stored, which
    # keeps a million-row import from writing a million events.
    if offset <= stored < offset + args.per_page:
        items.append(_created(lead))
    return PageResult(items, stored + 1, args.page, args.per_page)


def _created(lead: Lead) -> dict:
    return {
        "id": None,
        "kind": "created",
        "at": lead.created_at,
        "actor_id": lead.created_by,
        "data": {"source": lead.source},
    }
