"""The loan book: disbursement creates the loan and its schedule; repayments are allocated to it;
overdue is read from the schedule by date (days past due, M1/M2/M3 buckets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.funnel.stages import advance_to
from crm.leads.models import Lead
from crm.leads.service import add_event
from crm.loans.applications import advance, application_quote, get_application
from crm.loans.models import Installment, Loan, Repayment
from crm.loans.products import application_product, check_apr_cap
from crm.orgs.models import Team, User
from crm.pools.ownership import org_settings
from crm.queries import get_one, paginate
from crm.schemas import PageArgs, PageResult
from crm.tenancy import ALL_ORGS

CENT = Decimal("0.01")
# allocation order inside an installment: fees, then interest, then principal
_PARTS = ("fee", "interest", "principal")


def bucket(days_past_due: int) -> str | None:
    """M1 is 1–30 days past due, M2 31–60, M3 61–90, M3+ beyond (the industry's 账龄)."""
    if days_past_due <= 0:
        return None
    if days_past_due > 90:
        return "M3+"
    return f"M{(days_past_due - 1) // 30 + 1}"


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    installment: Installment
    today: date
    # of a cancelled loan: nothing more is due, so nothing is late
    void: bool = False

    @property
    def days_past_due(self) -> int:
        if self.void or self.installment.status == "paid":
            return 0
        return max(0, (self.today - self.installment.due_date).days)

    @property
    def status(self) -> str:
        return "overdue" if self.days_past_due else self.installment.status

    @property
    def bucket(self) -> str | None:
        return bucket(self.days_past_due)

    def __getattr__(self, name: str):
        return getattr(self.installment, name)


def disburse(
    session: Session,
    actor: Actor,
    application_id: int,
    amount: Decimal,
    disbursed_at: datetime,
    now: datetime | None = None,
) -> Loan:
    """The lender paid out: the loan, its schedule from the disbursement date, the lead disbursed.

    A lender may pay out less than approved, never more; the schedule and APR follow what was
    paid out, and the cap is checked again on it."""
    now = now or utcnow()
    if disbursed_at > now:
        raise DomainError("disbursed_in_future", "the disbursement date cannot be in the future")
    application = get_application(session, actor, application_id, for_update=True)
    if amount <= 0 or amount > application.amount:
        raise DomainError(
            "invalid_disbursed_amount",
            f"the amount paid out must be above 0 and at most the approved {application.amount}",
            details={"approved": str(application.amount)},
        )
    application, lead = advance(session, actor, application_id, "disbursed", now)
    product, _ = application_product(session, application.product_id)
    settings = org_settings(session, application.org_id)
    start = disbursed_at.astimezone(ZoneInfo(settings.timezone)).date()
    q = application_quote(application, start, amount)
    check_apr_cap(q.apr, settings, "loan")
    team_id, team_lead_id = _hierarchy(session, application.agent_id)
    loan = Loan(
        org_id=application.org_id,
        application_id=application.id,
        lead_id=application.lead_id,
        product_id=product.id,
        lender_id=product.lender_id,
        agent_id=application.agent_id,
        team_id=team_id,
        team_lead_id=team_lead_id,
        amount=amount,
        term_months=application.term_months,
        annual_rate=application.annual_rate,
        repayment_method=application.repayment_method,
        service_fee=application.service_fee,
        channel_fee=(amount * product.channel_fee_rate).quantize(CENT, ROUND_HALF_UP),
        apr=q.apr,
        effective_rate=q.effective_rate,
        disbursed_at=disbursed_at,
        created_at=now,
    )
    session.add(loan)
    session.flush()
    session.add_all(
        Installment(
            org_id=loan.org_id,
            loan_id=loan.id,
            n=row.n,
            due_date=row.due_date,
            principal=row.principal,
            interest=row.interest,
            fee=row.fee,
            paid_principal=Decimal(0),
            paid_interest=Decimal(0),
            paid_fee=Decimal(0),
            status="pending",
        )
        for row in q.schedule
    )
    advance_to(session, actor, lead, "disbursed", now=now)
    return loan


def cancel_loan(
    session: Session, actor: Actor, loan_id: int, reason: str, now: datetime | None = None
) -> Loan:
    """The loan was reversed (the borrower withdrew in the cooling-off period, or the lender
    unwound it): nothing more is due, and commission paid on it is clawed back."""
    now = now or utcnow()
    loan = get_loan(session, actor, loan_id, for_update=True)
    if loan.status == "cancelled":
        raise DomainError("loan_cancelled", "this loan is already cancelled")
    loan.status, loan.cancelled_at, loan.cancel_reason = "cancelled", now, reason
    lead = session.get(Lead, loan.lead_id)
    data = {"loan_id": loan.id, "to": "cancelled", "reason": reason}
    add_event(session, lead, actor, "loan", data, at=now)
    return loan


def record_fee_collected(
    session: Session, actor: Actor, loan_id: int, fee: str, collected_at: datetime
) -> Loan:
    """Our service fee was received from the borrower, or the channel fee from the lender."""
    if collected_at > utcnow():
        raise DomainError("collected_in_future", "the collection date cannot be in the future")
    loan = get_loan(session, actor, loan_id, for_update=True)
    column = f"{fee}_collected_at"
    if getattr(loan, column) is not None:
        raise DomainError(
            "fee_already_collected", f"the {fee.replace('_', ' ')} is recorded already"
        )
    if collected_at < loan.disbursed_at:
        raise DomainError("collected_before_disbursement", "a fee is collected after the payout")
    setattr(loan, column, collected_at)
    return loan


def _hierarchy(session: Session, agent_id: int | None) -> tuple[int | None, int | None]:
    """The agent's team and its lead now, kept on the loan for commission."""
    if agent_id is None:
        return None, None
    row = session.execute(
        select(Team.id, Team.lead_user_id)
        .join(User, User.team_id == Team.id)
        .where(User.id == agent_id)
        .execution_options(**ALL_ORGS)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def repay(
    session: Session,
    actor: Actor,
    loan_id: int,
    amount: Decimal,
    paid_at: datetime,
    now: datetime | None = None,
) -> Repayment:
    """Allocate money received: the oldest unpaid installment first, fees → interest →
    principal inside each; what exceeds the installments due goes to the next ones (paying
    ahead). More than the whole outstanding balance is refused, nothing recorded."""
    now = now or utcnow()
    if amount <= 0:
        raise DomainError("invalid_amount", "a repayment must be above 0")
    if paid_at > now:
        raise DomainError("paid_in_future", "the payment date cannot be in the future")
    loan = get_loan(session, actor, loan_id, for_update=True)
    if loan.status == "cancelled":
        raise DomainError("loan_cancelled", "this loan was cancelled: nothing more is due")
    rows = installments(session, loan.id)
    outstanding = sum((i.outstanding for i in rows), Decimal(0))
    if amount > outstanding:
        raise DomainError(
            "overpayment",
            f"the payment {amount} is more than the {outstanding} still owed on this loan",
            details={"outstanding": str(outstanding), "amount": str(amount)},
        )
    left, allocation = amount, []
    for inst in rows:
        if left == 0:
            break
        parts = {}
        for part in _PARTS:
            owed = getattr(inst, part) - getattr(inst, f"paid_{part}")
            take = min(owed, left)
            if take:
                setattr(inst, f"paid_{part}", getattr(inst, f"paid_{part}") + take)
                left -= take
                parts[part] = str(take)
        if parts:
            inst.status = "paid" if inst.outstanding == 0 else "partial"
            inst.paid_at = paid_at if inst.status == "paid" else None
            allocation.append({"installment_id": inst.id, "n": inst.n, **parts})
    if all(i.status == "paid" for i in rows):
        loan.status = "repaid"
    repayment = Repayment(
        org_id=loan.org_id,
        loan_id=loan.id,
        amount=amount,
        paid_at=paid_at,
        allocation=allocation,
        recorded_by=actor.user_id,
        created_at=now,
    )
    session.add(repayment)
    session.flush()
    return repayment


def get_loan(session: Session, actor: Actor, loan_id: int, *, for_update: bool = False) -> Loan:
    stmt = select(Loan).where(Loan.id == loan_id, *visibility(actor))
    return get_one(session, stmt, "loan", for_update=for_update)


def visibility(actor: Actor) -> list:
    """Managers, reviewers and finance see the org's loans; an agent those they sold or whose
    lead they own."""
    if actor.can("loans:manage") or actor.can("applications:review") or actor.can("leads:assign"):
        return []
    owned = exists().where(Lead.id == Loan.lead_id, Lead.owner_id == actor.user_id)
    return [or_(Loan.agent_id == actor.user_id, owned)]


def installments(session: Session, loan_id: int) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.n)
        )
    )


