"""Reaching the real PostgreSQL and Redis: under CI a missing service fails, elsewhere it skips."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def missing(service: str, error: Exception) -> None:
    message = f"{service} is not reachable: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def redis_or_skip(url: str = REDIS_URL) -> Redis:
    client = Redis.from_url(url)
    try:
        client.ping()
    except Exception as exc:  # any connection failure means the service is absent
        missing("Redis", exc)
    return client


@contextmanager
def pg_schema(base_url: str = PG_URL) -> Iterator[str]:
    """A throw-away PostgreSQL schema; yields a URL whose search_path points at it."""
    name = f"t_{os.getpid()}_{secrets.token_hex(4)}"
    engine = create_engine(base_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:
        engine.dispose()
        missing("PostgreSQL", exc)
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{name}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()
