"""Query helpers shared by every area: fetch within the org scope, paginate."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Insert, Select, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.db import Base
from crm.errors import Conflict, NotFound
from crm.schemas import PageArgs, PageResult

M = TypeVar("M", bound=Base)


def plan_for_values(session: Session) -> None:
    """Plan the rest of the transaction's statements for the values they run with (PostgreSQL).

    psycopg prepares a statement on its fifth run on a connection, and after five plans made
    for their values PostgreSQL may keep one generic plan, costed for a guessed share of the
    table. For a report over a period that share is small, so the plan reads a date index
    where a scan of the period is right: on a pooled connection the agent funnel at 1M leads
    went from 0.28 s to 0.6-0.7 s from its eleventh run. A report's planning is nothing next
    to its reading. (Claims do the opposite: crm/pools/picking.lock_agent_statement.)"""
    if session.get_bind().dialect.name == "postgresql":
        setting = func.set_config("plan_cache_mode", "force_custom_plan", True)
        session.connection().execute(select(setting))


def get_visible(session: Session, model: type[M], object_id: int, what: str) -> M:
    """Fetch by id within the actor's scope; another org's object is indistinguishable from none."""
    obj = session.scalars(select(model).where(model.id == object_id)).one_or_none()
    if obj is None:
        raise NotFound(what)
    return obj


def get_one(session: Session, stmt: Select, what: str, *, for_update: bool = False) -> Any:
    """The one row `stmt` selects (already filtered to what the actor may see), or 404."""
    if for_update:
        stmt = stmt.with_for_update()
    obj = session.scalars(stmt).one_or_none()
    if obj is None:
        raise NotFound(what)
    return obj


def add_unique(session: Session, obj: M, code: str, message: str) -> M:
    """Insert `obj`, or refuse it (409 `code`) when a unique constraint says it exists already."""
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError as exc:
        raise Conflict(code, message) from exc
    return obj


def paginate(
    session: Session, stmt: Select, args: PageArgs, count_cap: int | None = None
) -> PageResult:
    """One page plus the total; with `count_cap`, counting stops there (a cheap bounded scan)."""
    counted = stmt.order_by(None)
    if count_cap is not None:
        counted = counted.limit(count_cap + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    items = session.scalars(stmt.limit(args.per_page).offset((args.page - 1) * args.per_page))
    capped = count_cap is not None and total > count_cap
    return PageResult(
        list(items),
        min(total, count_cap) if capped else total,
        args.page,
        args.per_page,
        total_capped=capped,
    )


def increment_capped(
    session: Session,
    model: type[Base],
    keys: dict[str, object],
    column: str,
    cap: int | None = None,
    **defaults: object,
) -> bool:
    """Add one to a per-key counter row (created at 1 when missing) unless it already reached
    `cap`: true when counted. One INSERT … ON CONFLICT DO UPDATE … WHERE statement, so
    concurrent callers can never push the counter past the cap."""
    dialect = session.get_bind().dialect.name
    stmt = _counter_upsert(dialect, model, tuple(keys), column, cap is not None, tuple(defaults))
    # RETURNING, not rowcount: psycopg reports -1 as an upsert's rowcount
    params = {f"v_{name}": value for name, value in (keys | defaults).items()}
    if cap is not None:
        params["v_cap"] = cap
    return session.execute(stmt, params).first() is not None


@lru_cache(maxsize=64)
def _counter_upsert(
    dialect: str,
    model: type[Base],
    keys: tuple[str, ...],
    column: str,
    capped: bool,
    defaults: tuple[str, ...],
) -> Insert:
    # built once per shape and bound per call: claims and dials count on every request
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    counter = table.c[column]
    # named apart from the columns: an INSERT reserves the column names for its VALUES
    values = {name: bindparam(f"v_{name}") for name in (*keys, *defaults)}
    stmt = insert_fn(table).values(**values, **{column: 1})
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: counter + 1},
        where=(counter < bindparam("v_cap")) if capped else None,
    ).returning(counter)


def where_given(stmt: Select, *conditions: tuple[Any, object]) -> Select:
    """Add `column == value` for each optional filter that was given (None means not given)."""
    for column, value in conditions:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def in_period(stmt: Select, column: Any, start: datetime | None, end: datetime | None) -> Select:
    """Half-open [start, end), either side optional."""
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column < end)
    return stmt


def among(session: Session, column: Any, values: Iterable[Any]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` as conditions to run a query each. On PostgreSQL one, the values in a
    single array parameter: a placeholder per value costs more to bind, render and parse than
    the look-up itself (7 s of a 100,000-loan month's settlement; 12 ms of each 2,000-row
    batch of a lead import), and a statement takes at most 65,535. On SQLite (no arrays),
    batches of 5,000."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return
    for at in range(0, len(values), 5000):
        yield column.in_(values[at : at + 5000])
