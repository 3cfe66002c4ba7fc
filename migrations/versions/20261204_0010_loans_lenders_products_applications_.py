"""loans: lenders, products, applications, documents, contracts, loans, installments, repayments, reminders, collections

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 05:07:14.061535
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lenders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_lenders_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lenders")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_lenders_org_id_name")),
    )
    with op.batch_alter_table("lenders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lenders_org_id"), ["org_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("min_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("max_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("min_term_months", sa.SmallInteger(), nullable=False),
        sa.Column("max_term_months", sa.SmallInteger(), nullable=False),
        sa.Column("apr_min", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("apr_max", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=False),
        sa.Column("fees", sa.JSON(), nullable=False),
        sa.Column("channel_fee_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("apr_worst", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["lenders.id"],
            name=op.f("fk_products_lender_id_lenders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_products_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("lender_id", "name", name=op.f("uq_products_lender_id_name")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_org_id"), ["org_id"], unique=False)

    op.create_table(
        "contract_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_contract_templates_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_contract_templates_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_templates")),
        sa.UniqueConstraint("org_id", "version", name=op.f("uq_contract_templates_org_id_version")),
    )
    with op.batch_alter_table("contract_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_templates_org_id"), ["org_id"], unique=False)

    op.create_table(
        "product_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_product_offers_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_offers_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_offers")),
        sa.UniqueConstraint(
            "product_id", "org_id", name=op.f("uq_product_offers_product_id_org_id")
        ),
    )
    with op.batch_alter_table("product_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_offers_org_id"), ["org_id"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("term_months", sa.SmallInteger(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("service_fee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("apr", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("effective_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_started_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_applications_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_applications_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_applications_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_applications_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_applications_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_lead_id", ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_applications_reviewer_status", ["reviewer_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_applications_status_submitted", ["status", "submitted_at"], unique=False
        )

    op.create_table(
        "application_documents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_documents_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_application_documents_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_application_documents_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_application_documents_storage_key")),
    )
    with op.batch_alter_table("application_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_documents_application_id", ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_documents_org_id"), ["org_id"], unique=False
        )

    op.create_table(
        "contracts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=40), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_key", sa.String(length=255), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signed_ip", sa.String(length=64), nullable=True),
        sa.Column("signed_by", sa.Integer(), nullable=True),
        sa.Column("sign_method", sa.String(length=32), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_contracts_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_contracts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_contracts_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["users.id"],
            name=op.f("fk_contracts_signed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["contract_templates.id"],
            name=op.f("fk_contracts_template_id_contract_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint(
            "application_id", "version", name=op.f("uq_contracts_application_id_version")
        ),
        sa.UniqueConstraint("contract_no", name=op.f("uq_contracts_contract_no")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("term_months", sa.SmallInteger(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=False),
        sa.Column("service_fee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("channel_fee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("apr", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("effective_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("disbursed_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_loans_agent_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_loans_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_loans_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["lenders.id"], name=op.f("fk_loans_lender_id_lenders")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_loans_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_loans_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("application_id", name=op.f("uq_loans_application_id")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index("ix_loans_org_disbursed", ["org_id", "disbursed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_org_id"), ["org_id"], unique=False)

    op.create_table(
        "installments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("fee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_principal", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_interest", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_fee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", crm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_installments_loan_id_loans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_installments_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installments")),
        sa.UniqueConstraint("loan_id", "n", name=op.f("uq_installments_loan_id_n")),
    )
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.create_index("ix_installments_due_unpaid", ["due_date", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_installments_org_id"), ["org_id"], unique=False)

    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_outbound_messages_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_outbound_messages_loan_id_loans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_outbound_messages_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_messages_lead_id", ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_org_id"), ["org_id"], unique=False)

    op.create_table(
        "repayments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_repayments_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_repayments_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_repayments_recorded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayments")),
    )
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.create_index("ix_repayments_loan_id", ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repayments_org_id"), ["org_id"], unique=False)

    op.create_table(
        "collection_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("installment_id", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("promised_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["installment_id"],
            ["installments.id"],
            name=op.f("fk_collection_records_installment_id_installments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_collection_records_loan_id_loans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_collection_records_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_collection_records_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_records")),
    )
    with op.batch_alter_table("collection_records", schema=None) as batch_op:
        batch_op.create_index("ix_collection_records_loan_id", ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collection_records_org_id"), ["org_id"], unique=False)

    op.create_table(
        "loan_reminders_sent",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("installment_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["installment_id"],
            ["installments.id"],
            name=op.f("fk_loan_reminders_sent_installment_id_installments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_loan_reminders_sent_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_reminders_sent")),
        sa.UniqueConstraint(
            "installment_id", "kind", name=op.f("uq_loan_reminders_sent_installment_id_kind")
        ),
    )
    with op.batch_alter_table("loan_reminders_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_reminders_sent_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loan_reminders_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_reminders_sent_org_id"))

    op.drop_table("loan_reminders_sent")
    with op.batch_alter_table("collection_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_records_org_id"))
        batch_op.drop_index("ix_collection_records_loan_id")

    op.drop_table("collection_records")
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repayments_org_id"))
        batch_op.drop_index("ix_repayments_loan_id")

    op.drop_table("repayments")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_messages_org_id"))
        batch_op.drop_index("ix_outbound_messages_lead_id")

    op.drop_table("outbound_messages")
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installments_org_id"))
        batch_op.drop_index("ix_installments_due_unpaid")

    op.drop_table("installments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_org_id"))
        batch_op.drop_index("ix_loans_org_disbursed")

    op.drop_table("loans")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_org_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("application_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_documents_org_id"))
        batch_op.drop_index("ix_application_documents_application_id")

    op.drop_table("application_documents")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_status_submitted")
        batch_op.drop_index("ix_applications_reviewer_status")
        batch_op.drop_index(batch_op.f("ix_applications_org_id"))
        batch_op.drop_index("ix_applications_lead_id")

    op.drop_table("applications")
    with op.batch_alter_table("product_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_offers_org_id"))

    op.drop_table("product_offers")
    with op.batch_alter_table("contract_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_templates_org_id"))

    op.drop_table("contract_templates")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_org_id"))

    op.drop_table("products")
    with op.batch_alter_table("lenders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lenders_org_id"))

    op.drop_table("lenders")
