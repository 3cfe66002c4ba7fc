"""Loans written straight into the database with a schedule chosen by the test (due dates and
round amounts that figures can be counted by hand from); tests/loan_helpers.py builds them
through the API instead, with the schedule the product's terms give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.leads.models import Lead
from crm.loans.models import Application, Installment, Lender, Loan, Product, Repayment
from crm.orgs.models import Org, User

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Due:
    """One installment: due on `day`, `principal` of which `paid` is paid (interest is 0)."""

    day: date
    principal: Decimal
    paid: Decimal = ZERO

    @property
    def status(self) -> str:
        if self.paid == self.principal:
            return "paid"
        return "partial" if self.paid else "pending"


def borrower_world(make, phone: str, name: str) -> SimpleNamespace:
    """An org with an agent owning the lead `name` (phone `phone`), and a product to lend on."""
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org, phone=phone, owner=agent, name=name)
    _, product = make_lender(org)
    return SimpleNamespace(org=org, agent=agent, lead=lead, product=product)


def make_lender(org: Org, name: str = "招商银行") -> tuple[Lender, Product]:
    with db.unit_of_work(SYSTEM) as session:
        lender = Lender(org_id=org.id, name=name, kind="bank")
        session.add(lender)
        session.flush()
        product = Product(
            org_id=org.id,
            lender_id=lender.id,
            name=f"{name}工薪贷",
            min_amount=Decimal("1000.00"),
            max_amount=Decimal("500000.00"),
            min_term_months=1,
            max_term_months=36,
            apr_min=Decimal("0.08"),
            apr_max=Decimal("0.12"),
            repayment_method="equal_principal",
            fees=[],
            channel_fee_rate=Decimal("0.02"),
            rules={},
            apr_worst=Decimal("0.12"),
        )
        session.add(product)
    return lender, product


def make_loan(
    lead: Lead,
    product: Product,
    schedule: Sequence[Due],
    *,
    agent: User | None = None,
    amount: Decimal | None = None,
    disbursed_at: datetime = datetime(2026, 1, 5, 2, tzinfo=UTC),
    **columns: Any,
) -> tuple[Loan, list[Installment]]:
    """A disbursed loan of `lead` (in the lead's org) with exactly `schedule`; `columns` set
    more of the loan's (its fees, team, team lead), none by default."""
    amount = amount if amount is not None else sum((d.principal for d in schedule), ZERO)
    terms = {"amount": amount, "term_months": len(schedule), "annual_rate": Decimal("0.10")}
    with db.unit_of_work(SYSTEM) as session:
        application = Application(
            org_id=lead.org_id,
            lead_id=lead.id,
            product_id=product.id,
            status="disbursed",
            service_fee=ZERO,
            repayment_method=product.repayment_method,
            lender_fees=product.fees,
            apr=Decimal("0.10"),
            effective_rate=Decimal("0.10"),
            agent_id=agent and agent.id,
            **terms,
        )
        session.add(application)
        session.flush()
        loan = Loan(
            org_id=lead.org_id,
            application_id=application.id,
            lead_id=lead.id,
            product_id=product.id,
            lender_id=product.lender_id,
            agent_id=agent and agent.id,
            repayment_method="equal_principal",
            service_fee=ZERO,
            channel_fee=ZERO,
            apr=Decimal("0.10"),
            effective_rate=Decimal("0.10"),
            disbursed_at=disbursed_at,
            status="repaid" if all(d.status == "paid" for d in schedule) else "active",
            **terms,
        )
        for name, value in columns.items():
            setattr(loan, name, value)
        session.add(loan)
        session.flush()
        rows = [_installment(loan, n, due) for n, due in enumerate(schedule, start=1)]
        session.add_all(rows)
    return loan, rows


def _installment(loan: Loan, n: int, due: Due) -> Installment:
    return Installment(
        org_id=loan.org_id,
        loan_id=loan.id,
        n=n,
        due_date=due.day,
        principal=due.principal,
        interest=ZERO,
        fee=ZERO,
        paid_principal=due.paid,
        paid_interest=ZERO,
        paid_fee=ZERO,
        status=due.status,
    )


def pay_later(loan: Loan, installment: Installment, principal: Decimal, paid_at: datetime) -> None:
    """Record that `principal` of `installment` was paid at `paid_at`, as book.repay would have
    allocated it: the installment's paid amounts and status move, and a repayment says when."""
    with db.unit_of_work(SYSTEM) as session:
        row = session.get(Installment, installment.id)
        row.paid_principal += principal
        row.status = "paid" if row.paid_principal == row.principal else "partial"
        allocation = [{"installment_id": row.id, "n": row.n, "principal": str(principal)}]
        session.add(
            Repayment(
                org_id=loan.org_id,
                loan_id=loan.id,
                amount=principal,
                paid_at=paid_at,
                allocation=allocation,
            )
        )


def cancel(loan: Loan, at: datetime) -> None:
    """The loan was reversed at `at` (crm.loans.book.cancel_loan's columns)."""
    with db.unit_of_work(SYSTEM) as session:
        row = session.get(Loan, loan.id)
        row.status, row.cancelled_at, row.cancel_reason = "cancelled", at, "冷静期内撤销"
