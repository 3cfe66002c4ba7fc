"""Settling one org's month: load the loans and what was already paid, compute the lines
(crm/commissions/calc.py), store one statement per payee. Runs as a job; settles once.

A re-run of a draft recomputes it from the same facts and gives the same statements (manual
adjustments are kept); an approved or paid settlement is never touched again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from crm.commissions.calc import (
    FEES,
    CappedMonth,
    LineDraft,
    LoanFacts,
    PaidLine,
    Payee,
    cap_lines,
    cap_refunds,
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
from crm.queries import among

Progress = Callable[[float], None]
LINE_COLUMNS = ("org_id", "statement_id", "kind", "loan_id", "base", "rate", "amount", "note")
LINE_COLUMNS += ("dedupe_key", "created_at")


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
    drafts += _clawbacks(session, org.id, book, zone, start, end)
    progress(0.6)
    now = now or utcnow()
    _store(session, settlement, _unpaid(session, drafts), org, now)
    settlement.status, settlement.settled_at, settlement.error = "draft", now, None
    progress(1.0)
    return _summary(session, settlement)


def _loan_facts(
    session: Session, org: Org, book: PlanBook, zone: ZoneInfo, start: datetime, end: datetime
) -> list[LoanFacts]:
    """The loans whose shares may accrue in the month, plus, for the agents' tiers, every loan
    of the same agent and month of payout (a fee collected now of a loan paid out in an earlier
    month is paid at that month's tier)."""
    moments = [Loan.disbursed_at]
    # Under plans that all accrue on payout, a loan paid out in another month has no share in
    # this one nor a say in its tiers: its fees collected now, and its agent's month, need not
    # be read (half of a month's reading when last month was as big)
    if any(terms.accrue_on == "fee_collected" for _, terms in book.own + book.default):
        moments += [Loan.service_fee_collected_at, Loan.channel_fee_collected_at]
    in_month = or_(*(at.between(start, end - timedelta(microseconds=1)) for at in moments))
    live = Loan.status != "cancelled"
    loans = list(session.scalars(select(Loan).where(Loan.org_id == org.id, live, in_month)))
    known = {loan.id for loan in loans}
    earlier = {(loan.agent_id, _month(loan.disbursed_at, zone)) for loan in loans}
    earlier -= {(loan.agent_id, period_of(start.date())) for loan in loans}
    for agent_id, month in earlier:
        m_start, m_end = month_bounds(month, zone)
        for loan in session.scalars(
            select(Loan).where(
                Loan.org_id == org.id,
                Loan.agent_id == agent_id,
                live,
                Loan.disbursed_at >= m_start,
                Loan.disbursed_at < m_end,
            )
        ):
            # one `known` for the loop: rebuilt per agent it was quadratic, 9 s of a
            # 100,000-loan month (bench/settle_commissions.py)
            if loan.id not in known:
                known.add(loan.id)
                loans.append(loan)
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
    session: Session, org_id: int, book: PlanBook, zone: ZoneInfo, start: datetime, end: datetime
) -> list[LineDraft]:
    """Reverse approved shares of loans cancelled, or overdue past the plan's days, within its
    clawback window from payout, by the end of this month (each share once: its line's key).

    The loans come first and the lines only of those with a reason: the window holds months of
    approved lines (over 200,000 for HQ after a 100,000-loan month), a few percent of which go
    back."""
    approved = (
        select(StatementLine.id)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(
            StatementLine.loan_id == Loan.id,
            Statement.org_id == org_id,
            Statement.status.in_(CLOSED),
            StatementLine.kind.in_(FEES),
        )
    )
    loans = {
        loan.id: loan
        for loan in session.execute(
            select(Loan.id, Loan.disbursed_at, Loan.cancelled_at).where(
                # a statement's lines are of its org's loans
                Loan.org_id == org_id,
                Loan.disbursed_at >= _window_reach(book, start),
                approved.exists(),
            )
        )
    }
    reasons = _clawback_reasons(session, loans, book, zone, end)
    if not reasons:
        return []
    paid = [
        row
        for condition in among(session, StatementLine.loan_id, reasons)
        for row in session.execute(
            select(StatementLine, Statement)
            .join(Statement, Statement.id == StatementLine.statement_id)
            .where(
                condition,
                Statement.org_id == org_id,
                Statement.status.in_(CLOSED),
                StatementLine.kind.in_(FEES),
            )
            .order_by(StatementLine.id)
        )
    ]
    done = _taken(session, [f"clawback:{line.id}" for line, _ in paid])
    todo = [(line, stmt) for line, stmt in paid if f"clawback:{line.id}" not in done]
    reversed_ = clawback_lines(
        (
            PaidLine(line.id, _payee(stmt), line.loan_id, line.base, line.rate, line.amount)
            for line, stmt in todo
        ),
        reasons,
    )
    return reversed_ + cap_refunds(_capped_months(session, todo))


