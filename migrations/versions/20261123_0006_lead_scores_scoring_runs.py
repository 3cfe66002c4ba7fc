"""lead scores, scoring runs, lead indexes for the re-score

Revision ID: 0006
Revises: 0005b
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0006"
down_revision: str | None = "0005b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lead_scores",
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("scored_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_scores_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_lead_scores_org_id_orgs")),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_scores")),
    )
    op.create_table(
        "scoring_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("min_lead_id", _BIG_ID, nullable=True),
        sa.Column("max_lead_id", _BIG_ID, nullable=True),
        sa.Column("last_lead_id", _BIG_ID, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("source_stats", sa.JSON(), nullable=False),
        sa.Column("started_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_scoring_runs_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_scoring_runs_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_runs")),
    )
    with op.batch_alter_table("scoring_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scoring_runs_org_id_started_at", ["org_id", "started_at"], unique=False
        )
    # on a big deployment, build these two by hand with CREATE INDEX CONCURRENTLY first
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_org_id_id", ["org_id", "id"], unique=False)
        batch_op.create_index("ix_leads_phone_bidx", ["phone_bidx"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_phone_bidx")
        batch_op.drop_index("ix_leads_org_id_id")
    with op.batch_alter_table("scoring_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_scoring_runs_org_id_started_at")
    op.drop_table("scoring_runs")
    op.drop_table("lead_scores")
