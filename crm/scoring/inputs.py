"""What scoring needs from the database, loaded for a whole batch of leads at once (no N+1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy import Select, Text, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from crm.followups.models import Followup
from crm.leads.models import FUNNEL, Lead
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.scoring.models import LeadScore, ScoringRun
from crm.scoring.rules import Context, LeadFacts, Scorer, SourceRates
from crm.scoring.settings import ScoringSettings
from crm.tenancy import ALL_ORGS
from dialer.models import Call

# The lead columns scoring reads, for batch queries that skip loading whole ORM objects; with
# `stored_facts`' counts a row has every LeadFacts attribute, so the rules read it as it is.
FACT_COLUMNS = (
    Lead.id,
    Lead.score,
    Lead.source,
    Lead.is_mobile,
    Lead.carrier,
    Lead.phone_city,
    Lead.city,
    Lead.name_bidx.is_not(None).label("has_name"),
    Lead.id_number_bidx.is_not(None).label("has_id_number"),
    Lead.birth_year,
    Lead.term_months,
    Lead.purpose,
    Lead.stage,
)
# Read as text and converted by `read_stored`, once per distinct value: the driver building a
# Decimal and decoding a JSON document for every lead was a third of reading a batch.
TEXT_FACTS = (
    cast(Lead.amount_wanted, Text).label("amount_wanted"),
    cast(Lead.qualifications, Text).label("qualifications"),
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


def facts_of(row: Mapping[str, Any], other_orgs: int) -> LeadFacts:
    """An import's column dict as the rules read it (a stored lead's row of `stored_facts`
    is read as it is)."""
    get = row.get
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
        stage=get("stage") or "new",
        other_orgs=other_orgs,
    )


def scorer(org: OrgScoring, rates: SourceRates, now: datetime) -> Scorer:
    return Scorer(org.settings, Context(now.year, org.cities, rates))


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


# made once: an alias builds a proxy of every column of leads when first used, which per
# statement was a tenth of a disposition's CPU (each follow-up re-scores its lead)
_OTHER_LEAD = aliased(Lead, name="other_lead")


def stored_facts(org_id: int, since: datetime) -> Select:
    """FACT_COLUMNS of the org's stored leads with their surroundings, one row per lead: how many
    other orgs hold the number, follow-ups and answered calls since `since`, and the fingerprint
    of the breakdown stored for it. Each is an indexed look-up per lead inside the one statement,
    so a batch costs one round trip whatever its size (no id list to send, no grouped queries to
    match up in Python). Only a count crosses the org boundary, matched on the blind index: no org
    learns anything of another's lead but that it exists. Add the batch's own condition (an id
    range, or ids) with `.where`; run it with `read_stored`."""
    other = _OTHER_LEAD
    other_orgs = (
        select(func.count(func.distinct(other.org_id)))
        .where(other.phone_bidx == Lead.phone_bidx, other.org_id != Lead.org_id)
        .scalar_subquery()
    )
    followups = (
        select(func.count())
        .where(Followup.lead_id == Lead.id, Followup.created_at >= since)
        .scalar_subquery()
    )
    answered = (
        select(func.count())
        .where(Call.lead_id == Lead.id, Call.started_at >= since, Call.answered_at.is_not(None))
        .scalar_subquery()
    )
    fingerprint = (
        select(LeadScore.fingerprint).where(LeadScore.lead_id == Lead.id).scalar_subquery()
    )
    return (
        select(
            *FACT_COLUMNS,
            other_orgs.label("other_orgs"),
            followups.label("recent_followups"),
            answered.label("recent_answered_calls"),
            fingerprint.label("fingerprint"),
            *TEXT_FACTS,
        )
        .where(Lead.org_id == org_id)
        .execution_options(**ALL_ORGS)  # the other-orgs count; the rows are the org's own
    )


class StoredLead(NamedTuple):
    """A row of `stored_facts`, as the rules read it. A SQLAlchemy Row resolves each attribute
    by name through __getattr__ (~1 µs); a named tuple's fields are plain descriptors, which
    is a third of a million-lead re-score."""

    id: int
    score: int
    source: str
    is_mobile: bool
    carrier: str | None
    phone_city: str | None
    city: str | None
    has_name: bool
    has_id_number: bool
    birth_year: int | None
    term_months: int | None
    purpose: str | None
    stage: str
    other_orgs: int
    recent_followups: int
    recent_answered_calls: int
    fingerprint: int | None
    amount_wanted: Decimal | None
    qualifications: Mapping[str, Any]


def read_stored(session: Session, query: Select) -> list[StoredLead]:
    """Run a `stored_facts` query."""
    result = session.execute(query)
    if tuple(result.keys()) != StoredLead._fields:
        raise RuntimeError("stored_facts and StoredLead list different columns")
    return [
        StoredLead(*facts, _amount(amount), _qualifications(qualifications))
        for *facts, amount, qualifications in result
    ]


@lru_cache(maxsize=65_536)  # amounts wanted are round figures
def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@lru_cache(maxsize=16_384)  # money, yes/no and a few words: thousands of kinds in a million leads
def _qualifications(text: str | None) -> Mapping[str, Any]:
    # read-only: the leads with the same qualifications share it
    return MappingProxyType(json.loads(text) if text else {})


def engagement_since(settings: ScoringSettings, now: datetime) -> datetime:
    return now - timedelta(days=settings.engagement_days)
