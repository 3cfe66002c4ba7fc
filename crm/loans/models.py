"""Lenders and their products, applications (进件) with documents and contracts, loans with their
repayment schedules and repayments. Money is Numeric (Decimal), rates are fractions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin

LENDER_KINDS = ("bank", "consumer_finance", "microloan")
APPLICATION_STATUSES = (
    "draft",
    "submitted",
    "under_review",
    "needs_documents",  # 补充资料: the reviewer asked for more, the agent uploads and resubmits
    "approved",
    "rejected",
    "contract_signed",
    "disbursed",
    "cancelled",
)
DOCUMENT_KINDS = ("id_card", "income_proof", "bank_statement", "credit_report", "other")
INSTALLMENT_STATUSES = ("pending", "partial", "paid", "overdue")

Money = Numeric(14, 2)
Rate = Numeric(9, 6)


class Lender(TenantMixin, Base):
    """A bank, consumer-finance company or microloan company the org places loans with (资金方)."""

    __tablename__ = "lenders"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(TenantMixin, Base):
    """A lender's loan product. `apr_min`/`apr_max` are the nominal annual interest rates the
    lender quotes; `apr_worst` is the all-in APR (IRR with every lender fee) at the dearest
    corner of the product's ranges, the figure checked against the cap and flagged in lists."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("lender_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("lenders.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    min_amount: Mapped[Decimal] = mapped_column(Money)
    max_amount: Mapped[Decimal] = mapped_column(Money)
    min_term_months: Mapped[int] = mapped_column(SmallInteger)
    max_term_months: Mapped[int] = mapped_column(SmallInteger)
    apr_min: Mapped[Decimal] = mapped_column(Rate)
    apr_max: Mapped[Decimal] = mapped_column(Rate)
    repayment_method: Mapped[str] = mapped_column(String(32))
    # [{name, collector: "lender", basis, value}] as crm/loans/fees.py reads them
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    channel_fee_rate: Mapped[Decimal] = mapped_column(Rate)
    # eligibility rules as data (crm/loans/eligibility.py ProductRules)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    apr_worst: Mapped[Decimal] = mapped_column(Rate)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProductOffer(TenantMixin, Base):
    """An HQ product offered to a partner org (`org_id` is the partner's): the partner sees it in
    matching and may apply with it, but cannot change it."""

    __tablename__ = "product_offers"
    __table_args__ = (UniqueConstraint("product_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(TenantMixin, Base):
    """A lead applying for a product (进件); `org_id` is the lead's org, the product may be HQ's."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_lead_id", "lead_id"),
        Index("ix_applications_status_submitted", "status", "submitted_at"),
        Index("ix_applications_reviewer_status", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column(SmallInteger)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    # the broker's service fee (居间服务费), paid by the borrower at disbursement
    service_fee: Mapped[Decimal] = mapped_column(Money)
    # The product's repayment method and lender fees ([{name, basis, value}]) as of the last
    # pricing (created, edited, approved): what the contract states and the loan is paid out on,
    # whatever the product says later ("running loans keep theirs").
    repayment_method: Mapped[str] = mapped_column(String(32))
    lender_fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    apr: Mapped[Decimal] = mapped_column(Rate)
    effective_rate: Mapped[Decimal] = mapped_column(Rate)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    review_started_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]


class ApplicationDocument(TenantMixin, Base):
    """An uploaded document; the bytes live in DocumentStorage under `storage_key`, not here."""

    __tablename__ = "application_documents"
    __table_args__ = (Index("ix_application_documents_application_id", "application_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("applications.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContractTemplate(TenantMixin, Base):
    """An org's contract template (sandboxed Jinja); the newest version is used, old ones stay so
    a contract can be traced to the text it came from."""

    __tablename__ = "contract_templates"
    __table_args__ = (UniqueConstraint("org_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    consent_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contract(TenantMixin, Base):
    """One generated version of an application's contract: changed terms make a new version,
    and a version is updated only by its signature, the first rendering of its PDF and key
    rotation (the same text sealed anew). The PDF is in DocumentStorage; both hashes, of the
    plaintext, are kept."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("applications.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column()
    contract_no: Mapped[str] = mapped_column(String(40), unique=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("contract_templates.id", ondelete="SET NULL")
    )
    # the terms the contract states (amount, rate, APR, fees, schedule), for comparing versions
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    html_sha256: Mapped[str] = mapped_column(String(64))
    # changes only on key rotation, which writes the PDF anew under a fresh key (stored files
    # are never rewritten) and deletes the old file (crm/compliance/rotation.py)
    pdf_key: Mapped[str] = mapped_column(String(255))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]
    signed_ip: Mapped[str | None] = mapped_column(String(64))
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sign_method: Mapped[str | None] = mapped_column(String(32))


class Loan(TenantMixin, Base):
    """A disbursed application with its schedule; the terms are copied so a later product edit
    never changes a running loan."""

    __tablename__ = "loans"
    __table_args__ = (Index("ix_loans_org_disbursed", "org_id", "disbursed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("applications.id"), unique=True
    )
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lender_id: Mapped[int] = mapped_column(ForeignKey("lenders.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the agent's team and its lead when the loan was paid out: commission follows the hierarchy
    # as it was then, not after a later transfer
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    team_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column(SmallInteger)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    repayment_method: Mapped[str] = mapped_column(String(32))
    service_fee: Mapped[Decimal] = mapped_column(Money)
    channel_fee: Mapped[Decimal] = mapped_column(Money)
    apr: Mapped[Decimal] = mapped_column(Rate)
    effective_rate: Mapped[Decimal] = mapped_column(Rate)
    disbursed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|repaid|cancelled
    # fees as money actually received: a plan may accrue commission only once a fee is collected
    service_fee_collected_at: Mapped[datetime | None]
    channel_fee_collected_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Installment(TenantMixin, Base):
    """One row of a loan's repayment schedule (还款计划) with what has been paid against it."""

    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("loan_id", "n"),
        # the reminder sweep and the overdue list read unpaid rows by due date
        Index("ix_installments_due_unpaid", "due_date", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("loans.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(SmallInteger)
    due_date: Mapped[date]
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    paid_principal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_interest: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    paid_at: Mapped[datetime | None]

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee

    @property
    def paid(self) -> Decimal:
        return self.paid_principal + self.paid_interest + self.paid_fee

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid


class Repayment(TenantMixin, Base):
    """Money received against a loan and how it was allocated (fees → interest → principal)."""

    __tablename__ = "repayments"
    __table_args__ = (
        Index("ix_repayments_loan_id", "loan_id"),
        # the loan book on a past date reads the repayments paid since (crm/reports/loan_book.py)
        Index("ix_repayments_paid_at", "paid_at", "org_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("loans.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_at: Mapped[datetime]
    # [{installment_id, n, fee, interest, principal}]
    allocation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoanReminderSent(TenantMixin, Base):
    """A repayment reminder of `kind` for one installment, sent once whatever reruns the sweep."""

    __tablename__ = "loan_reminders_sent"
    __table_args__ = (UniqueConstraint("installment_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    installment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("installments.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))  # due_in_10 | due_in_3 | missed
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundMessage(TenantMixin, Base):
    """A message to a borrower through a sender (SMS, WeChat); the default sender only records it.
    The body names nobody in full: what leaves here carries masked personal data only."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_lead_id", "lead_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    loan_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("loans.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CollectionRecord(TenantMixin, Base):
    """A collection action on an overdue loan (催收记录); the level escalates with days past due."""

    __tablename__ = "collection_records"
    __table_args__ = (Index("ix_collection_records_loan_id", "loan_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("loans.id", ondelete="CASCADE"))
    installment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("installments.id", ondelete="SET NULL")
    )
    level: Mapped[int] = mapped_column(SmallInteger)
    channel: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(64))
    promised_date: Mapped[date | None]
    promised_amount: Mapped[Decimal | None] = mapped_column(Money)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
