"""Settlement runs and statements: starting a month's settlement, approving and paying it,
manual adjustments, and who may read which statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.commissions.calc import Payee
from crm.commissions.models import Settlement, Statement, StatementLine
from crm.commissions.schemas import (
    NewAdjustment,
    NewSettlement,
    SettlementFilters,
    StatementFilters,
)
from crm.commissions.settlement import month_bounds, open_statement, retotal
from crm.db import after_commit, utcnow
from crm.errors import DomainError, NotFound
from crm.orgs.models import Org, User
from crm.pools.ownership import parse_settings
from crm.queries import get_one, get_visible, paginate
from crm.schemas import PageResult
from crm.tenancy import ALL_ORGS

# (settlement ids, who asked, job id): the API passes the job runner in
Enqueue = Callable[[list[int], Actor, str], object]
# whether the job of that id may still run (queued, running, or waiting to be retried)
JobPending = Callable[[str], bool]


def start_settlement(
    session: Session,
    actor: Actor,
    data: NewSettlement,
    enqueue: Enqueue,
    now: datetime | None = None,
    job_pending: JobPending = lambda _job_id: True,
) -> tuple[str, list[int]]:
    """Create (or reuse) the settlement of each org for the month and queue one job for them.
    Reusing is what makes a month settle once: a second request finds the same rows.

    A settlement left "running" by a job that will never run again (its worker killed once too
    often, or the embedded process restarted mid-way) is settled anew, as a failed one is: the
    run is idempotent, and the month could otherwise never be settled."""
    now = now or utcnow()
    if data.org_id is not None:
        orgs = [get_visible(session, Org, data.org_id, "org")]
    else:
        orgs = list(session.scalars(select(Org).order_by(Org.id)))
    settlements = []
    for org in orgs:
        zone = ZoneInfo(parse_settings(org.settings).timezone)
        if month_bounds(data.period, zone)[1] > now:
            raise DomainError("period_not_over", f"{data.period} has not ended yet")
        found = session.scalars(
            select(Settlement).where(Settlement.org_id == org.id, Settlement.period == data.period)
        ).one_or_none()
        if found is None:
            found = Settlement(
                org_id=org.id, period=data.period, created_by=actor.user_id, created_at=now
            )
            session.add(found)
        elif found.status == "running" and found.job_id and job_pending(found.job_id):
            raise DomainError("settlement_running", "this month is being settled right now", 409)
        settlements.append(found)
    session.flush()
    ids = [s.id for s in settlements if s.status not in ("approved", "paid")]
    job_id = uuid4().hex
    for s in settlements:
        if s.id in ids:
            s.status, s.job_id = "queued", job_id
    # the worker must find the rows: queued once they are committed
    after_commit(session, lambda: enqueue(ids, actor, job_id))
    return job_id, [s.id for s in settlements]


STALLED = "its job stopped before the month was settled; start the settlement again"


def shown_status(settlement: Settlement, job_pending: JobPending) -> tuple[str, str | None]:
    """A settlement's status and error as finance should read them: one left "running" by a job
    that will never run again reads "failed", which is what it is and how start_settlement
    treats it, instead of "running" for ever."""
    if settlement.status == "running" and settlement.job_id and not job_pending(settlement.job_id):
        return "failed", STALLED
    return settlement.status, settlement.error


def get_settlement(session: Session, settlement_id: int) -> Settlement:
    return get_visible(session, Settlement, settlement_id, "settlement")


def list_settlements(session: Session, f: SettlementFilters) -> PageResult:
    stmt = select(Settlement).order_by(Settlement.period.desc(), Settlement.org_id)
    if f.period:
        stmt = stmt.where(Settlement.period == f.period)
    return paginate(session, stmt, f)


def approve(session: Session, actor: Actor, settlement_id: int, now: datetime | None = None):
    """Finance approves the month: every statement becomes immutable."""
    settlement = _locked(session, settlement_id, expect="draft", action="approved")
    now = now or utcnow()
    for statement in statements_of(session, settlement.id):
        statement.status, statement.approved_by, statement.approved_at = (
            "approved",
            actor.user_id,
            now,
        )
    settlement.status = "approved"
    return settlement


def mark_paid(session: Session, actor: Actor, settlement_id: int, now: datetime | None = None):
    settlement = _locked(session, settlement_id, expect="approved", action="paid")
    now = now or utcnow()
    for statement in statements_of(session, settlement.id):
        statement.status, statement.paid_by, statement.paid_at = "paid", actor.user_id, now
    settlement.status = "paid"
    return settlement


def adjust(
    session: Session,
    actor: Actor,
    settlement_id: int,
    data: NewAdjustment,
    now: datetime | None = None,
) -> Statement:
    """A manual line with its reason and approver, kept when the draft is recomputed."""
    now = now or utcnow()
    settlement = _locked(session, settlement_id, expect="draft", action="adjusted")
    payee = _payee(session, settlement, data)
    statement = session.scalars(
        select(Statement).where(
            Statement.settlement_id == settlement.id, Statement.payee_key == payee.key
        )
    ).one_or_none()
    if statement is None:
        statement = open_statement(session, settlement, payee, settlement.org_id, now)
        session.flush()
    session.add(
        StatementLine(
            org_id=settlement.org_id,
            statement_id=statement.id,
            kind="adjustment",
            amount=data.amount,
            note=data.reason,
            approver_id=actor.user_id,
            created_at=now,
        )
    )
    session.flush()
    retotal(session, [statement])
    return statement


def statements_of(session: Session, settlement_id: int) -> list[Statement]:
    return list(
        session.scalars(
            select(Statement)
            .where(Statement.settlement_id == settlement_id)
            .order_by(Statement.payee_role, Statement.payee_key)
        )
    )


def lines_of(session: Session, statement_ids: list[int]) -> dict[int, list[StatementLine]]:
    lines: dict[int, list[StatementLine]] = {i: [] for i in statement_ids}
    for line in session.scalars(
        select(StatementLine)
        .where(StatementLine.statement_id.in_(statement_ids))
        .order_by(StatementLine.id)
    ):
        lines[line.statement_id].append(line)
    return lines


def visible_statements(actor: Actor) -> list:
    """Finance and admins see the org's statements (HQ: all orgs), everyone else their own."""
    if actor.can("commissions:org"):
        return []
    return [Statement.payee_user_id == actor.user_id]


