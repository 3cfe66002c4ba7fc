"""Schema building blocks shared by every area: strict request models, pages, the error shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")

# What the database and the calendar can hold: BIGINT ids and counts, text without NUL
# (PostgreSQL refuses it), and years a date can be moved a month or a time zone away from.
BIGINT_MAX = 2**63 - 1
YEARS = range(1900, 2200)


def storable(value: Any) -> Any:
    """`value` unchanged, or a ValueError (a 422 naming the field) for what the API accepts
    by type but could not store: found by fuzzing, each was a 500 before."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX:
        raise ValueError("the number is out of range")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    if isinstance(value, date) and value.year not in YEARS:
        raise ValueError(f"the year must be between {YEARS.start} and {YEARS.stop - 1}")
    if isinstance(value, BaseModel):
        for item in value.__dict__.values():
            storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            storable(item)
    return value


class _Storable(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)


class RequestBody(_Storable):
    """JSON bodies: unknown fields and wrong types are refused, never coerced or ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryArgs(_Storable):
    """Query strings arrive as text, so values are coerced; unknown parameters are still refused."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageArgs(QueryArgs):
    # the offset, page × per_page, must stay a BIGINT
    page: int = Field(1, ge=1, le=1_000_000_000)
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
