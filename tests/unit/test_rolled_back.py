"""The per-test rollback (tests/rollback.py) leaves the app's sessions as it found them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crm.auth.actor import SYSTEM
from crm.db import Database
from tests.rollback import rolled_back


@pytest.fixture
def database(tmp_path) -> Database:
    database = Database()
    database.configure(f"sqlite:///{tmp_path / 'test.db'}")
    with database.unit_of_work(SYSTEM) as session:
        session.execute(text("CREATE TABLE notes (body TEXT)"))
    yield database
    database.engine.dispose()


def test_what_a_test_wrote_is_rolled_back(database):
    with rolled_back(database), database.unit_of_work(SYSTEM) as session:
        session.execute(text("INSERT INTO notes VALUES ('written by a test')"))

    with database.unit_of_work(SYSTEM, readonly=True) as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0


def test_after_a_test_sessions_are_made_as_the_app_makes_them(database):
    """The teardown set a join mode SQLAlchemy does not know: the next session made outside a
    test's transaction (a thread still at work, a wider fixture) failed with ArgumentError."""
    before = database.sessionmaker()

    with rolled_back(database), database.unit_of_work(SYSTEM) as session:
        session.execute(text("INSERT INTO notes VALUES ('written by a test')"))

    after = database.sessionmaker()
    assert (after.bind, after.join_transaction_mode) == (before.bind, before.join_transaction_mode)
    with database.unit_of_work(SYSTEM) as session:
        session.execute(text("INSERT INTO notes VALUES ('committed')"))
