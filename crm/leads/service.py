"""Lead use cases: create, read, list, edit, reveal. Every query runs inside the org scope."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Insert, and_, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import reencrypt_lead
from crm.db import utcnow
from crm.errors import Conflict, DomainError, NotFound
from crm.leads.idcard import parse_id_number
from crm.leads.intake import (
    LeadDraft,
    id_number_columns,
    lead_columns,
    name_columns,
    phone_columns,
)
from crm.leads.models import Lead, LeadEvent, LeadSource
from crm.leads.phone import normalize_phone
from crm.leads.schemas import CreateLead, LeadFilters, RevealRequest, UpdateLead
from crm.loans.models import Application
from crm.pools.limit import refuse_full
from crm.queries import paginate
from crm.schemas import PageResult
from crm.scoring.service import ensure_breakdown, rescore

# Counting a million matching rows for "page 1 of N" costs more than the page; past this the
# list says "10,000+".
LIST_COUNT_CAP = 10_000
# Agents enter leads they found themselves straight into their own private pool.
_SELF_OWNING_ROLES = frozenset({"agent", "partner_agent"})
_SORTS = {
    "-score": (Lead.score.desc(), Lead.id.desc()),
    "score": (Lead.score.asc(), Lead.id.asc()),
    "created_at": (Lead.created_at.asc(), Lead.id.asc()),
    "-created_at": (Lead.created_at.desc(), Lead.id.desc()),
    "last_followup_at": (Lead.last_followup_at.asc(), Lead.id.asc()),
    "-last_followup_at": (Lead.last_followup_at.desc(), Lead.id.desc()),
}


def visibility(actor: Actor) -> list[ColumnElement[bool]]:
    """Inside their org, managers see every lead; an agent sees the public pool and their own; a
    reviewer also the leads whose applications came to review (and no other owned lead)."""
    if actor.can("leads:assign"):
        return []
    seen = [Lead.owner_id.is_(None), Lead.owner_id == actor.user_id]
    if actor.can("applications:review") or actor.can("loans:manage"):
        seen.append(exists().where(Application.lead_id == Lead.id, Application.status != "draft"))
    return [or_(*seen)]


def get_lead(
    session: Session,
    actor: Actor,
    lead_id: int,
    *,
    for_update: bool = False,
    with_breakdown: bool = False,
) -> Lead:
    """`with_breakdown` (the lead detail, a write unit) loads the score breakdown, scoring a lead
    imported in bulk on first open; read-only units must not ask for it, since that may write."""
    stmt = select(Lead).where(Lead.id == lead_id, *visibility(actor))
    if with_breakdown:
        stmt = stmt.options(selectinload(Lead.score_row))
    if for_update:
        stmt = stmt.with_for_update()
    lead = session.scalars(stmt).one_or_none()
    if lead is None:
        raise NotFound("lead")
    if with_breakdown:
        ensure_breakdown(session, lead)
    return lead


def create_lead(
    session: Session, actor: Actor, vault: PiiVault, data: CreateLead, now: datetime | None = None
) -> Lead:
    now = now or utcnow()
    draft = LeadDraft(
        name=data.name,
        phone=data.phone,
        id_number=data.id_number,
        city=data.city,
        source=data.source,
        amount_wanted=data.amount_wanted,
        term_months=data.term_months,
        purpose=data.purpose,
        remark=data.remark,
        qualifications=_qualifications_json(data.qualifications),
        consent_given_at=data.consent.given_at,
        consent_method=data.consent.method,
        consent_text_version=data.consent.text_version,
    )
    columns = lead_columns(vault, draft, actor.org_id, actor.user_id, now)
    _refuse_duplicate(session, actor.org_id, columns["phone_bidx"])
    lead = Lead(**columns)
    if actor.role in _SELF_OWNING_ROLES:
        # the lead is the agent's as if claimed, so the private-pool limit holds here too
        from crm.pools.ownership import org_settings  # it imports this module

        refuse_full(session, actor, org_settings(session, actor.org_id))
        lead.owner_id, lead.claimed_at = actor.user_id, now
    try:
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:
        # lost a race with another create of the same phone: report it as the duplicate it is
        _refuse_duplicate(session, actor.org_id, columns["phone_bidx"])
        raise
    ensure_sources(session, actor.org_id, {data.source})
    rescore(session, [lead], now)
    return lead


def update_lead(
    session: Session, actor: Actor, vault: PiiVault, lead_id: int, data: UpdateLead
) -> Lead:
    lead = get_lead(session, actor, lead_id, for_update=True)
    if not actor.can("leads:assign") and lead.owner_id != actor.user_id:
        raise DomainError("not_owner", "only the lead's owner or a manager can edit it", 403)
    changes = data.model_dump(exclude_unset=True)
    if "phone" in changes:
        if data.phone is None:
            raise DomainError("invalid_phone", "a lead needs a phone number")
        columns = phone_columns(vault, normalize_phone(data.phone))
        _refuse_duplicate(session, lead.org_id, columns["phone_bidx"], except_id=lead.id)
        _assign(lead, columns)
    if "source" in changes and data.source is None:  # a 500 (NOT NULL) before; found fuzzing
        raise DomainError("invalid_source", "a lead needs a source")
    if "name" in changes:
        _assign(lead, name_columns(vault, data.name))
    if "id_number" in changes:
        _assign(lead, id_number_columns(vault, data.id_number, utcnow().date()))
    if "qualifications" in changes:
        lead.qualifications = _qualifications_json(data.qualifications)
    if "consent" in changes and data.consent is not None:
        lead.consent_given_at = data.consent.given_at
        lead.consent_method = data.consent.method
        lead.consent_text_version = data.consent.text_version
    for field in ("city", "source", "amount_wanted", "term_months", "purpose", "remark"):
        if field in changes:
            setattr(lead, field, changes[field])
    if "source" in changes and data.source:
        ensure_sources(session, lead.org_id, {data.source})
    if {"phone", "name", "id_number"} & changes.keys() and lead.pii_key_id != vault.active_key_id:
        # the row's key id must describe all three tokens, so the untouched ones move along
        reencrypt_lead(vault, lead)
    add_event(session, lead, actor, "updated", {"fields": sorted(changes)})
    rescore(session, [lead])
    return lead


def list_leads(session: Session, actor: Actor, vault: PiiVault, f: LeadFilters) -> PageResult:
    return paginate(session, filtered_leads(actor, vault, f), f, count_cap=LIST_COUNT_CAP)


def filtered_leads(actor: Actor, vault: PiiVault, f: LeadFilters):
    stmt = select(Lead).where(*visibility(actor))
    if f.pool == "public":
        stmt = stmt.where(Lead.owner_id.is_(None))
    elif f.pool == "mine":
        stmt = stmt.where(Lead.owner_id == actor.user_id)
    for column, value in (
        (Lead.org_id, f.org_id),
        (Lead.stage, f.stage),
        (Lead.source, f.source),
        (Lead.city, f.city),
        (Lead.owner_id, f.owner_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.min_score is not None:
        stmt = stmt.where(Lead.score >= f.min_score)
    if f.q:
        stmt = stmt.where(search_clause(vault, f.q))
    return stmt.order_by(*_SORTS[f.sort])


def search_clause(vault: PiiVault, q: str) -> ColumnElement[bool]:
    """Exact match through the blind indexes only: no prefix or wildcard search on personal data,
    so masked values cannot be recovered by narrowing a search digit by digit."""
    for parse, column, index in (
        (lambda v: normalize_phone(v).e164, Lead.phone_bidx, vault.phone_index),
        (lambda v: parse_id_number(v).number, Lead.id_number_bidx, vault.id_number_index),
    ):
        try:
            return column == index(parse(q))
        except DomainError:
            continue
    return Lead.name_bidx == vault.name_index(q)


def reveal(
    session: Session, actor: Actor, vault: PiiVault, lead_id: int, request: RevealRequest
) -> dict[str, Any]:
    lead = get_lead(session, actor, lead_id)
    fields = sorted(set(request.fields))
    values: dict[str, Any] = {"lead_id": lead.id}
    for field in fields:
        token = getattr(lead, f"{field}_enc")
        values[field] = vault.show(token, field) if token else None
    audit.record(
        session,
        actor,
        "reveal",
        lead.org_id,
        lead_id=lead.id,
        fields=fields,
        purpose=request.purpose,
    )
    add_event(session, lead, actor, "reveal", {"fields": fields, "purpose": request.purpose})
    return values


def cross_org_overlap(session: Session) -> list[dict[str, int]]:
    """Pairs of orgs holding leads with the same phone (partners may compete for one borrower);
    matched on the blind index, so no number is ever decrypted for the report."""
    mine, theirs = aliased(Lead), aliased(Lead)
    rows = session.execute(
        select(mine.org_id, theirs.org_id, func.count())
        .join(theirs, and_(mine.phone_bidx == theirs.phone_bidx, mine.org_id < theirs.org_id))
        .group_by(mine.org_id, theirs.org_id)
        .order_by(func.count().desc())
    )
    return [{"org_id": a, "other_org_id": b, "leads": n} for a, b, n in rows]


def add_event(
    session: Session,
    lead: Lead,
    actor: Actor,
    kind: str,
    data: dict[str, Any],
    at: datetime | None = None,
) -> LeadEvent:
    """Append to the lead's timeline; `at` is the caller's clock when it has one (jobs and tests
    pass their `now`, so the event and the change it records carry the same time)."""
    event = LeadEvent(
        org_id=lead.org_id,
        lead_id=lead.id,
        kind=kind,
        actor_id=actor.user_id,
        data=data,
        at=at or utcnow(),
    )
    session.add(event)
    return event


def append_event(
    session: Session, lead: Lead, actor: Actor, kind: str, data: dict[str, Any], at: datetime
) -> None:
    """`add_event` for a lead already stored, written at once by a statement built once instead
    of through the session's flush: for claims, where the flush was a sixth of the request."""
    row = {"org_id": lead.org_id, "lead_id": lead.id, "kind": kind, "data": data, "at": at}
    session.execute(_event_insert(), row | {"actor_id": actor.user_id})


