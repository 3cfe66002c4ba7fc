"""Endpoints for working a lead: follow-ups, stage moves and the agents' due lists."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.followups import service
from crm.followups.schemas import (
    DueArgs,
    FollowupOut,
    LeadScheduledOut,
    NewFollowup,
    ScheduledArgs,
    ScheduledCountArgs,
    ScheduledCounts,
    ScheduledFollowupOut,
    StageChange,
)
from crm.http import ApiBlueprint
from crm.leads.schemas import LeadOut
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("followups", __name__, tag="followups")


@bp.endpoint(
    "/leads/<int:lead_id>/followups",
    "POST",
    body=NewFollowup,
    response=FollowupOut,
    status=201,
    permission="followups:write",
)
def add_followup(session: Session, actor: Actor, lead_id: int, body: NewFollowup):
    """Record a contact with a lead you own: a next time is a new promise beside the open ones;
    `replaces` (or, by default, the due ones) are kept or replaced; a reached new lead becomes
    contacted."""
    return service.add_followup(session, actor, lead_id, body)


@bp.endpoint(
    "/leads/<int:lead_id>/followups",
    query=PageArgs,
    response=Page[FollowupOut],
    permission="leads:read",
)
def list_followups(session: Session, actor: Actor, lead_id: int, query: PageArgs):
    """The lead's follow-ups, newest first."""
    return service.list_followups(session, actor, lead_id, query)


@bp.endpoint(
    "/leads/<int:lead_id>/stage",
    "POST",
    body=StageChange,
    response=LeadOut,
    permission="leads:write",
)
def move_stage(session: Session, actor: Actor, lead_id: int, body: StageChange):
    """Move a lead along the funnel; 422 invalid_transition or reason_required (lost)."""
    return service.move_stage(session, actor, lead_id, body)


@bp.endpoint("/followups/due", query=DueArgs, response=Page[LeadOut], permission="leads:read")
def due_leads(session: Session, actor: Actor, query: DueArgs):
    """My leads to follow up today, overdue or upcoming (in the org's time zone), soonest first."""
    return service.due_leads(session, actor, query)


@bp.endpoint(
    "/followups/scheduled",
    query=ScheduledArgs,
    response=Page[ScheduledFollowupOut],
    permission="leads:read",
)
def scheduled(session: Session, actor: Actor, query: ScheduledArgs):
    """Every promised follow-up of my leads, overdue, later today or upcoming, soonest first."""
    return service.scheduled(session, actor, query)


@bp.endpoint(
    "/followups/scheduled/counts",
    query=ScheduledCountArgs,
    response=ScheduledCounts,
    permission="leads:read",
)
def scheduled_counts(session: Session, actor: Actor, query: ScheduledCountArgs):
    """How many promised follow-ups are overdue, due later today and upcoming."""
    return service.scheduled_counts(session, actor, query.owner_id)


@bp.endpoint(
    "/leads/<int:lead_id>/scheduled-followups",
    response=list[LeadScheduledOut],
    permission="leads:read",
)
def lead_scheduled(session: Session, actor: Actor, lead_id: int):
    """The lead's open promised follow-ups, soonest first."""
    return service.lead_scheduled(session, actor, lead_id)
