"""Cohort reports over the leads created in a period: the conversion funnel and channel ROI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import Forbidden
from crm.leads.models import FUNNEL, Lead, LeadSource
from crm.loans.models import Loan
from crm.orgs.models import Org, Team, User
from crm.queries import plan_for_values
from crm.reports.channel_economics import Economics, TeamEconomics, by_source, by_team, roi
from crm.reports.funnel_daily import FunnelDaily, midnight, whole_days
from crm.reports.service import Period, money, per, rate, summed

Grouping = Literal["source", "agent", "team", "org", "city"]
APPLIED = FUNNEL.index("applied")
# Every lead reached "new", so that count is count(*); the others come from reached_rank.
_COUNTS = ("leads", *(f"reached_{rank}" for rank in range(1, len(FUNNEL))), "lost", "rejected")
# The lead column the cohort is first aggregated by; labels are joined on afterwards, so the
# join touches a few hundred group rows instead of every lead. Team is the owner's team.
_GROUP_COLUMN = {
    "source": Lead.source,
    # an empty city is no city: funnel_daily cannot tell them apart, so neither does the report
    "city": func.nullif(Lead.city, ""),
    "agent": Lead.owner_id,
    "team": Lead.owner_id,
    "org": Lead.org_id,
}
# Groupings funnel_daily answers (by org: any one dimension's rows add up to the org's leads).
_DAILY_DIMENSION = {"source": "source", "city": "city", "org": "source"}


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
    disbursed: int  # loans
    disbursed_amount: Decimal
    cost_per_lead: Decimal | None
    cost_per_disbursed: Decimal | None
    revenue: Decimal
    commission_cost: Decimal
    roi: Decimal | None


@dataclass(frozen=True, slots=True)
class ChannelReport:
    period: Period
    channels: list[ChannelRow]
    teams: list[TeamEconomics]


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
    plan_for_values(session)
    if group_by in _DAILY_DIMENSION:
        rows = _daily_rows(session, period, group_by)
    else:
        rows = _owner_rows(session, period, group_by)
    # each row is key, label, then the counts in _COUNTS order
    groups = sorted((_group(row[0], row[1], row[2:]) for row in rows), key=_biggest_first)
    totals = [sum(column) for column in zip(*(_counts(g) for g in groups), strict=True)]
    return FunnelReport(period, group_by, groups, _group(None, None, totals or [0] * len(_COUNTS)))


def channel_report(session: Session, actor: Actor, period: Period) -> ChannelReport:
    """Per source: leads created in `period`, what they cost, how many applied, and the loans
    disbursed to them so far (whenever that was; cancelled ones left out), with the fees those
    loans brought in, the commission paid on them and the return on both costs; and the same
    money per team.

    Cost is leads × the source's cost per lead in each org (HQ sees a source priced differently
    by two orgs as one channel); a source nobody priced costs 0.
    """
    plan_for_values(session)
    counted = _split_counts(
        session, period, [Lead.org_id, Lead.source], [FunnelDaily.org_id, FunnelDaily.value]
    )
    prices = {
        (org_id, name): cost
        for org_id, name, cost in session.execute(
            select(LeadSource.org_id, LeadSource.name, LeadSource.cost_per_lead)
        )
    }
    tallies: dict[str, _Tally] = {}
    for (org_id, source), counts in counted.items():
        # one row per org and source, summed here in Decimal (SQLite would multiply in floats)
        tally = tallies.setdefault(source, _Tally())
        tally.leads += counts[0]
        tally.cost += counts[0] * (prices.get((org_id, source)) or Decimal(0))
        tally.applications += counts[APPLIED]
    loans = _cohort_loans(session, period)
    economics = by_source(session, period)
    channels = []
    for source, t in tallies.items():
        disbursed, amount = loans.get(source, (0, 0))
        money_in = economics.get(source, Economics(money(Decimal(0)), money(Decimal(0))))
        channels.append(
            ChannelRow(
                source=source,
                leads=t.leads,
                cost=money(t.cost),
                applications=t.applications,
                disbursed=disbursed,
                disbursed_amount=summed(amount),
                cost_per_lead=per(t.cost, t.leads),
                cost_per_disbursed=per(t.cost, disbursed),
                revenue=money_in.revenue,
                commission_cost=money_in.commission,
                roi=roi(money_in.revenue, money(t.cost) + money_in.commission),
            )
        )
    channels.sort(key=lambda c: (-c.leads, c.source))
    return ChannelReport(period, channels, by_team(session, period))


@dataclass
class _Tally:
    leads: int = 0
    cost: Decimal = Decimal(0)
    applications: int = 0


def _cohort_loans(session: Session, period: Period) -> dict[str, tuple[int, Any]]:
    """Per source, the number and sum of the loans of the leads created in `period`. A loan
    comes after its lead, so only loans disbursed since the period began are read (by
    ix_loans_org_disbursed), not every loan of the book."""
    stmt = (
        select(Lead.source, func.count(), func.sum(Loan.amount))
        .join(Lead, Lead.id == Loan.lead_id)
        .where(
            Loan.disbursed_at >= period.start,
            Loan.status != "cancelled",
            period.contains(Lead.created_at),
        )
        .group_by(Lead.source)
    )
    return {source: (n, amount) for source, n, amount in session.execute(stmt)}


def _owner_rows(session: Session, period: Period, group_by: Grouping) -> list[Sequence[Any]]:
    """Per agent or team: the cohort counted per owner, then labelled and (team) regrouped."""
    cohort = _cohort(period, [_GROUP_COLUMN[group_by].label("key")]).subquery("cohort")
    key, label, joins = _labels(group_by, cohort)
    stmt = select(key.label("key"), label.label("label"))
    stmt = stmt.add_columns(*(func.sum(cohort.c[name]).label(name) for name in _COUNTS))
    stmt = stmt.select_from(cohort)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    return list(session.execute(stmt.group_by(key, label)))


def _daily_rows(session: Session, period: Period, group_by: Grouping) -> list[Sequence[Any]]:
    """Per source, city or org, from funnel_daily and the period's partial days."""
    key = FunnelDaily.org_id if group_by == "org" else func.nullif(FunnelDaily.value, "")
    counted = _split_counts(
        session, period, [_GROUP_COLUMN[group_by]], [key], _DAILY_DIMENSION[group_by]
    )
    names = _org_names(session, [k for (k,) in counted]) if group_by == "org" else {}
    return [(k, names.get(k, k), *counts) for (k,), counts in counted.items()]


