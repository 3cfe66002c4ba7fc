"""Applications in the demo's history, through the loans services at the simulated moment: the
agent matches the lead with the org's products and submits on the call; a reviewer decides the
next working day (approves, rejects with a reason, or asks for documents once); the approved
contract is generated and signed; the lender pays out a few days later. Contracts' PDFs are
left to be rendered on first download, as after any generation (crm/loans/contracts.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.demo_world.staff import Office, Run
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.loans import contracts
from crm.loans.applications import create_application, decide, start_review, submit
from crm.loans.book import disburse
from crm.loans.matching import lead_matches
from crm.loans.models import Application
from crm.loans.products import ProductView
from crm.loans.schemas import NewApplication

# our fee (居间服务费) as a share of the amount; an agent whose quote breaks the APR cap offers
# the next lower one, as the application form's refusal tells them to
FEE_RATES = (Decimal("0.02"), Decimal("0.01"), Decimal("0.005"), Decimal("0"))
THOUSAND = Decimal(1000)
CENT = Decimal("0.01")
REVIEW_FROM, REVIEW_UNTIL = time(10, 0), time(17, 30)
RESUBMIT_AT, CONTRACT_AT, PAYOUT_AT = time(11, 0), time(14, 0), time(15, 30)
REJECTIONS = (
    "征信有严重逾期记录",
    "征信近三个月查询次数过多",
    "负债率过高，超出产品要求",
    "收入证明与流水不符",
)
MISSING = ("请补充近六个月银行流水", "请补充工作证明和社保缴纳记录")
SIGN_METHODS = ("in_person", "e_signature", "e_signature", "video")


def choose(session: Session, run: Run, agent: Actor, lead: Lead) -> ProductView | None:
    """The best product the lead qualifies for, as the console's matching panel ranks them."""
    eligible = lead_matches(session, agent, run.vault, lead.id)["eligible"]
    return eligible[0]["product"] if eligible else None


def apply(
    session: Session, run: Run, agent: Actor, lead: Lead, product: ProductView, at: datetime
) -> Application | None:
    """Draft and submit an application for the amount and term the lead asked for, within the
    product's ranges; None when every fee the agent would offer breaks the APR cap."""
    wanted = min(max(lead.amount_wanted or Decimal(0), product.min_amount), product.max_amount)
    amount = max(product.min_amount, (wanted / THOUSAND).to_integral_value() * THOUSAND)
    term = min(max(lead.term_months or 12, product.min_term_months), product.max_term_months)
    for rate in FEE_RATES:
        body = NewApplication(
            lead_id=lead.id,
            product_id=product.id,
            amount=amount,
            term_months=term,
            service_fee=(amount * rate).quantize(CENT, ROUND_HALF_UP),
        )
        try:
            application = create_application(session, agent, run.vault, body, now=at)
        except DomainError as refused:
            if refused.code == "apr_over_cap":
                continue
            raise
        return submit(session, agent, application.id, now=at + timedelta(minutes=3))
    return None


def review_day(session: Session, run: Run, office: Office, day: date) -> None:
    """The reviewers work the queue from the longest waiting: each application submitted before
    the day's reviews begin is decided."""
    rng = run.rng("review", office.org_id, day)
    clock, until = office.at(day, REVIEW_FROM), min(office.at(day, REVIEW_UNTIL), run.now)
    for application in _waiting(session, office, ("submitted", "under_review"), clock):
        if clock > until:
            return
        reviewer = run.actor(session, application.reviewer_id)
        start_review(session, reviewer, application.id, now=clock)
        lead = session.get(Lead, application.lead_id)
        decision, note = _verdict(application, lead, rng)
        decide(session, reviewer, application.id, decision, note, now=clock + timedelta(minutes=12))
        clock += timedelta(minutes=rng.uniform(15, 40))


def agents_day(session: Session, run: Run, office: Office, day: date) -> None:
    """The sellers' paperwork: documents sent back are resubmitted, approved applications get
    their contract, which the borrower signs."""
    rng = run.rng("paperwork", office.org_id, day)
    clock = office.at(day, RESUBMIT_AT)
    for application in _waiting(session, office, ("needs_documents",), clock):
        if clock <= run.now:
            submit(session, _agent(session, run, application), application.id, now=clock)
            clock += timedelta(minutes=rng.uniform(5, 20))
    clock = office.at(day, CONTRACT_AT)
    for application in _waiting(session, office, ("approved",), clock):
        signed = clock + timedelta(minutes=rng.uniform(20, 50))
        if signed > run.now:
            return
        agent = _agent(session, run, application)
        contracts.generate(session, agent, run.documents, run.vault, application.id, now=clock)
        contracts.sign(session, agent, application.id, rng.choice(SIGN_METHODS), now=signed)
        clock = signed + timedelta(minutes=rng.uniform(10, 30))


def payout_day(session: Session, run: Run, office: Office, day: date) -> None:
    """The lender pays out contracts signed at least a day earlier; the office records it."""
    clock = office.at(day, PAYOUT_AT)
    for application in _waiting(session, office, ("contract_signed",), clock - timedelta(days=1)):
        if clock > run.now:
            return
        disburse(session, office.loan_desk, application.id, application.amount, clock, now=clock)
        clock += timedelta(minutes=7)


def _waiting(
    session: Session, office: Office, statuses: tuple[str, ...], before: datetime
) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .where(
                Application.org_id == office.org_id,
                Application.status.in_(statuses),
                Application.updated_at < before,
            )
            .order_by(Application.updated_at, Application.id)
        )
    )


def _verdict(application: Application, lead: Lead, rng: random.Random) -> tuple[str, str | None]:
    """What the lender's rules make of the borrower's credit report: serious arrears or many
    recent credit queries are refused, minor arrears half the time, the rest mostly pass."""
    facts = lead.qualifications or {}
    credit, queries = facts.get("credit_status"), int(facts.get("credit_queries_3m") or 0)
    if credit == "serious_overdue":
        return "reject", REJECTIONS[0]
    if queries > 5 and rng.random() < 0.6:
        return "reject", REJECTIONS[1]
    if (credit == "minor_overdue" and rng.random() < 0.5) or rng.random() < 0.08:
        return "reject", rng.choice(REJECTIONS[2:])
    if application.decision_note is None and rng.random() < 0.12:
        return "request_documents", rng.choice(MISSING)
    return "approve", "资料齐全，符合产品要求"


def _agent(session: Session, run: Run, application: Application) -> Actor:
    return run.actor(session, application.agent_id)
