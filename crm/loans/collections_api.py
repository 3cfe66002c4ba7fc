"""Collection endpoints: the records (催收记录) of an overdue loan."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.loans import collections
from crm.loans.collections_schemas import CollectionOut, NewCollection
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("loan_collections", __name__, tag="loans")


@bp.endpoint(
    "/loans/<int:loan_id>/collections",
    "POST",
    body=NewCollection,
    response=CollectionOut,
    status=201,
    permission="collections:write",
)
def add(session: Session, actor: Actor, loan_id: int, body: NewCollection):
    """Record a collection action; its level follows the days past due; 422 not_overdue."""
    return collections.add_collection(session, actor, loan_id, body)


@bp.endpoint(
    "/loans/<int:loan_id>/collections",
    query=PageArgs,
    response=Page[CollectionOut],
    permission="loans:read",
)
def list_records(session: Session, actor: Actor, loan_id: int, query: PageArgs):
    """A loan's collection records, the newest first."""
    return collections.list_collections(session, actor, loan_id, query)
