"""One day hour by hour, in the viewer's org time zone: calls, connected calls, disbursed leads.

The big screen's bar chart. Each figure is one aggregate query with a bucket per hour, so it
reads the day's rows once through the (org_id, started_at) index and works the same on SQLite and
PostgreSQL (no dialect-specific date functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.leads.models import LeadEvent
from crm.orgs.schemas import OrgSettings
from crm.pools.ownership import org_settings
from crm.queries import plan_for_values
from dialer.models import Call


@dataclass(frozen=True, slots=True)
class HourFigures:
    hour: int
    calls: int
    connected: int
    # leads moved to `disbursed` in that hour; loan amounts come with the loans capability
    disbursed: int


@dataclass(frozen=True, slots=True)
class HourlyReport:
    day: date
    timezone: str
    hours: list[HourFigures]


def hourly_report(
    session: Session, actor: Actor, day: date | None = None, now: datetime | None = None
) -> HourlyReport:
    """The actor's visible orgs, `day` (default: today in the actor's org zone) hour by hour."""
    plan_for_values(session)
    settings = org_settings(session, actor.org_id) if actor.org_id else OrgSettings()
    zone = ZoneInfo(settings.timezone)
    day = day or (now or utcnow()).astimezone(zone).date()
    # 24 local hours; a day with a DST change is not a concern for China, but the buckets are
    # still built from local midnights so they stay right in zones that have one
    starts = [datetime.combine(day, time(hour), tzinfo=zone) for hour in range(24)]
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    calls = _buckets(session, Call.started_at, starts, end, Call.id.is_not(None))
    connected = _buckets(session, Call.started_at, starts, end, Call.answered_at.is_not(None))
    disbursed = _buckets(
        session,
        LeadEvent.at,
        starts,
        end,
        (LeadEvent.kind == "stage") & (LeadEvent.data["to"].as_string() == "disbursed"),
    )
    hours = [HourFigures(hour, calls[hour], connected[hour], disbursed[hour]) for hour in range(24)]
    return HourlyReport(day, settings.timezone, hours)


def _buckets(
    session: Session,
    column: InstrumentedAttribute,
    starts: list[datetime],
    end: datetime,
    condition: ColumnElement[bool],
) -> list[int]:
    counts = [
        func.coalesce(func.sum(case(((column >= lo) & (column < hi), 1), else_=0)), 0)
        for lo, hi in pairwise([*starts, end])
    ]
    row = session.execute(select(*counts).where(condition, column >= starts[0], column < end)).one()
    return [int(value) for value in row]
