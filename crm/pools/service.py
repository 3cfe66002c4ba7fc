"""Lead pools: claim, claim-next, release, opening pool leads, and the org's pools and moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.service import actor_from_row
from crm.db import utcnow
from crm.errors import Conflict, DomainError, NotFound
from crm.leads.models import Lead
from crm.leads.service import LIST_COUNT_CAP, add_event, append_event, get_lead
from crm.orgs.models import Team
from crm.orgs.schemas import OrgSettings
from crm.pools import pipelined
from crm.pools.limit import refuse_full
from crm.pools.models import AgentDay, ClaimBlock, Pool
from crm.pools.ownership import (
    org_settings,
    owner_change,
    parse_settings,
    record_owner_change,
    return_to_pool,
    take_unowned,
)
from crm.pools.picking import (
    ClaimedLead,
    best_candidate,
    blocks,
    lock_agent_statement,
    open_to,
    take_best_params,
    unowned_in,
)
from crm.pools.schemas import CreatePool
from crm.queries import get_visible, increment_capped


@dataclass(frozen=True, slots=True)
class Claimer:
    """An agent whose user row this transaction has locked, so one agent's claims run one
    after another and two at once cannot both pass the private-pool limit: who they are now,
    their org's settings, and whether the org has pools besides the main one they may claim
    from."""

    actor: Actor
    settings: OrgSettings
    has_pools: bool
    # the lock began the request's transaction (begin_claim): claim-next may commit with its take
    began_with_lock: bool = False


def lock_claimer(session: Session, actor: Actor) -> Claimer:
    """Lock the agent's row and read what a claim checks, in one round trip.

    `actor` may be the provisional one of an access token: the row read makes it current, so
    the HTTP layer locks with this instead of refreshing the actor first (crm/http.py), a
    round trip fewer per claim. On PostgreSQL the rest of the transaction runs its prepared
    statements' generic plans (lock_agent_statement)."""
    generic_plans = session.get_bind().dialect.name == "postgresql"
    statement = lock_agent_statement(generic_plans)
    row = session.connection().execute(statement, {"user_id": actor.user_id}).one_or_none()
    return _claimer_of(actor, row)


def begin_claim(session: Session, actor: Actor) -> Claimer:
    """lock_claimer as the request's first statement (claim-next's `locks_actor`): on
    PostgreSQL the transaction's BEGIN goes with it in one round trip, and claim_next then
    commits with its take in another (crm/pools/pipelined). A session that began already, or
    is joined to a connection in a transaction (bound to it, not to the engine: a script's, a
    test's), must not begin or commit on its own, and locks as lock_claimer does."""
    bind = session.get_bind()
    own = isinstance(bind, Engine) and not session.in_transaction()
    if bind.dialect.name != "postgresql" or not own:
        return lock_claimer(session, actor)
    statement = lock_agent_statement(True)
    row = pipelined.run(session, statement, {"user_id": actor.user_id}, begin=True)
    return _claimer_of(actor, row, began_with_lock=True)


def _claimer_of(actor: Actor, row: Any, began_with_lock: bool = False) -> Claimer:
    current = actor_from_row(actor.user_id, row, actor.ip)
    return Claimer(current, parse_settings(row.settings), row.has_pools, began_with_lock)


def claim(
    session: Session,
    actor: Actor,
    lead_id: int,
    now: datetime | None = None,
    locked: Claimer | None = None,
) -> Lead:
    """Take one public-pool lead into the actor's private pool (领取). `locked`: the actor as
    lock_claimer found them, when the caller locked already."""
    now = now or utcnow()
    actor, settings, pools = _claimer(session, locked or lock_claimer(session, actor))
    row = session.execute(
        select(Lead.owner_id, Lead.pool_id).where(Lead.id == lead_id, Lead.org_id == actor.org_id)
    ).one_or_none()
    if row is None or row.pool_id not in pools:
        raise NotFound("lead")
    if row.owner_id is not None:
        _refuse_owned(actor, row.owner_id)
    _refuse_cooldown(session, actor, lead_id, now)
    refuse_full(session, actor, settings)
    _count_claim(session, actor, settings, now)
    if not take_unowned(session, lead_id, actor.user_id, now):
        _refuse_owned(actor, None)
    return _claimed(session, actor, lead_id, now)


