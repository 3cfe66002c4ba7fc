"""Distribution endpoint: managers and team leads hand out leads (分配)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.pools import distribution, team_scope
from crm.pools.assign_schemas import Assignee, AssignRequest, AssignResult

bp = ApiBlueprint("assign", __name__, tag="pools")


@bp.endpoint(
    "/leads/assign", "POST", body=AssignRequest, response=AssignResult, permission="leads:assign"
)
def assign(session: Session, actor: Actor, body: AssignRequest):
    """Give leads to an agent, round-robin or by free capacity over a team, or by phone region;
    each lead that cannot go is listed under `skipped` with a code."""
    return distribution.assign(session, actor, body)


@bp.endpoint("/leads/assignees", response=list[Assignee], permission="leads:assign")
def assignees(session: Session, actor: Actor):
    """The active agents I may hand leads to: my team's (team leads) or my org's."""
    return team_scope.assignees(session, actor)
