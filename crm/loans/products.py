"""Lenders and their products: creating them under the APR cap, offering HQ products to partners,
and which products an org may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import Conflict, DomainError, NotFound
from crm.loans.apr import Quote, quote
from crm.loans.fees import Fee
from crm.loans.models import Lender, Product, ProductOffer
from crm.loans.schemas import NewLender, NewProduct, ProductFields, ProductFilters
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.pools.ownership import org_settings
from crm.queries import get_visible
from crm.schemas import PageResult
from crm.tenancy import ALL_ORGS

_COLUMNS = (
    "name",
    "min_amount",
    "max_amount",
    "min_term_months",
    "max_term_months",
    "apr_min",
    "apr_max",
    "repayment_method",
    "channel_fee_rate",
    "active",
)
# Any date does: the APR of a schedule does not depend on the calendar.
_QUOTE_DAY = date(2026, 1, 15)


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product as lists show it: with its lender's name, its flag and (HQ) its offers."""

    product: Product
    lender_name: str
    apr_flagged: bool
    offered_to: list[int]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.product, name)


def lender_fees(fees: list[dict[str, Any]]) -> list[Fee]:
    """A product's or an application's lender fees, as stored ([{name, basis, value}])."""
    return [Fee(f["name"], "lender", f["basis"], Decimal(str(f["value"]))) for f in fees]


def create_lender(session: Session, actor: Actor, data: NewLender) -> Lender:
    lender = Lender(org_id=actor.org_id, name=data.name, kind=data.kind)
    # names are the org's own: HQ, which sees every org, may name one as a partner did
    taken = select(Lender.id).where(Lender.org_id == actor.org_id, Lender.name == data.name)
    _refuse_taken(session, taken, "lender")
    session.add(lender)
    session.flush()
    return lender


def list_lenders(session: Session) -> list[Lender]:
    return list(session.scalars(select(Lender).order_by(Lender.name)))


def create_product(session: Session, actor: Actor, data: NewProduct) -> ProductView:
    lender = get_visible(session, Lender, data.lender_id, "lender")
    product = Product(org_id=lender.org_id, lender_id=lender.id)
    _refuse_taken(
        session,
        select(Product.id).where(Product.lender_id == lender.id, Product.name == data.name),
        "product",
    )
    _apply(session, product, data)
    session.add(product)
    session.flush()
    return _view(session, actor, product, lender.name)


def update_product(
    session: Session, actor: Actor, product_id: int, data: ProductFields
) -> ProductView:
    """Running loans keep their copied terms; a product change affects new applications only."""
    product = get_visible(session, Product, product_id, "product")
    _apply(session, product, data)
    lender = session.get(Lender, product.lender_id)
    return _view(session, actor, product, lender.name)


def offer_product(
    session: Session, actor: Actor, product_id: int, org_ids: list[int]
) -> ProductView:
    """Replace the set of partner orgs an HQ product is offered to."""
    product = get_visible(session, Product, product_id, "product")
    if session.get(Org, product.org_id).kind != "hq":
        raise DomainError("not_an_hq_product", "only headquarters' products can be offered")
    partners = set(
        session.scalars(select(Org.id).where(Org.id.in_(org_ids), Org.kind == "partner"))
    )
    if missing := sorted(set(org_ids) - partners):
        raise DomainError("unknown_partner_org", "not partner orgs", details={"org_ids": missing})
    existing = {
        o.org_id: o
        for o in session.scalars(
            select(ProductOffer)
            .where(ProductOffer.product_id == product.id)
            .execution_options(**ALL_ORGS)
        )
    }
    for org_id in existing.keys() - partners:
        session.delete(existing[org_id])
    for org_id in partners - existing.keys():
        session.add(ProductOffer(org_id=org_id, product_id=product.id))
    session.flush()
    lender = session.get(Lender, product.lender_id)
    return _view(session, actor, product, lender.name)


def usable_products_query(org_id: int, *, active_only: bool = True):
    """Products an org may apply with: its own and those HQ offered it, with their lender's name.

    Outside the org scope on purpose (an offered product belongs to HQ); the filter is here."""
    offered = select(ProductOffer.product_id).where(ProductOffer.org_id == org_id)
    stmt = (
        select(Product, Lender.name)
        .join(Lender, Lender.id == Product.lender_id)
        .where(or_(Product.org_id == org_id, Product.id.in_(offered)))
        .execution_options(**ALL_ORGS)
    )
    if active_only:
        stmt = stmt.where(Product.active.is_(True), Lender.active.is_(True))
    return stmt


