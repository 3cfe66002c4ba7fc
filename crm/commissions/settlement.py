"""Settling one org's month: load the loans and what was already paid, compute the lines
(crm/commissions/calc.py), store one statement per payee. Runs as a job; settles once.

A re-run of a draft recomputes it from the same facts and gives the same statements (manual
adjustments are kept); an approved or paid settlement is never touched again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from crm.commissions.calc import (
    FEES,
    LineDraft,
    LoanFacts,
    PaidLine,
    Payee,
    cap_lines,
    clawback_lines,
    fee_lines,
)
from crm.commissions.models import Settlement, Statement, StatementLine
from crm.commissions.plans import CLOSED, PlanBook, period_of, plan_book
from crm.db import utcnow
from crm.errors import DomainError
from crm.loans.models import Installment, Loan
from crm.orgs.models import Org
from crm.pools.ownership import parse_settings

Progress = Callable[[float], None]


def month_bounds(period: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def settle(
    session: Session, settlement_id: int, progress: Progress = lambda _: None, now=None
) -> dict:
    """Compute (or recompute) a draft settlement; returns its statement count and total."""
    settlement = session.scalars(
        select(Settlement).where(Settlement.id == settlement_id).with_for_update()
    ).one()
    if settlement.status in CLOSED:
        return _summary(session, settlement)
    org = session.get(Org, settlement.org_id)
    zone = ZoneInfo(parse_settings(org.settings).timezone)
    start, end = month_bounds(settlement.period, zone)
    if end > (now or utcnow()):
        raise DomainError("period_not_over", f"{settlement.period} has not ended yet")
    _clear_draft(session, settlement)
    book = plan_book(session, org.id)
    facts = _loan_facts(session, org, book, zone, start, end)
    progress(0.3)
    drafts = fee_lines(facts, settlement.period)
    drafts += cap_lines(drafts, _caps(book, start.date(), drafts))
    drafts += _clawbacks(session, org.id, book, zone, end)
    progress(0.6)
    _store(session, settlement, _unpaid(session, drafts), org)
    settlement.status, settlement.settled_at, settlement.error = "draft", now or utcnow(), None
    progress(1.0)
    return _summary(session, settlement)


def _loan_facts(
    session: Session, org: Org, book: PlanBook, zone: ZoneInfo, start: datetime, end: datetime
) -> list[LoanFacts]:
    """The loans whose shares may accrue in the month, plus, for the agents' tiers, every loan
    of the same agent and month of payout (a fee collected now of a loan paid out in an earlier
    month is paid at that month's tier)."""
    in_month = or_(
        Loan.disbursed_at.between(start, end - timedelta(microseconds=1)),
        Loan.service_fee_collected_at.between(start, end - timedelta(microseconds=1)),
        Loan.channel_fee_collected_at.between(start, end - timedelta(microseconds=1)),
    )
    live = Loan.status != "cancelled"
    loans = list(session.scalars(select(Loan).where(Loan.org_id == org.id, live, in_month)))
    earlier = {(loan.agent_id, _month(loan.disbursed_at, zone)) for loan in loans}
    earlier -= {(loan.agent_id, period_of(start.date())) for loan in loans}
    for agent_id, month in earlier:
        m_start, m_end = month_bounds(month, zone)
        known = {loan.id for loan in loans}
        loans += [
            loan
            for loan in session.scalars(
                select(Loan).where(
                    Loan.org_id == org.id,
                    Loan.agent_id == agent_id,
                    live,
                    Loan.disbursed_at >= m_start,
                    Loan.disbursed_at < m_end,
                )
            )
            if loan.id not in known
        ]
    partner = org.id if org.kind == "partner" else None
    return [facts for loan in loans if (facts := loan_facts(loan, book, zone, partner)) is not None]


def loan_facts(loan: Loan, book: PlanBook, zone: ZoneInfo, partner: int | None) -> LoanFacts | None:
    day = loan.disbursed_at.astimezone(zone).date()
    terms = book.terms_on(day)
    if terms is None:
        return None  # no plan covers the loan: it earns nothing (the settlement says so)
    if terms.accrue_on == "disbursement":
        accrues = dict.fromkeys(FEES, period_of(day))
    else:
        accrues = {
            fee: _month(at, zone) if (at := getattr(loan, f"{fee}_collected_at")) else None
            for fee in FEES
        }
    return LoanFacts(
        loan_id=loan.id,
        amount=loan.amount,
        fees={"service_fee": loan.service_fee, "channel_fee": loan.channel_fee},
        disbursed_at=loan.disbursed_at,
        month=period_of(day),
        agent_id=loan.agent_id,
        team_lead_id=loan.team_lead_id,
        partner_org_id=partner,
        accrues_in=accrues,
        terms=terms,
    )


def _month(at: datetime, zone: ZoneInfo) -> str:
    return period_of(at.astimezone(zone).date())


def _caps(book: PlanBook, day: date, drafts: Sequence[LineDraft]) -> dict[str, Decimal]:
    terms = book.terms_on(day)
    if terms is None or terms.agent_monthly_cap is None:
        return {}
    return {d.payee.key: terms.agent_monthly_cap for d in drafts if d.payee.role == "agent"}


def _clawbacks(
    session: Session, org_id: int, book: PlanBook, zone: ZoneInfo, end: datetime
) -> list[LineDraft]:
    """Reverse approved shares of loans cancelled, or overdue past the plan's days, within its
    clawback window from payout, by the end of this month."""
    paid = session.execute(
        select(StatementLine, Statement, Loan)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .join(Loan, Loan.id == StatementLine.loan_id)
        .where(
            Statement.org_id == org_id,
            Statement.status.in_(CLOSED),
            StatementLine.kind.in_(FEES),
            # a loan older than every plan's window can no longer be clawed back
            Loan.disbursed_at >= end - timedelta(days=book.longest_clawback_days() + 1),
        )
    ).all()
    if not paid:
        return []
    done = set(
        session.scalars(
            select(StatementLine.dedupe_key).where(
                StatementLine.dedupe_key.in_([f"clawback:{line.id}" for line, _, _ in paid])
            )
        )
    )
    loans = {loan.id: loan for _, _, loan in paid}
    reasons = _clawback_reasons(session, loans, book, zone, end)
    return clawback_lines(
        (
            PaidLine(line.id, _payee(stmt), line.loan_id, line.base, line.rate, line.amount)
            for line, stmt, _ in paid
            if f"clawback:{line.id}" not in done
        ),
        reasons,
    )


def _clawback_reasons(
    session: Session, loans: dict[int, Loan], book: PlanBook, zone: ZoneInfo, end: datetime
) -> dict[int, str]:
    reasons: dict[int, str] = {}
    last_day = (end - timedelta(days=1)).astimezone(zone).date()
    late = defaultdict(list)
    for inst in session.scalars(
        select(Installment).where(
            Installment.loan_id.in_(list(loans)), Installment.due_date <= last_day
        )
    ):
        late[inst.loan_id].append(inst)
    for loan_id, loan in loans.items():
        paid_out = loan.disbursed_at.astimezone(zone).date()
        terms = book.terms_on(paid_out)
        if terms is None:
            continue
        window_end = paid_out + timedelta(days=terms.clawback_days)
        if loan.cancelled_at is not None and loan.cancelled_at < end:
            if loan.cancelled_at.astimezone(zone).date() <= window_end:
                reasons[loan_id] = "贷款取消"
            continue
        for inst in late[loan_id]:
            trigger = inst.due_date + timedelta(days=terms.clawback_overdue_days + 1)
            paid_by = inst.paid_at.astimezone(zone).date() if inst.paid_at else None
            unpaid_then = paid_by is None or paid_by >= trigger
            if unpaid_then and trigger <= min(window_end, last_day):
                reasons[loan_id] = f"逾期超过 {terms.clawback_overdue_days} 天"
                break
    return reasons


def _unpaid(session: Session, drafts: list[LineDraft]) -> list[LineDraft]:
    """Drop shares some other statement already holds: a loan's share is paid once, ever."""
    keys = [d.dedupe_key for d in drafts if d.dedupe_key]
    taken: set[str] = set()
    for at in range(0, len(keys), 5000):
        taken.update(
            session.scalars(
                select(StatementLine.dedupe_key).where(
                    StatementLine.dedupe_key.in_(keys[at : at + 5000])
                )
            )
        )
    return [d for d in drafts if d.dedupe_key not in taken]


def _clear_draft(session: Session, settlement: Settlement) -> None:
    """A recomputed draft starts from its manual adjustments only."""
    ids = select(Statement.id).where(Statement.settlement_id == settlement.id)
    session.execute(
        delete(StatementLine)
        .where(StatementLine.statement_id.in_(ids), StatementLine.kind != "adjustment")
        .execution_options(synchronize_session=False)
    )


def _store(session: Session, settlement: Settlement, drafts: list[LineDraft], org: Org) -> None:
    statements = {
        s.payee_key: s
        for s in session.scalars(select(Statement).where(Statement.settlement_id == settlement.id))
    }
    by_payee: defaultdict[str, list[LineDraft]] = defaultdict(list)
    for draft in drafts:
        by_payee[draft.payee.key].append(draft)
    for key, lines in by_payee.items():
        if key not in statements:
            statements[key] = open_statement(session, settlement, lines[0].payee, org.id)
    session.flush()
    rows = [
        {
            "org_id": org.id,
            "statement_id": statements[key].id,
            "kind": d.kind,
            "loan_id": d.loan_id,
            "base": d.base,
            "rate": d.rate,
            "amount": d.amount,
            "note": d.note,
            "dedupe_key": d.dedupe_key,
            "created_at": utcnow(),
        }
        for key, lines in by_payee.items()
        for d in lines
    ]
    for at in range(0, len(rows), 5000):
        session.execute(insert(StatementLine), rows[at : at + 5000])
    retotal(session, list(statements.values()))


def open_statement(
    session: Session, settlement: Settlement, payee: Payee, org_id: int
) -> Statement:
    statement = Statement(
        org_id=org_id,
        settlement_id=settlement.id,
        period=settlement.period,
        payee_key=payee.key,
        payee_user_id=payee.user_id,
        payee_org_id=payee.org_id,
        payee_role=payee.role,
        status="draft",
        total=Decimal(0),
    )
    session.add(statement)
    return statement


def retotal(session: Session, statements: list[Statement]) -> None:
    """A statement's total is the sum of its lines; a statement left without lines goes."""
    sums = dict(
        session.execute(
            select(StatementLine.statement_id, func.sum(StatementLine.amount))
            .where(StatementLine.statement_id.in_([s.id for s in statements]))
            .group_by(StatementLine.statement_id)
        ).all()
    )
    for statement in statements:
        if statement.id not in sums:
            session.delete(statement)
        else:
            statement.total = Decimal(str(sums[statement.id])).quantize(Decimal("0.01"))


def _payee(statement: Statement) -> Payee:
    return Payee(
        statement.payee_key, statement.payee_role, statement.payee_user_id, statement.payee_org_id
    )


def _summary(session: Session, settlement: Settlement) -> dict:
    rows = session.execute(
        select(Statement.total).where(Statement.settlement_id == settlement.id)
    ).all()
    total = sum((Decimal(str(r[0])) for r in rows), Decimal(0))
    return {
        "settlement_id": settlement.id,
        "status": settlement.status,
        "statements": len(rows),
        "total": str(total.quantize(Decimal("0.01"))),
    }