@lru_cache(maxsize=1)
def _event_insert() -> Insert:
    return insert(LeadEvent.__table__)


def ensure_sources(session: Session, org_id: int, names: set[str]) -> None:
    """Register unseen channels (cost 0 until a manager prices them) for channel ROI."""
    known = set(
        session.scalars(
            select(LeadSource.name).where(LeadSource.org_id == org_id, LeadSource.name.in_(names))
        )
    )
    for name in sorted(names - known):
        try:
            with session.begin_nested():
                session.add(LeadSource(org_id=org_id, name=name))
        except IntegrityError:
            continue  # registered concurrently by another request: fine


def _refuse_duplicate(
    session: Session, org_id: int, phone_bidx: str, except_id: int | None = None
) -> None:
    stmt = select(Lead.id).where(Lead.org_id == org_id, Lead.phone_bidx == phone_bidx)
    if except_id is not None:
        stmt = stmt.where(Lead.id != except_id)
    existing = session.scalar(stmt)
    if existing is not None:
        raise Conflict(
            "duplicate_lead",
            "a lead with this phone number already exists",
            details={"lead_id": existing},
        )


def _qualifications_json(qualifications: Any) -> dict[str, Any]:
    if qualifications is None:
        return {}
    return qualifications.model_dump(mode="json", exclude_none=True)


def _assign(lead: Lead, columns: dict[str, Any]) -> None:
    for key, value in columns.items():
        setattr(lead, key, value)
