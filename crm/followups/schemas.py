"""Request and response schemas for follow-ups, stage moves and the agents' due lists."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field

from crm.followups.models import CHANNELS
from crm.leads.schemas import LeadOut, Stage
from crm.schemas import PageArgs, QueryArgs, RequestBody, Response

Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class NewFollowup(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    channel: Channel
    content: str = Field(min_length=1, max_length=2000)
    result: str | None = Field(None, min_length=1, max_length=64)
    next_followup_at: AwareDatetime | None = Field(
        None, description="when to contact the lead next; in the future, within a year"
    )
    reached: bool | None = Field(
        None,
        description="the person was reached; default: a call (unless its result is no_answer, "
        "busy or invalid_number), a visit or WeChat reach them, an SMS or other does not",
    )
    replaces: list[int] | None = Field(
        None,
        max_length=50,
        description="ids of the lead's open scheduled follow-ups this contact keeps or replaces; "
        "default: the ones already due, when the person was reached or a new time is set",
    )


class FollowupOut(Response):
    id: int
    lead_id: int
    user_id: int | None
    channel: str
    content: str
    result: str | None
    reached: bool
    next_followup_at: datetime | None
    created_at: datetime


class StageChange(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    stage: Stage
    reason: str | None = Field(None, max_length=200, description="required when stage is lost")


class DueArgs(PageArgs):
    when: Literal["today", "overdue", "upcoming"] = Field(
        "today",
        description="today: due on today's date in the org's time zone; overdue: due before "
        "now; upcoming: due after today",
    )
    owner_id: int | None = Field(
        None, description="another agent of the org (team leads and managers); default: me"
    )


_OWNER = "another agent of the org (team leads and managers); default: me"


class ScheduledArgs(PageArgs):
    when: Literal["overdue", "today", "upcoming"] = Field(
        "today",
        description="overdue: due before now; today: due from now to the end of today (the "
        "org's calendar); upcoming: due after today",
    )
    owner_id: int | None = Field(None, description=_OWNER)


class ScheduledCountArgs(QueryArgs):
    owner_id: int | None = Field(None, description=_OWNER)


class ScheduledFollowupOut(Response):
    id: int
    lead_id: int
    followup_id: int | None
    due_at: datetime
    created_at: datetime
    lead: LeadOut


class LeadScheduledOut(Response):
    id: int
    followup_id: int | None
    due_at: datetime
    created_at: datetime


class ScheduledCounts(Response):
    overdue: int
    today: int
    upcoming: int