def claim_next(
    session: Session,
    actor: Actor,
    city: str | None = None,
    pool_id: int | None = None,
    now: datetime | None = None,
    locked: Claimer | None = None,
) -> Lead | ClaimedLead:
    """Claim the best lead the actor may take (highest score, then oldest); 404 pool_empty.
    `locked`: as for claim(); one from begin_claim makes the take commit the transaction and
    return the lead as a ClaimedLead row.

    Picking and taking are one UPDATE whose WHERE names the best candidate, locked with SKIP
    LOCKED (concurrent agents fan out over the next best leads instead of queueing for one) and
    checks the private-pool limit. On PostgreSQL the same statement counts the day's claim and
    writes the timeline event, so a claim is the agent's lock and one statement; on SQLite
    those are two more. Refusals, which are rare, spend more statements saying why. On
    PostgreSQL the rest of the caller's transaction runs generic plans (lock_agent_statement)."""
    now = now or utcnow()
    in_one = session.get_bind().dialect.name == "postgresql"
    actor, settings, pools = _claimer(session, locked or lock_claimer(session, actor))
    if pool_id is not None:
        if pool_id not in pools:
            raise NotFound("pool")
        pools = [pool_id]
    day = _agent_day(actor, settings, now)
    day_cap = (day["day"], settings.daily_claim_cap) if in_one else None
    commits = locked is not None and locked.began_with_lock
    stmt, params = take_best_params(
        actor.org_id,
        actor.user_id,
        pools,
        city,
        now,
        settings.max_private_leads,
        day_cap,
        as_row=commits,
    )
    if commits:
        row = pipelined.run(session, stmt, params, commit=True)
        lead = None if row is None else ClaimedLead._make(row)
    else:
        lead = session.scalars(stmt, params).one_or_none()
    if lead is None:
        # why nothing was taken, the same on both databases
        refuse_full(session, actor, settings)
        _refuse_capped(session, settings, day)
        raise DomainError("pool_empty", "no lead is waiting to be claimed", 404)
    if not in_one:
        _count_claim(session, actor, settings, now)
        append_event(session, lead, actor, "claimed", owner_change(None, lead), now)
    return lead


def preview_next(
    session: Session,
    actor: Actor,
    city: str | None = None,
    exclude: tuple[ColumnElement[bool], ...] = (),
    now: datetime | None = None,
) -> int:
    """The lead claim-next would give, left unclaimed: power dialing claims it when the callee
    answers. `exclude` lets the dialer skip leads already ringing on another console."""
    now = now or utcnow()
    refuse_full(session, actor, org_settings(session, actor.org_id))
    pools = claimable_pools(session, actor)
    best = session.scalar(best_candidate(actor.org_id, actor.user_id, pools, city, now, exclude))
    if best is None:
        raise DomainError("pool_empty", "no lead is waiting to be claimed", 404)
    return best


def release(
    session: Session, actor: Actor, lead_id: int, reason: str, now: datetime | None = None
) -> Lead:
    """Give an owned lead back to its public pool (释放); the former owner waits out the
    reclaim cooldown before claiming it again."""
    lead = get_lead(session, actor, lead_id, for_update=True)
    if lead.owner_id is None:
        raise Conflict("not_owned", "the lead is already in the public pool")
    if lead.owner_id != actor.user_id and not actor.can("leads:assign"):
        raise DomainError("not_owner", "only the lead's owner or a manager can release it", 403)
    return_to_pool(session, actor, lead, "released", {"reason": reason}, now=now)
    return lead


def open_lead(session: Session, actor: Actor, lead_id: int, now: datetime | None = None) -> Lead:
    """One lead's detail. An agent opening a public-pool lead uses one of the day's opens, so
    nobody can page through the pool to copy it (防爬)."""
    lead = get_lead(session, actor, lead_id, with_breakdown=True)
    if lead.owner_id is None and not actor.can("leads:assign"):
        settings = org_settings(session, lead.org_id)
        day = _agent_day(actor, settings, now or utcnow())
        cap = settings.daily_open_cap
        if not increment_capped(session, AgentDay, day, "opens", cap=cap, org_id=lead.org_id):
            raise DomainError(
                "daily_open_cap",
                f"you have opened {cap} public-pool leads today, the most allowed",
                429,
                {"daily_open_cap": cap, "day": day["day"].isoformat()},
            )
    return lead


def claimable_pools(session: Session, actor: Actor) -> list[int | None]:
    """The pools the actor may claim from: the main one (None), city pools, their team's pools."""
    ids = session.scalars(
        select(Pool.id).where(Pool.org_id == actor.org_id, open_to(actor.team_id)).order_by(Pool.id)
    )
    return [None, *ids]


def create_pool(session: Session, actor: Actor, data: CreatePool) -> Pool:
    if data.team_id is not None:
        team = get_visible(session, Team, data.team_id, "team")
        if team.org_id != actor.org_id:
            raise DomainError("wrong_org", "that team belongs to another org")
    pool = Pool(org_id=actor.org_id, name=data.name, team_id=data.team_id, city=data.city)
    try:
        with session.begin_nested():
            session.add(pool)
    except IntegrityError as exc:
        raise Conflict("duplicate_pool", f"the org already has a pool named {data.name!r}") from exc
    return pool


