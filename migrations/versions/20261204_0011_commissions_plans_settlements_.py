"""commissions: plans, settlements, statements, lines; loans keep hierarchy, fee collection, cancellation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 05:24:10.658807
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commission_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_commission_plans_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_commission_plans_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_plans")),
        sa.UniqueConstraint(
            "org_id", "effective_from", name=op.f("uq_commission_plans_org_id_effective_from")
        ),
    )
    with op.batch_alter_table("commission_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commission_plans_org_id"), ["org_id"], unique=False)

    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_settlements_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_settlements_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint("org_id", "period", name=op.f("uq_settlements_org_id_period")),
    )
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlements_org_id"), ["org_id"], unique=False)

    op.create_table(
        "commission_statements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("payee_key", sa.String(length=32), nullable=False),
        sa.Column("payee_user_id", sa.Integer(), nullable=True),
        sa.Column("payee_org_id", sa.Integer(), nullable=True),
        sa.Column("payee_role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.Integer(), nullable=True),
        sa.Column("paid_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
            name=op.f("fk_commission_statements_approved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_commission_statements_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"],
            ["users.id"],
            name=op.f("fk_commission_statements_paid_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payee_org_id"],
            ["orgs.id"],
            name=op.f("fk_commission_statements_payee_org_id_orgs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payee_user_id"],
            ["users.id"],
            name=op.f("fk_commission_statements_payee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_commission_statements_settlement_id_settlements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_statements")),
        sa.UniqueConstraint(
            "period", "payee_key", name=op.f("uq_commission_statements_period_payee_key")
        ),
    )
    with op.batch_alter_table("commission_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commission_statements_org_id"), ["org_id"], unique=False
        )

    op.create_table(
        "commission_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=True),
        sa.Column("base", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("dedupe_key", sa.String(length=80), nullable=True),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["users.id"],
            name=op.f("fk_commission_lines_approver_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_commission_lines_loan_id_loans"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_commission_lines_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["commission_statements.id"],
            name=op.f("fk_commission_lines_statement_id_commission_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_lines")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_commission_lines_dedupe_key")),
    )
    with op.batch_alter_table("commission_lines", schema=None) as batch_op:
        batch_op.create_index("ix_commission_lines_loan_id", ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commission_lines_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_commission_lines_statement_id", ["statement_id"], unique=False)

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("team_lead_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("service_fee_collected_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("channel_fee_collected_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cancelled_at", crm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_loans_team_lead_id_users"),
            "users",
            ["team_lead_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_loans_team_id_teams"), "teams", ["team_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_loans_team_id_teams"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_loans_team_lead_id_users"), type_="foreignkey")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("channel_fee_collected_at")
        batch_op.drop_column("service_fee_collected_at")
        batch_op.drop_column("team_lead_id")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("commission_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_lines_statement_id")
        batch_op.drop_index(batch_op.f("ix_commission_lines_org_id"))
        batch_op.drop_index("ix_commission_lines_loan_id")

    op.drop_table("commission_lines")
    with op.batch_alter_table("commission_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_statements_org_id"))

    op.drop_table("commission_statements")
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlements_org_id"))

    op.drop_table("settlements")
    with op.batch_alter_table("commission_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_plans_org_id"))

    op.drop_table("commission_plans")
