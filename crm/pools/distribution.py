"""Distribution (分配): leads to one agent, round-robin or by free capacity over a team, or by
the phone number's region (号码归属地) to the org and city pool that serve that city (属地经营).

Region rule: a pool lead goes to the org whose `cities` list its phone's city — it stays in its
own org when that org serves the city, else it moves to the one other org that does (HQ handing
leads to a city partner; two orgs claiming one city is a set-up mistake, reported, not guessed).
Inside that org it lands in the pool kept for that city (a Pool with `city`), else in the main
public pool; within its own org a lead only ever moves into such a city pool.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.leads.service import visibility
from crm.orgs.models import Org, Team, User
from crm.pools import team_scope
from crm.pools.assign_schemas import Assigned, AssignRequest, AssignResult, Skipped
from crm.pools.limit import WORKING_STAGES
from crm.pools.models import Pool
from crm.pools.ownership import hand_to, org_settings, record_owner_change
from crm.queries import get_visible

AGENT_ROLES = frozenset({"agent", "partner_agent"})
_NEVER = datetime.min.replace(tzinfo=UTC)

Route = Callable[[Lead], None]


class Skip(Exception):
    """This lead cannot go where asked; it is reported and the other leads still move."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _waited(agent: User) -> tuple[datetime, int]:
    """Round-robin order: whoever waited longest since their last lead; newcomers first."""
    return agent.last_assigned_at or _NEVER, agent.id


