"""funnel_daily, the funnel report's pre-aggregate, and how it stays exact.

Leads created on one day (China Standard Time) are counted per source and per city, by the
furthest stage they reached and the stage they are in now. The counts move in the same
transaction as the lead: mapper listeners see every insert, change and delete the ORM flushes
(stage moves, edits of source or city, test factories), and a session listener sees the
statements run through `session.execute` (the importer's Core executemany; bulk deletes), so no
code path has to remember. Counts are added when the transaction commits (today's rows are hot,
and are then locked for the commit only), except a bulk DELETE's, added as it runs. The report
reads whole days here and only the partial days at the edges of its period from `leads`: its
cost follows the number of days and groups, not of leads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ForeignKey, Result, SmallInteger, String, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    object_session,
)

from crm.db import Base, utcnow
from crm.leads.models import Lead
from crm.tenancy import TenantMixin

DIMENSIONS = ("source", "city")
# Days are China's (UTC+8, no daylight saving): the brokers' own calendar days, so a report over
# dates of an org in Asia/Shanghai (the default, and all of China) has no partial day to scan.
# Orgs elsewhere get exact answers too, through the partial days at the edges.
DAY_ZONE = timezone(timedelta(hours=8))
# what a lead's buckets depend on: a change to any of them moves the lead's counts
TRACKED = ("org_id", "created_at", "source", "city", "reached_rank", "stage")
KEY = ("org_id", "dimension", "day", "value", "reached_rank", "stage")
# SQLite binds at most 32,766 parameters in one statement; a bucket row has seven
ROWS_PER_STATEMENT = 1_000

Bucket = tuple[int, str, date, str, int, str]
# session.info key of the bulk inserts' counts waiting for the commit
_PENDING = "funnel_daily_pending"


class FunnelDaily(TenantMixin, Base):
    """Leads created on `day` (DAY_ZONE) whose `dimension` (source or city; "" for no city) is
    `value`, by furthest stage reached and current stage."""

    __tablename__ = "funnel_daily"

    # the key leads with what the report filters on: org, dimension, then a range of days
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    reached_rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    leads: Mapped[int]


def buckets(lead: Mapping[str, Any]) -> list[Bucket]:
    """The rows that count `lead` (its column values), one per dimension."""
    day = lead["created_at"].astimezone(DAY_ZONE).date()
    rank, stage = lead.get("reached_rank") or 0, lead.get("stage") or "new"
    return [(lead["org_id"], name, day, lead.get(name) or "", rank, stage) for name in DIMENSIONS]


def apply(connection: Connection, deltas: Counter[Bucket]) -> None:
    """Add each delta to its bucket's count. Rows go in key order, so concurrent writers lock
    shared buckets in the same order and cannot deadlock each other."""
    rows = [{**dict(zip(KEY, key, strict=True)), "leads": n} for key, n in sorted(deltas.items())]
    rows = [row for row in rows if row["leads"]]
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = FunnelDaily.__table__
    for first in range(0, len(rows), ROWS_PER_STATEMENT):
        stmt = insert(table).values(rows[first : first + ROWS_PER_STATEMENT])
        stmt = stmt.on_conflict_do_update(
            index_elements=list(KEY), set_={"leads": table.c.leads + stmt.excluded.leads}
        )
        connection.execute(stmt)


def whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The days [first, last) of funnel_daily that lie wholly inside [start, end); None when
    no whole day fits."""
    first = start.astimezone(DAY_ZONE).date()
    if midnight(first) < start:
        first += timedelta(days=1)
    last = end.astimezone(DAY_ZONE).date()
    return (first, last) if first < last else None


def midnight(day: date) -> datetime:
    """When `day` of funnel_daily begins."""
    return datetime.combine(day, time.min, tzinfo=DAY_ZONE)


def rebuild(connection: Connection) -> None:
    """Recount funnel_daily from `leads` (after loading leads behind the ORM's back, as the
    benchmarks do; the migration fills it the same way)."""
    connection.execute(FunnelDaily.__table__.delete())
    day = {
        "postgresql": "(created_at AT TIME ZONE 'UTC' + interval '8 hours')::date",
        "sqlite": "date(created_at, '+8 hours')",
    }[connection.dialect.name]
    for name in DIMENSIONS:
        connection.exec_driver_sql(
            f"INSERT INTO funnel_daily ({', '.join(KEY)}, leads) "
            f"SELECT org_id, '{name}', {day}, coalesce({name}, ''), reached_rank, stage, count(*) "
            "FROM leads GROUP BY 1, 2, 3, 4, 5, 6"
        )


