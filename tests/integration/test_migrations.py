"""Migrations build an empty database up to the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from crm.migrate import alembic_config, check_no_drift, upgrade_to_head
from crm.model_registry import Base
from tests.services import pg_schema


def _assert_migrates(url: str) -> None:
    upgrade_to_head(url)
    check_no_drift(url)  # raises when models and migrations disagree
    engine = create_engine(url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    command.downgrade(alembic_config(url), "base")
    upgrade_to_head(url)


def test_empty_sqlite_database_upgrades_to_head_without_drift(tmp_path):
    _assert_migrates(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_empty_postgresql_schema_upgrades_to_head_without_drift():
    with pg_schema() as url:
        _assert_migrates(url)
