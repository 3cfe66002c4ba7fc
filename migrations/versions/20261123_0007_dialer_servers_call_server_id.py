"""dialer servers and the server that owns each call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state <> 'ended'")


def upgrade() -> None:
    op.create_table(
        "dialer_servers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_servers")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_calls_server_id_open",
            ["server_id"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_server_id_open", postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.drop_column("server_id")
    op.drop_table("dialer_servers")
