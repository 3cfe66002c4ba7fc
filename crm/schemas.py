"""Schema building blocks shared by every area: strict request models, pages, the error shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestBody(BaseModel):
    """JSON bodies: unknown fields and wrong types are refused, never coerced or ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryArgs(BaseModel):
    """Query strings arrive as text, so values are coerced; unknown parameters are still refused."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageArgs(QueryArgs):
    page: int = Field(1, ge=1)
    per_page: int = Field(50, ge=1, le=200)


class Page(Response, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    # true when counting stopped at a cap: "10,000+" is all a screen needs and keeps lists fast
    total_capped: bool = False


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    """What a service returns for a list; the API serializes it through `Page[Schema]`."""

    items: list[T]
    total: int
    page: int
    per_page: int
    total_capped: bool = False


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorBody
