"""The audit log endpoints: the entries, the chains' verification and their daily anchors."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import anchors, audit
from crm.compliance.schemas import (
    AnchorOut,
    AuditFilters,
    AuditOut,
    ChainReportOut,
    VerifyArgs,
)
from crm.compliance.verification import verify_orgs
from crm.http import ApiBlueprint
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("compliance", __name__, tag="compliance")


@bp.endpoint("/audit", query=AuditFilters, response=Page[AuditOut], permission="audit:read")
def audit_log(session: Session, actor: Actor, query: AuditFilters):
    """Who revealed or exported personal data, when, how and why (own org; HQ sees all)."""
    return audit.list_entries(session, query)


@bp.endpoint(
    "/audit/verify", query=VerifyArgs, response=list[ChainReportOut], permission="audit:read"
)
def verify(session: Session, actor: Actor, query: VerifyArgs):
    """Each visible org's audit chain checked entry by entry; names the first broken one."""
    return verify_orgs(session, anchors.stored_anchors(session), query.org_id)


@bp.endpoint("/audit/anchors", query=PageArgs, response=Page[AnchorOut], permission="audit:read")
def list_anchors(session: Session, actor: Actor, query: PageArgs):
    """The daily anchors of the visible orgs' chains, newest first, to keep elsewhere."""
    return anchors.list_anchors(session, query)
