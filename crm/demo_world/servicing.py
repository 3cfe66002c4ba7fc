"""The loan book after payout (贷后) in the demo's history: borrowers repay on their due dates, some
late, a few stop paying (the overdue list's M1-M3); agents record their collection calls; now
and then a borrower withdraws in the cooling-off period and the loan is cancelled. Through the
loans services (`repay`, `add_collection`, `cancel_loan`) at the simulated moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.demo_world.options import draw
from crm.demo_world.staff import Office, Run
from crm.loans.book import cancel_loan, repay
from crm.loans.collections import add_collection
from crm.loans.collections_schemas import NewCollection
from crm.loans.models import Installment, Loan

PAY_FROM, COLLECT_AT = time(10, 0), time(16, 0)
# borrowers who pay late pay this many days after the due date at most; defaulters stop at an
# installment and are called on these days past due
LATEST = 25
COLLECT_ON_DAYS = (2, 9, 16, 30, 45, 61, 75, 88)
COOLING_OFF_DAYS = 3
COLLECTION_NOTES = (
    ("call", "已电话提醒还款，客户称资金周转困难", "promised"),
    ("sms", "已发送逾期提醒短信", None),
    ("call", "电话无人接听", "no_answer"),
    ("wechat", "微信联系客户，客户未回复", None),
)


@dataclass(frozen=True, slots=True)
class Habit:
    """How a borrower repays: `late` days after each due date, and never from installment
    `stops_at` on (None: pays them all); `withdraws` in the cooling-off period."""

    late: int
    stops_at: int | None
    withdraws: bool


def habit(seed: int, loan: Loan) -> Habit:
    key = (loan.disbursed_at.isoformat(), str(loan.amount))
    kind, how = draw(seed, "habit", *key), draw(seed, "habit-how", *key)
    if kind < 0.015:
        return Habit(0, None, withdraws=True)
    if kind < 0.095:
        return Habit(0, 1 + int(how * 3), withdraws=False)
    if kind < 0.3:
        return Habit(3 + int(how * (LATEST - 3)), None, withdraws=False)
    return Habit(-int(how * 3), None, withdraws=False)  # on time, some a day or two early


def book_day(session: Session, run: Run, office: Office, day: date) -> None:
    """The day's repayments, cancellations and collection calls of the office's loans."""
    rng = run.rng("book", office.org_id, day)
    clock = office.at(day, PAY_FROM)
    if clock > run.now:
        return
    _withdrawals(session, run, office, day)
    rows = session.execute(
        select(Installment, Loan)
        .join(Loan, Loan.id == Installment.loan_id)
        .where(
            Loan.org_id == office.org_id,
            Loan.status == "active",
            Installment.status != "paid",
            Installment.due_date <= day + timedelta(days=3),
        )
        .order_by(Installment.loan_id, Installment.n)
    ).all()
    chased: set[int] = set()
    for installment, loan in rows:
        borrower = habit(run.seed, loan)
        if borrower.stops_at is not None and installment.n >= borrower.stops_at:
            if loan.id not in chased:
                chased.add(loan.id)
                _collect(session, run, office, loan, installment, day)
            continue
        if installment.due_date + timedelta(days=borrower.late) <= day:
            if clock > run.now:
                continue
            repay(session, office.loan_desk, loan.id, installment.outstanding, clock, now=clock)
            clock += timedelta(minutes=rng.uniform(3, 15))
        elif installment.due_date < day and loan.id not in chased:
            chased.add(loan.id)
            _collect(session, run, office, loan, installment, day)


def _withdrawals(session: Session, run: Run, office: Office, day: date) -> None:
    """Loans paid out COOLING_OFF_DAYS ago whose borrower changes their mind are cancelled."""
    paid_out = office.at(day - timedelta(days=COOLING_OFF_DAYS), time())
    loans = session.scalars(
        select(Loan)
        .where(
            Loan.org_id == office.org_id,
            Loan.status == "active",
            Loan.disbursed_at >= paid_out,
            Loan.disbursed_at < paid_out + timedelta(days=1),
        )
        .order_by(Loan.id)
    )
    at = office.at(day, COLLECT_AT)
    for loan in loans:
        if habit(run.seed, loan).withdraws and at <= run.now:
            cancel_loan(session, office.loan_desk, loan.id, "客户冷静期内撤销借款", now=at)


def _collect(
    session: Session, run: Run, office: Office, loan: Loan, installment: Installment, day: date
) -> None:
    """The loan's agent calls on the set days past due of its oldest unpaid installment."""
    late = (day - installment.due_date).days
    at = office.at(day, COLLECT_AT)
    if late not in COLLECT_ON_DAYS or at > run.now or loan.agent_id is None:
        return
    channel, content, result = COLLECTION_NOTES[late % len(COLLECTION_NOTES)]
    note = NewCollection(channel=channel, content=content, result=result)
    add_collection(session, run.actor(session, loan.agent_id), loan.id, note, now=at)
