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
from crm.reports.service import Period, rate
from dialer.models import Call

# Who sells, and so gets a row even in a period without activity; anyone else who called,
# followed up or moved a lead to applied (a manager covering a desk) gets one for that activity.
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
    """Per agent: calls started, follow-ups written and leads moved to "applied" in `period`.

    Connected and talk time count as the wallboard does (answered calls, their duration). The
    disbursed amount is 0.00 until loans exist; the field is in the shape already so dashboards
    need no change when it fills in.
    """
    calls = (
        select(
            Call.agent_id.label("user_id"),
            func.count().label("n"),
            func.count(Call.answered_at).label("connected"),
            func.coalesce(func.sum(Call.duration_s), 0).label("talk_seconds"),
        )
        .where(period.contains(Call.started_at))
        .group_by(Call.agent_id)
        .subquery()
    )
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
            func.coalesce(calls.c.n, 0).label("calls"),
            func.coalesce(calls.c.connected, 0).label("connected"),
            func.coalesce(calls.c.talk_seconds, 0).label("talk_seconds"),
            func.coalesce(followups.c.n, 0).label("followups"),
            func.coalesce(applications.c.n, 0).label("applications"),
        )
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(calls, calls.c.user_id == User.id)
        .outerjoin(followups, followups.c.user_id == User.id)
        .outerjoin(applications, applications.c.user_id == User.id)
        .where(
            or_(
                User.active & User.role.in_(SELLING_ROLES),
                calls.c.n > 0,
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
            calls=int(row.calls),
            connected=int(row.connected),
            connect_rate=rate(int(row.connected), int(row.calls)),
            talk_seconds=int(row.talk_seconds),
            followups=int(row.followups),
            applications=int(row.applications),
            disbursed_amount=Decimal("0.00"),
        )
        for row in session.execute(stmt)
    ]
    return AgentReport(period, rows)
