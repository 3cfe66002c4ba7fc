"""Channels (渠道) and what a lead from each costs: the price channel ROI is worked out with."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.leads.models import LeadSource
from crm.leads.schemas import NewSource, SourceChange, SourceOut
from crm.queries import add_unique, get_visible, paginate
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("sources", __name__, tag="leads")


@bp.endpoint("/sources", query=PageArgs, response=Page[SourceOut], permission="settings:manage")
def list_sources(session: Session, actor: Actor, query: PageArgs):
    """The channels of the visible orgs with their cost per lead, by org and name."""
    stmt = select(LeadSource).order_by(LeadSource.org_id, LeadSource.name)
    return paginate(session, stmt, query)


@bp.endpoint(
    "/sources", "POST", body=NewSource, response=SourceOut, status=201, permission="settings:manage"
)
def add_source(session: Session, actor: Actor, body: NewSource):
    """A channel priced before its first lead arrives; 409 duplicate_source."""
    source = LeadSource(org_id=actor.org_id, **body.model_dump())
    return add_unique(session, source, "duplicate_source", "the org already has this channel")


@bp.endpoint(
    "/sources/<int:source_id>",
    "PATCH",
    body=SourceChange,
    response=SourceOut,
    permission="settings:manage",
)
def change_source(session: Session, actor: Actor, source_id: int, body: SourceChange):
    """Set a channel's cost per lead (CNY) or kind; leads already bought are re-priced too."""
    source = get_visible(session, LeadSource, source_id, "source")
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(source, name, value)
    return source
