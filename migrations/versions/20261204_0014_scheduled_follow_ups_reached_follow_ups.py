"""scheduled follow-ups (several per lead) and whether a follow-up reached the person

Each lead's single next_followup_at becomes its first open scheduled follow-up, linked to the
follow-up that set it when there is one, so no promised time is lost by the upgrade. Earlier
follow-ups are marked as reaching the person as the service now decides it by default: a call
(unless its result says nobody answered), a visit or WeChat.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 06:13:37.632186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_followups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("followup_id", sa.BigInteger(), nullable=True),
        sa.Column("due_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_followup_id", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_followup_id"],
            ["followups.id"],
            name=op.f("fk_scheduled_followups_closed_by_followup_id_followups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"],
            ["followups.id"],
            name=op.f("fk_scheduled_followups_followup_id_followups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_scheduled_followups_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_scheduled_followups_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_followups")),
    )
    with op.batch_alter_table("scheduled_followups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduled_followups_open",
            ["lead_id", "due_at"],
            unique=False,
            postgresql_where=sa.text("closed_at IS NULL"),
            sqlite_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_scheduled_followups_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reached", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.execute(
        """
        INSERT INTO scheduled_followups (org_id, lead_id, followup_id, due_at, created_at)
        SELECT leads.org_id, leads.id,
               (SELECT max(f.id) FROM followups f
                 WHERE f.lead_id = leads.id AND f.next_followup_at = leads.next_followup_at),
               leads.next_followup_at,
               coalesce(leads.last_followup_at, leads.created_at)
          FROM leads
         WHERE leads.next_followup_at IS NOT NULL
        """
    )
    followups = sa.table(
        "followups",
        sa.column("reached", sa.Boolean()),
        sa.column("channel", sa.String()),
        sa.column("result", sa.String()),
    )
    op.execute(
        followups.update()
        .where(
            followups.c.channel.in_(["call", "visit", "wechat"]),
            sa.or_(
                followups.c.result.is_(None),
                followups.c.result.not_in(["no_answer", "busy", "invalid_number"]),
            ),
        )
        .values(reached=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_column("reached")

    with op.batch_alter_table("scheduled_followups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_followups_org_id"))
        batch_op.drop_index(
            "ix_scheduled_followups_open",
            postgresql_where=sa.text("closed_at IS NULL"),
            sqlite_where=sa.text("closed_at IS NULL"),
        )

    op.drop_table("scheduled_followups")
