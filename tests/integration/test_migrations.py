"""Migrations build an empty database up to the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.leads import uploads
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


SHEET = "姓名,手机号码\n欧阳锋,13812345678\n".encode()


def _uploads(engine, *columns: str) -> dict[int, tuple]:
    """Each upload's content as stored, and `columns`."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(['id', 'content', *columns])} FROM uploads"))
        return {id_: (bytes(content), *rest) for id_, content, *rest in rows}


def test_0015_seals_the_sheets_stored_in_plaintext_and_going_down_opens_them_again():
    keys = PiiKeyring.generate_json()
    with pg_schema() as url:
        command.upgrade(alembic_config(url), "0014")
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                org_id = conn.scalar(
                    text(
                        "INSERT INTO orgs (name, kind, cities, settings, created_at) "
                        "VALUES ('甲', 'hq', '[]', '{}', now()) RETURNING id"
                    )
                )
                waiting, imported = (
                    conn.scalar(
                        text(
                            "INSERT INTO uploads (org_id, filename, content, created_at) "
                            "VALUES (:org, 'x.csv', :content, now()) RETURNING id"
                        ),
                        {"org": org_id, "content": content},
                    )
                    for content in (SHEET, b"")
                )

            # without the keyring it stops, and leaves the database as it was
            with pytest.raises(RuntimeError, match="init-db"):
                upgrade_to_head(url)
            assert _uploads(engine) == {waiting: (SHEET,), imported: (b"",)}

            upgrade_to_head(url, keys)
            after = _uploads(engine, "sealed")
            assert after[imported] == (b"", False)  # nothing left to seal
            sealed, flag = after[waiting]
            assert flag and b"13812345678" not in sealed and "欧阳锋".encode() not in sealed
            cipher = PiiCipher(PiiKeyring.from_json(keys))
            assert cipher.unseal(sealed, uploads.context(waiting)) == SHEET

            command.downgrade(alembic_config(url, keys), "0014")
            assert _uploads(engine)[waiting] == (SHEET,)
        finally:
            engine.dispose()
