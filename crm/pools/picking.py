"""Which lead a claim takes, and the statements of claim-next, built once per shape.

Claim-next is what agents ask for most. Building its SQLAlchemy expressions anew for each claim
was most of its Python, so its statements are built once per shape (how many pools, whether a
city is asked for) with bound parameters, and each claim only binds values and runs them."""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Date,
    Executable,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased, load_only

from crm.auth.service import ACTOR_COLUMNS
from crm.db import UTCDateTime
from crm.leads.models import Derived, Lead, LeadEvent
from crm.orgs.models import Org, User
from crm.pools.limit import in_private_pool
from crm.pools.models import AgentDay, ClaimBlock, Pool
from crm.tenancy import ALL_ORGS

# a value, or the bound parameter standing for it in a statement built once
Value = Any

# What a claim loads of the lead it took: what its answer shows (LeadOut: `pool` from owner_id,
# `age` from birth_year) and every column the claim sets, so a session that had the lead loaded
# holds no stale value of them; the other columns load if something asks for them.
CLAIMED_COLUMNS = (
    *("id", "org_id", "name_masked", "phone_masked", "id_number_masked", "city", "province"),
    *("carrier", "source", "stage", "score", "owner_id", "amount_wanted", "term_months"),
    *("purpose", "qualifications", "birth_year", "gender", "consent_given_at", "consent_method"),
    *("consent_text_version", "created_at", "last_followup_at", "next_followup_at", "pool_id"),
    *("claimed_at", "escalated_at", "updated_at"),
)


class ClaimedLead(Derived, namedtuple("ClaimedRow", CLAIMED_COLUMNS)):  # type: ignore[misc]
    """The lead claim-next took, as its answer shows it, when the take returned it as a row
    (crm/pools/pipelined) rather than as the ORM entity."""

    __slots__ = ()


