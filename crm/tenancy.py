"""The one org-scoping helper: every ORM query of tenant data is filtered to the actor's org."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.orm.util import LoaderCriteriaOption

if TYPE_CHECKING:
    from crm.auth.actor import Actor


# The one sanctioned way past the scope, for lookups that precede knowing the org (login) and
# are greppable: `.execution_options(**ALL_ORGS)`.
ALL_ORGS = {"all_orgs": True}


class TenantMixin:
    """A row that belongs to one org. Queries never need to remember the filter: see below."""

    @declared_attr
    def org_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("orgs.id"), index=True)


def apply_org_scope(state: ORMExecuteState) -> None:
    """Session hook: add `org_id = actor's org` to every ORM SELECT/UPDATE/DELETE of tenant rows.

    Registered on the session factory, so a forgotten `.where(org_id == ...)` cannot leak data;
    the SQLAlchemy-documented with_loader_criteria pattern for multi-tenancy.
    """
    if state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_orgs"):
        return
    actor: Actor | None = state.session.info.get("actor")
    if actor is None:
        raise RuntimeError("a session without an actor cannot query tenant data")
    if actor.sees_all_orgs:
        return
    state.statement = state.statement.options(*_org_scope(actor.org_id))


@lru_cache(maxsize=4096)
def _org_scope(org_id: int) -> tuple[LoaderCriteriaOption, LoaderCriteriaOption]:
    """The two criteria options of one org, built once: building them analyses each lambda's
    closure, which cost more than the rest of a short statement's execution."""
    from crm.orgs.models import Org

    return (
        with_loader_criteria(TenantMixin, lambda cls: cls.org_id == org_id, include_aliases=True),
        with_loader_criteria(Org, lambda cls: cls.id == org_id, include_aliases=True),
    )
