"""The loan book (贷款余额表) as of a day: what was lent, what is still owed, what is overdue and
how long, per lender, product or org.

Figures, each at the end of `as_of` in the viewer's org time zone:
- `loans`, `disbursed_amount`: the loans disbursed by then, less those cancelled by then;
- `balance`: the principal still owed on them (余额); `active_loans` those owing any;
- `overdue_principal`: the principal of installments unpaid past their due date;
  `overdue_rate` = overdue_principal / balance;
- `m1` … `m3_plus`: the whole balance of each loan by its age (账龄), the days past due of its
  oldest unpaid installment (crm/loans/book.bucket): M1 1–30 days, M2 31–60, M3 61–90, M3+ more.
  They add up to the balance of the overdue loans, which is more than the overdue principal.

Repayments paid after `as_of` are taken back out (from their allocations), so a month-end book
read days later shows the month-end figures. The sums run in SQL over the installments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Numeric, Subquery, case, func, select, true
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.loans.models import Installment, Lender, Loan, Product, Repayment
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.pools.ownership import org_settings
from crm.queries import plan_for_values
from crm.reports.service import rate, summed
from crm.sql_functions import json_elements, json_member
from crm.tenancy import ALL_ORGS

Grouping = Literal["lender", "product", "org"]
_KEYS = {"lender": Loan.lender_id, "product": Loan.product_id, "org": Loan.org_id}
# (field, fewest days past due, most) as crm.loans.book.bucket draws them
BUCKETS = (("m1", 1, 30), ("m2", 31, 60), ("m3", 61, 90), ("m3_plus", 91, None))


@dataclass(frozen=True, slots=True)
class BookGroup:
    key: int | None
    label: str | None
    loans: int
    active_loans: int
    disbursed_amount: Decimal
    balance: Decimal
    overdue_principal: Decimal
    overdue_rate: Decimal | None
    m1: Decimal
    m2: Decimal
    m3: Decimal
    m3_plus: Decimal


@dataclass(frozen=True, slots=True)
class LoanBook:
    as_of: date
    timezone: str
    group_by: Grouping
    groups: list[BookGroup]
    total: BookGroup


def loan_book(
    session: Session,
    actor: Actor,
    group_by: Grouping = "lender",
    as_of: date | None = None,
    now: datetime | None = None,
) -> LoanBook:
    """The book of the loans the viewer's org scope holds (HQ: every org), per group, biggest
    balance first."""
    plan_for_values(session)
    now = now or utcnow()
    settings = org_settings(session, actor.org_id) if actor.org_id else OrgSettings()
    zone = ZoneInfo(settings.timezone)
    as_of = as_of or now.astimezone(zone).date()
    end = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=zone)
    later = _paid_after(end) if end <= now else None
    per_loan = _per_loan(_KEYS[group_by], as_of, end, later)
    rows = session.execute(_per_group(per_loan, as_of)).all()
    labels = _labels(session, group_by, {row.key for row in rows})
    groups = [_group(row.key, labels.get(row.key), row) for row in rows]
    groups.sort(key=lambda g: (-g.balance, g.key))
    return LoanBook(as_of, settings.timezone, group_by, groups, _total(groups))


def _paid_after(end: datetime) -> Subquery:
    """Per installment, the principal allocated to it by repayments paid at or after `end`; an
    installment listed here was not paid off at `end`, whatever it is now."""
    part = json_elements(Repayment.allocation).table_valued("value").alias("part")
    installment_id = json_member(part.c.value, "installment_id").cast(BigInteger)
    principal = json_member(part.c.value, "principal").cast(Numeric(14, 2))
    return (
        select(
            installment_id.label("installment_id"),
            func.sum(func.coalesce(principal, 0)).label("principal"),
        )
        .select_from(Repayment)
        .join(part, true())
        .where(Repayment.paid_at >= end)
        .group_by(installment_id)
        .subquery("paid_after")
    )


def _per_loan(key: Any, as_of: date, end: datetime, later: Subquery | None) -> Subquery:
    """One row per loan disbursed before `end`: its group key, amount, principal owed, overdue
    principal and the due date of its oldest installment unpaid past due."""
    owed = Installment.principal - Installment.paid_principal
    unpaid = Installment.status != "paid"
    stmt = select(Loan.id, key.label("key"), Loan.amount)
    if later is not None:
        owed = owed + func.coalesce(later.c.principal, 0)
        unpaid = unpaid | later.c.installment_id.is_not(None)
    past_due = unpaid & (Installment.due_date < as_of)
    stmt = stmt.add_columns(
        func.sum(owed).label("balance"),
        func.sum(case((past_due, owed), else_=0)).label("overdue"),
        func.min(case((past_due, Installment.due_date))).label("oldest_due"),
    ).join(Installment, Installment.loan_id == Loan.id)
    if later is not None:
        stmt = stmt.outerjoin(later, later.c.installment_id == Installment.id)
    # a loan cancelled (reversed) by then is out of the book, one cancelled later still in it
    in_book = (Loan.disbursed_at < end) & (Loan.cancelled_at.is_(None) | (Loan.cancelled_at >= end))
    stmt = stmt.where(in_book).group_by(Loan.id, key, Loan.amount)
    return stmt.subquery("per_loan")


def _per_group(per_loan: Subquery, as_of: date) -> Any:
    loan = per_loan.c

    def aged(fewest: int, most: int | None) -> Any:
        # oldest_due is set only when past due, i.e. before as_of
        condition = loan.oldest_due <= as_of - timedelta(days=fewest)
        if most is not None:
            condition &= loan.oldest_due >= as_of - timedelta(days=most)
        return func.sum(case((condition, loan.balance), else_=0))

    return select(
        loan.key,
        func.count().label("loans"),
        func.sum(case((loan.balance > 0, 1), else_=0)).label("active_loans"),
        func.sum(loan.amount).label("disbursed_amount"),
        func.sum(loan.balance).label("balance"),
        func.sum(loan.overdue).label("overdue_principal"),
        *(aged(fewest, most).label(name) for name, fewest, most in BUCKETS),
    ).group_by(loan.key)


def _labels(session: Session, group_by: Grouping, keys: set[int]) -> dict[int, str]:
    """Names of the groups. A partner's loans may be of HQ's lenders and products (offers), so
    their names are read past the org scope; the keys come from the loans the viewer sees."""
    model = {"org": Org, "lender": Lender, "product": Product}[group_by]
    stmt = select(model.id, model.name).where(model.id.in_(keys))
    return dict(session.execute(stmt.execution_options(**ALL_ORGS)).all())


_MONEY = ("disbursed_amount", "balance", "overdue_principal", *(b[0] for b in BUCKETS))


def _group(key: int | None, label: str | None, row: Any) -> BookGroup:
    money = {name: summed(getattr(row, name)) for name in _MONEY}
    return BookGroup(
        key=key,
        label=label,
        loans=int(row.loans),
        active_loans=int(row.active_loans or 0),
        overdue_rate=rate(money["overdue_principal"], money["balance"]),
        **money,
    )


def _total(groups: list[BookGroup]) -> BookGroup:
    sums = {
        name: sum((getattr(g, name) for g in groups), Decimal(0))
        for name in ("loans", "active_loans", *_MONEY)
    }
    return _group(None, None, SimpleNamespace(**sums))