def list_statements(session: Session, actor: Actor, f: StatementFilters) -> PageResult:
    stmt = select(Statement).where(*visible_statements(actor))
    if f.mine:
        stmt = stmt.where(Statement.payee_user_id == actor.user_id)
    if f.period:
        stmt = stmt.where(Statement.period == f.period)
    if f.org_id is not None:
        stmt = stmt.where(Statement.org_id == f.org_id)
    return paginate(session, stmt.order_by(Statement.period.desc(), Statement.id), f)


def get_statement(session: Session, actor: Actor, statement_id: int) -> Statement:
    stmt = select(Statement).where(Statement.id == statement_id, *visible_statements(actor))
    return get_one(session, stmt, "statement")


def payee_names(session: Session, statements: list[Statement]) -> dict[str, str]:
    users = {s.payee_user_id for s in statements if s.payee_user_id}
    orgs = {s.payee_org_id for s in statements if s.payee_org_id}
    names = {
        f"user:{i}": name
        for i, name in session.execute(
            select(User.id, User.display_name)
            .where(User.id.in_(users))
            .execution_options(**ALL_ORGS)
        )
    }
    names.update(
        (f"org:{i}", name)
        for i, name in session.execute(
            select(Org.id, Org.name).where(Org.id.in_(orgs)).execution_options(**ALL_ORGS)
        )
    )
    return names


def total_of(statements: list[Statement]) -> Decimal:
    return sum((s.total for s in statements), Decimal(0))


def _locked(session: Session, settlement_id: int, *, expect: str, action: str) -> Settlement:
    settlement = session.scalars(
        select(Settlement).where(Settlement.id == settlement_id).with_for_update()
    ).one_or_none()
    if settlement is None:
        raise NotFound("settlement")
    if settlement.status != expect:
        raise DomainError(
            "settlement_locked",
            f"a settlement that is {settlement.status} cannot be {action}",
            details={"status": settlement.status, "needs": expect},
        )
    return settlement


def _payee(session: Session, settlement: Settlement, data: NewAdjustment) -> Payee:
    """An adjustment is for someone of the settled org: one of its users, or the org itself."""
    if data.payee_org_id is not None:
        if data.payee_org_id != settlement.org_id:
            raise NotFound("org")
        return Payee.org(data.payee_org_id)
    user = session.scalars(
        select(User).where(User.id == data.payee_user_id, User.org_id == settlement.org_id)
    ).one_or_none()
    if user is None:
        raise NotFound("user")
    return Payee.user(user.id, "team_lead" if user.role == "team_lead" else "agent")
