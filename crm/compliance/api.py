"""The audit log endpoint."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.compliance.schemas import AuditFilters, AuditOut
from crm.http import ApiBlueprint
from crm.schemas import Page

bp = ApiBlueprint("compliance", __name__, tag="compliance")


@bp.endpoint("/audit", query=AuditFilters, response=Page[AuditOut], permission="audit:read")
def audit_log(session: Session, actor: Actor, query: AuditFilters):
    """Who revealed or exported personal data, when and why (own org; HQ sees all)."""
    return audit.list_entries(session, query)