def best_candidate(
    org_id: Value,
    user_id: Value,
    pools: list[Value],
    city: Value | None,
    now: Value,
    exclude: tuple[ColumnElement[bool], ...] = (),
) -> Select[tuple[int]]:
    """The id of the best claimable lead over `pools` (None: the main pool), locked.

    Each pool's pick reads the front of ix_leads_public_pool_best (an OR over pool ids would
    sort every unowned lead instead). Locked rows are skipped, so concurrent agents fan out
    over the next best leads instead of queueing for the same one; the top lead of a pool that
    lost to another pool stays locked until commit: others skip it meanwhile."""
    picks = []
    for pool_id in pools:
        pick = (
            select(Lead.id, Lead.score, Lead.created_at)
            .where(
                *unowned_in(org_id, pool_id),
                ~exists().where(blocks(user_id, now), ClaimBlock.lead_id == Lead.id),
                *exclude,
            )
            # pool_id is constant here, but PostgreSQL only knows that from `=`, not `IS NULL`:
            # naming it keeps the main pool's ORDER BY a prefix match of the index
            .order_by(Lead.pool_id, Lead.score.desc(), Lead.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        picks.append(pick.where(Lead.city == city) if city is not None else pick)
    if len(picks) == 1:
        return picks[0].with_only_columns(Lead.id)
    # PostgreSQL refuses FOR UPDATE in a UNION branch, not in a subquery inside one
    best = union_all(*(select(pick.subquery()) for pick in picks)).subquery()
    return select(best.c.id).order_by(best.c.score.desc(), best.c.created_at).limit(1)


def unowned_in(org_id: Value, pool_id: Value | None) -> list[ColumnElement[bool]]:
    # `pool_id IS NULL` and `pool_id = :id` are separate conditions so each matches the index
    in_pool = Lead.pool_id.is_(None) if pool_id is None else Lead.pool_id == pool_id
    return [Lead.org_id == org_id, in_pool, Lead.owner_id.is_(None)]


def blocks(user_id: Value, now: Value) -> ColumnElement[bool]:
    """The user's reclaim cooldowns still running at `now`."""
    return and_(ClaimBlock.user_id == user_id, ClaimBlock.until > now)


def open_to(team_id: Value | None) -> ColumnElement[bool]:
    # city pools and pools without a team are open to the whole org; team pools to that team
    return or_(Pool.team_id.is_(None), Pool.team_id == team_id)


@lru_cache(maxsize=2)
def lock_agent_statement(generic_plans: bool) -> Select[Any]:
    """Lock the agent's user row and read who they are now (ACTOR_COLUMNS), their org's
    settings and whether it has pools besides the main one they may claim from. Parameter:
    user_id.

    PostgreSQL: FOR NO KEY UPDATE, so rows pointing at the user (timeline events) are still
    written freely. SQLite ignores the clause: its write units begin IMMEDIATE (crm/db.py) and
    so run one at a time already.

    `generic_plans` (PostgreSQL only) also makes the rest of the transaction run its prepared
    statements with their generic plans, for claim-next's take: its plan is the same whatever
    its values, but once `leads` has statistics the planner prices the generic plan above a
    custom one (it cannot tell the agent owns a few leads when the manager owns a third of
    the table), so it planned the take anew on every claim, a third of PostgreSQL's CPU per
    claim (docs/benchmarks.md). Set here, it costs no round trip of its own."""
    has_pools = exists().where(Pool.org_id == User.org_id, open_to(User.team_id))
    columns: list[Any] = [*ACTOR_COLUMNS, Org.settings, has_pools.label("has_pools")]
    if generic_plans:
        columns.append(func.set_config("plan_cache_mode", "force_generic_plan", True))
    return (
        select(*columns)
        .join(Org, Org.id == User.org_id)
        .where(User.id == bindparam("user_id"))
        .with_for_update(of=User, key_share=True)
        # names the org itself (the agent's row and its org): see take_best
        .execution_options(**ALL_ORGS)
    )


def take_best_params(
    org_id: int,
    user_id: int,
    pools: list[int | None],
    city: str | None,
    now: datetime,
    limit: int,
    day_cap: tuple[date, int] | None = None,
    *,
    as_row: bool = False,
) -> tuple[Executable, dict[str, Any]]:
    """Claim-next's statement for these pools and city, with its parameters: it takes the best
    candidate if the agent owns fewer than `limit` leads, and returns the lead it took.

    With `day_cap` (the agent's day and the daily claim cap; PostgreSQL only) the same statement
    also refuses past the cap, counts the claim for the day and writes the claimed event, in
    data-modifying CTEs: the whole claim is one round trip instead of three. It returns the
    lead as an ORM entity, or with `as_row` as a row of CLAIMED_COLUMNS (crm/pools/pipelined)."""
    # named apart from the columns: an UPDATE reserves the column names for its SET clause
    params: dict[str, Any] = {"b_org": org_id, "b_user": user_id, "b_now": now, "b_limit": limit}
    params |= {f"b_pool_{n}": pool for n, pool in enumerate(pools) if pool is not None}
    if city is not None:
        params["b_city"] = city
    shape = tuple(pool is None for pool in pools)
    if day_cap is None:
        return _take_best(shape, city is not None), params
    params["b_day"], params["b_cap"] = day_cap
    # what owner_change() records for a claim
    params["b_event"] = {"from_user_id": None, "to_user_id": user_id}
    if as_row:
        return _taken_row(shape, city is not None), params
    return _taken_lead(shape, city is not None), params


@lru_cache(maxsize=256)
def _take_best(main_pool_at: tuple[bool, ...], by_city: bool) -> Update:
    return (
        _take(main_pool_at, by_city)
        .returning(Lead)
        # The candidate is the org's (b_org is the actor's org) and the count is the agent's own
        # leads, so the session's org scope would only repeat the filter; applying it costs a
        # tenth of a claim (its criteria are re-evaluated on every execution).
        .execution_options(synchronize_session=False, populate_existing=True, **ALL_ORGS)
    )


@lru_cache(maxsize=256)
def _taken_lead(main_pool_at: tuple[bool, ...], by_city: bool) -> Select[tuple[Lead]]:
    taken, *writes = _take_count_and_log(main_pool_at, by_city)
    claimed = aliased(Lead, taken)
    # only CLAIMED_COLUMNS: the driver describes each returned column anew on every execution,
    # and the sealed personal data (long ciphertexts) is not needed to answer
    loaded = [getattr(claimed, key) for key in CLAIMED_COLUMNS]
    return (
        select(claimed)
        .options(load_only(*loaded, raiseload=False))
        .add_cte(*writes)
        # as _take_best: the statement binds the actor's org itself
        .execution_options(populate_existing=True, **ALL_ORGS)
    )


@lru_cache(maxsize=256)
def _taken_row(main_pool_at: tuple[bool, ...], by_city: bool) -> Select[Any]:
    taken, *writes = _take_count_and_log(main_pool_at, by_city)
    return select(*(taken.c[key] for key in CLAIMED_COLUMNS)).add_cte(*writes)


def _take_count_and_log(main_pool_at: tuple[bool, ...], by_city: bool) -> tuple[CTE, CTE, CTE]:
    """The take, the day's count and the claimed event as CTEs; the statement selects from
    the first."""
    user_id, now = bindparam("b_user", type_=Integer), bindparam("b_now", type_=UTCDateTime())
    day = bindparam("b_day", type_=Date)
    days, events = AgentDay.__table__, LeadEvent.__table__
    # the agent's row is locked (lock_agent_statement), so nobody else moves today's count
    # between this read and the upsert below
    claimed_today = select(days.c.claims).where(days.c.user_id == user_id, days.c.day == day)
    taken = (
        _take(main_pool_at, by_city)
        .where(func.coalesce(claimed_today.scalar_subquery(), 0) < bindparam("b_cap"))
        .returning(*Lead.__table__.c)
        .cte("taken")
    )
    counted = (
        pg_insert(days)
        # every column named: a CTE's INSERT gets none of the table's Python-side defaults
        .from_select(
            ["org_id", "user_id", "day", "claims", "opens"],
            select(taken.c.org_id, user_id, day, literal(1, Integer), literal(0, Integer)),
        )
        .on_conflict_do_update(
            index_elements=["user_id", "day"], set_={"claims": days.c.claims + 1}
        )
        .cte("counted")
    )
    logged = (
        insert(events)
        .from_select(
            ["org_id", "lead_id", "kind", "actor_id", "data", "at"],
            select(
                taken.c.org_id,
                taken.c.id,
                literal("claimed", String),
                user_id,
                bindparam("b_event", type_=events.c.data.type),
                now,
            ),
        )
        .cte("logged")
    )
    return taken, counted, logged


def _take(main_pool_at: tuple[bool, ...], by_city: bool) -> Update:
    user_id, now = bindparam("b_user"), bindparam("b_now")
    pools: list[BindParameter[Any] | None] = [
        None if main else bindparam(f"b_pool_{n}") for n, main in enumerate(main_pool_at)
    ]
    city = bindparam("b_city") if by_city else None
    best = best_candidate(bindparam("b_org"), user_id, pools, city, now).scalar_subquery()
    owned = select(func.count()).where(*in_private_pool(user_id)).scalar_subquery()
    return (
        update(Lead)
        .where(Lead.id == best, Lead.owner_id.is_(None), owned < bindparam("b_limit"))
        .values(owner_id=user_id, claimed_at=now, escalated_at=None, updated_at=now)
    )
