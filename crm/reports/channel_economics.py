"""What a period's leads brought in and cost beyond their purchase: fee revenue of their loans
and the commission paid on them, per channel and per team (the channel ROI report)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.commissions.models import StatementLine
from crm.leads.models import Lead
from crm.loans.models import Loan
from crm.orgs.models import Team
from crm.reports.service import Period, summed
from crm.tenancy import ALL_ORGS


@dataclass(frozen=True, slots=True)
class Economics:
    revenue: Decimal  # service fees + channel fees of the loans
    commission: Decimal  # every statement line on those loans (clawbacks net them down)


@dataclass(frozen=True, slots=True)
class TeamEconomics:
    team_id: int | None
    team: str | None
    disbursed: int
    disbursed_amount: Decimal
    revenue: Decimal
    commission: Decimal


def _cohort(period: Period) -> list[Any]:
    """The loans of leads created in the period, not cancelled (a loan comes after its lead,
    so only those disbursed since the period began are read)."""
    return [
        Loan.disbursed_at >= period.start,
        Loan.status != "cancelled",
        period.contains(Lead.created_at),
    ]


def _commission_by_loan():
    # statements are the org's own rows: the scope on StatementLine keeps a partner to its own
    return (
        select(StatementLine.loan_id, func.sum(StatementLine.amount).label("amount"))
        .where(StatementLine.loan_id.is_not(None))
        .group_by(StatementLine.loan_id)
        .subquery()
    )


def by_source(session: Session, period: Period) -> dict[str, Economics]:
    paid = _commission_by_loan()
    rows = session.execute(
        select(
            Lead.source,
            func.sum(Loan.service_fee + Loan.channel_fee),
            func.sum(func.coalesce(paid.c.amount, 0)),
        )
        .join(Lead, Lead.id == Loan.lead_id)
        .outerjoin(paid, paid.c.loan_id == Loan.id)
        .where(*_cohort(period))
        .group_by(Lead.source)
    )
    return {source: Economics(summed(rev), summed(paid_)) for source, rev, paid_ in rows}


def by_team(session: Session, period: Period) -> list[TeamEconomics]:
    """Per team of the selling agent when the loan was paid out (kept on the loan)."""
    paid = _commission_by_loan()
    rows = session.execute(
        select(
            Loan.team_id,
            func.count(),
            func.sum(Loan.amount),
            func.sum(Loan.service_fee + Loan.channel_fee),
            func.sum(func.coalesce(paid.c.amount, 0)),
        )
        .join(Lead, Lead.id == Loan.lead_id)
        .outerjoin(paid, paid.c.loan_id == Loan.id)
        .where(*_cohort(period))
        .group_by(Loan.team_id)
    ).all()
    names = dict(
        session.execute(
            select(Team.id, Team.name)
            .where(Team.id.in_({r[0] for r in rows if r[0]}))
            .execution_options(**ALL_ORGS)
        ).all()
    )
    teams = [
        TeamEconomics(
            team_id, names.get(team_id), n, summed(amount), summed(revenue), summed(paid_)
        )
        for team_id, n, amount, revenue, paid_ in rows
    ]
    return sorted(teams, key=lambda t: (-t.disbursed_amount, t.team or ""))


def roi(revenue: Decimal, cost: Decimal) -> Decimal | None:
    """(revenue − cost) / cost, 4 places; None when nothing was spent."""
    return ((revenue - cost) / cost).quantize(Decimal("0.0001")) if cost else None
