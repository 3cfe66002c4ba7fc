"""Loan endpoints: disbursement, the schedule, repayments and the overdue list."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.loans import book, collections, views
from crm.loans.collections_schemas import OverdueCollectionRow
from crm.loans.schemas import (
    CancelLoan,
    Disburse,
    FeeCollected,
    LoanDetail,
    LoanFilters,
    LoanOut,
    NewRepayment,
    RepaymentOut,
)
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("loan_book", __name__, tag="loans")


@bp.endpoint(
    "/applications/<int:application_id>/disburse",
    "POST",
    body=Disburse,
    response=LoanDetail,
    status=201,
    permission="loans:manage",
)
def disburse(session: Session, actor: Actor, application_id: int, body: Disburse):
    """Record the lender's payout of a signed application: creates the loan and its schedule."""
    loan = book.disburse(session, actor, application_id, body.amount, body.disbursed_at)
    return views.loan_view(session, loan)


@bp.endpoint("/loans", query=LoanFilters, response=Page[LoanOut], permission="loans:read")
def list_loans(session: Session, actor: Actor, query: LoanFilters):
    """Loans you may see, newest disbursement first."""
    return views.loan_page(session, book.list_loans(session, actor, query, query.lead_id))


@bp.endpoint(
    "/loans/overdue", query=PageArgs, response=Page[OverdueCollectionRow], permission="loans:read"
)
def overdue(session: Session, actor: Actor, query: PageArgs):
    """Unpaid installments past due (days, M1/M2/M3 bucket, last collection), oldest first."""
    page = views.overdue_page(session, book.overdue(session, actor, query))
    return collections.with_collections(session, page)


@bp.endpoint("/loans/<int:loan_id>", response=LoanDetail, permission="loans:read")
def get_loan(session: Session, actor: Actor, loan_id: int):
    """A loan with its schedule (paid, status, days past due per installment) and repayments."""
    return views.loan_view(session, book.get_loan(session, actor, loan_id))


@bp.endpoint(
    "/loans/<int:loan_id>/repayments",
    "POST",
    body=NewRepayment,
    response=RepaymentOut,
    status=201,
    permission="loans:manage",
)
def repay(session: Session, actor: Actor, loan_id: int, body: NewRepayment):
    """Record money received; 422 overpayment when it exceeds what is still owed."""
    return book.repay(session, actor, loan_id, body.amount, body.paid_at)


@bp.endpoint(
    "/loans/<int:loan_id>/cancel",
    "POST",
    body=CancelLoan,
    response=LoanDetail,
    permission="loans:manage",
)
def cancel_loan(session: Session, actor: Actor, loan_id: int, body: CancelLoan):
    """The loan was reversed: nothing more is due, commission on it is clawed back."""
    return views.loan_view(session, book.cancel_loan(session, actor, loan_id, body.reason))


@bp.endpoint(
    "/loans/<int:loan_id>/fees/<any(service_fee,channel_fee):fee>/collected",
    "POST",
    body=FeeCollected,
    response=LoanDetail,
    permission="loans:manage",
)
def fee_collected(session: Session, actor: Actor, loan_id: int, fee: str, body: FeeCollected):
    """Our service fee (from the borrower) or the channel fee (from the lender) was received."""
    loan = book.record_fee_collected(session, actor, loan_id, fee, body.collected_at)
    return views.loan_view(session, loan)
