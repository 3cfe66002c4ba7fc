"""What the loans API answers: applications and loans with the names, flags and figures a screen
shows beside the stored columns, loaded in one query per list rather than per row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.leads.models import Lead
from crm.loans import book, contracts, documents
from crm.loans.applications import AWAITING_REVIEW, application_fees, application_quote
from crm.loans.models import Application, Installment, Lender, Loan, Product
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.pools.ownership import org_settings, parse_settings
from crm.schemas import PageResult
from crm.tenancy import ALL_ORGS


@dataclass
class ApplicationView:
    application: Application
    lead_name_masked: str | None
    product_name: str
    lender_name: str
    apr_flagged: bool
    seconds_in_review: int | None
    loan_id: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        return getattr(self.application, name)


def application_views(
    session: Session, actor: Actor, apps: Sequence[Application], now: datetime | None = None
) -> list[ApplicationView]:
    now = now or utcnow()
    if not apps:
        return []
    flag = org_settings(session, actor.org_id).apr_flag
    names = _lead_names(session, {a.lead_id for a in apps})
    products = _product_names(session, [a.product_id for a in apps])
    loans = dict(
        session.execute(
            select(Loan.application_id, Loan.id).where(
                Loan.application_id.in_([a.id for a in apps])
            )
        ).all()
    )
    return [
        ApplicationView(
            a,
            names.get(a.lead_id),
            *products[a.product_id],
            apr_flagged=a.apr > flag,
            seconds_in_review=(
                int((now - a.submitted_at).total_seconds())
                if a.status in AWAITING_REVIEW and a.submitted_at
                else None
            ),
            loan_id=loans.get(a.id),
        )
        for a in apps
    ]


def application_page(session: Session, actor: Actor, page: PageResult) -> PageResult:
    return PageResult(
        application_views(session, actor, page.items), page.total, page.page, page.per_page
    )


def application_detail(session: Session, actor: Actor, application: Application) -> ApplicationView:
    """One application with its documents, contract versions and the schedule it would have."""
    view = application_views(session, actor, [application])[0]
    q = application_quote(application, book.org_today(session, application.org_id))
    view.extra = {
        "documents": documents.list_documents(session, application.id),
        "contracts": contracts.list_contracts(session, application.id),
        "schedule": [
            {
                "n": r.n,
                "due_date": r.due_date.isoformat(),
                "principal": r.principal,
                "interest": r.interest,
                "fee": r.fee,
                "total": r.total,
            }
            # once disbursed, the loan's own schedule (from its payout date and amount)
            for r in (book.installments(session, view.loan_id) if view.loan_id else q.schedule)
        ],
        "fees": [
            {"name": f.name, "collector": f.collector, "basis": f.basis, "value": str(f.value)}
            for f in application_fees(application)
        ],
        "total_repayment": q.total_repayment,
        "net_disbursed": q.net_disbursed,
    }
    return view


@dataclass
class LoanView:
    loan: Loan
    lead_name_masked: str | None
    product_name: str
    lender_name: str
    outstanding_principal: Decimal
    days_past_due: int
    bucket: str | None
    apr_flagged: bool
    schedule: list[Any] = field(default_factory=list)
    repayments: list[Any] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loan, name)


def loan_view(session: Session, loan: Loan) -> LoanView:
    """One loan with its schedule and repayments."""
    rows = book.schedule(session, loan)
    worst = max((r.days_past_due for r in rows), default=0)
    owed = sum((r.principal - r.paid_principal for r in rows if not r.void), Decimal(0))
    return LoanView(
        loan,
        session.scalar(select(Lead.name_masked).where(Lead.id == loan.lead_id)),
        *_product_names(session, [loan.product_id])[loan.product_id],
        owed,
        worst,
        book.bucket(worst),
        loan.apr > org_settings(session, loan.org_id).apr_flag,
        rows,
        book.repayments(session, loan.id),
    )


def loan_page(session: Session, page: PageResult, now: datetime | None = None) -> PageResult:
    """A page of loans with the figures loan_view gives each, in as many queries for 200 rows
    as for one: names, products, the orgs' settings and the schedules' sums, one query each."""
    loans = page.items
    if not loans:
        return page
    now = now or utcnow()
    names = _lead_names(session, {loan.lead_id for loan in loans})
    products = _product_names(session, [loan.product_id for loan in loans])
    settings = _orgs_settings(session, {loan.org_id for loan in loans})
    today = {org_id: now.astimezone(ZoneInfo(s.timezone)).date() for org_id, s in settings.items()}
    standing = _standing(session, [loan.id for loan in loans])
    items = []
    for loan in loans:
        # a cancelled loan owes nothing more (book.ScheduleRow.void)
        none = (Decimal(0), None)
        owed, oldest_due = none if loan.status == "cancelled" else standing.get(loan.id, none)
        # as book.ScheduleRow counts it: the oldest unpaid installment is the most days late
        worst = max(0, (today[loan.org_id] - oldest_due).days) if oldest_due else 0
        view = LoanView(
            loan,
            names.get(loan.lead_id),
            *products[loan.product_id],
            owed,
            worst,
            book.bucket(worst),
            loan.apr > settings[loan.org_id].apr_flag,
        )
        items.append(view)
    return PageResult(items, page.total, page.page, page.per_page)


def _standing(session: Session, loan_ids: Sequence[int]) -> dict[int, tuple[Decimal, date | None]]:
    """Per loan, the principal still owed and the due date of its oldest unpaid installment."""
    unpaid = Installment.status != "paid"
    rows = session.execute(
        select(
            Installment.loan_id,
            func.sum(Installment.principal - Installment.paid_principal),
            func.min(case((unpaid, Installment.due_date))),
        )
        .where(Installment.loan_id.in_(loan_ids))
        .group_by(Installment.loan_id)
    )
    # SQLite sums the numeric columns as floats: their text to the cent is the exact sum
    return {
        loan_id: (Decimal(str(owed)).quantize(book.CENT), oldest) for loan_id, owed, oldest in rows
    }


def _orgs_settings(session: Session, org_ids: set[int]) -> dict[int, OrgSettings]:
    rows = session.execute(select(Org.id, Org.settings).where(Org.id.in_(org_ids)))
    return {org_id: parse_settings(stored) for org_id, stored in rows}


def _lead_names(session: Session, lead_ids: set[int]) -> dict[int, str | None]:
    return dict(
        session.execute(select(Lead.id, Lead.name_masked).where(Lead.id.in_(lead_ids))).all()
    )


@dataclass
class OverdueView:
    """An overdue installment with who owes it and on what."""

    row: book.ScheduleRow
    lead_id: int
    lead_name_masked: str | None
    agent_id: int | None
    product_name: str
    lender_name: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def overdue_page(session: Session, page: PageResult) -> PageResult:
    loans = {
        loan.id: loan
        for loan in session.scalars(
            select(Loan).where(Loan.id.in_({r.loan_id for r in page.items}))
        )
    }
    names = _lead_names(session, {loan.lead_id for loan in loans.values()})
    products = _product_names(session, [loan.product_id for loan in loans.values()])
    items = [
        OverdueView(
            row,
            (loan := loans[row.loan_id]).lead_id,
            names.get(loan.lead_id),
            loan.agent_id,
            *products[loan.product_id],
        )
        for row in page.items
    ]
    return PageResult(items, page.total, page.page, page.per_page)


def _product_names(session: Session, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Product and lender names; an offered product is HQ's, outside a partner's scope, but the
    loan or application that names it is the partner's own."""
    return {
        pid: (pname, lname)
        for pid, pname, lname in session.execute(
            select(Product.id, Product.name, Lender.name)
            .join(Lender, Lender.id == Product.lender_id)
            .where(Product.id.in_(set(product_ids)))
            .execution_options(**ALL_ORGS)
        )
    }
