"""Agent productivity: what each agent of the visible orgs did in a period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.followups.models import Followup
from crm.leads.models import LeadEvent
from crm.orgs.models import Team, User
from crm.reports.service import Period

# Who sells, and so gets a row even in a period without activity; anyone else who followed up
# or moved a lead to applied (a manager covering a desk) gets one only for that activity.
SELLING_ROLES = ("agent", "partner_agent", "team_lead")


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: int
    display_name: str
    org_id: int
    team_id: int | None
    team_name: str | None
    calls: int
    connected: int
    connect_rate: Decimal | None
    talk_seconds: int
    followups: int
    applications: int
    disbursed_amount: Decimal


@dataclass(frozen=True, slots=True)
class AgentReport:
    period: Period
    agents: list[AgentRow]


def agent_report(session: Session, actor: Actor, period: Period) -> AgentReport:
    """Per agent: follow-ups written and leads moved to "applied" in `period`.

    Calls, connected calls and talk time are 0 (connect rate None) until the dialer records
    calls, and the disbursed amount is 0.00 until loans exist; the fields are in the shape
    already so dashboards need no change when they fill in.
    """
    followups = (
        select(Followup.user_id.label("user_id"), func.count().label("n"))
        .where(period.contains(Followup.created_at))
        .group_by(Followup.user_id)
        .subquery()
    )
    applications = (
        select(LeadEvent.actor_id.label("user_id"), func.count().label("n"))
        .where(
            LeadEvent.kind == "stage",
            LeadEvent.data["to"].as_string() == "applied",
            period.contains(LeadEvent.at),
        )
        .group_by(LeadEvent.actor_id)
        .subquery()
    )
    stmt = (
        select(
            User.id,
            User.display_name,
            User.org_id,
            User.team_id,
            Team.name.label("team_name"),
            func.coalesce(followups.c.n, 0).label("followups"),
            func.coalesce(applications.c.n, 0).label("applications"),
        )
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(followups, followups.c.user_id == User.id)
        .outerjoin(applications, applications.c.user_id == User.id)
        .where(
            or_(
                User.active & User.role.in_(SELLING_ROLES),
                followups.c.n > 0,
                applications.c.n > 0,
            )
        )
        .order_by(User.org_id, User.display_name, User.id)
    )
    rows = [
        AgentRow(
            user_id=row.id,
            display_name=row.display_name,
            org_id=row.org_id,
            team_id=row.team_id,
            team_name=row.team_name,
            calls=0,
            connected=0,
            connect_rate=None,
            talk_seconds=0,
            followups=int(row.followups),
            applications=int(row.applications),
            disbursed_amount=Decimal("0.00"),
        )
        for row in session.execute(stmt)
    ]
    return AgentReport(period, rows)
