"""Commission plans (effective-dated versions), settlements of a month, and the statements and
lines they produce for each payee (an agent, a team lead or a partner org)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin

STATEMENT_STATUSES = ("draft", "approved", "paid")
LINE_KINDS = ("service_fee", "channel_fee", "clawback", "cap", "adjustment")

Money = Numeric(14, 2)


class CommissionPlan(TenantMixin, Base):
    """One version of an org's plan, in force from `effective_from` (the first of a month) until
    the next version: a change dated next month leaves this month's settlement alone. HQ's plan
    is the default of every partner without one of its own."""

    __tablename__ = "commission_plans"
    __table_args__ = (UniqueConstraint("org_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    effective_from: Mapped[date]
    # crm/commissions/plan.py PlanTerms as JSON (splits, tiers, caps, accrual, clawback)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Settlement(TenantMixin, Base):
    """The settlement of one org's month; run as a job, once: a re-run recomputes a draft the
    same way and leaves an approved one alone."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("org_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # "2026-11"
    # queued → running → draft (statements to check) → approved → paid; failed (see error)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


class Statement(TenantMixin, Base):
    """What one payee earned from one org's month. `payee_key` ("user:12", "org:3") is unique
    per settlement, which is unique per org and month, so no payee is stated twice for an org's
    month, whoever starts which settlement; a person who sold loans of two orgs that month (an
    HQ manager working a partner's lead) has a statement from each."""

    __tablename__ = "commission_statements"
    __table_args__ = (UniqueConstraint("settlement_id", "payee_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    payee_key: Mapped[str] = mapped_column(String(32))
    payee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    payee_org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id", ondelete="SET NULL"))
    payee_role: Mapped[str] = mapped_column(String(16))  # agent | team_lead | partner_org
    status: Mapped[str] = mapped_column(String(16), default="draft")
    total: Mapped[Decimal] = mapped_column(Money)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatementLine(TenantMixin, Base):
    """One loan's fee share, a clawback of an earlier one, a cap or a manual adjustment.

    `dedupe_key` is unique over all statements: a loan's fee share is paid to a payee once
    ("loan:17:service_fee:agent:user:12"), a line is clawed back once ("clawback:<line id>")."""

    __tablename__ = "commission_lines"
    __table_args__ = (
        Index("ix_commission_lines_statement_id", "statement_id"),
        Index("ix_commission_lines_loan_id", "loan_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("commission_statements.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    loan_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("loans.id", ondelete="SET NULL")
    )
    base: Mapped[Decimal | None] = mapped_column(Money)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
