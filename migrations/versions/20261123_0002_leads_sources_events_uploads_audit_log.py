"""leads sources events uploads audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "lead_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cost_per_lead", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_lead_sources_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_sources")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_lead_sources_org_id_name")),
    )
    with op.batch_alter_table("lead_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_sources_org_id"), ["org_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_audit_log_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_lead_id", ["lead_id"], unique=False)
        batch_op.create_index("ix_audit_log_org_id_at", ["org_id", "at"], unique=False)
        batch_op.create_index("ix_audit_log_user_id_at", ["user_id", "at"], unique=False)

    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name_enc", sa.Text(), nullable=True),
        sa.Column("name_bidx", sa.String(length=64), nullable=True),
        sa.Column("name_masked", sa.String(length=64), nullable=True),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_bidx", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=32), nullable=False),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("id_number_bidx", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=32), nullable=True),
        sa.Column("pii_key_id", sa.String(length=32), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("city", sa.String(length=32), nullable=True),
        sa.Column("province", sa.String(length=32), nullable=True),
        sa.Column("phone_city", sa.String(length=32), nullable=True),
        sa.Column("carrier", sa.String(length=16), nullable=True),
        sa.Column("is_mobile", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("amount_wanted", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("term_months", sa.SmallInteger(), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=True),
        sa.Column("qualifications", sa.JSON(), nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("consent_given_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consent_method", sa.String(length=32), nullable=True),
        sa.Column("consent_text_version", sa.String(length=32), nullable=True),
        sa.Column("score", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("stage", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("lost_reason", sa.String(length=200), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_followup_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_followup_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_leads_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_leads_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_leads_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("org_id", "phone_bidx", name=op.f("uq_leads_org_id_phone_bidx")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leads_org_city_created", ["org_id", "city", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_leads_org_id_id_number_bidx", ["org_id", "id_number_bidx"], unique=False
        )
        batch_op.create_index("ix_leads_org_id_name_bidx", ["org_id", "name_bidx"], unique=False)
        batch_op.create_index(
            "ix_leads_org_owner_created", ["org_id", "owner_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_leads_org_owner_score", ["org_id", "owner_id", "score"], unique=False
        )
        batch_op.create_index(
            "ix_leads_org_source_created", ["org_id", "source", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_leads_org_stage_created", ["org_id", "stage", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_leads_owner_next_followup", ["owner_id", "next_followup_at"], unique=False
        )
        batch_op.create_index("ix_leads_pii_key_id", ["pii_key_id"], unique=False)

    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_uploads_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_uploads_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uploads_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lead_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_lead_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_events_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_lead_events_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_events")),
    )
    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.create_index("ix_lead_events_lead_id_at", ["lead_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_events_org_id"), ["org_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_events_org_id"))
        batch_op.drop_index("ix_lead_events_lead_id_at")

    op.drop_table("lead_events")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_org_id"))

    op.drop_table("uploads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_pii_key_id")
        batch_op.drop_index("ix_leads_owner_next_followup")
        batch_op.drop_index("ix_leads_org_stage_created")
        batch_op.drop_index("ix_leads_org_source_created")
        batch_op.drop_index("ix_leads_org_owner_score")
        batch_op.drop_index("ix_leads_org_owner_created")
        batch_op.drop_index("ix_leads_org_id_name_bidx")
        batch_op.drop_index("ix_leads_org_id_id_number_bidx")
        batch_op.drop_index("ix_leads_org_city_created")

    op.drop_table("leads")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_user_id_at")
        batch_op.drop_index("ix_audit_log_org_id_at")
        batch_op.drop_index("ix_audit_log_lead_id")

    op.drop_table("audit_log")
    with op.batch_alter_table("lead_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_sources_org_id"))

    op.drop_table("lead_sources")
