"""The private-pool limit (max_private_leads): which of an agent's leads count toward it, and
the refusal every way of coming to own a lead gives past it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.orgs.schemas import OrgSettings

# Leads their owner is still working: recycling may take them back, and they count toward the
# private-pool limit. Once a lead has an application its work is with the lender (and moving it
# would take the commission from the agent who earned it); a disbursed customer stays with the
# agent who won them without filling the room they need for new leads.
WORKING_STAGES = ("new", "contacted", "qualified", "lost")


def in_private_pool(user_id: Any) -> list[ColumnElement[bool]]:
    """The leads of `user_id` that count toward the private-pool limit (`max_private_leads`)."""
    # the stages written into the SQL (they are ours, not input): a bound list is an "expanding"
    # parameter, whose statement is re-rendered on every execution, and every claim runs this
    working = [literal_column(f"'{stage}'") for stage in WORKING_STAGES]
    return [Lead.owner_id == user_id, Lead.stage.in_(working)]


def refuse_full(session: Session, actor: Actor, settings: OrgSettings) -> None:
    owned = session.scalar(select(func.count()).where(*in_private_pool(actor.user_id))) or 0
    if owned >= settings.max_private_leads:
        raise DomainError(
            "private_pool_full",
            f"you are working {owned} leads, the most allowed; release some first",
            details={"max_private_leads": settings.max_private_leads, "owned": owned},
        )
