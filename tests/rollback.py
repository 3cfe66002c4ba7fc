"""Each test's units of work joined to one outer transaction that is rolled back afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crm.db import Database


@contextmanager
def rolled_back(database: Database) -> Iterator[None]:
    """Every unit of work of `database` inside the block runs in a SAVEPOINT of one transaction,
    which is rolled back at the end; then sessions are made as the app makes them again."""
    conn = database.engine.connect()
    outer = conn.begin()
    database.sessionmaker.configure(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        # back to what Database.configure set up: the engine, and SQLAlchemy's default way of
        # joining a connection that is already in a transaction
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conditional_savepoint"
        )
        outer.rollback()
        conn.close()
