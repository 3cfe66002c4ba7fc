"""Pooled PostgreSQL connections: a connection that sat idle is checked before use, and one
the database dropped is replaced without the caller seeing it; one used a moment ago is not
asked (a round trip saved on every request), so a drop fails one statement cleanly and the
pool starts afresh."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crm import db as db_module
from tests.services import PG_URL, pg_schema

pytestmark = pytest.mark.integration


@pytest.fixture
def engine():
    with pg_schema() as url:
        engine = db_module.make_engine(url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()


def backend_of(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def cut(pid: int) -> None:
    """Drop one backend, as a database restart or an idle-timeout proxy would."""
    admin = create_engine(PG_URL)
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_an_idle_connection_the_database_dropped_is_replaced_unseen(engine, monkeypatch):
    first = backend_of(engine)
    cut(first)
    monkeypatch.setattr(db_module, "IDLE_BEFORE_PING", 0.0)
    assert backend_of(engine) not in (first, None)


def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_drop_fails_once(engine):
    first = backend_of(engine)
    cut(first)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    # the failure invalidated the pool: the next caller gets a new connection
    assert backend_of(engine) not in (first, None)
