"""Writing and reading the audit log of personal-data access.

Every look at personal data by staff is one entry with its time, method (how the data was
reached), content (which fields of which lead or document) and purpose, as the credit-reporting
rules ask (征信业务管理办法, art. 33). Entries are hash-chained per org (compliance/chain.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.chain import append, as_stored
from crm.compliance.models import AuditEntry
from crm.compliance.schemas import AuditFilters
from crm.db import utcnow
from crm.queries import in_period, paginate, where_given
from crm.schemas import PageResult

# How the current request, job or command reaches the data; set where each one starts.
_METHOD: ContextVar[str] = ContextVar("audit_method", default="system")


@contextmanager
def accessed_via(method: str) -> Iterator[None]:
    """Entries recorded inside name `method` ("api GET /api/v1/...", "job ...", "cli ...")."""
    token = _METHOD.set(method[:200])
    try:
        yield
    finally:
        _METHOD.reset(token)


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
        at=utcnow(),
        user_id=actor.user_id,
        action=action,
        lead_id=lead_id,
        fields=fields or [],
        purpose=purpose,
        ip=actor.ip,
        method=_METHOD.get(),
        details=as_stored(details or {}),
    )
    return append(session, entry)


def list_entries(session: Session, args: AuditFilters) -> PageResult:
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    stmt = where_given(
        stmt,
        (AuditEntry.lead_id, args.lead_id),
        (AuditEntry.user_id, args.user_id),
        (AuditEntry.action, args.action),
    )
    return paginate(session, in_period(stmt, AuditEntry.at, args.from_, args.to), args)
