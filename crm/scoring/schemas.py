"""Request and response schemas for lead scoring."""

from __future__ import annotations

from pydantic import Field, model_validator

from crm.schemas import RequestBody, Response


class RescoreRequest(RequestBody):
    org_id: int | None = Field(None, description="default: your own org (HQ roles may name any)")
    min_lead_id: int | None = Field(None, ge=1)
    max_lead_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> RescoreRequest:
        if self.min_lead_id and self.max_lead_id and self.min_lead_id > self.max_lead_id:
            raise ValueError("min_lead_id must not exceed max_lead_id")
        return self


class ScoreFactor(Response):
    factor: str
    label: str
    points: int
    max_points: int
    detail: str