def application_product(session: Session, product_id: int) -> tuple[Product, str]:
    """The product an application was made for, with its lender's name, even if HQ has since
    stopped offering it to the application's org: withdrawing an offer stops new applications,
    not those under way. The caller has read the application within its scope already."""
    return (
        session.execute(
            select(Product, Lender.name)
            .join(Lender, Lender.id == Product.lender_id)
            .where(Product.id == product_id)
            .execution_options(**ALL_ORGS)
        )
        .one()
        ._tuple()
    )


def get_usable_product(session: Session, org_id: int, product_id: int) -> tuple[Product, str]:
    row = session.execute(
        usable_products_query(org_id, active_only=False).where(Product.id == product_id)
    ).one_or_none()
    if row is None:
        raise NotFound("product")
    return row[0], row[1]


def list_products(session: Session, actor: Actor, f: ProductFilters) -> PageResult:
    if actor.sees_all_orgs:
        stmt = select(Product, Lender.name).join(Lender, Lender.id == Product.lender_id)
    else:
        stmt = usable_products_query(actor.org_id, active_only=False)
    if f.active is not None:
        stmt = stmt.where(Product.active.is_(f.active))
    if f.lender_id is not None:
        stmt = stmt.where(Product.lender_id == f.lender_id)
    stmt = stmt.order_by(Lender.name, Product.name, Product.id)
    rows = session.execute(stmt).all()
    start = (f.page - 1) * f.per_page
    settings = org_settings(session, actor.org_id)
    offers = _offers(session, actor, [p.id for p, _ in rows[start : start + f.per_page]])
    items = [
        ProductView(p, name, p.apr_worst > settings.apr_flag, offers.get(p.id, []))
        for p, name in rows[start : start + f.per_page]
    ]
    return PageResult(items, len(rows), f.page, f.per_page)


def worst_apr(data: ProductFields) -> Decimal:
    """The all-in APR at the dearest corner of the product's ranges: the top rate, and the
    smallest amount (fixed fees weigh most) or shortest term (upfront fees weigh most)."""
    fees = [Fee(f.name, "lender", f.basis, f.value) for f in data.fees]
    corners = [
        (amount, term)
        for amount in {data.min_amount, data.max_amount}
        for term in {data.min_term_months, data.max_term_months}
    ]
    return max(
        priced(
            lambda a=amount, t=term: quote(
                a, t, data.apr_max, data.repayment_method, fees, _QUOTE_DAY
            )
        ).apr
        for amount, term in corners
    )


def priced(make_quote: Callable[[], Quote]) -> Quote:
    """A quote, with terms the calculation refuses (fees that eat the whole amount, a schedule
    that cannot be built) answered as the user's error instead of ours."""
    try:
        return make_quote()
    except ValueError as exc:
        raise DomainError(
            "invalid_loan_terms",
            "these terms do not make a loan: the fees take the whole amount, or a value is invalid",
            details={"reason": str(exc)},
        ) from exc


def check_apr_cap(apr: Decimal, settings: OrgSettings, what: str) -> None:
    if apr > settings.apr_cap:
        raise DomainError(
            "apr_over_cap",
            f"the {what}'s all-in APR {apr:.2%} is above the legal cap of {settings.apr_cap:.0%}",
            details={"apr": str(apr), "apr_cap": str(settings.apr_cap)},
        )


def _apply(session: Session, product: Product, data: ProductFields) -> None:
    apr = worst_apr(data)
    check_apr_cap(apr, org_settings(session, product.org_id), "product")
    for name in _COLUMNS:
        setattr(product, name, getattr(data, name))
    product.fees = [f.model_dump(mode="json") for f in data.fees]
    product.rules = data.rules.model_dump(mode="json", exclude_none=True)
    product.apr_worst = apr


def _view(session: Session, actor: Actor, product: Product, lender_name: str) -> ProductView:
    flagged = product.apr_worst > org_settings(session, actor.org_id).apr_flag
    offers = _offers(session, actor, [product.id])
    return ProductView(product, lender_name, flagged, offers.get(product.id, []))


def _offers(session: Session, actor: Actor, product_ids: list[int]) -> dict[int, list[int]]:
    """Which partners have each product; only HQ sees it (a partner learns nothing of others)."""
    if not actor.sees_all_orgs:
        return {}
    rows = session.execute(
        select(ProductOffer.product_id, ProductOffer.org_id)
        .where(ProductOffer.product_id.in_(product_ids))
        .order_by(ProductOffer.org_id)
        .execution_options(**ALL_ORGS)
    )
    offers: dict[int, list[int]] = {}
    for product_id, org_id in rows:
        offers.setdefault(product_id, []).append(org_id)
    return offers


def _refuse_taken(session: Session, stmt, what: str) -> None:
    if session.scalar(stmt) is not None:
        raise Conflict(f"duplicate_{what}", f"a {what} of that name exists already")
