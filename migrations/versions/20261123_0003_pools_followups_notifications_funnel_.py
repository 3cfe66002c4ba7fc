"""pools followups notifications funnel fields

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("city", sa.String(length=32), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_pools_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_pools_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_pools_org_id_name")),
    )
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pools_org_id"), ["org_id"], unique=False)

    op.create_table(
        "agent_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_agent_days_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_days_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_days")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_agent_days_user_id_day")),
    )
    with op.batch_alter_table("agent_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_days_org_id"), ["org_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_notifications_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_notifications_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "claim_blocks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("until", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_claim_blocks_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_claim_blocks_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_claim_blocks_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_blocks")),
    )
    with op.batch_alter_table("claim_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_blocks_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_claim_blocks_user_id_lead_id", ["user_id", "lead_id"], unique=False
        )

    op.create_table(
        "followups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.Column("next_followup_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_followups_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_followups_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_followups_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followups_lead_id_created_at", ["lead_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_followups_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_followups_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reached_rank", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("stage_changed_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("pool_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_leads_org_created", ["org_id", "created_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_pool_id_pools"), "pools", ["pool_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_assigned_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )

    # the public pool's best-first order for claim-next, partial so claimed leads cost nothing
    op.create_index(
        "ix_leads_public_pool_best",
        "leads",
        ["org_id", "pool_id", sa.text("score DESC"), "created_at"],
        postgresql_where=sa.text("owner_id IS NULL"),
        sqlite_where=sa.text("owner_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_public_pool_best", table_name="leads")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_pool_id_pools"), type_="foreignkey")
        batch_op.drop_index("ix_leads_org_created")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("pool_id")
        batch_op.drop_column("stage_changed_at")
        batch_op.drop_column("reached_rank")

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_followups_org_id"))
        batch_op.drop_index("ix_followups_lead_id_created_at")

    op.drop_table("followups")
    with op.batch_alter_table("claim_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_blocks_user_id_lead_id")
        batch_op.drop_index(batch_op.f("ix_claim_blocks_org_id"))

    op.drop_table("claim_blocks")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_notifications_org_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("agent_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_days_org_id"))

    op.drop_table("agent_days")
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pools_org_id"))

    op.drop_table("pools")
