"""Request and response schemas for distributing leads (分配)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from crm.schemas import RequestBody, Response

Strategy = Literal["round_robin", "capacity", "region"]


class AssignRequest(RequestBody):
    """Give leads to one agent (`to_user_id`) or let a strategy choose (`strategy`)."""

    lead_ids: list[int] = Field(min_length=1, max_length=1000)
    to_user_id: int | None = None
    strategy: Strategy | None = None
    team_id: int | None = Field(
        None, description="round_robin and capacity: the team whose agents share the leads"
    )

    @model_validator(mode="after")
    def _one_target(self) -> AssignRequest:
        if (self.to_user_id is None) == (self.strategy is None):
            raise ValueError("give either to_user_id or strategy")
        if self.team_id is not None and self.strategy not in ("round_robin", "capacity"):
            raise ValueError("team_id goes with the round_robin and capacity strategies")
        return self


class Assigned(Response):
    lead_id: int
    user_id: int | None = Field(description="the new owner; null when region sent it to a pool")
    org_id: int
    pool_id: int | None = Field(description="null: the org's main public pool (or owned)")


class Skipped(Response):
    lead_id: int
    code: str
    message: str


class AssignResult(Response):
    assigned: list[Assigned]
    skipped: list[Skipped]


class Assignee(Response):
    id: int
    display_name: str
    role: str
    org_id: int
    team_id: int | None