def repayments(session: Session, loan_id: int) -> list[Repayment]:
    return list(
        session.scalars(
            select(Repayment).where(Repayment.loan_id == loan_id).order_by(Repayment.paid_at)
        )
    )


def org_today(session: Session, org_id: int, now: datetime | None = None) -> date:
    zone = ZoneInfo(org_settings(session, org_id).timezone)
    return (now or utcnow()).astimezone(zone).date()


def schedule(session: Session, loan: Loan, now: datetime | None = None) -> list[ScheduleRow]:
    today, void = org_today(session, loan.org_id, now), loan.status == "cancelled"
    return [ScheduleRow(i, today, void) for i in installments(session, loan.id)]


def list_loans(session: Session, actor: Actor, args: PageArgs, lead_id: int | None) -> PageResult:
    stmt = select(Loan).where(*visibility(actor))
    if lead_id is not None:
        stmt = stmt.where(Loan.lead_id == lead_id)
    return paginate(session, stmt.order_by(Loan.disbursed_at.desc(), Loan.id.desc()), args)


def overdue(
    session: Session, actor: Actor, args: PageArgs, now: datetime | None = None
) -> PageResult:
    """Unpaid installments past their due date, the longest overdue first."""
    today = org_today(session, actor.org_id, now)
    stmt = (
        select(Installment)
        .join(Loan, Loan.id == Installment.loan_id)
        .where(
            Installment.status != "paid",
            Installment.due_date < today,
            Loan.status != "cancelled",
            *visibility(actor),
        )
        .order_by(Installment.due_date, Installment.id)
    )
    page = paginate(session, stmt, args)
    return PageResult(
        [ScheduleRow(i, today) for i in page.items], page.total, page.page, page.per_page
    )


def outstanding_principal(session: Session, loan_id: int) -> Decimal:
    value = session.scalar(
        select(func.sum(Installment.principal - Installment.paid_principal)).where(
            Installment.loan_id == loan_id
        )
    )
    return Decimal(str(value or 0)).quantize(CENT)