def _capped_months(
    session: Session, todo: list[tuple[StatementLine, Statement]]
) -> list[CappedMonth]:
    """The agent statements among those `todo`'s lines were paid in that the monthly cap cut:
    what each earned, its cap, and the shares clawed back from it before and now."""
    statements: dict[int, Statement] = {}
    now: defaultdict[int, Decimal] = defaultdict(Decimal)
    for line, stmt in todo:
        if stmt.payee_role == "agent":
            statements[stmt.id] = stmt
            now[stmt.id] += line.amount
    if not statements:
        return []
    earned: defaultdict[int, Decimal] = defaultdict(Decimal)
    cut: defaultdict[int, Decimal] = defaultdict(Decimal)
    shares: dict[str, tuple[int, Decimal]] = {}
    for line_id, statement_id, kind, amount in session.execute(
        select(
            StatementLine.id, StatementLine.statement_id, StatementLine.kind, StatementLine.amount
        ).where(StatementLine.statement_id.in_(statements), StatementLine.kind.in_((*FEES, "cap")))
    ):
        if kind == "cap":
            cut[statement_id] += amount
        else:
            earned[statement_id] += amount
            shares[f"clawback:{line_id}"] = (statement_id, amount)
    before: defaultdict[int, Decimal] = defaultdict(Decimal)
    for key in _taken(session, list(shares)):
        statement_id, amount = shares[key]
        before[statement_id] += amount
    return [
        CappedMonth(
            _payee(stmt), stmt.period, earned[sid], earned[sid] + cut[sid], before[sid], now[sid]
        )
        for sid, stmt in statements.items()
        if sid in cut
    ]


def _window_reach(book: PlanBook, start: datetime) -> datetime:
    """The earliest payout whose clawback may fall to this month: its window ends last month or
    later. A trigger of this month is clawed back now; one of last month too, for the shares
    approved only once last month was settled (last month's own, under `fee_collected`).

    Reckoned back from this month's end, the reach left out the loans whose window ended within
    the month, and their triggers then were clawed back by no month's run."""
    last_month = (start - timedelta(days=1)).replace(day=1)
    # a day to spare: a loan read too many is only read, its clawbacks are keyed once each
    return last_month - timedelta(days=book.longest_clawback_days() + 1)


def _clawback_reasons(
    session: Session, loans: dict[int, Row], book: PlanBook, zone: ZoneInfo, end: datetime
) -> dict[int, str]:
    """Loan id -> why, of the `loans` (id, disbursed_at, cancelled_at) to claw back."""
    reasons: dict[int, str] = {}
    last_day = (end - timedelta(days=1)).astimezone(zone).date()
    # the loans whose installments may matter, by the latest due date that can, and their N
    overdue_by: defaultdict[date, list[int]] = defaultdict(list)
    overdue_days: dict[int, int] = {}
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
        # overdue past N days (the day after due + N) by the window's end and this month's: an
        # installment due later cannot have been, whether it is paid or not
        latest_due = min(window_end, last_day) - timedelta(days=terms.clawback_overdue_days + 1)
        overdue_by[latest_due].append(loan_id)
        overdue_days[loan_id] = terms.clawback_overdue_days
    for latest_due, loan_ids in overdue_by.items():
        for loan_id, due_date, paid_at in _installments_due(session, loan_ids, latest_due):
            if loan_id in reasons:
                continue
            trigger = due_date + timedelta(days=overdue_days[loan_id] + 1)
            # unpaid on the day it was N days overdue, whenever it was paid after
            if paid_at is None or paid_at.astimezone(zone).date() >= trigger:
                reasons[loan_id] = f"逾期超过 {overdue_days[loan_id]} 天"
    # in the loans' order, as the clawed-back lines are read in batches of it
    return {loan_id: reasons[loan_id] for loan_id in loans if loan_id in reasons}


