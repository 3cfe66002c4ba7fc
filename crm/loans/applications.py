"""Applications (进件): a lead applying for a product, from draft through review to a decision.

draft → submitted → under_review → approved | rejected | needs_documents (补充资料, back to
submitted when the agent resubmits) → contract_signed (crm/loans/contracts.py) → disbursed
(crm/loans/book.py); cancelled from any open state. Every step is an event on the lead's timeline
and moves the lead along the funnel."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.errors import DomainError, Forbidden
from crm.followups.service import ensure_may_work
from crm.funnel.stages import advance_to, change_stage
from crm.leads.models import Lead
from crm.leads.service import add_event, get_lead
from crm.loans.apr import Quote, quote
from crm.loans.fees import Fee
from crm.loans.matching import exclusions
from crm.loans.models import Application, Product
from crm.loans.products import (
    application_product,
    check_apr_cap,
    get_usable_product,
    lender_fees,
    priced,
)
from crm.loans.schemas import ApplicationFilters, NewApplication, UpdateApplication
from crm.orgs.models import Org, User
from crm.pools.ownership import org_settings
from crm.queries import get_one, paginate
from crm.schemas import PageResult
from crm.tenancy import ALL_ORGS

# Which step may follow which, and who takes it: "write" is the agent's side
# (applications:write), "review" the reviewer's (applications:review).
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submitted": (frozenset({"draft", "needs_documents"}), "write"),
    "under_review": (frozenset({"submitted"}), "review"),
    "approved": (frozenset({"submitted", "under_review"}), "review"),
    "rejected": (frozenset({"submitted", "under_review"}), "review"),
    "needs_documents": (frozenset({"submitted", "under_review"}), "review"),
    "contract_signed": (frozenset({"approved"}), "write"),
    "disbursed": (frozenset({"contract_signed"}), "loans"),
    "cancelled": (
        frozenset(
            {"draft", "submitted", "under_review", "needs_documents", "approved", "contract_signed"}
        ),
        "write",
    ),
}
# Still on its way to a loan: a lead with one of these is not rejected by another's rejection.
OPEN = frozenset(
    {"draft", "submitted", "under_review", "needs_documents", "approved", "contract_signed"}
)
EDITABLE = frozenset({"draft", "needs_documents"})
AWAITING_REVIEW = frozenset({"submitted", "under_review"})
_PERMISSION = {
    "write": "applications:write",
    "review": "applications:review",
    "loans": "loans:manage",
}
_QUOTE_START = date(2026, 1, 15)  # the APR does not depend on the calendar


def application_fees(application: Application) -> list[Fee]:
    """Every fee the borrower pays: the lender's, and ours, disclosed with its basis."""
    service_fee = application.service_fee
    ours = [Fee("居间服务费", "broker", "upfront_fixed", service_fee)] if service_fee else []
    return [*ours, *lender_fees(application.lender_fees)]


def application_quote(
    application: Application, start: date, amount: Decimal | None = None
) -> Quote:
    """The application's schedule and APR from `start` on its priced terms, for its amount or
    (a payout of less than approved) `amount`."""
    fees = application_fees(application)
    return priced(
        lambda: quote(
            application.amount if amount is None else amount,
            application.term_months,
            application.annual_rate,
            application.repayment_method,
            fees,
            start,
        )
    )


def create_application(
    session: Session,
    actor: Actor,
    vault: PiiVault,
    data: NewApplication,
    now: datetime | None = None,
) -> Application:
    """A draft for a product the lead qualifies for: a rule the lead fails refuses it with the
    reasons (what the lead has not told us yet does not: the reviewer checks that)."""
    now = now or utcnow()
    lead = get_lead(session, actor, data.lead_id, for_update=True)
    ensure_may_work(actor, lead)
    product, lender = get_usable_product(session, lead.org_id, data.product_id)
    if not product.active:
        raise DomainError("product_inactive", "this product is switched off; choose another")
    if failed := exclusions(session, vault, lead, product, lender):
        raise DomainError(
            "not_eligible",
            "the lead does not meet this product's rules: "
            + "; ".join(r.message_en for r in failed),
            details={"exclusions": [asdict(r) for r in failed]},
        )
    application = Application(
        org_id=lead.org_id,
        lead_id=lead.id,
        product_id=product.id,
        status="draft",
        amount=data.amount,
        term_months=data.term_months,
        annual_rate=data.annual_rate if data.annual_rate is not None else product.apr_max,
        service_fee=data.service_fee,
        note=data.note,
        agent_id=actor.user_id,
        created_at=now,
    )
    _price(session, application, product)
    session.add(application)
    session.flush()
    _record(session, actor, lead, application, None, now)
    return application


