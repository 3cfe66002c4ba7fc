"""dialer calls caller ids dnc agent states

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "caller_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_caller_ids_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_ids")),
        sa.UniqueConstraint("org_id", "number", name=op.f("uq_caller_ids_org_id_number")),
    )
    with op.batch_alter_table("caller_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caller_ids_org_id"), ["org_id"], unique=False)

    op.create_table(
        "caller_id_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("caller_id_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caller_id_id"],
            ["caller_ids.id"],
            name=op.f("fk_caller_id_days_caller_id_id_caller_ids"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_id_days")),
        sa.UniqueConstraint("caller_id_id", "day", name=op.f("uq_caller_id_days_caller_id_id_day")),
    )
    op.create_table(
        "agent_state_spans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_agent_state_spans_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_state_spans_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_spans")),
    )
    with op.batch_alter_table("agent_state_spans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_state_spans_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_agent_state_spans_user_id_started_at", ["user_id", "started_at"], unique=False
        )

    op.create_table(
        "dnc_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("phone_bidx", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_dnc_entries_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_dnc_entries_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_entries")),
        sa.UniqueConstraint("org_id", "phone_bidx", name=op.f("uq_dnc_entries_org_id_phone_bidx")),
    )
    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.create_index("ix_dnc_entries_phone_bidx", ["phone_bidx"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("caller_id_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("gateway_call_id", sa.String(length=64), nullable=True),
        sa.Column("privacy_number", sa.String(length=32), nullable=True),
        sa.Column("started_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("claim_on_connect", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_calls_agent_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["caller_id_id"],
            ["caller_ids.id"],
            name=op.f("fk_calls_caller_id_id_caller_ids"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_calls_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_calls_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calls_agent_id_started_at", ["agent_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_calls_caller_id_id_started_at", ["caller_id_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_calls_lead_id_started_at", ["lead_id", "started_at"], unique=False
        )
        batch_op.create_index("ix_calls_org_id_started_at", ["org_id", "started_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_org_id_started_at")
        batch_op.drop_index("ix_calls_lead_id_started_at")
        batch_op.drop_index("ix_calls_caller_id_id_started_at")
        batch_op.drop_index("ix_calls_agent_id_started_at")

    op.drop_table("calls")
    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_dnc_entries_phone_bidx")

    op.drop_table("dnc_entries")
    with op.batch_alter_table("agent_state_spans", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_state_spans_user_id_started_at")
        batch_op.drop_index(batch_op.f("ix_agent_state_spans_org_id"))

    op.drop_table("agent_state_spans")
    op.drop_table("caller_id_days")
    with op.batch_alter_table("caller_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caller_ids_org_id"))

    op.drop_table("caller_ids")
