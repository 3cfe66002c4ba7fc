"""scoring: breakdown fingerprints instead of per-lead run marks, one row per committed batch

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("lead_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.BigInteger(), nullable=True))
        batch_op.drop_column("run_id")
        batch_op.drop_column("runs")
    op.create_table(
        "scoring_batches",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("first_lead_id", _BIG_ID, nullable=False),
        sa.Column("last_lead_id", _BIG_ID, nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("changed_scores", sa.Integer(), nullable=False),
        sa.Column("changed_breakdowns", sa.Integer(), nullable=False),
        sa.Column("scored_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scoring_runs.id"],
            name=op.f("fk_scoring_batches_run_id_scoring_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "first_lead_id", name=op.f("pk_scoring_batches")),
    )


def downgrade() -> None:
    op.drop_table("scoring_batches")
    with op.batch_alter_table("lead_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runs", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("run_id", sa.String(length=32), nullable=True))
        batch_op.drop_column("fingerprint")