def update_application(
    session: Session, actor: Actor, application_id: int, data: UpdateApplication
) -> Application:
    """Terms change only before review or when the reviewer sent the application back."""
    application = get_application(session, actor, application_id, for_update=True)
    actor.require("applications:write")
    if application.status not in EDITABLE:
        raise DomainError(
            "application_locked",
            f"an application that is {application.status} cannot be changed",
            details={"status": application.status},
        )
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None or name == "note":
            setattr(application, name, value)
    _price(session, application, application_product(session, application.product_id)[0])
    return application


def submit(
    session: Session, actor: Actor, application_id: int, now: datetime | None = None
) -> Application:
    """Send the application to review; a reviewer of the org is picked, the least loaded."""
    application, lead = _step(session, actor, application_id, "submitted", now)
    application.submitted_at = application.updated_at
    if application.reviewer_id is None:
        # not flushed first: the step and the reviewer go in one UPDATE, whose updated_at is the
        # step's `now` (a second UPDATE would get the onupdate clock's instead)
        with session.no_autoflush:
            application.reviewer_id = _pick_reviewer(session, application.org_id)
    advance_to(session, actor, lead, "applied", now=application.updated_at)
    return application


def start_review(
    session: Session, actor: Actor, application_id: int, now: datetime | None = None
) -> Application:
    """A reviewer takes the application (it becomes theirs if someone else had it)."""
    application, _ = _step(session, actor, application_id, "under_review", now)
    application.reviewer_id = actor.user_id
    application.review_started_at = application.updated_at
    return application


def decide(
    session: Session,
    actor: Actor,
    application_id: int,
    decision: str,
    note: str | None,
    now: datetime | None = None,
) -> Application:
    """approve, reject (with the reason) or request_documents (what is missing)."""
    target = {"approve": "approved", "reject": "rejected", "request_documents": "needs_documents"}
    application, lead = _step(session, actor, application_id, target[decision], now)
    at = application.updated_at
    application.reviewer_id = actor.user_id
    application.review_started_at = application.review_started_at or at
    application.decision_note = note
    if decision != "request_documents":
        application.decided_at = at
    if decision == "approve":
        # the product's terms and the cap as they are now: what the contract will state
        _price(session, application, application_product(session, application.product_id)[0])
        advance_to(session, actor, lead, "approved", now=at)
    elif decision == "reject" and lead.stage == "applied" and not _other_open(session, application):
        change_stage(session, actor, lead, "rejected", now=at)
    return application


def cancel(
    session: Session, actor: Actor, application_id: int, reason: str, now: datetime | None = None
) -> Application:
    application, _ = _step(session, actor, application_id, "cancelled", now, detail=reason)
    application.cancel_reason = reason
    return application


def advance(
    session: Session,
    actor: Actor,
    application_id: int,
    target: str,
    now: datetime | None = None,
) -> tuple[Application, Lead]:
    """A step taken by another part of the loans area (signing, disbursement)."""
    return _step(session, actor, application_id, target, now)


def get_application(
    session: Session, actor: Actor, application_id: int, *, for_update: bool = False
) -> Application:
    stmt = select(Application).where(Application.id == application_id, *visibility(actor))
    return get_one(session, stmt, "application", for_update=for_update)


def visibility(actor: Actor) -> list:
    """Inside the org, reviewers, managers and finance see every application; an agent sees
    those they made and those of leads they own."""
    if any(actor.can(p) for p in ("applications:review", "leads:assign", "loans:manage")):
        return []
    owned = exists().where(Lead.id == Application.lead_id, Lead.owner_id == actor.user_id)
    return [or_(Application.agent_id == actor.user_id, owned)]


