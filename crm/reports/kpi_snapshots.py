"""Daily KPI snapshots per org: the call-center and funnel figures of one local day, frozen so
trend charts need not rescan months of calls and events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.leads.models import Lead, LeadEvent
from crm.orgs.models import Org
from crm.pools.ownership import org_settings
from crm.reports.service import Period, days
from crm.reports.snapshot_models import KpiSnapshot
from crm.sweeps import Transaction
from dialer.models import Call


def day_period(session: Session, org_id: int, day: date) -> Period:
    """The org's local calendar day `day` as a UTC range."""
    return days(ZoneInfo(org_settings(session, org_id).timezone), day, day + timedelta(days=1))


def kpi_figures(session: Session, org_id: int, period: Period) -> dict[str, Any]:
    calls, connected, talk = session.execute(
        select(
            func.count(),
            func.count(Call.answered_at),
            func.coalesce(func.sum(Call.duration_s), 0),
        ).where(Call.org_id == org_id, period.contains(Call.started_at))
    ).one()
    new_leads = session.scalar(
        select(func.count()).where(Lead.org_id == org_id, period.contains(Lead.created_at))
    )
    target = LeadEvent.data["to"].as_string()
    reaches = dict(
        session.execute(
            select(target, func.count())
            .where(
                LeadEvent.org_id == org_id,
                LeadEvent.kind == "stage",
                period.contains(LeadEvent.at),
            )
            .group_by(target)
        ).all()
    )
    return {
        "calls": calls,
        "connected": connected,
        "talk_seconds": int(talk),
        "new_leads": new_leads or 0,
        "stage_reaches": reaches,
        "applications": reaches.get("applied", 0),
    }


def take_snapshot(session: Session, org_id: int, day: date) -> KpiSnapshot:
    """Write (or rewrite) the org's snapshot of `day`: one row per org and day however often it
    runs, and a re-run after late calls were logged corrects the figures."""
    figures = kpi_figures(session, org_id, day_period(session, org_id, day))
    snapshot = session.scalars(
        select(KpiSnapshot).where(KpiSnapshot.org_id == org_id, KpiSnapshot.day == day)
    ).first()
    if snapshot is None:
        snapshot = KpiSnapshot(org_id=org_id, day=day)
        session.add(snapshot)
    for name, value in figures.items():
        setattr(snapshot, name, value)
    return snapshot


def snapshot_yesterday(transaction: Transaction, now: datetime) -> dict[str, int]:
    """Every org's snapshot of the day before `now` in its own time zone; one transaction per
    org, so one org's failure leaves the others' snapshots written."""
    with transaction() as session:
        org_ids = list(session.scalars(select(Org.id).order_by(Org.id)))
    for org_id in org_ids:
        with transaction() as session:
            zone = ZoneInfo(org_settings(session, org_id).timezone)
            take_snapshot(session, org_id, now.astimezone(zone).date() - timedelta(days=1))
    return {"orgs": len(org_ids)}
