"""Cohort reports over the leads created in a period: the conversion funnel and channel ROI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import Forbidden
from crm.leads.models import FUNNEL, Lead, LeadSource
from crm.orgs.models import Org, Team, User
from crm.reports.service import Period, money, per, rate

Grouping = Literal["source", "agent", "team", "org", "city"]
APPLIED = FUNNEL.index("applied")
DISBURSED = FUNNEL.index("disbursed")
# Every lead reached "new", so that count is count(*); the others come from reached_rank.
_COUNTS = ("leads", *(f"reached_{rank}" for rank in range(1, len(FUNNEL))), "lost", "rejected")
# The lead column the cohort is first aggregated by; labels are joined on afterwards, so the
# join touches a few hundred group rows instead of every lead. Team is the owner's team.
_GROUP_COLUMN = {
    "source": Lead.source,
    "city": Lead.city,
    "agent": Lead.owner_id,
    "team": Lead.owner_id,
    "org": Lead.org_id,
}


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    count: int
    # share of the previous stage's leads that went on to reach this one
    conversion: Decimal | None


@dataclass(frozen=True, slots=True)
class FunnelGroup:
    key: int | str | None
    label: str | None
    leads: int
    stages: list[StageCount]
    lost: int
    rejected: int


@dataclass(frozen=True, slots=True)
class FunnelReport:
    period: Period
    group_by: Grouping
    groups: list[FunnelGroup]
    total: FunnelGroup


@dataclass(frozen=True, slots=True)
class ChannelRow:
    source: str
    leads: int
    cost: Decimal
    applications: int
    disbursed: int
    cost_per_lead: Decimal | None
    cost_per_disbursed: Decimal | None


@dataclass(frozen=True, slots=True)
class ChannelReport:
    period: Period
    channels: list[ChannelRow]


def funnel_report(
    session: Session, actor: Actor, period: Period, group_by: Grouping = "source"
) -> FunnelReport:
    """How far the leads created in `period` got, per group.

    A stage counts every lead that ever reached it (`reached_rank`), so a lead lost after
    applying still counts as applied; lost and rejected count the leads sitting there now.
    Agent and team are the lead's current owner and the owner's current team; leads nobody owns
    form the group with key None.
    """
    if group_by == "org" and not actor.sees_all_orgs:
        raise Forbidden("grouping by org needs the 'orgs:all' permission")
    cohort = _cohort(period, _GROUP_COLUMN[group_by])
    key, label, joins = _labels(group_by, cohort)
    stmt = select(key.label("key"), label.label("label"))
    stmt = stmt.add_columns(*(func.sum(cohort.c[name]).label(name) for name in _COUNTS))
    stmt = stmt.select_from(cohort)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    stmt = stmt.group_by(key, label).order_by(func.sum(cohort.c.leads).desc(), key.is_(None), key)
    # each row is key, label, then the counts in _COUNTS order
    groups = [_group(row[0], row[1], row[2:]) for row in session.execute(stmt)]
    totals = [sum(column) for column in zip(*(_counts(g) for g in groups), strict=True)]
    return FunnelReport(period, group_by, groups, _group(None, None, totals or [0] * len(_COUNTS)))


def channel_report(session: Session, actor: Actor, period: Period) -> ChannelReport:
    """Per source: leads created in `period`, what they cost and how many applied and disbursed.

    Cost is leads × the source's cost per lead in each org (HQ sees a source priced differently
    by two orgs as one channel); a source nobody priced costs 0.
    """
    cohort = (
        select(
            Lead.org_id,
            Lead.source,
            func.count().label("leads"),
            _count_if(Lead.reached_rank >= APPLIED).label("applications"),
            _count_if(Lead.reached_rank >= DISBURSED).label("disbursed"),
        )
        .where(period.contains(Lead.created_at))
        .group_by(Lead.org_id, Lead.source)
        .subquery()
    )
    priced = select(cohort, LeadSource.cost_per_lead).outerjoin(
        LeadSource,
        and_(LeadSource.org_id == cohort.c.org_id, LeadSource.name == cohort.c.source),
    )
    tallies: dict[str, _Tally] = {}
    for row in session.execute(priced):
        # one row per org and source, summed here in Decimal (SQLite would multiply in floats)
        tally = tallies.setdefault(row.source, _Tally())
        tally.leads += row.leads
        tally.cost += row.leads * (row.cost_per_lead or Decimal(0))
        tally.applications += int(row.applications)
        tally.disbursed += int(row.disbursed)
    channels = [
        ChannelRow(
            source=source,
            leads=t.leads,
            cost=money(t.cost),
            applications=t.applications,
            disbursed=t.disbursed,
            cost_per_lead=per(t.cost, t.leads),
            cost_per_disbursed=per(t.cost, t.disbursed),
        )
        for source, t in tallies.items()
    ]
    channels.sort(key=lambda c: (-c.leads, c.source))
    return ChannelReport(period, channels)


@dataclass
class _Tally:
    leads: int = 0
    cost: Decimal = Decimal(0)
    applications: int = 0
    disbursed: int = 0


def _cohort(period: Period, column: Any) -> Subquery:
    """The leads created in `period`, counted per value of `column` in one pass."""
    reached = [
        _count_if(Lead.reached_rank >= rank).label(f"reached_{rank}")
        for rank in range(1, len(FUNNEL))
    ]
    return (
        select(
            column.label("key"),
            func.count().label("leads"),
            *reached,
            _count_if(Lead.stage == "lost").label("lost"),
            _count_if(Lead.stage == "rejected").label("rejected"),
        )
        .where(period.contains(Lead.created_at))
        .group_by(column)
        .subquery("cohort")
    )


def _labels(group_by: Grouping, cohort: Subquery) -> tuple[Any, Any, list[tuple[Any, Any]]]:
    """The group key, its display label and the outer joins that find the label."""
    owner = (User, User.id == cohort.c.key)
    if group_by == "agent":
        return cohort.c.key, User.display_name, [owner]
    if group_by == "team":
        return User.team_id, Team.name, [owner, (Team, Team.id == User.team_id)]
    if group_by == "org":
        return cohort.c.key, Org.name, [(Org, Org.id == cohort.c.key)]
    return cohort.c.key, cohort.c.key, []


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _group(key: Any, label: Any, counts: Sequence[Any]) -> FunnelGroup:
    leads, *reached, lost, rejected = (int(n or 0) for n in counts)
    funnel = [leads, *reached]
    stages = [StageCount(FUNNEL[0], leads, None)] + [
        StageCount(stage, n, rate(n, previous))
        for stage, (previous, n) in zip(FUNNEL[1:], pairwise(funnel), strict=True)
    ]
    return FunnelGroup(key, label, leads, stages, lost, rejected)


def _counts(group: FunnelGroup) -> list[int]:
    return [*(s.count for s in group.stages), group.lost, group.rejected]
