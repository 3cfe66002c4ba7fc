"""An agent's month so far and what an application would add to it, worked out live from the
same rules a settlement uses (crm/commissions/calc.py), for the console."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.commissions.calc import CENT, LoanFacts, fee_lines
from crm.commissions.plan import PlanTerms
from crm.commissions.plans import period_of, plan_book
from crm.commissions.settlement import loan_facts, month_bounds
from crm.db import utcnow
from crm.errors import DomainError
from crm.loans.applications import OPEN, get_application
from crm.loans.book import org_today
from crm.loans.models import Loan
from crm.loans.products import application_product
from crm.orgs.models import Org
from crm.pools.ownership import org_settings

_PREVIEW_ID = -1  # the application, as the loan it would become


def my_month(session: Session, actor: Actor, now: datetime | None = None) -> dict:
    now = now or utcnow()
    period, facts = _month_facts(session, actor, now)
    volume = sum((f.amount for f in facts), Decimal(0))
    # the plan version of the org's own day, as a settlement picks it (near midnight the UTC
    # date is another month's)
    terms = plan_book(session, actor.org_id).terms_on(org_today(session, actor.org_id, now))
    return {
        "period": period,
        "earned": _earned(facts, period, actor.user_id),
        "loans": len(facts),
        "disbursed_volume": volume,
        "tier_rate": _tier_rate(terms, volume),
    }


def application_estimate(
    session: Session, actor: Actor, application_id: int, now: datetime | None = None
) -> dict:
    """The difference the loan makes to the agent's month: under a `whole` tier plan a loan
    that crosses a tier raises the rate of the month's other loans too, and that counts."""
    now = now or utcnow()
    application = get_application(session, actor, application_id)
    if application.status not in OPEN:
        raise DomainError(
            "application_closed",
            f"an application that is {application.status} will not become a loan to estimate",
            details={"status": application.status},
        )
    product, _ = application_product(session, application.product_id)
    channel_fee = (application.amount * product.channel_fee_rate).quantize(CENT, ROUND_HALF_UP)
    period, facts = _month_facts(session, actor, now)
    before = _earned(facts, period, actor.user_id)
    book = plan_book(session, actor.org_id)
    terms = book.terms_on(org_today(session, actor.org_id, now))
    added = Decimal(0)
    if terms is not None and application.agent_id == actor.user_id:
        preview = LoanFacts(
            loan_id=_PREVIEW_ID,
            amount=application.amount,
            fees={"service_fee": application.service_fee, "channel_fee": channel_fee},
            disbursed_at=now,
            month=period,
            agent_id=actor.user_id,
            team_lead_id=None,
            partner_org_id=None,
            accrues_in={"service_fee": period, "channel_fee": period},
            terms=terms,
        )
        added = _earned([*facts, preview], period, actor.user_id) - before
    return {
        "application_id": application.id,
        "agent_amount": added,
        "service_fee": application.service_fee,
        "channel_fee": channel_fee,
    }


def _month_facts(session: Session, actor: Actor, now: datetime) -> tuple[str, list[LoanFacts]]:
    """The agent's loans paid out this month (org-local), as a settlement would see them."""
    zone = ZoneInfo(org_settings(session, actor.org_id).timezone)
    period = period_of(now.astimezone(zone).date())
    start, end = month_bounds(period, zone)
    org = session.get(Org, actor.org_id)
    book = plan_book(session, actor.org_id)
    loans = session.scalars(
        select(Loan).where(
            Loan.agent_id == actor.user_id,
            Loan.status != "cancelled",
            Loan.disbursed_at >= start,
            Loan.disbursed_at < end,
        )
    )
    partner = org.id if org.kind == "partner" else None
    facts = [f for loan in loans if (f := loan_facts(loan, book, zone, partner)) is not None]
    # the month as it stands: fees accrue this month whatever the plan's accrual rule says,
    # since "so far" is what the agent has brought in
    return period, [replace(f, accrues_in=dict.fromkeys(f.fees, period)) for f in facts]


def _earned(facts: list[LoanFacts], period: str, user_id: int) -> Decimal:
    key = f"user:{user_id}"
    lines = fee_lines(facts, period)
    return sum((line.amount for line in lines if line.payee.key == key), Decimal(0)).quantize(CENT)


def _tier_rate(terms: PlanTerms | None, volume: Decimal) -> Decimal | None:
    """The tier the month's volume reaches (the first one before any loan); None without tiers."""
    if terms is None or not terms.tiers:
        return None
    return [t.agent_rate for t in terms.tiers if t.min_volume <= volume][-1]
