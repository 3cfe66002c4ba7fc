"""Schemas of the audit log API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from crm.schemas import PageArgs, Response


class AuditOut(Response):
    id: int
    at: datetime
    org_id: int
    user_id: int | None
    action: str
    lead_id: int | None
    fields: list[str]
    purpose: str | None
    ip: str | None
    details: dict


class AuditFilters(PageArgs):
    lead_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