class Roster:
    """Agents who may receive leads, with how many each is working. Their rows are locked until the
    transaction ends, so two managers distributing at once (or an agent claiming meanwhile)
    take turns instead of both counting the same free room."""

    def __init__(self, session: Session, agents: list[User], capacity: int, now: datetime):
        self.agents = agents
        self.capacity = capacity
        self._ids = {agent.id for agent in agents}
        owned = session.execute(
            select(Lead.owner_id, func.count())
            .where(Lead.owner_id.in_(self._ids), Lead.stage.in_(WORKING_STAGES))
            .group_by(Lead.owner_id)
        )
        self._owned: Counter[int] = Counter(dict(owned.all()))
        # Stamps strictly increase, even for a batch handed out at one `now`: with equal stamps
        # the tie-break by id would give every batch's remainder to the same senior agents.
        self._clock = max([now, *(a.last_assigned_at for a in agents if a.last_assigned_at)])

    def free(self, agent: User) -> int:
        return self.capacity - self._owned[agent.id]

    def pick(self, exclude: int | None = None, by_capacity: bool = False) -> User:
        """The agent whose turn it is (by capacity: the emptiest); Skip when nobody can take it."""
        others = [agent for agent in self.agents if agent.id != exclude]
        if not others:
            raise Skip("no_agents", "no other active agent can take this lead")
        open_ = [agent for agent in others if self.free(agent) > 0]
        if not open_:
            raise Skip(
                "private_pool_full", f"the agents already own {self.capacity} leads (the limit)"
            )
        if by_capacity:
            return min(open_, key=lambda agent: (-self.free(agent), *_waited(agent)))
        return min(open_, key=_waited)

    def give(
        self,
        session: Session,
        actor: Actor,
        lead: Lead,
        agent: User,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        """Make `agent` the owner: an assignment, or a reassignment when someone owned it."""
        previous = lead.owner_id
        hand_to(session, actor, lead, agent.id, "reassigned" if previous else "assigned", data, now)
        if previous in self._ids:
            self._owned[previous] -= 1
        self._owned[agent.id] += 1
        self._clock += timedelta(microseconds=1)
        agent.last_assigned_at = self._clock


def locked_agents(session: Session, *where: ColumnElement[bool]) -> list[User]:
    """Active agents matching `where`, locked for this transaction, in a stable order.

    The lock is the one claims take (crm/pools/service.py): NO KEY UPDATE, which still lets
    other transactions insert rows pointing at the user. Users are locked before leads, as
    claims do, so the two never wait on each other in a circle."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(AGENT_ROLES), *where)
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
    )


def team_roster(session: Session, team_id: int, org_id: int, now: datetime) -> Roster:
    agents = locked_agents(session, User.team_id == team_id)
    return Roster(session, agents, org_settings(session, org_id).max_private_leads, now)


def assign(
    session: Session, actor: Actor, request: AssignRequest, now: datetime | None = None
) -> AssignResult:
    """Distribute `request.lead_ids`; leads that cannot go are skipped with a reason."""
    now = now or utcnow()
    lead_ids = list(dict.fromkeys(request.lead_ids))
    team_scope.check_request(session, actor, request)
    route = _route(session, actor, request, now)
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(lead_ids), *visibility(actor))
            .order_by(Lead.id)
            .with_for_update()
        )
    }
    result = AssignResult(assigned=[], skipped=[])
    for lead_id in lead_ids:
        lead = leads.get(lead_id)
        try:
            if lead is None:
                raise Skip("not_found", "lead not found")
            if refusal := team_scope.lead_refusal(session, actor, lead):
                raise Skip("other_team", refusal)
            route(lead)
        except Skip as skip:
            result.skipped.append(Skipped(lead_id=lead_id, code=skip.code, message=skip.message))
        else:
            result.assigned.append(
                Assigned(
                    lead_id=lead.id, user_id=lead.owner_id, org_id=lead.org_id, pool_id=lead.pool_id
                )
            )
    return result


def _route(session: Session, actor: Actor, request: AssignRequest, now: datetime) -> Route:
    if request.to_user_id is not None:
        return _to_agent(session, actor, request.to_user_id, now)
    if request.strategy == "region":
        return _by_region(session, actor, now)
    return _over_team(session, actor, request, now)


def _to_agent(session: Session, actor: Actor, user_id: int, now: datetime) -> Route:
    user = get_visible(session, User, user_id, "user")
    agents = locked_agents(session, User.id == user.id)
    if not agents:
        raise DomainError("not_an_agent", "leads can only be assigned to an active agent")
    roster = Roster(session, agents, org_settings(session, user.org_id).max_private_leads, now)

    def route(lead: Lead) -> None:
        if lead.org_id != user.org_id:
            raise Skip("wrong_org", "the agent works for another org than this lead's")
        if lead.owner_id == user.id:
            raise Skip("already_owner", "the agent already owns this lead")
        roster.give(session, actor, lead, roster.pick(), {"strategy": "manual"}, now)

    return route


def _over_team(session: Session, actor: Actor, request: AssignRequest, now: datetime) -> Route:
    team_id = request.team_id or actor.team_id
    if team_id is None:
        raise DomainError("team_required", "say which team's agents share the leads (team_id)")
    team = get_visible(session, Team, team_id, "team")
    roster = team_roster(session, team.id, team.org_id, now)
    by_capacity = request.strategy == "capacity"
    data = {"strategy": request.strategy, "team_id": team.id}

    def route(lead: Lead) -> None:
        if lead.org_id != team.org_id:
            raise Skip("wrong_org", "the team works for another org than this lead's")
        agent = roster.pick(exclude=lead.owner_id, by_capacity=by_capacity)
        roster.give(session, actor, lead, agent, data, now)

    return route


def _by_region(session: Session, actor: Actor, now: datetime) -> Route:
    # org-scoped: a partner admin sees only their own org, so only HQ moves leads across orgs
    serving: dict[str, list[Org]] = defaultdict(list)
    for org in session.scalars(select(Org).order_by(Org.id)):
        for city in org.cities or []:
            serving[city].append(org)
    city_pools: dict[tuple[int, str], Pool] = {}
    for pool in session.scalars(select(Pool).where(Pool.city.is_not(None)).order_by(Pool.id)):
        city_pools.setdefault((pool.org_id, pool.city), pool)

    def route(lead: Lead) -> None:
        if lead.owner_id is not None:
            raise Skip("already_assigned", "an agent owns this lead; region moves pool leads only")
        city = lead.phone_city
        if not city:
            raise Skip("no_phone_city", "the phone number's region (号码归属地) is unknown")
        org = _serving_org(serving[city], lead, city)
        pool = city_pools.get((org.id, city))
        if org.id == lead.org_id and (pool is None or pool.id == lead.pool_id):
            raise Skip("already_in_region", f"the lead is already with the org serving {city}")
        if org.id != lead.org_id and _org_has_phone(session, org.id, lead.phone_bidx):
            raise Skip("duplicate_in_target_org", f"{org.name} already has a lead with this phone")
        _move(session, actor, lead, org.id, pool.id if pool else None, city, now)

    return route


def _serving_org(candidates: list[Org], lead: Lead, city: str) -> Org:
    if not candidates:
        raise Skip("no_region_org", f"no org serves {city}")
    own = [org for org in candidates if org.id == lead.org_id]
    if own:
        return own[0]
    if len(candidates) > 1:
        names = "、".join(org.name for org in candidates)
        raise Skip("region_ambiguous", f"several orgs serve {city} ({names}); assign by hand")
    return candidates[0]


def _org_has_phone(session: Session, org_id: int, phone_bidx: str) -> bool:
    stmt = select(Lead.id).where(Lead.org_id == org_id, Lead.phone_bidx == phone_bidx)
    return session.scalar(stmt) is not None


def _move(
    session: Session,
    actor: Actor,
    lead: Lead,
    org_id: int,
    pool_id: int | None,
    city: str,
    now: datetime,
) -> None:
    data = {
        "strategy": "region",
        "phone_city": city,
        "from_org_id": lead.org_id,
        "from_pool_id": lead.pool_id,
        "to_org_id": org_id,
        "to_pool_id": pool_id,
    }
    lead.org_id, lead.pool_id, lead.updated_at = org_id, pool_id, now
    # the event belongs to the receiving org, whose people work the lead from now on
    record_owner_change(session, actor, lead, "assigned", None, data)
