"""Matching a lead against the products its org may use (crm/loans/eligibility.py decides)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.errors import DomainError
from crm.leads.idcard import parse_id_number
from crm.leads.models import Lead
from crm.leads.service import get_lead
from crm.loans.eligibility import (
    Applicant,
    Match,
    ProductRules,
    ProductTerms,
    Reason,
    match_products,
)
from crm.loans.models import Product
from crm.loans.products import ProductView, usable_products_query
from crm.pools.ownership import org_settings


def lead_matches(session: Session, actor: Actor, vault: PiiVault, lead_id: int) -> dict[str, Any]:
    lead = get_lead(session, actor, lead_id)
    rows = session.execute(usable_products_query(lead.org_id)).all()
    flag = org_settings(session, actor.org_id).apr_flag
    views = {p.id: ProductView(p, name, p.apr_worst > flag, []) for p, name in rows}
    terms = [_terms(p.id, p.updated_at, p, name) for p, name in rows]
    matches = match_products(applicant(session, vault, lead), terms)
    out = [_out(m, views[m.product.product_id]) for m in matches]
    return {
        "lead_id": lead.id,
        "eligible": [m for m in out if m["eligible"]],
        "excluded": [m for m in out if not m["eligible"]],
    }


def exclusions(
    session: Session, vault: PiiVault, lead: Lead, product: Product, lender: str
) -> list[Reason]:
    """Why the lead does not qualify for this one product (empty when it does)."""
    (match,) = match_products(
        applicant(session, vault, lead), [_terms(product.id, product.updated_at, product, lender)]
    )
    return match.exclusions


def applicant(session: Session, vault: PiiVault, lead: Lead) -> Applicant:
    """What matching knows of the lead. The age comes from the full birth date inside the
    encrypted ID number (the stored birth year alone is off by one for half the year); the
    number is decrypted here and goes nowhere else, so nothing is revealed to anyone."""
    return Applicant(
        age=_age(session, vault, lead),
        city=lead.city or lead.phone_city,
        source=lead.source,
        amount_wanted=lead.amount_wanted,
        term_months=lead.term_months,
        qualifications=lead.qualifications or {},
    )


def _age(session: Session, vault: PiiVault, lead: Lead) -> int | None:
    if not lead.id_number_enc:
        return None
    try:
        info = parse_id_number(vault.reveal(lead.id_number_enc, "id_number"))
    except DomainError:
        return None  # stored before validation got stricter: treat as unknown, agent confirms
    zone = ZoneInfo(org_settings(session, lead.org_id).timezone)
    return info.age_on(utcnow().astimezone(zone).date())


def _terms(product_id: int, updated_at: datetime, product: Product, lender: str) -> ProductTerms:
    """Parsing a product's rules is most of a match's cost at 500 products: parsed once per
    product version (its updated_at) and reused."""
    return _cached_terms(
        product_id,
        updated_at,
        lender,
        product.name,
        product.min_amount,
        product.max_amount,
        product.min_term_months,
        product.max_term_months,
        product.apr_worst,
        product.channel_fee_rate,
        _frozen(product.rules),
    )


@lru_cache(maxsize=4096)
def _cached_terms(product_id, _version, lender, name, lo, hi, tlo, thi, apr, fee, rules):
    return ProductTerms(
        product_id=product_id,
        name=name,
        lender_name=lender,
        min_amount=lo,
        max_amount=hi,
        min_term_months=tlo,
        max_term_months=thi,
        apr=apr,
        channel_fee_rate=fee,
        rules=ProductRules.model_validate(_thawed(rules)),
    )


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", *(_frozen(v) for v in value))
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, tuple) and value and value[0] == "__list__":
        return [_thawed(v) for v in value[1:]]
    if isinstance(value, tuple):
        return {k: _thawed(v) for k, v in value}
    return value


def _out(match: Match, view: ProductView) -> dict[str, Any]:
    return {
        "product": view,
        "eligible": match.eligible,
        "exclusions": match.exclusions,
        "to_confirm": match.to_confirm,
    }
