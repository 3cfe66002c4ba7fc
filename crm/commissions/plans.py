"""Commission plan versions: HQ's default, a partner's override, each in force from the first of
a month; a closed (approved) month is never rewritten by a new version."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.commissions.models import CommissionPlan, Settlement
from crm.commissions.plan import PlanTerms
from crm.commissions.schemas import NewPlan
from crm.errors import Conflict, DomainError
from crm.orgs.models import Org
from crm.queries import get_visible
from crm.tenancy import ALL_ORGS

CLOSED = ("approved", "paid")


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def create_plan(session: Session, actor: Actor, data: NewPlan) -> CommissionPlan:
    org = get_visible(session, Org, data.org_id or actor.org_id, "org")
    start = data.effective_from
    if start.day != 1:
        raise DomainError("not_a_month_start", "a plan takes effect on the first day of a month")
    closed = session.scalar(
        select(Settlement.period)
        .where(
            Settlement.org_id.in_(_affected_orgs(session, org)),
            Settlement.period >= period_of(start),
            Settlement.status.in_(CLOSED),
        )
        .order_by(Settlement.period.desc())
        .limit(1)
        .execution_options(**ALL_ORGS)
    )
    if closed is not None:
        raise DomainError(
            "period_closed",
            f"{closed} is settled and approved: a plan change can start after it, not before",
            details={"closed_period": closed},
        )
    taken = select(CommissionPlan.id).where(
        CommissionPlan.org_id == org.id, CommissionPlan.effective_from == start
    )
    if session.scalar(taken) is not None:
        raise Conflict("plan_exists", "a plan version already starts on that day for this org")
    plan = CommissionPlan(
        org_id=org.id,
        name=data.name,
        effective_from=start,
        terms=data.terms().model_dump(mode="json"),
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    return plan


def list_plans(session: Session, org_id: int | None) -> list[CommissionPlan]:
    stmt = select(CommissionPlan).order_by(CommissionPlan.org_id, CommissionPlan.effective_from)
    if org_id is not None:
        stmt = stmt.where(CommissionPlan.org_id == org_id)
    return list(session.scalars(stmt))


@dataclass
class PlanBook:
    """Every version an org's loans may fall under: its own, else HQ's default."""

    own: list[tuple[date, PlanTerms]]
    default: list[tuple[date, PlanTerms]]

    def longest_clawback_days(self) -> int:
        return max((t.clawback_days for _, t in self.own + self.default), default=0)

    def terms_on(self, day: date) -> PlanTerms | None:
        for versions in (self.own, self.default):
            at = bisect_right([start for start, _ in versions], day)
            if at:
                return versions[at - 1][1]
        return None


def plan_book(session: Session, org_id: int) -> PlanBook:
    hq = session.scalar(select(Org.id).where(Org.kind == "hq").execution_options(**ALL_ORGS))
    rows = session.execute(
        select(CommissionPlan.org_id, CommissionPlan.effective_from, CommissionPlan.terms)
        .where(CommissionPlan.org_id.in_({org_id, hq}))
        .order_by(CommissionPlan.effective_from)
        .execution_options(**ALL_ORGS)
    ).all()
    parsed = [(o, start, PlanTerms.model_validate(terms)) for o, start, terms in rows]
    own = [(start, terms) for o, start, terms in parsed if o == org_id]
    default = [(start, terms) for o, start, terms in parsed if o == hq and o != org_id]
    return PlanBook(own, default)


def _affected_orgs(session: Session, org: Org) -> list[int]:
    """HQ's plan is the partners' default: a closed month of any org blocks backdating it
    (even an org with its own plan, which it would not touch: the safe side)."""
    if org.kind != "hq":
        return [org.id]
    return list(session.scalars(select(Org.id).execution_options(**ALL_ORGS)))
