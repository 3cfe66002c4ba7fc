"""An agent's own day for the console: calls, connected calls and talk time today against the
org's daily targets, counted exactly as the agents report counts them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.pools.ownership import org_settings
from crm.reports.productivity import call_figures
from crm.reports.service import named_period, org_zone
from dialer.models import Call


def my_day(session: Session, actor: Actor, now: datetime | None = None) -> dict:
    period = named_period("today", now or utcnow(), org_zone(session, actor))
    figures = call_figures(period).where(Call.agent_id == actor.user_id).subquery()
    calls, connected, talk = session.execute(
        select(
            func.coalesce(func.sum(figures.c.n), 0),
            func.coalesce(func.sum(figures.c.connected), 0),
            func.coalesce(func.sum(figures.c.talk_seconds), 0),
        )
    ).one()
    return {
        "period": period,
        "calls": int(calls),
        "connected": int(connected),
        "talk_seconds": int(talk),
        "targets": org_settings(session, actor.org_id).agent_daily_targets,
    }
