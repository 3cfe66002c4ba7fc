"""Request and response schemas of de-identified dataset exports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm.leads.schemas import Stage
from crm.schemas import RequestBody


class DeidentifiedExportRequest(RequestBody):
    """The lead list's filters, except `q`: an exact search for one person has no place in a
    dataset meant to identify nobody."""

    pool: Literal["public", "mine", "all"] = "all"
    stage: Stage | None = None
    source: str | None = Field(None, max_length=64)
    city: str | None = Field(None, max_length=32)
    owner_id: int | None = None
    org_id: int | None = None
    min_score: int | None = Field(None, ge=0, le=100)
