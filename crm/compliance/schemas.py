"""Schemas of the audit log API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, Field

from crm.schemas import PageArgs, QueryArgs, Response


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
    # how the data was reached, and the entry's place in its org's hash chain
    method: str | None
    seq: int
    hash: str


class AuditFilters(PageArgs):
    lead_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None


class AnchorOut(Response):
    org_id: int
    day: date
    seq: int
    hash: str


class ChainBreakOut(Response):
    seq: int
    entry_id: int | None
    problem: str
    message: str


class ChainReportOut(Response):
    org_id: int
    entries: int
    anchors_checked: int
    intact: bool
    first_break: ChainBreakOut | None


class VerifyArgs(QueryArgs):
    org_id: int | None = None
