"""Today's call-center figures for the wallboard, per org, in the org's time zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.leads.models import LeadEvent
from crm.pools.ownership import org_settings
from crm.reports.service import named_period
from dialer.models import Call


def kpis_today(session: Session, org_id: int, now: datetime) -> dict:
    # "today" as every report and the console read it
    today = named_period("today", now, ZoneInfo(org_settings(session, org_id).timezone))
    since = today.start
    calls, connected, talk = session.execute(
        select(
            func.count(),
            func.count(Call.answered_at),
            func.coalesce(
                func.sum(case((Call.duration_s.is_not(None), Call.duration_s), else_=0)), 0
            ),
        ).where(Call.org_id == org_id, Call.started_at >= since)
    ).one()
    applications = session.scalar(
        select(func.count())
        .select_from(LeadEvent)
        .where(
            LeadEvent.org_id == org_id,
            LeadEvent.kind == "stage",
            LeadEvent.at >= since,
            LeadEvent.data["to"].as_string() == "applied",
        )
    )
    rate = (Decimal(connected) / Decimal(calls)).quantize(Decimal("0.0001")) if calls else None
    return {
        "org_id": org_id,
        "calls": calls,
        "connected": connected,
        "connect_rate": str(rate) if rate is not None else None,
        "talk_seconds": int(talk),
        "applications": applications or 0,
        "at": now.isoformat(),
    }
