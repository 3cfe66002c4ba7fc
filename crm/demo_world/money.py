"""Commission for the demo's past months, as HQ's finance runs it: a month is settled (one
statement per payee, crm/commissions/settlement.py) on the 2nd of the next, approved the same
afternoon and marked paid on the 10th."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.commissions import service as commissions
from crm.commissions.models import Settlement
from crm.commissions.plans import period_of
from crm.commissions.schemas import NewSettlement
from crm.commissions.settlement import settle
from crm.demo_world.staff import Office, Run

SETTLE_ON, PAY_ON = 2, 10
SETTLE_AT, APPROVE_AT, PAY_AT = time(10, 0), time(16, 0), time(11, 0)


def month_day(session: Session, run: Run, offices: list[Office], day: date, first: date) -> None:
    """On the settlement days: the month before `day`, if the history reaches into it."""
    finance = run.hq.loan_desk
    last_month = day.replace(day=1) - timedelta(days=1)
    if last_month < first:
        return
    period = period_of(last_month)
    if day.day == SETTLE_ON and run.hq.at(day, APPROVE_AT) <= run.now:
        for office in offices:
            body = NewSettlement(period=period, org_id=office.org_id)
            # the job the API would queue runs here, at once
            _, (settlement_id,) = commissions.start_settlement(
                session, finance, body, lambda *_: None, now=run.hq.at(day, SETTLE_AT)
            )
            settle(session, settlement_id, now=run.hq.at(day, SETTLE_AT))
            commissions.approve(session, finance, settlement_id, now=run.hq.at(day, APPROVE_AT))
    if day.day == PAY_ON and run.hq.at(day, PAY_AT) <= run.now:
        approved = session.scalars(
            select(Settlement.id).where(
                Settlement.period == period, Settlement.status == "approved"
            )
        ).all()
        for settlement_id in approved:
            commissions.mark_paid(session, finance, settlement_id, now=run.hq.at(day, PAY_AT))
