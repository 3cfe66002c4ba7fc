"""The conversion funnel: which stage may follow which, and moving a lead along it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.followups.schedule import close_all
from crm.leads.models import FUNNEL, Lead
from crm.leads.service import add_event

# One step forward at a time (a lead is contacted before it is qualified), or out of the funnel.
# Lost leads can be reopened as contacted when the borrower comes back; a lead one lender rejected
# may apply again with another lender's product; a disbursed lead is done.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "lost"}),
    "contacted": frozenset({"qualified", "lost"}),
    "qualified": frozenset({"applied", "lost"}),
    "applied": frozenset({"approved", "rejected", "lost"}),
    "approved": frozenset({"disbursed", "lost"}),
    "disbursed": frozenset(),
    "lost": frozenset({"contacted"}),
    "rejected": frozenset({"applied", "lost"}),
}
RANK = {stage: rank for rank, stage in enumerate(FUNNEL)}
CLOSED = frozenset({"disbursed", "lost", "rejected"})
# Applying, the lender's decision and the payout are recorded by the lead's loan application
# (crm/loans, through advance_to): moved by hand they would put a lead in the funnel, and in
# its reports and KPIs, that no reviewer approved and no loan paid out.
SET_BY_APPLICATION = frozenset({"applied", "approved", "rejected", "disbursed"})
BY_HAND = {stage: targets - SET_BY_APPLICATION for stage, targets in TRANSITIONS.items()}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def change_stage(
    session: Session,
    actor: Actor,
    lead: Lead,
    target: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Lead:
    """Move `lead` to `target`, recording who did it and when; refuses jumps and missing reasons."""
    if not can_move(lead.stage, target):
        message = f"a lead cannot go from {lead.stage} to {target}"
        raise _invalid(lead, target, TRANSITIONS[lead.stage], message)
    if target == "lost" and not (reason and reason.strip()):
        raise DomainError("reason_required", "say why the lead was lost")
    previous = lead.stage
    now = now or utcnow()
    lead.stage = target
    lead.stage_changed_at = now
    lead.reached_rank = max(lead.reached_rank, RANK.get(target, 0))
    lead.lost_reason = reason.strip() if target == "lost" and reason else None
    if target in CLOSED:  # nobody calls a closed lead back: off every due list
        close_all(session, lead, now, "lead_closed")
    add_event(
        session,
        lead,
        actor,
        "stage",
        {"from": previous, "to": target, **({"reason": reason} if reason else {})},
        at=now,
    )
    return lead


def move_by_hand(
    session: Session,
    actor: Actor,
    lead: Lead,
    target: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Lead:
    """A move an agent asks for (the stage endpoint, a call's outcome): any of the funnel's
    but those its loan application records."""
    if target in SET_BY_APPLICATION:
        message = f"a lead becomes {target} through its loan application, not by hand"
        raise _invalid(lead, target, BY_HAND[lead.stage], message)
    return change_stage(session, actor, lead, target, reason, now)


def _invalid(lead: Lead, target: str, allowed: frozenset[str], message: str) -> DomainError:
    details = {"from": lead.stage, "to": target, "allowed": sorted(allowed)}
    return DomainError("invalid_transition", message, details=details)


def advance_to(
    session: Session, actor: Actor, lead: Lead, target: str, now: datetime | None = None
) -> None:
    """Step a lead forward to funnel stage `target` one recorded move at a time (an application
    submitted for a lead still marked contacted makes it qualified, then applied); a lead
    already there or beyond stays. A lost or rejected lead re-enters by its allowed move."""
    while lead.stage != target and (lead.stage not in RANK or RANK[lead.stage] < RANK[target]):
        step = target if can_move(lead.stage, target) else _next_step(lead.stage)
        change_stage(session, actor, lead, step, now=now)


def _next_step(stage: str) -> str:
    if stage in RANK:
        return FUNNEL[RANK[stage] + 1]
    return "applied" if stage == "rejected" else "contacted"  # reopened