def _split_counts(
    session: Session,
    period: Period,
    keys: list[Any],
    daily_keys: list[Any],
    dimension: str = "source",
) -> dict[tuple[Any, ...], list[int]]:
    """The _COUNTS per value of `keys` over the leads created in `period`: whole days from
    funnel_daily (grouped by the matching `daily_keys`), the partial days at either end of the
    period from the leads themselves (at most a day of leads in all)."""
    days = whole_days(period.start, period.end)
    if days is None:
        edges = [period]
    else:
        edges = [Period(period.start, midnight(days[0])), Period(midnight(days[1]), period.end)]
    statements = [_cohort(edge, keys, every_org=True) for edge in edges if edge.start < edge.end]
    if days is not None:
        statements.append(_daily_counts(*days, daily_keys, dimension))
    tallies: dict[tuple[Any, ...], list[int]] = {}
    for stmt in statements:
        for row in session.execute(stmt):
            key, counts = tuple(row[: len(keys)]), row[len(keys) :]
            tally = tallies.setdefault(key, [0] * len(_COUNTS))
            tally[:] = [a + int(b or 0) for a, b in zip(tally, counts, strict=True)]
    # rows whose leads all moved on stay behind at 0: a group of none is no group
    return {key: counts for key, counts in tallies.items() if counts[0]}


def _cohort(period: Period, keys: list[Any], every_org: bool = False) -> Select:
    """The leads created in `period`, counted per value of `keys` in one pass. `every_org`
    names the orgs, which lets ix_leads_org_created serve an HQ report over all orgs too."""
    stmt = select(*keys, *_tallies(Lead.reached_rank, Lead.stage))
    stmt = stmt.where(period.contains(Lead.created_at))
    if every_org:
        stmt = stmt.where(Lead.org_id.in_(select(Org.id)))
    return stmt.group_by(*keys)


def _daily_counts(first: date, end: date, keys: list[Any], dimension: str) -> Select:
    """The funnel_daily counts of the days [first, end), per value of `keys`."""
    return (
        select(*keys, *_tallies(FunnelDaily.reached_rank, FunnelDaily.stage, FunnelDaily.leads))
        .where(
            FunnelDaily.dimension == dimension,
            FunnelDaily.day >= first,
            FunnelDaily.day < end,
        )
        .group_by(*keys)
    )


def _tallies(rank: Any, stage: Any, leads: Any = None) -> list[ColumnElement[int]]:
    """The _COUNTS columns over rows that are one lead each, or `leads` leads each."""

    def total(condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        if leads is None:
            return func.count() if condition is None else _count_if(condition)
        return func.sum(leads if condition is None else case((condition, leads), else_=0))

    reached = [total(rank >= r) for r in range(1, len(FUNNEL))]
    counts = [total(), *reached, total(stage == "lost"), total(stage == "rejected")]
    return [count.label(name) for count, name in zip(counts, _COUNTS, strict=True)]


def _org_names(session: Session, org_ids: Iterable[Any]) -> dict[Any, str]:
    return dict(session.execute(select(Org.id, Org.name).where(Org.id.in_(list(org_ids)))).all())


def _biggest_first(group: FunnelGroup) -> tuple[int, bool, Any]:
    # the same order whichever path counted the groups, and on every database
    return (-group.leads, group.key is None, group.key)


def _labels(group_by: Grouping, cohort: Subquery) -> tuple[Any, Any, list[tuple[Any, Any]]]:
    """The group key (agent: the owner; team: the owner's team), its display label and the
    outer joins that find them."""
    owner = (User, User.id == cohort.c.key)
    if group_by == "agent":
        return cohort.c.key, User.display_name, [owner]
    return User.team_id, Team.name, [owner, (Team, Team.id == User.team_id)]


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
