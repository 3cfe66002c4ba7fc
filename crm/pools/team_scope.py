"""Team leads hand out leads within their own team: to their team's agents, from the public
pool or from a teammate. Managers and partner admins (`leads:assign_org`) assign across their
whole org; these rules do not hold them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import DomainError, Forbidden
from crm.leads.models import Lead
from crm.orgs.models import User
from crm.pools.assign_schemas import AssignRequest

AGENT_ROLES = ("agent", "partner_agent")


def team_scoped(actor: Actor) -> bool:
    return not actor.can("leads:assign_org")


def assignees(session: Session, actor: Actor) -> list[User]:
    """The active agents the actor may hand leads to: their team's, or the org's."""
    stmt = select(User).where(User.active.is_(True), User.role.in_(AGENT_ROLES))
    if team_scoped(actor):
        stmt = stmt.where(User.team_id == _own_team(actor))
    return list(session.scalars(stmt.order_by(User.display_name, User.id)))


def check_request(session: Session, actor: Actor, request: AssignRequest) -> None:
    """Refuse, for a team lead, a target outside their team (the leads are checked one by one,
    see check_lead)."""
    if not team_scoped(actor):
        return
    team_id = _own_team(actor)
    if request.strategy == "region":
        raise Forbidden("moving leads by region is for managers; team leads assign in their team")
    if request.team_id is not None and request.team_id != team_id:
        raise Forbidden("team leads assign within their own team")
    if request.to_user_id is not None:
        user_team = session.scalar(select(User.team_id).where(User.id == request.to_user_id))
        if user_team != team_id:
            raise DomainError(
                "other_team", "team leads assign to agents of their own team only", 403
            )


def lead_refusal(session: Session, actor: Actor, lead: Lead) -> str | None:
    """Why a team lead may not hand this lead out (it is another team's agent's), or None."""
    if not team_scoped(actor) or lead.owner_id is None:
        return None
    owner_team = session.scalar(select(User.team_id).where(User.id == lead.owner_id))
    if owner_team == actor.team_id:
        return None
    return "the lead belongs to an agent of another team"


def _own_team(actor: Actor) -> int:
    if actor.team_id is None:
        raise DomainError("team_required", "you lead no team: ask a manager to assign leads")
    return actor.team_id