def _installments_due(session: Session, loan_ids: list[int], latest_due: date) -> Iterator[Row]:
    """(loan id, due date, paid at) of the installments of `loan_ids` due by `latest_due`."""
    for condition in among(session, Installment.loan_id, loan_ids):
        yield from session.execute(
            select(Installment.loan_id, Installment.due_date, Installment.paid_at).where(
                condition, Installment.due_date <= latest_due
            )
        )


def _unpaid(session: Session, drafts: list[LineDraft]) -> list[LineDraft]:
    """Drop shares some other statement already holds: a loan's share is paid once, ever."""
    taken = _taken(session, [d.dedupe_key for d in drafts if d.dedupe_key])
    return [d for d in drafts if d.dedupe_key not in taken]


def _taken(session: Session, keys: list[str]) -> set[str]:
    """Those of `keys` that some line already holds."""
    column = StatementLine.dedupe_key
    return {
        key
        for condition in among(session, column, keys)
        for key in session.scalars(select(column).where(condition))
    }


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _clear_draft(session: Session, settlement: Settlement) -> None:
    """A recomputed draft starts from its manual adjustments only."""
    ids = select(Statement.id).where(Statement.settlement_id == settlement.id)
    session.execute(
        delete(StatementLine)
        .where(StatementLine.statement_id.in_(ids), StatementLine.kind != "adjustment")
        .execution_options(synchronize_session=False)
    )


def _store(
    session: Session, settlement: Settlement, drafts: list[LineDraft], org: Org, now: datetime
) -> None:
    statements = {
        s.payee_key: s
        for s in session.scalars(select(Statement).where(Statement.settlement_id == settlement.id))
    }
    by_payee: defaultdict[str, list[LineDraft]] = defaultdict(list)
    for draft in drafts:
        by_payee[draft.payee.key].append(draft)
    for key, lines in by_payee.items():
        if key not in statements:
            statements[key] = open_statement(session, settlement, lines[0].payee, org.id, now)
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
            "created_at": now,
        }
        for key, lines in by_payee.items()
        for d in lines
    ]
    _insert_lines(session, rows)
    retotal(session, list(statements.values()))


def _insert_lines(session: Session, rows: list[dict]) -> None:
    if not _on_postgresql(session):
        for at in range(0, len(rows), 5000):
            session.execute(insert(StatementLine), rows[at : at + 5000])
        return
    # Each column as one array, INSERT ... SELECT FROM unnest(...): an executemany is sent by
    # psycopg as one INSERT per row, 40 µs a line over 200,000 lines of one month
    table = StatementLine.__table__
    for at in range(0, len(rows), 50_000):
        chunk = rows[at : at + 50_000]
        arrays = [
            bindparam(f"{name}_values", [r[name] for r in chunk], type_=ARRAY(table.c[name].type))
            for name in LINE_COLUMNS
        ]
        batch = func.unnest(*arrays).table_valued(*LINE_COLUMNS).render_derived(name="batch")
        session.execute(insert(table).from_select(LINE_COLUMNS, select(batch)))


def open_statement(
    session: Session,
    settlement: Settlement,
    payee: Payee,
    org_id: int,
    now: datetime | None = None,
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
        created_at=now or utcnow(),
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
