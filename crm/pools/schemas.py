"""Request and response schemas for lead pools: claims, releases, pools and moves between them."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from crm.schemas import RequestBody, Response


class ClaimNext(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    city: str | None = Field(
        None, min_length=1, max_length=32, description="only leads of this city"
    )
    pool_id: int | None = Field(
        None, description="only this pool (default: every pool you may claim from)"
    )


class Release(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=200)


class CreatePool(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    team_id: int | None = Field(None, description="a team pool: only that team claims from it")
    city: str | None = Field(None, min_length=1, max_length=32)


class PoolOut(Response):
    id: int | None = Field(description="null for the org's main public pool (公海)")
    name: str
    team_id: int | None
    city: str | None
    created_at: datetime | None
    # a pool just created holds no lead yet
    unowned: int = Field(0, description="leads waiting to be claimed, counted up to a cap")
    unowned_capped: bool = Field(False, description="true when there are more than `unowned`")


class MoveToPool(RequestBody):
    lead_ids: list[int] = Field(min_length=1, max_length=1000)
    pool_id: int | None = Field(description="null: the org's main public pool")


class SkippedLead(Response):
    lead_id: int
    reason: str = Field(description="not_found, owned (claim or release first) or already_there")


class MoveResult(Response):
    moved: list[int]
    skipped: list[SkippedLead]
