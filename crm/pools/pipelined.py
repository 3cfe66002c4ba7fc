"""Claim-next on PostgreSQL in two round trips instead of four.

Through SQLAlchemy a request's transaction is a round trip each for BEGIN, every statement and
COMMIT, and each costs Python besides the wait: the driver's, SQLAlchemy's execution context
and result. Claim-next, what agents ask for most, needs two: psycopg's pipeline mode sends
BEGIN with the agent's lock, and the take with COMMIT, each pair as one exchange. Its
statements are compiled once and run on the session's driver connection, their values bound
and read by their SQLAlchemy types' own processors, so they are the same as through the ORM;
engine cursor events fire around each exchange as around any statement (docs/benchmarks.md,
seventh session: a fifth of a claim's Python).

The rule that makes it safe: the lock is the request's first statement, on a connection taken
in autocommit mode so psycopg sends no BEGIN of its own (statements after the lock run inside
the transaction it began; SQLAlchemy's commit and rollback end it as usual), and a take that
commits is the request's last. crm/pools/service.begin_claim and claim_next keep to it."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass
class Prepared:
    """A statement compiled for the driver: its SQL, its literal binds, how to bind values and
    how to read a row (a named tuple of the selected columns; a type's reader may depend on the
    column's database type, known from the first result)."""

    sql: str
    literals: dict[str, Any]
    binds: dict[str, Processor]
    row: type
    dialect: Dialect
    types: list[TypeEngine[Any]]
    readers: tuple[Processor | None, ...] | None = None

    def read(self, cursor: psycopg.Cursor[Any], row: tuple[Any, ...]) -> Any:
        if self.readers is None:
            self.readers = tuple(
                type_.result_processor(self.dialect, column.type_code)
                for type_, column in zip(self.types, cursor.description or (), strict=True)
            )
        values = zip(self.readers, row, strict=True)
        return self.row(*(value if read is None else read(value) for read, value in values))


@lru_cache(maxsize=512)
def prepare(statement: Select[Any], dialect: Dialect) -> Prepared:
    compiled = statement.compile(dialect=dialect)
    binds = {
        name: processor
        for name, bind in compiled.binds.items()
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    columns = list(statement.selected_columns)
    return Prepared(
        sql=compiled.string,
        literals={n: b.effective_value for n, b in compiled.binds.items() if not b.required},
        binds=binds,
        row=namedtuple("Row", [column.key for column in columns], rename=True),  # type: ignore[misc]
        dialect=dialect,
        types=[column.type.dialect_impl(dialect) for column in columns],
    )


def run(
    session: Session,
    statement: Select[Any],
    values: dict[str, Any],
    *,
    begin: bool = False,
    commit: bool = False,
) -> Any | None:
    """Run `statement` with `values` and return its first row (None: no row), preceded by BEGIN
    (`begin`: the session must not have begun; its connection is taken in autocommit mode)
    or followed by COMMIT (`commit`: nothing may run in the transaction after it), in one round
    trip."""
    options = {"isolation_level": "AUTOCOMMIT"} if begin else None
    connection = session.connection(execution_options=options)
    prepared = prepare(statement, connection.dialect)
    params = prepared.literals | values
    for name, processor in prepared.binds.items():
        params[name] = processor(params[name])
    driver: psycopg.Connection[Any] = connection.connection.driver_connection
    cursor = driver.cursor()
    dispatch = connection.dispatch
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(connection, cursor, prepared.sql, params, None, False)
    with _as_sqlalchemy_errors(connection, prepared.sql):
        with driver.pipeline():
            if begin:
                driver.execute(b"BEGIN")
            cursor.execute(prepared.sql, params)
            if commit:
                driver.execute(b"COMMIT")
        row = cursor.fetchone()
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(connection, cursor, prepared.sql, params, None, False)
    return None if row is None else prepared.read(cursor, row)


@contextmanager
def _as_sqlalchemy_errors(connection: Connection, sql: str) -> Iterator[None]:
    """A driver error raised as SQLAlchemy would raise it, so the HTTP layer answers it the same
    (503 while the database is away); a connection the database dropped is discarded with
    every other pooled one, as SQLAlchemy does on a disconnect (crm/db.py)."""
    try:
        yield
    except psycopg.Error as exc:
        lost = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
        if lost:
            connection.invalidate(exc)
            connection.engine.dispose()
        raise DBAPIError.instance(
            sql, None, exc, psycopg.Error, connection_invalidated=lost, dialect=connection.dialect
        ) from exc
