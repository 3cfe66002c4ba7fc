"""The conversion funnel: which stage may follow which, and moving a lead along it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.leads.models import FUNNEL, Lead
from crm.leads.service import add_event

# One step forward at a time (a lead is contacted before it is qualified), or out of the funnel.
# Lost leads can be reopened as contacted when the borrower comes back; the other ends are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "lost"}),
    "contacted": frozenset({"qualified", "lost"}),
    "qualified": frozenset({"applied", "lost"}),
    "applied": frozenset({"approved", "rejected", "lost"}),
    "approved": frozenset({"disbursed", "lost"}),
    "disbursed": frozenset(),
    "lost": frozenset({"contacted"}),
    "rejected": frozenset(),
}
RANK = {stage: rank for rank, stage in enumerate(FUNNEL)}
CLOSED = frozenset({"disbursed", "lost", "rejected"})


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
        allowed = sorted(TRANSITIONS[lead.stage])
        raise DomainError(
            "invalid_transition",
            f"a lead cannot go from {lead.stage} to {target}",
            details={"from": lead.stage, "to": target, "allowed": allowed},
        )
    if target == "lost" and not (reason and reason.strip()):
        raise DomainError("reason_required", "say why the lead was lost")
    previous = lead.stage
    now = now or utcnow()
    lead.stage = target
    lead.stage_changed_at = now
    lead.reached_rank = max(lead.reached_rank, RANK.get(target, 0))
    lead.lost_reason = reason.strip() if target == "lost" and reason else None
    if target in CLOSED:
        lead.next_followup_at = None  # nobody calls a closed lead back: off every due list
    add_event(
        session,
        lead,
        actor,
        "stage",
        {"from": previous, "to": target, **({"reason": reason} if reason else {})},
        at=now,
    )
    return lead
