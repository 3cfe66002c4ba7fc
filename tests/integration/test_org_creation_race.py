"""Two admins creating the same org at once: the second gets 409 duplicate_org, never a 500."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete

from crm.auth.actor import SYSTEM
from crm.db import Database
from crm.errors import DomainError
from crm.orgs import service
from crm.orgs.models import Org
from crm.orgs.schemas import CreateOrg


def test_two_admins_creating_the_same_org_at_once_get_a_409_not_a_500(database_url):
    """create_org checks the name, then inserts: two requests in the gap both pass the check and
    the loser's INSERT hits the unique index, an IntegrityError that reaches the client as 500
    `internal_error` instead of 409 `duplicate_org`."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE); the race needs PostgreSQL")
    database = Database()
    database.configure(database_url)
    attempts = 8
    names = [f"race-org-{random.getrandbits(32)}" for _ in range(5)]  # a race: a few rounds

    def round_of(name):
        barrier = threading.Barrier(attempts)

        def attempt(_):
            try:
                with database.unit_of_work(SYSTEM) as session:
                    barrier.wait(timeout=10)
                    service.create_org(session, SYSTEM, CreateOrg(name=name, kind="partner"))
                    return "created"
            except DomainError as refused:
                return refused.code
            except Exception as exc:  # what the HTTP layer turns into a 500
                return type(exc).__name__

        with ThreadPoolExecutor(attempts) as pool:
            return list(pool.map(attempt, range(attempts)))

    try:
        rounds = [round_of(name) for name in names]
    finally:
        with database.unit_of_work(SYSTEM) as session:
            session.execute(delete(Org).where(Org.name.in_(names)))
        database.engine.dispose()
    for results in rounds:
        assert results.count("created") == 1, results
        assert set(results) <= {"created", "duplicate_org"}, results
