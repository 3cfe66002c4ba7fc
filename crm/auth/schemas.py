"""Request and response schemas for authentication."""

from __future__ import annotations

from pydantic import Field

from crm.schemas import RequestBody, Response


class Login(RequestBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(RequestBody):
    refresh_token: str = Field(min_length=1, max_length=200)


class UserBrief(Response):
    id: int
    username: str
    display_name: str
    role: str
    org_id: int
    team_id: int | None


class TokenPairOut(Response):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    user: UserBrief


class Me(UserBrief):
    permissions: list[str]
    # the office's IANA zone: pages work out "today" in it, as the reports do
    org_timezone: str


class LoggedOut(Response):
    ok: bool = True
