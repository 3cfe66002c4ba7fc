"""A lead's timeline: stored events plus its creation, newest first."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.leads.models import Lead, LeadEvent
from crm.leads.service import get_lead
from crm.orgs.models import User
from crm.schemas import PageArgs, PageResult
from crm.tenancy import ALL_ORGS


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
    return PageResult(_named(session, items), stored + 1, args.page, args.per_page)


def _named(session: Session, items: list) -> list[dict]:
    """Each event with who did it, by name: "李组长 edited the city", not just "edited"."""
    rows = [
        item
        if isinstance(item, dict)
        else {
            "id": item.id,
            "kind": item.kind,
            "at": item.at,
            "actor_id": item.actor_id,
            "data": item.data,
        }
        for item in items
    ]
    ids = {row["actor_id"] for row in rows if row["actor_id"] is not None}
    names = dict(
        session.execute(
            select(User.id, User.display_name)
            .where(User.id.in_(ids))
            .execution_options(**ALL_ORGS)  # a colleague of another org may have acted (HQ)
        ).all()
    )
    return [{**row, "actor_name": names.get(row["actor_id"])} for row in rows]


def _created(lead: Lead) -> dict:
    return {
        "id": None,
        "kind": "created",
        "at": lead.created_at,
        "actor_id": lead.created_by,
        "data": {"source": lead.source},
    }
