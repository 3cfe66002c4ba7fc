"""Run Alembic programmatically, for `init-db`, the tests and the worker entry point."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from crm.config import ROOT


def alembic_config(database_url: str, pii_keys: str | None = None) -> Config:
    """`pii_keys`: the app's keyring, for migrations that rewrite personal data (0015 seals
    uploaded sheets); one is never looked up or generated behind the caller's back."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    # '%' would be read as interpolation by configparser
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["pii_keys"] = pii_keys
    return cfg


def upgrade_to_head(database_url: str, pii_keys: str | None = None) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url, pii_keys), "head")


def check_no_drift(database_url: str) -> None:
    """Raises if the models and the migrated schema differ (alembic check)."""
    command.check(alembic_config(database_url))
