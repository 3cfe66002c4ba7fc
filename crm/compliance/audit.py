"""Writing and reading the audit log of personal-data access."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.models import AuditEntry
from crm.compliance.schemas import AuditFilters
from crm.queries import in_period, paginate, where_given
from crm.schemas import PageResult


def record(
    session: Session,
    actor: Actor,
    action: str,
    org_id: int,
    *,
    lead_id: int | None = None,
    fields: list[str] | None = None,
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        org_id=org_id,
        user_id=actor.user_id,
        action=action,
        lead_id=lead_id,
        fields=fields or [],
        purpose=purpose,
        ip=actor.ip,
        details=details or {},
    )
    session.add(entry)
    return entry


def list_entries(session: Session, args: AuditFilters) -> PageResult:
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    stmt = where_given(
        stmt,
        (AuditEntry.lead_id, args.lead_id),
        (AuditEntry.user_id, args.user_id),
        (AuditEntry.action, args.action),
    )
    return paginate(session, in_period(stmt, AuditEntry.at, args.from_, args.to), args)