def _keep_old_value(target: Lead, value: Any, oldvalue: Any, initiator: Any) -> None:
    """Registered only for its active_history: SQLAlchemy then loads a tracked column's old
    value before it is overwritten, so _changed always knows which bucket the lead leaves."""


def _inserted(mapper: Mapper, connection: Connection, lead: Lead) -> None:
    _count_at_commit(object_session(lead), Counter(buckets(_values(lead, old=False))))


def _changed(mapper: Mapper, connection: Connection, lead: Lead) -> None:
    committed = inspect(lead).committed_state
    if not committed.keys() & set(TRACKED):
        return
    deltas = Counter(buckets(_values(lead, old=False)))
    deltas.subtract(buckets(_values(lead, old=True)))
    _count_at_commit(object_session(lead), deltas)


def _deleted(mapper: Mapper, connection: Connection, lead: Lead) -> None:
    _count_at_commit(object_session(lead), _minus(buckets(_values(lead, old=True))))


def _values(lead: Lead, old: bool) -> dict[str, Any]:
    """The tracked columns as they are now, or (`old`) as they were before this flush."""
    committed = inspect(lead).committed_state if old else {}
    return {name: committed.get(name, getattr(lead, name)) for name in TRACKED}


def _statement(state: ORMExecuteState) -> Result[Any] | None:
    """Count the leads a statement inserts or deletes outside the unit of work (Core or ORM
    bulk), once it has run; refuse a bulk UPDATE of a tracked column, whose old values are
    gone by then (change such leads through the ORM instead)."""
    table = getattr(state.statement, "table", None)
    if table is None or table.name != Lead.__tablename__:
        return None
    if state.is_insert:
        rows = _inserted_rows(state)
        result = state.invoke_statement()
        _count_at_commit(state.session, Counter(b for row in rows for b in buckets(row)))
        return result
    if state.is_delete:
        tracked = [getattr(Lead, name) for name in TRACKED]
        where = state.statement.whereclause
        doomed = state.session.execute(select(*tracked).where(*([] if where is None else [where])))
        deltas = _minus(b for row in doomed for b in buckets(row._mapping))
        result = state.invoke_statement()
        apply(state.session.connection(), deltas)
        return result
    if state.is_update and _sets(state.statement) & set(TRACKED):
        raise RuntimeError("a bulk UPDATE of leads would leave funnel_daily stale; use the ORM")
    return None


def _count_at_commit(session: Session, deltas: Counter[Bucket]) -> None:
    """Counts wait for the commit, then go in one statement in key order. Today's bucket of a
    busy source is one row that every new lead and stage move of the day updates, and the first
    update holds its lock to the end of the transaction: an import (batch after batch for
    minutes) would block every stage move all that time, and a dialer disposition counted at
    flush held it through the rest of its work while the floor queued behind it (500 consoles:
    disposition p99 in seconds). Counted at commit, the row is locked for the commit only, and
    always in the same order, so writers cannot deadlock on it."""
    if session.in_nested_transaction():
        apply(session.connection(), deltas)  # a savepoint's rollback must take its counts too
        return
    session.info.setdefault(_PENDING, Counter()).update(deltas)


def _apply_pending(session: Session) -> None:
    # the commit's own flush comes after this hook: flush first, so its counts are in
    session.flush()
    if pending := session.info.pop(_PENDING, None):
        apply(session.connection(), pending)


def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (rolled back or closed)
        session.info.pop(_PENDING, None)


def _inserted_rows(state: ORMExecuteState) -> list[Mapping[str, Any]]:
    rows = state.parameters
    if not rows:
        raise RuntimeError("insert leads with parameters (rows as dicts), so they are counted")
    rows = [rows] if isinstance(rows, Mapping) else rows
    # a row without created_at gets the column default, the time of the insert
    return [row if "created_at" in row else {**row, "created_at": utcnow()} for row in rows]


def _sets(statement: Any) -> set[str]:
    """The columns an UPDATE statement assigns (given by name or as columns)."""
    return {getattr(column, "key", column) for column in (statement._values or {})}


def _minus(buckets: Iterable[Bucket]) -> Counter[Bucket]:
    deltas: Counter[Bucket] = Counter()
    deltas.subtract(buckets)
    return deltas


# Mapping-time declarations, like the model above: they open nothing and run only in flushes
# and statements. Session (the class) reaches every session, whichever factory made it.
for _name in TRACKED:
    event.listen(getattr(Lead, _name), "set", _keep_old_value, active_history=True)
event.listen(Lead, "after_insert", _inserted)
event.listen(Lead, "after_update", _changed)
event.listen(Lead, "after_delete", _deleted)
event.listen(Session, "do_orm_execute", _statement)
event.listen(Session, "before_commit", _apply_pending)
event.listen(Session, "after_transaction_end", _drop_pending)
