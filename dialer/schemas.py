"""Payloads of the dialer's socket events and REST endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from crm.leads.schemas import Stage
from crm.schemas import PageArgs, RequestBody, Response
from dialer.models import DISPOSITIONS

Disposition = Literal[DISPOSITIONS]  # type: ignore[valid-type]


class AgentStateIn(RequestBody):
    state: Literal["available", "break", "wrap_up", "offline"]


class DialIn(RequestBody):
    lead_id: int
    # preview dialing of a public lead (from next_lead): it becomes yours when answered
    claim_on_connect: bool = False


class HangupIn(RequestBody):
    call_id: int


class DispositionIn(RequestBody):
    call_id: int
    disposition: Disposition
    note: str | None = Field(None, max_length=2000)
    next_followup_at: AwareDatetime | None = None
    stage: Stage | None = None
    reason: str | None = Field(None, max_length=200)
    # the lead's open scheduled follow-ups this call keeps or replaces (crm/followups/schedule.py)
    replaces: list[int] | None = Field(None, max_length=50)


class ResumeIn(RequestBody):
    """A (re)connected console asks where its agent stands; nothing to say."""


class NextLeadIn(RequestBody):
    city: str | None = Field(None, max_length=32)
    auto_dial: bool = False


class AutoModeIn(RequestBody):
    enabled: bool
    city: str | None = Field(None, max_length=32)


class CallOut(Response):
    id: int
    org_id: int
    lead_id: int
    agent_id: int | None
    state: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None
    end_reason: str | None
    disposition: str | None
    note: str | None
    recording_url: str | None
    privacy_number: str | None


class CallAwaitingOut(CallOut):
    """A call of mine that ended without an outcome, with whom it was to."""

    lead_name_masked: str | None
    lead_phone_masked: str


class CallFilters(PageArgs):
    agent_id: int | None = None
    lead_id: int | None = None
    disposition: Disposition | None = None
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None


class NewDnc(RequestBody):
    phone: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=200)


class DncOut(Response):
    id: int
    org_id: int
    phone_masked: str
    reason: str
    source: str
    created_at: datetime


class NewCallerId(RequestBody):
    number: str = Field(min_length=5, max_length=32)
    daily_cap: int = Field(150, ge=1, le=2000)


class CallerIdOut(Response):
    id: int
    org_id: int
    number: str
    daily_cap: int
    active: bool


class TelephonyEvent(RequestBody):
    """What a provider posts to the webhook, with the call_ref given to it at originate."""

    call_ref: str = Field(min_length=1, max_length=64)
    state: Literal["ringing", "answered", "ended"]
    at: AwareDatetime
    end_reason: str | None = Field(None, max_length=32)
    recording_url: str | None = Field(None, max_length=500)
