"""Alembic environment: our metadata, batch mode on SQLite so ALTERs work there too."""

from __future__ import annotations

from alembic import context

from crm.db import make_engine
from crm.model_registry import Base

config = context.config
target_metadata = Base.metadata


# Indexes the models mark info={"autogenerate": False} are written by hand in a migration
# (SQLite cannot reflect their DESC column), so autogenerate neither adds nor drops them.
_HAND_WRITTEN = {
    index.name
    for table in target_metadata.tables.values()
    for index in table.indexes
    if not index.info.get("autogenerate", True)
}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in _HAND_WRITTEN)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
