"""Lender, product, matching and contract-template endpoints."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.loans import contracts, matching, products
from crm.loans.schemas import (
    ContractTemplateOut,
    LenderOut,
    MatchesOut,
    NewContractTemplate,
    NewLender,
    NewProduct,
    ProductFields,
    ProductFilters,
    ProductOffers,
    ProductOut,
)
from crm.schemas import Page

bp = ApiBlueprint("loans", __name__, tag="loans")


@bp.endpoint(
    "/lenders", "POST", body=NewLender, response=LenderOut, status=201, permission="products:manage"
)
def create_lender(session: Session, actor: Actor, body: NewLender):
    """Add a bank, consumer-finance or microloan company (资金方) to your org."""
    return products.create_lender(session, actor, body)


@bp.endpoint("/lenders", response=list[LenderOut], permission="products:read")
def list_lenders(session: Session, actor: Actor):
    """Your org's lenders (headquarters: every org's)."""
    return products.list_lenders(session)


@bp.endpoint(
    "/products",
    "POST",
    body=NewProduct,
    response=ProductOut,
    status=201,
    permission="products:manage",
)
def create_product(session: Session, actor: Actor, body: NewProduct):
    """Add a product; 422 apr_over_cap when its all-in APR can exceed the org's cap."""
    return products.create_product(session, actor, body)


@bp.endpoint(
    "/products/<int:product_id>",
    "PUT",
    body=ProductFields,
    response=ProductOut,
    permission="products:manage",
)
def update_product(session: Session, actor: Actor, product_id: int, body: ProductFields):
    """Replace a product's terms and rules (running loans keep theirs); also enables/disables."""
    return products.update_product(session, actor, product_id, body)


@bp.endpoint(
    "/products/<int:product_id>/offers",
    "PUT",
    body=ProductOffers,
    response=ProductOut,
    permission="orgs:manage",
)
def offer_product(session: Session, actor: Actor, product_id: int, body: ProductOffers):
    """Offer an HQ product to these partner orgs (replaces the previous set)."""
    return products.offer_product(session, actor, product_id, body.org_ids)


@bp.endpoint(
    "/products", query=ProductFilters, response=Page[ProductOut], permission="products:read"
)
def list_products(session: Session, actor: Actor, query: ProductFilters):
    """Products your org may use (its own and those headquarters offered it)."""
    return products.list_products(session, actor, query)


@bp.endpoint(
    "/leads/<int:lead_id>/matches",
    response=MatchesOut,
    permission="products:read",
)
def lead_matches(session: Session, actor: Actor, lead_id: int):
    """Products the lead qualifies for, ranked, and why each other product is excluded."""
    return matching.lead_matches(session, actor, runtime.vault, lead_id)


@bp.endpoint(
    "/contract-templates",
    "POST",
    body=NewContractTemplate,
    response=ContractTemplateOut,
    status=201,
    permission="settings:manage",
)
def set_contract_template(session: Session, actor: Actor, body: NewContractTemplate):
    """A new version of your org's contract template (sandboxed Jinja), tried before it is kept."""
    return contracts.set_template(session, actor, body)
