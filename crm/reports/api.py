"""Report endpoints: funnel, agent productivity, channel ROI, the day by hour and the loan book."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.reports import personal
from crm.reports.funnel import channel_report, funnel_report
from crm.reports.hourly import hourly_report
from crm.reports.loan_book import loan_book
from crm.reports.productivity import agent_report
from crm.reports.schemas import (
    AgentReportOut,
    ChannelReportOut,
    FunnelArgs,
    FunnelReportOut,
    HourlyArgs,
    HourlyOut,
    LoanBookArgs,
    LoanBookOut,
    MyDayOut,
    PeriodArgs,
)
from crm.reports.service import resolve_period

bp = ApiBlueprint("reports", __name__, tag="reports")


@bp.endpoint(
    "/reports/funnel", query=FunnelArgs, response=FunnelReportOut, permission="reports:read"
)
def funnel(session: Session, actor: Actor, query: FunnelArgs):
    """Leads created in [from, to) per group: how many reached each stage, and the conversions."""
    period = resolve_period(session, actor, query.from_, query.to, name=query.period)
    return funnel_report(session, actor, period, query.group_by)


@bp.endpoint(
    "/reports/agents", query=PeriodArgs, response=AgentReportOut, permission="reports:read"
)
def agents(session: Session, actor: Actor, query: PeriodArgs):
    """Per agent: calls, follow-ups, applications and disbursed amount in [from, to)."""
    period = resolve_period(session, actor, query.from_, query.to, name=query.period)
    return agent_report(session, actor, period)


@bp.endpoint(
    "/reports/channels", query=PeriodArgs, response=ChannelReportOut, permission="reports:read"
)
def channels(session: Session, actor: Actor, query: PeriodArgs):
    """Per source: leads created in [from, to), their cost, applications and disbursed loans."""
    period = resolve_period(session, actor, query.from_, query.to, name=query.period)
    return channel_report(session, actor, period)


@bp.endpoint("/reports/my-day", response=MyDayOut, permission="calls:dial")
def my_day(session: Session, actor: Actor):
    """My calls, connected calls and talk time today, against the org's daily targets."""
    return personal.my_day(session, actor)


@bp.endpoint("/reports/hourly", query=HourlyArgs, response=HourlyOut, permission="reports:read")
def hourly(session: Session, actor: Actor, query: HourlyArgs):
    """One day hour by hour for the visible orgs: calls, connected calls, disbursed leads."""
    return hourly_report(session, actor, query.day)


@bp.endpoint(
    "/reports/loan-book", query=LoanBookArgs, response=LoanBookOut, permission="reports:read"
)
def loan_book_report(session: Session, actor: Actor, query: LoanBookArgs):
    """Loans, balance, overdue principal and rate, M1-M3+ balances per lender, product or org."""
    return loan_book(session, actor, query.group_by, query.as_of)
