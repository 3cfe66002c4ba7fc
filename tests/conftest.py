"""Fixture chain: database (migrated once) → app → client → auth helper; each test rolls back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crm import create_app
from crm.auth.ratelimit import MemoryFailureCounter
from crm.compliance.crypto import PiiKeyring
from crm.extensions import db, runtime
from crm.migrate import upgrade_to_head
from tests.factories import Factory
from tests.rollback import rolled_back
from tests.services import pg_schema


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite by default; TEST_DATABASE_URL=postgresql+psycopg://… runs the suite on PostgreSQL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql"):
        with pg_schema(url) as schema_url:
            upgrade_to_head(schema_url)
            yield schema_url
        return
    url = url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade_to_head(url)
    yield url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(
        {
            "database_url": database_url,
            "redis_url": None,
            "secret_key": "test-secret-key-that-is-long-enough-for-hs256",
            "pii_keys": PiiKeyring.generate_json(),
            "instance_path": tmp_path_factory.mktemp("instance"),
            "testing": True,
            # an import job must see the test's uncommitted rows, so it runs in the test's thread
            "jobs_synchronous": True,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
        }
    )


@pytest.fixture(autouse=True)
def _rollback_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every unit of work in a test joins one outer transaction that is rolled back afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")
    runtime.auth.failures = MemoryFailureCounter(runtime.settings.login_window_seconds)
    with rolled_back(db):
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory()


class Auth:
    """`auth.login("agent")` creates a user of that role and returns request headers for them."""

    def __init__(self, client: FlaskClient, make: Factory) -> None:
        self.client = client
        self.make = make

    def login(self, role: str = "admin", org=None, **user_fields) -> dict[str, str]:
        user = self.make.user(role=role, org=org, **user_fields)
        return self.headers_for(user.username)

    def headers_for(self, username: str, password: str = Factory.PASSWORD) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def auth(client: FlaskClient, make: Factory) -> Auth:
    return Auth(client, make)
