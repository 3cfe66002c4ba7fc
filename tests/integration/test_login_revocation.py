"""Logins end when they must: a password reset or a deactivation revokes the refresh tokens,
and a refresh token works once even when presented twice at once."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete

from crm.auth.actor import SYSTEM
from crm.auth.models import RefreshToken
from crm.db import Database
from crm.errors import DomainError
from crm.extensions import runtime
from crm.orgs.models import Org, User
from crm.orgs.schemas import OrgSettings
from tests.factories import Factory


def _login(client, username, password=Factory.PASSWORD):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def test_a_password_reset_ends_the_logins_made_with_the_old_password(client, make, auth):
    """An admin resets a user's password (e.g. it leaked): whoever logged in with the old
    password must not keep minting fresh access tokens with their refresh token."""
    agent = make.user("agent")
    stolen = _login(client, agent.username)
    admin = auth.login("admin")
    reset = client.patch(
        f"/api/v1/users/{agent.id}", headers=admin, json={"password": "a-brand-new-secret"}
    )
    assert reset.status_code == 200
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert refreshed.status_code == 401, refreshed.json
    assert refreshed.json["error"]["code"] == "invalid_refresh_token"


def test_a_deactivated_then_reactivated_user_does_not_get_old_logins_back(client, make, auth):
    agent = make.user("agent")
    old = _login(client, agent.username)
    admin = auth.login("admin")
    for active in (False, True):
        assert (
            client.patch(
                f"/api/v1/users/{agent.id}", headers=admin, json={"active": active}
            ).status_code
            == 200
        )
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refreshed.status_code == 401, refreshed.json


@pytest.fixture
def committed_user(database_url):
    database = Database()
    database.configure(database_url)
    with database.unit_of_work(SYSTEM) as session:
        org = Org(
            name=f"race-auth-{random.getrandbits(32)}",
            kind="hq",
            cities=[],
            settings=OrgSettings().model_dump(),
        )
        session.add(org)
        session.flush()
        user = User(
            org_id=org.id,
            username=f"raceauth{org.id}",
            display_name="r",
            password_hash=runtime.auth.passwords.hash(Factory.PASSWORD),
            role="agent",
        )
        session.add(user)
        session.flush()
        ids = (org.id, user.id, user.username)
    yield database, ids
    with database.unit_of_work(SYSTEM) as session:
        session.execute(delete(RefreshToken).where(RefreshToken.user_id == ids[1]))
        session.execute(delete(User).where(User.id == ids[1]))
        session.execute(delete(Org).where(Org.id == ids[0]))
    database.engine.dispose()


def test_a_refresh_token_presented_twice_at_once_works_only_once(committed_user, database_url):
    """API.md: "a refresh token works once". Two requests racing with the same (stolen) token
    must not both get a fresh pair: at most one succeeds, or the family ends."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE); the race needs PostgreSQL")
    database, (_, _, username) = committed_user
    with database.unit_of_work(SYSTEM) as session:
        token = runtime.auth.login(session, username, Factory.PASSWORD, "10.0.0.1").refresh_token
    attempts = 8
    barrier = threading.Barrier(attempts)

    def attempt(_):
        try:
            with database.unit_of_work(SYSTEM) as session:
                barrier.wait(timeout=10)
                return runtime.auth.refresh(session, token).refresh_token
        except DomainError as refused:
            return refused.code

    with ThreadPoolExecutor(attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))
    winners = [r for r in results if r != "invalid_refresh_token"]
    assert len(winners) <= 1, f"{len(winners)} new pairs from one refresh token: {results}"
