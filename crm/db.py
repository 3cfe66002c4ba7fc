"""Declarative base, common column types, and the unit of work shared by web, CLI and workers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from crm.db_gevent import connect_cooperatively, gevent_patched
from crm.errors import DomainError
from crm.tenancy import apply_org_scope

if TYPE_CHECKING:
    from crm.auth.actor import Actor

log = logging.getLogger(__name__)

# Named constraints keep Alembic's SQLite batch mode and autogenerate deterministic.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements an INTEGER PRIMARY KEY, PostgreSQL needs BIGINT for 10M+ rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime()}


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the unit of work has committed (e.g. enqueue a job that reads the
    rows just written); dropped if it rolls back."""
    session.info.setdefault("after_commit", []).append(callback)


def _run_after_commit(callbacks: list[Callable[[], object]]) -> None:
    """Every callback runs though one before it failed: they are independent of each other
    (deleting one of a batch's old files, telling one person's console) and what they follow
    is committed whatever they do. The first failure is raised once all have run, so the
    request or job still reports it."""
    failures = []
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            log.exception("after commit: %r failed", callback)
            failures.append(exc)
    if failures:
        raise failures[0]


def after_rollback(session: Session, callback: Callable[[], object]) -> None:
    """Undo, if the unit of work rolls back, something done outside the database (a file
    written to document storage); dropped once it commits."""
    session.info.setdefault("after_rollback", []).append(callback)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _tune_postgresql(engine)
    _ping_when_idle(engine)
    return engine


# A connection back in the pool for less than this is taken to be alive without asking.
IDLE_BEFORE_PING = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Ask a pooled connection whether it still works only if it sat idle for a while.

    pool_pre_ping asks on every checkout: a round trip per request, for a claim a tenth of its
    CPU. A connection idle for seconds may have been cut (a database restart, a proxy's idle
    timeout) and is pinged, and replaced if dead. One in use a moment ago that the database
    dropped since fails its request with 503 (crm/http.py), and SQLAlchemy then invalidates
    every connection of the pool, so the next requests get new ones."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _still_alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # the pool discards this connection and checks out another (a new one if need be)
            raise DisconnectionError from exc


def _tune_postgresql(engine: Engine) -> None:
    if gevent_patched():
        connect_cooperatively(engine)

    # No JIT compilation: our statements are index look-ups that take milliseconds, but a plan
    # with per-row subqueries over a big table can still be estimated above jit_above_cost, and
    # then every execution compiles first. A re-score batch of 2,000 leads at 1M spent 416 ms
    # compiling for 35 ms of work (bench/scoring.py: 242 s a run with JIT, see benchmarks.md).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET jit = off")
        dbapi_conn.commit()


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs and delays BEGIN; SQLAlchemy's
    # documented recipe hands transaction control back to SQLAlchemy.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads, then writes, fails at once with "database is
        # locked" when another writer committed in between; taking the write lock up front makes
        # concurrent writers wait their turn instead (busy timeout), which is what claims need.
        immediate = conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Engine plus session factory; built by the app factory or a worker, never at import."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session] | None = None

    def configure(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessionmaker, "do_orm_execute", apply_org_scope)

    @contextmanager
    def unit_of_work(self, actor: Actor, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction scoped to what `actor` may see: commit on success, roll back on error.

        On SQLite a unit that may write takes the write lock when it begins (see _tune_sqlite);
        `readonly` units (GET requests) do not, so reads never queue behind writers."""
        if self.sessionmaker is None:
            raise RuntimeError("Database.configure() has not been called")
        session = self.sessionmaker()
        session.info["actor"] = actor
        if not readonly and self.engine.dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
            session.info.pop("after_rollback", None)
            _run_after_commit(session.info.pop("after_commit", []))
        except DomainError as exc:
            if exc.keep_changes:
                session.commit()
            else:
                _roll_back(session)
            raise
        except BaseException:
            _roll_back(session)
            raise
        finally:
            session.close()


def _roll_back(session: Session) -> None:
    session.rollback()
    for callback in session.info.pop("after_rollback", []):
        callback()
