"""kpi snapshots, dataset exports, lead notices sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Integer(), nullable=False),
        sa.Column("talk_seconds", sa.Integer(), nullable=False),
        sa.Column("new_leads", sa.Integer(), nullable=False),
        sa.Column("stage_reaches", sa.JSON(), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("taken_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_kpi_snapshots_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_snapshots")),
        sa.UniqueConstraint("org_id", "day", name=op.f("uq_kpi_snapshots_org_id_day")),
    )
    with op.batch_alter_table("kpi_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_snapshots_org_id"), ["org_id"], unique=False)

    op.create_table(
        "dataset_exports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_dataset_exports_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_dataset_exports_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_exports")),
        sa.UniqueConstraint("job_id", name=op.f("uq_dataset_exports_job_id")),
    )
    with op.batch_alter_table("dataset_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_exports_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lead_notices_sent",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("about", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_notices_sent_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_lead_notices_sent_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_notices_sent")),
        sa.UniqueConstraint(
            "lead_id", "kind", "about", name=op.f("uq_lead_notices_sent_lead_id_kind_about")
        ),
    )
    with op.batch_alter_table("lead_notices_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_notices_sent_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead_notices_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_notices_sent_org_id"))

    op.drop_table("lead_notices_sent")
    with op.batch_alter_table("dataset_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_exports_org_id"))

    op.drop_table("dataset_exports")
    with op.batch_alter_table("kpi_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_snapshots_org_id"))

    op.drop_table("kpi_snapshots")
