"""Agent productivity: what each agent of the visible orgs did in a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, Subquery, case, func, literal, or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import UTCDateTime, utcnow
from crm.followups.models import Followup
from crm.leads.models import LeadEvent
from crm.loans.models import Loan
from crm.orgs.models import Team, User
from crm.queries import plan_for_values
from crm.reports.service import Period, rate, summed
from crm.sql_functions import seconds_between
from dialer.models import AgentStateSpan, Call

# Who sells, and so gets a row even in a period without activity; anyone else who called,
# followed up, moved a lead to applied or sold a loan (a manager covering a desk) gets one for it.
SELLING_ROLES = ("agent", "partner_agent", "team_lead")
# the states whose time the report shows; offline is no state span at all
AGENT_STATE_TIMES = ("available", "dialing", "on_call", "wrap_up", "break")


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
    # seconds in each agent state (AGENT_STATE_TIMES) within the period
    available_seconds: int
    dialing_seconds: int
    on_call_seconds: int
    wrap_up_seconds: int
    break_seconds: int


@dataclass(frozen=True, slots=True)
class AgentReport:
    period: Period
    agents: list[AgentRow]


def agent_report(
    session: Session, actor: Actor, period: Period, now: datetime | None = None
) -> AgentReport:
    """Per agent: calls started, follow-ups written and leads moved to "applied" in `period`,
    and the time spent in each state (available, on a call, ...) within it.

    Connected and talk time count as the wallboard does (answered calls, their duration). The
    disbursed amount is that of the loans the user sold (the application's agent) disbursed in
    `period` and not cancelled since.
    """
    plan_for_values(session)
    times = _time_in_states(period, now or utcnow())
    calls = call_figures(period).subquery()
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
    disbursed = (
        select(
            Loan.agent_id.label("user_id"),
            func.count().label("n"),
            func.sum(Loan.amount).label("amount"),
        )
        .where(period.contains(Loan.disbursed_at), Loan.status != "cancelled")
        .group_by(Loan.agent_id)
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
            disbursed.c.amount.label("disbursed_amount"),
            *(func.coalesce(times.c[state], 0).label(state) for state in AGENT_STATE_TIMES),
        )
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(calls, calls.c.user_id == User.id)
        .outerjoin(followups, followups.c.user_id == User.id)
        .outerjoin(applications, applications.c.user_id == User.id)
        .outerjoin(disbursed, disbursed.c.user_id == User.id)
        .outerjoin(times, times.c.user_id == User.id)
        .where(
            or_(
                User.active & User.role.in_(SELLING_ROLES),
                calls.c.n > 0,
                followups.c.n > 0,
                applications.c.n > 0,
                disbursed.c.n > 0,
                times.c.user_id.is_not(None),
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
            disbursed_amount=summed(row.disbursed_amount),
            **{f"{state}_seconds": round(row._mapping[state]) for state in AGENT_STATE_TIMES},
        )
        for row in session.execute(stmt)
    ]
    return AgentReport(period, rows)


def call_figures(period: Period) -> Select:
    """Per agent: calls started in `period`, those answered, and their talk time. The agents
    report and the console's own figures (crm/reports/personal.py) both count with it."""
    return (
        select(
            Call.agent_id.label("user_id"),
            func.count().label("n"),
            func.count(Call.answered_at).label("connected"),
            func.coalesce(func.sum(Call.duration_s), 0).label("talk_seconds"),
        )
        .where(period.contains(Call.started_at))
        .group_by(Call.agent_id)
    )


def _time_in_states(period: Period, now: datetime) -> Subquery:
    """Seconds per agent in each state, each span clipped to the period; a span still open
    counts up to now."""
    start = literal(period.start, UTCDateTime())
    until = literal(min(now, period.end), UTCDateTime())
    span = AgentStateSpan
    span_end = func.coalesce(span.ended_at, until)
    seconds = seconds_between(
        case((span.started_at > start, span.started_at), else_=start),
        case((span_end < until, span_end), else_=until),
    )
    return (
        select(
            span.user_id.label("user_id"),
            *(
                func.sum(case((span.state == state, seconds), else_=0)).label(state)
                for state in AGENT_STATE_TIMES
            ),
        )
        .where(span.started_at < until, span_end > start)
        .group_by(span.user_id)
        .subquery()
    )
