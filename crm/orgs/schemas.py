"""Request and response schemas for orgs, teams and users."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, PlainSerializer, field_validator

from crm.auth.permissions import ROLES
from crm.schemas import PageArgs, RequestBody, Response
from crm.scoring.settings import ScoringSettings

Role = Literal[ROLES]  # type: ignore[valid-type]
# settings are stored as JSON: a rate is kept as its string, never as a float
# (strict=False: stored settings come back as those strings, and must be read as well as written)
Rate = Annotated[Decimal, Field(strict=False), PlainSerializer(str, return_type=str)]


class DailyTargets(RequestBody):
    """What each agent of the org aims for in a day; the console shows their day against it."""

    calls: int = Field(120, ge=0, le=2000)
    connected: int = Field(40, ge=0, le=2000)
    talk_minutes: int = Field(90, ge=0, le=24 * 60)


class OrgSettings(RequestBody):
    """Per-org rules; defaults are the product's (DESIGN.md §2)."""

    # parsed settings are shared between requests (crm/pools/ownership.py)
    model_config = ConfigDict(frozen=True)

    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the office")
    calling_hours_start: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    calling_hours_end: str = Field("20:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    max_private_leads: int = Field(200, ge=1, le=100_000)
    recycle_after_days: int = Field(7, ge=1, le=365)
    stale_after_days: int = Field(30, ge=1, le=3650)
    reclaim_cooldown_days: int = Field(3, ge=0, le=365)
    max_calls_per_lead_per_day: int = Field(3, ge=1, le=50)
    # stops one agent draining the pool, and stops scraping numbers by opening pool leads
    daily_claim_cap: int = Field(50, ge=1, le=10_000)
    daily_open_cap: int = Field(300, ge=1, le=100_000)
    # a missed follow-up alerts the team lead, then the lead goes to another agent
    escalate_after_hours: int = Field(24, ge=1, le=24 * 30)
    reassign_after_hours: int = Field(72, ge=1, le=24 * 90)
    retention_days: int = Field(730, ge=30, le=36500)
    # the legal line on the all-in APR (DESIGN.md §2): an org may set a stricter cap, never a
    # looser one; above `apr_flag` a product or application is marked in every list
    apr_cap: Rate = Field(Decimal("0.36"), gt=0, le=Decimal("0.36"))
    apr_flag: Rate = Field(Decimal("0.24"), gt=0, le=Decimal("0.36"))
    # lead-quality scoring weights (crm/scoring/settings.py)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    agent_daily_targets: DailyTargets = Field(default_factory=DailyTargets)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class CreateOrg(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["hq", "partner"]
    cities: list[str] = Field(default_factory=list, max_length=500)
    settings: OrgSettings = Field(default_factory=OrgSettings)


class OrgOut(Response):
    id: int
    name: str
    kind: str
    cities: list[str]
    settings: OrgSettings
    created_at: datetime


class CreateTeam(RequestBody):
    org_id: int
    name: str = Field(min_length=1, max_length=100)
    lead_user_id: int | None = None


class TeamOut(Response):
    id: int
    org_id: int
    name: str
    lead_user_id: int | None
    created_at: datetime


class CreateUser(RequestBody):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    org_id: int
    team_id: int | None = None


class UpdateUser(RequestBody):
    role: Role | None = None
    team_id: int | None = None
    active: bool | None = None
    display_name: str | None = Field(None, min_length=1, max_length=100)
    password: str | None = Field(None, min_length=8, max_length=256)


class UserOut(Response):
    id: int
    username: str
    display_name: str
    role: str
    org_id: int
    team_id: int | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserListArgs(PageArgs):
    org_id: int | None = None
    team_id: int | None = None
    role: Role | None = None
    active: bool | None = None
