"""What scoring needs from the database, loaded for a whole batch of leads at once (no N+1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from crm.followups.models import Followup
from crm.leads.models import FUNNEL, Lead
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.scoring.models import ScoringRun
from crm.scoring.rules import Context, LeadFacts, SourceRates
from crm.scoring.settings import ScoringSettings
from crm.tenancy import ALL_ORGS
from dialer.models import Call

# The lead columns scoring reads, for batch queries that skip loading whole ORM objects; a row
# of them has every LeadFacts attribute, so the rules read it as it is.
FACT_COLUMNS = (
    Lead.id,
    Lead.score,
    Lead.phone_bidx,
    Lead.source,
    Lead.is_mobile,
    Lead.carrier,
    Lead.phone_city,
    Lead.city,
    Lead.name_bidx.is_not(None).label("has_name"),
    Lead.id_number_bidx.is_not(None).label("has_id_number"),
    Lead.birth_year,
    Lead.amount_wanted,
    Lead.term_months,
    Lead.purpose,
    Lead.qualifications,
)


@dataclass(frozen=True)
class OrgScoring:
    """An org's weights and served cities, read once per batch, import or request."""

    org_id: int
    settings: ScoringSettings
    cities: frozenset[str]


def org_scoring(session: Session, org_id: int) -> OrgScoring:
    cities, stored = session.execute(select(Org.cities, Org.settings).where(Org.id == org_id)).one()
    settings = OrgSettings.model_validate(stored or {}, strict=False).scoring
    return OrgScoring(org_id, settings, frozenset(cities or ()))


def facts_of(row: Any) -> LeadFacts:
    """A Lead, a row of FACT_COLUMNS or an import's column dict, as the rules read it."""
    if isinstance(row, Row):
        return row
    get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
    return LeadFacts(
        source=get("source"),
        is_mobile=get("is_mobile") is not False,
        carrier=get("carrier"),
        phone_city=get("phone_city"),
        city=get("city"),
        has_name=get("name_bidx") is not None,
        has_id_number=get("id_number_bidx") is not None,
        birth_year=get("birth_year"),
        amount_wanted=get("amount_wanted"),
        term_months=get("term_months"),
        purpose=get("purpose"),
        qualifications=get("qualifications") or {},
    )


def count_source_conversions(session: Session, org_id: int, stage: str) -> dict[str, Any]:
    """Per source, how many of the org's leads there are and how many reached `stage`; one
    grouped scan, taken when an org re-score starts."""
    reached = func.sum(case((Lead.reached_rank >= FUNNEL.index(stage), 1), else_=0))
    rows = session.execute(
        select(Lead.source, func.count(), reached)
        .where(Lead.org_id == org_id)
        .group_by(Lead.source)
    ).all()
    return {"stage": stage, "sources": {source: [n, int(c or 0)] for source, n, c in rows}}


def source_rates(stats: Mapping[str, Any]) -> SourceRates:
    by_source = {name: (n, c) for name, (n, c) in stats.get("sources", {}).items()}
    leads = sum(n for n, _ in by_source.values())
    converted = sum(c for _, c in by_source.values())
    return SourceRates(by_source, converted / leads if leads else 0.0)


def latest_source_rates(session: Session, org_id: int) -> SourceRates:
    """The figures of the org's latest re-score; before any, every source counts as average."""
    stats = session.scalar(
        select(ScoringRun.source_stats)
        .where(ScoringRun.org_id == org_id)
        .order_by(ScoringRun.started_at.desc())
        .limit(1)
    )
    return source_rates(stats or {})


def other_orgs_by_phone(session: Session, org_id: int, phone_bidxs: Iterable[str]) -> dict:
    """How many other orgs hold each number. Only a count crosses the org boundary, matched on
    the blind index, so no org learns anything of another's lead but that it exists."""
    wanted = list(set(phone_bidxs))
    if not wanted:
        return {}
    rows = session.execute(
        select(Lead.phone_bidx, func.count(func.distinct(Lead.org_id)))
        .where(Lead.phone_bidx.in_(wanted), Lead.org_id != org_id)
        .group_by(Lead.phone_bidx)
        .execution_options(**ALL_ORGS)
    )
    return dict(rows.all())


def recent_activity(
    session: Session, lead_ids: Sequence[int], now: datetime, days: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Follow-ups and answered calls per lead in the last `days` days."""
    if not lead_ids:
        return {}, {}
    since = now - timedelta(days=days)
    followups = session.execute(
        select(Followup.lead_id, func.count())
        .where(Followup.lead_id.in_(lead_ids), Followup.created_at >= since)
        .group_by(Followup.lead_id)
    )
    answered = session.execute(
        select(Call.lead_id, func.count())
        .where(Call.lead_id.in_(lead_ids), Call.started_at >= since, Call.answered_at.is_not(None))
        .group_by(Call.lead_id)
    )
    return dict(followups.all()), dict(answered.all())


def contexts(
    session: Session,
    org: OrgScoring,
    rows: Sequence[Any],
    rates: SourceRates,
    now: datetime,
    *,
    engagement: bool = True,
    other_orgs: Mapping[str, int] | None = None,
) -> list[Context]:
    """A Context per row (rows have `id` and `phone_bidx`); three grouped queries in all.
    `engagement=False` for leads not stored yet (an import's), which have no history;
    `other_orgs` when the caller already counted them (the import's duplicate lookup)."""
    bidx = [r["phone_bidx"] if isinstance(r, Mapping) else r.phone_bidx for r in rows]
    others = (
        other_orgs if other_orgs is not None else other_orgs_by_phone(session, org.org_id, bidx)
    )
    followups: dict[int, int] = {}
    answered: dict[int, int] = {}
    if engagement:
        ids = [r.id for r in rows]
        followups, answered = recent_activity(session, ids, now, org.settings.engagement_days)
    return [
        Context(
            year=now.year,
            org_cities=org.cities,
            sources=rates,
            other_orgs=others.get(phone, 0),
            recent_followups=followups.get(getattr(r, "id", None), 0),
            recent_answered_calls=answered.get(getattr(r, "id", None), 0),
        )
        for r, phone in zip(rows, bidx, strict=True)
    ]