def list_applications(session: Session, actor: Actor, f: ApplicationFilters) -> PageResult:
    stmt = select(Application).where(*visibility(actor))
    if f.status is not None:
        stmt = stmt.where(Application.status == f.status)
    if f.lead_id is not None:
        stmt = stmt.where(Application.lead_id == f.lead_id)
    if f.queue == "mine":
        stmt = stmt.where(
            Application.reviewer_id == actor.user_id, Application.status.in_(AWAITING_REVIEW)
        )
        # oldest first: the reviewer works the queue from the longest waiting
        stmt = stmt.order_by(Application.submitted_at, Application.id)
    else:
        stmt = stmt.order_by(Application.updated_at.desc(), Application.id.desc())
    return paginate(session, stmt, f)


def _step(
    session: Session,
    actor: Actor,
    application_id: int,
    target: str,
    now: datetime | None,
    detail: str | None = None,
) -> tuple[Application, Lead]:
    now = now or utcnow()
    application = get_application(session, actor, application_id, for_update=True)
    sources, side = STEPS[target]
    actor.require(_PERMISSION[side])
    if application.status not in sources:
        raise DomainError(
            "invalid_application_transition",
            f"an application that is {application.status} cannot become {target}",
            details={"from": application.status, "to": target, "allowed_from": sorted(sources)},
        )
    if side == "review" and application.agent_id == actor.user_id:
        # four eyes: whoever sold the loan does not approve it
        raise Forbidden("you cannot review an application you made")
    lead = session.scalars(
        select(Lead).where(Lead.id == application.lead_id).with_for_update()
    ).one()
    previous = application.status
    application.status = target
    application.updated_at = now
    _record(session, actor, lead, application, previous, now, detail)
    return application, lead


def _price(session: Session, application: Application, product: Product) -> None:
    """Check the terms against the product and the APR against the lead's org's cap, and take
    the product's repayment method and lender fees as the application's."""
    _within(application.amount, product.min_amount, product.max_amount, "amount")
    _within(application.term_months, product.min_term_months, product.max_term_months, "term")
    _within(application.annual_rate, product.apr_min, product.apr_max, "rate")
    application.repayment_method = product.repayment_method
    application.lender_fees = [dict(fee) for fee in product.fees]
    q = application_quote(application, _QUOTE_START)
    check_apr_cap(q.apr, org_settings(session, application.org_id), "application")
    application.apr, application.effective_rate = q.apr, q.effective_rate


def _within(value, low, high, what: str) -> None:
    if not low <= value <= high:
        raise DomainError(
            f"{what}_out_of_range",
            f"the {what} must be between {low} and {high} for this product",
            details={"min": str(low), "max": str(high), "given": str(value)},
        )


def _record(
    session: Session,
    actor: Actor,
    lead: Lead,
    application: Application,
    previous: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    data = {"application_id": application.id, "from": previous, "to": application.status}
    if detail:
        data["reason"] = detail
    add_event(session, lead, actor, "application", data, at=now)


def _other_open(session: Session, application: Application) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Application)
            .where(
                Application.lead_id == application.lead_id,
                Application.id != application.id,
                Application.status.in_(OPEN - {"draft"}),
            )
        )
    )


def _pick_reviewer(session: Session, org_id: int) -> int | None:
    """The org's reviewer with the fewest applications awaiting review (the earliest created
    first on a tie); a partner office without reviewers goes to headquarters' reviewers."""
    hq = select(Org.id).where(Org.kind == "hq").scalar_subquery()
    for org in (org_id, hq):
        load = (
            select(User.id)
            .outerjoin(
                Application,
                and_(
                    Application.reviewer_id == User.id,
                    Application.status.in_(AWAITING_REVIEW),
                ),
            )
            .where(User.org_id == org, User.role == "reviewer", User.active.is_(True))
            .group_by(User.id)
            .order_by(func.count(Application.id), User.id)
            .limit(1)
            .execution_options(**ALL_ORGS)
        )
        if (reviewer := session.scalar(load)) is not None:
            return reviewer
    return None
