"""Schemas of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from crm.schemas import PageArgs, RequestBody, Response


class NotificationOut(Response):
    id: int
    code: str
    message: str
    data: dict
    created_at: datetime
    read_at: datetime | None


class NotificationArgs(PageArgs):
    unread: bool = False


class MarkRead(RequestBody):
    ids: list[int] = Field(min_length=1, max_length=500)


class MarkedRead(Response):
    marked: int
