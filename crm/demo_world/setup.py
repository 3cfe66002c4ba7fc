"""What the demo's offices need before their history starts (caller IDs to dial from, each
channel's price, HQ products offered to both partners), whether a world is there already, and
clearing one away for a rebuild."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import crm.model_registry  # noqa: F401 - the metadata below must list every table
from crm.auth.actor import Actor
from crm.db import Base
from crm.demo import ORGS
from crm.demo_world.options import CHANNELS, FLOORS
from crm.leads.models import Lead, LeadSource
from crm.loans import products
from crm.loans.models import Product
from crm.orgs.models import Org
from dialer.models import CallerId, CallerIdDay

# HQ products the partners sell too (the demo seed offers 保单贷 to Shenzhen): without a product
# of its own the Chengdu office could place no application at all
SHENZHEN, CHENGDU = ORGS[1][0], ORGS[2][0]
OFFERS = {"马上贷": (SHENZHEN, CHENGDU), "马上车主贷": (CHENGDU,), "保单贷": (SHENZHEN, CHENGDU)}
# what a rebuild deletes: the tables the history writes (scoring_batches go with their run,
# caller_id_days below). A table named nowhere stays, the audit log's above all: append-only,
# its chain would no longer verify. A new table of lead history that does not cascade makes
# the delete of leads fail loudly rather than be left behind.
HISTORY = frozenset(
    {
        "agent_days",
        "agent_state_spans",
        "applications",
        "application_documents",
        "calls",
        "claim_blocks",
        "collection_records",
        "commission_lines",
        "commission_statements",
        "contracts",
        "dnc_entries",
        "followups",
        "funnel_daily",
        "installments",
        "kpi_snapshots",
        "lead_events",
        "lead_notices_sent",
        "lead_scores",
        "leads",
        "loan_reminders_sent",
        "loans",
        "notifications",
        "outbound_messages",
        "repayments",
        "scheduled_followups",
        "scoring_runs",
        "settlements",
    }
)


def demo_orgs(session: Session) -> list[Org]:
    names = [name for name, _kind, _cities in ORGS]
    found = {o.name: o for o in session.scalars(select(Org).where(Org.name.in_(names)))}
    return [found[name] for name in names if name in found]


def world_exists(session: Session) -> bool:
    """Any lead in a demo org means a world (or the older 300-lead demo) is there."""
    ids = [org.id for org in demo_orgs(session)]
    return session.scalar(select(Lead.id).where(Lead.org_id.in_(ids)).limit(1)) is not None


def clear_world(session: Session) -> None:
    """Delete the demo orgs' history, dependents first; their people and set-up stay."""
    ids = [org.id for org in demo_orgs(session)]
    caller_ids = select(CallerId.id).where(CallerId.org_id.in_(ids))
    session.execute(delete(CallerIdDay).where(CallerIdDay.caller_id_id.in_(caller_ids)))
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in HISTORY:
            session.execute(delete(table).where(table.c.org_id.in_(ids)))


def furnish(session: Session, orgs: list[Org], hq_admin: Actor) -> None:
    """Caller IDs, channel prices and product offers; what is there already is left as is."""
    for org in orgs:
        _caller_ids(session, org)
        _prices(session, org)
    by_name = {org.name: org.id for org in orgs}
    for product in session.scalars(select(Product).where(Product.org_id == hq_admin.org_id)):
        if product.name in OFFERS:
            offered = [by_name[name] for name in OFFERS[product.name]]
            products.offer_product(session, hq_admin, product.id, offered)


def _caller_ids(session: Session, org: Org) -> None:
    have = set(session.scalars(select(CallerId.number).where(CallerId.org_id == org.id)))
    for number in FLOORS[org.name][1]:
        if number not in have:
            session.add(CallerId(org_id=org.id, number=number))


def _prices(session: Session, org: Org) -> None:
    sources = {
        s.name: s for s in session.scalars(select(LeadSource).where(LeadSource.org_id == org.id))
    }
    for channel in CHANNELS:
        source = sources.get(channel.name)
        if source is None:
            source = LeadSource(org_id=org.id, name=channel.name)
            session.add(source)
        elif source.cost_per_lead:
            continue  # a manager priced it: their price stands
        source.kind, source.cost_per_lead = channel.kind, channel.cost_per_lead
