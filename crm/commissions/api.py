"""Commission endpoints: plans, settlement runs, statements and their files, the agent's month."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.commissions import estimate, export, plans, service
from crm.commissions.schemas import (
    ApplicationEstimate,
    MyMonth,
    NewAdjustment,
    NewPlan,
    NewSettlement,
    PlanFilters,
    PlanOut,
    SettlementFilters,
    SettlementOut,
    SettlementStarted,
    StatementDetail,
    StatementFilters,
    StatementOut,
)
from crm.extensions import runtime
from crm.http import ApiBlueprint, file_response
from crm.schemas import Page, PageResult
from workers.runner import JobsUnavailable

bp = ApiBlueprint("commissions", __name__, tag="commissions")


def _enqueue(settlement_ids: list[int], actor: Actor, job_id: str) -> None:
    runtime.jobs.enqueue(
        "workers.jobs.settle_commissions.run",
        settlement_ids,
        org_id=actor.org_id,
        user_id=actor.user_id,
        queue="reports",
        description=f"settle commission of {len(settlement_ids)} org(s)",
        job_id=job_id,
    )


def _job_pending(job_id: str) -> bool:
    info = runtime.jobs.fetch(job_id)
    return info is not None and info.status in ("queued", "started")


def _job_pending_or_unknown(job_id: str) -> bool:
    # reading a settlement must not fail with the job queue: unknown is taken as still at work
    try:
        return _job_pending(job_id)
    except JobsUnavailable:
        return True


def _statements(session: Session, statements, with_lines: bool):
    names = service.payee_names(session, statements)
    lines = service.lines_of(session, [s.id for s in statements]) if with_lines else {}
    return [
        {
            **{c: getattr(s, c) for c in StatementOut.model_fields if c != "payee_name"},
            "payee_name": names.get(s.payee_key, s.payee_key),
            "lines": lines.get(s.id, []),
        }
        for s in statements
    ]


def _settlement(session: Session, settlement, with_lines: bool = True) -> dict:
    statements = service.statements_of(session, settlement.id)
    status, error = service.shown_status(settlement, _job_pending_or_unknown)
    return {
        **{c: getattr(settlement, c) for c in SettlementOut.model_fields if hasattr(settlement, c)},
        "status": status,
        "error": error,
        "total": service.total_of(statements),
        "statements": _statements(session, statements, with_lines=with_lines),
    }


@bp.endpoint(
    "/commission-plans",
    "POST",
    body=NewPlan,
    response=PlanOut,
    status=201,
    permission="commissions:manage",
)
def create_plan(session: Session, actor: Actor, body: NewPlan):
    """A plan version in force from the first of a month (HQ's default, or a partner's)."""
    return plans.create_plan(session, actor, body)


@bp.endpoint(
    "/commission-plans", query=PlanFilters, response=list[PlanOut], permission="commissions:org"
)
def list_plans(session: Session, actor: Actor, query: PlanFilters):
    """Plan versions of the orgs you see, oldest first."""
    return plans.list_plans(session, query.org_id)


@bp.endpoint(
    "/settlements",
    "POST",
    body=NewSettlement,
    response=SettlementStarted,
    status=202,
    permission="settlements:approve",
)
def start_settlement(session: Session, actor: Actor, body: NewSettlement):
    """Settle a month (one org or all) as a job; a month settles once (see GET /jobs/{id})."""
    job_id, ids = service.start_settlement(session, actor, body, _enqueue, job_pending=_job_pending)
    return {"job_id": job_id, "settlement_ids": ids}


@bp.endpoint(
    "/settlements",
    query=SettlementFilters,
    response=Page[SettlementOut],
    permission="commissions:org",
)
def list_settlements(session: Session, actor: Actor, query: SettlementFilters):
    """Settlements of the orgs you see, newest month first, with their statements' totals (the
    lines are in GET /settlements/{id})."""
    page = service.list_settlements(session, query)
    items = [_settlement(session, s, with_lines=False) for s in page.items]
    return PageResult(items, page.total, page.page, page.per_page)


@bp.endpoint(
    "/settlements/<int:settlement_id>", response=SettlementOut, permission="commissions:org"
)
def get_settlement(session: Session, actor: Actor, settlement_id: int):
    """One settlement with every statement and line."""
    return _settlement(session, service.get_settlement(session, settlement_id))


@bp.endpoint(
    "/settlements/<int:settlement_id>/approve",
    "POST",
    response=SettlementOut,
    permission="settlements:approve",
)
def approve(session: Session, actor: Actor, settlement_id: int):
    """Finance approves the month; its statements can no longer change."""
    return _settlement(session, service.approve(session, actor, settlement_id))


@bp.endpoint(
    "/settlements/<int:settlement_id>/mark-paid",
    "POST",
    response=SettlementOut,
    permission="settlements:approve",
)
def mark_paid(session: Session, actor: Actor, settlement_id: int):
    """The approved statements were paid out."""
    return _settlement(session, service.mark_paid(session, actor, settlement_id))


@bp.endpoint(
    "/settlements/<int:settlement_id>/adjustments",
    "POST",
    body=NewAdjustment,
    response=StatementDetail,
    status=201,
    permission="settlements:approve",
)
def adjust(session: Session, actor: Actor, settlement_id: int, body: NewAdjustment):
    """A manual line (with its reason; you are its approver) on a draft settlement."""
    statement = service.adjust(session, actor, settlement_id, body)
    return _statements(session, [statement], with_lines=True)[0]


@bp.endpoint(
    "/statements",
    query=StatementFilters,
    response=Page[StatementOut],
    permission="commissions:read",
)
def list_statements(session: Session, actor: Actor, query: StatementFilters):
    """Your statements (finance and admins: the org's), newest month first."""
    page = service.list_statements(session, actor, query)
    return PageResult(
        _statements(session, page.items, with_lines=False), page.total, page.page, page.per_page
    )


@bp.endpoint(
    "/statements/<int:statement_id>", response=StatementDetail, permission="commissions:read"
)
def get_statement(session: Session, actor: Actor, statement_id: int):
    """One statement with its lines."""
    statement = service.get_statement(session, actor, statement_id)
    return _statements(session, [statement], with_lines=True)[0]


@bp.endpoint(
    "/statements/<int:statement_id>.<any(csv,xlsx,pdf):fmt>", permission="commissions:read"
)
def statement_file(session: Session, actor: Actor, statement_id: int, fmt: str):
    """The statement as CSV, XLSX or PDF."""
    statement = service.get_statement(session, actor, statement_id)
    name = service.payee_names(session, [statement]).get(statement.payee_key, "payee")
    lines = service.lines_of(session, [statement.id])[statement.id]
    content, mime, filename = export.statement_file(statement, lines, name, fmt)
    return file_response(content, mime, filename)


@bp.endpoint("/commissions/me", response=MyMonth, permission="commissions:read")
def my_month(session: Session, actor: Actor):
    """What you have earned so far this month (before settlement), volume and tier."""
    return estimate.my_month(session, actor)


@bp.endpoint(
    "/applications/<int:application_id>/commission-estimate",
    response=ApplicationEstimate,
    permission="commissions:read",
)
def application_estimate(session: Session, actor: Actor, application_id: int):
    """What this application, once disbursed, would add to your month."""
    return estimate.application_estimate(session, actor, application_id)