def list_pools(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The main pool first, then the org's pools (agents: those they may claim from), each with
    its unowned leads counted up to a cap: a million-lead pool answers "10,000+" at once."""
    stmt = select(Pool).where(Pool.org_id == actor.org_id).order_by(Pool.id)
    if not actor.can("leads:assign"):
        stmt = stmt.where(open_to(actor.team_id))
    main = {"id": None, "name": "main", "team_id": None, "city": None, "created_at": None}
    pools = [main] + [
        {c: getattr(p, c) for c in ("id", "name", "team_id", "city", "created_at")}
        for p in session.scalars(stmt)
    ]
    for pool in pools:
        counted = select(Lead.id).where(*unowned_in(actor.org_id, pool["id"]))
        total = session.scalar(
            select(func.count()).select_from(counted.limit(LIST_COUNT_CAP + 1).subquery())
        )
        pool["unowned"], pool["unowned_capped"] = min(total, LIST_COUNT_CAP), total > LIST_COUNT_CAP
    return pools


def own_pool(session: Session, actor: Actor, pool_id: int) -> Pool:
    """A pool of the actor's own org, or 404 (another org's pool does not exist for them)."""
    pool = session.scalar(select(Pool).where(Pool.id == pool_id, Pool.org_id == actor.org_id))
    if pool is None:
        raise NotFound("pool")
    return pool


def move_to_pool(
    session: Session, actor: Actor, lead_ids: list[int], pool_id: int | None
) -> dict[str, list[Any]]:
    """Move unowned leads to another pool of the org (None: the main pool); owned leads stay
    with their owner and are reported, as are ids the actor cannot see."""
    if pool_id is not None:
        own_pool(session, actor, pool_id)
    found = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(Lead.id.in_(lead_ids), Lead.org_id == actor.org_id).with_for_update()
        )
    }
    moved: list[int] = []
    skipped: list[dict[str, Any]] = []
    for lead_id in dict.fromkeys(lead_ids):
        lead = found.get(lead_id)
        if lead is None:
            reason = "not_found"
        elif lead.owner_id is not None:
            reason = "owned"
        elif lead.pool_id == pool_id:
            reason = "already_there"
        else:
            add_event(
                session, lead, actor, "moved", {"from_pool_id": lead.pool_id, "to_pool_id": pool_id}
            )
            lead.pool_id = pool_id
            moved.append(lead_id)
            continue
        skipped.append({"lead_id": lead_id, "reason": reason})
    return {"moved": moved, "skipped": skipped}


def _claimer(session: Session, locked: Claimer) -> tuple[Actor, OrgSettings, list[int | None]]:
    """The locked agent, their org's settings and the pools they may claim from."""
    pools = claimable_pools(session, locked.actor) if locked.has_pools else [None]
    return locked.actor, locked.settings, pools


def _count_claim(session: Session, actor: Actor, settings: OrgSettings, now: datetime) -> None:
    """Refuse a claim beyond the daily cap, else count it for today (rolled back with the
    claim if it fails)."""
    day, cap = _agent_day(actor, settings, now), settings.daily_claim_cap
    if not increment_capped(session, AgentDay, day, "claims", cap=cap, org_id=actor.org_id):
        raise _capped(settings, day)


def _refuse_capped(session: Session, settings: OrgSettings, day: dict[str, Any]) -> None:
    today = AgentDay.user_id == day["user_id"], AgentDay.day == day["day"]
    claimed = session.scalar(select(AgentDay.claims).where(*today))
    if (claimed or 0) >= settings.daily_claim_cap:
        raise _capped(settings, day)


def _capped(settings: OrgSettings, day: dict[str, Any]) -> DomainError:
    cap = settings.daily_claim_cap
    return DomainError(
        "daily_claim_cap",
        f"you have claimed {cap} leads today, the most allowed",
        details={"daily_claim_cap": cap, "day": day["day"].isoformat()},
    )


def _agent_day(actor: Actor, settings: OrgSettings, now: datetime) -> dict[str, int | date]:
    # the org's calendar day: a Shanghai agent's day starts at 16:00 UTC the day before
    return {"user_id": actor.user_id, "day": now.astimezone(ZoneInfo(settings.timezone)).date()}


def _refuse_owned(actor: Actor, owner_id: int | None) -> None:
    mine = owner_id == actor.user_id
    raise Conflict(
        "already_owned", "you already own this lead" if mine else "someone else owns this lead"
    )


def _refuse_cooldown(session: Session, actor: Actor, lead_id: int, now: datetime) -> None:
    until = session.scalar(
        select(func.max(ClaimBlock.until)).where(
            blocks(actor.user_id, now), ClaimBlock.lead_id == lead_id
        )
    )
    if until is not None:
        raise DomainError(
            "reclaim_cooldown",
            "this lead left your private pool recently; you can claim it again later",
            details={"until": until.isoformat()},
        )


def _claimed(session: Session, actor: Actor, lead_id: int, now: datetime) -> Lead:
    # take_unowned updated the row behind the session's back: load it as it is now
    lead = session.get(Lead, lead_id, populate_existing=True)
    record_owner_change(session, actor, lead, "claimed", None, at=now)
    return lead
