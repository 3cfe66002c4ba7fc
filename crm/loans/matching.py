"""Matching a lead against the products its org may use (crm/loans/eligibility.py decides)."""

from __future__ import annotations

from datetime import datetime
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
    terms = [_terms(p, name) for p, name in rows]
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
    (match,) = match_products(applicant(session, vault, lead), [_terms(product, lender)])
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


# product version (id, updated_at, lender name) -> its parsed terms
_TERMS: dict[tuple[int, datetime, str], ProductTerms] = {}
_TERMS_MAX = 4096


def _terms(product: Product, lender: str) -> ProductTerms:
    """Parsing a product's rules is most of a match's cost at 500 products: parsed once per
    product version (an edit moves its updated_at) and reused."""
    key = (product.id, product.updated_at, lender)
    terms = _TERMS.get(key)
    if terms is None:
        if len(_TERMS) >= _TERMS_MAX:
            _TERMS.clear()  # old versions pile up only as products are edited
        terms = _TERMS[key] = ProductTerms(
            product_id=product.id,
            name=product.name,
            lender_name=lender,
            min_amount=product.min_amount,
            max_amount=product.max_amount,
            min_term_months=product.min_term_months,
            max_term_months=product.max_term_months,
            apr=product.apr_worst,
            channel_fee_rate=product.channel_fee_rate,
            rules=ProductRules.model_validate(product.rules),
        )
    return terms


def _out(match: Match, view: ProductView) -> dict[str, Any]:
    return {
        "product": view,
        "eligible": match.eligible,
        "exclusions": match.exclusions,
        "to_confirm": match.to_confirm,
    }
