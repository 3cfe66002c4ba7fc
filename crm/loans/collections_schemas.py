"""Request and response schemas of collection records (催收记录) and the overdue list."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from crm.loans.collections import CHANNELS
from crm.loans.schemas import MoneyIn, OverdueRow
from crm.schemas import RequestBody, Response

Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class NewCollection(RequestBody):
    channel: Channel
    content: str = Field(min_length=1, max_length=2000)
    result: str | None = Field(None, max_length=64, description="e.g. promised, refused, no_answer")
    promised_date: date | None = Field(None, description="the day the borrower promised to pay")
    promised_amount: MoneyIn | None = None


class CollectionOut(Response):
    id: int
    loan_id: int
    installment_id: int | None = Field(description="the oldest unpaid installment past due then")
    level: int = Field(description="1 = M1 (1-30 days past due) … 4 = M3+ (over 90)")
    bucket: str = Field(description="M1, M2, M3 or M3+")
    handler: str = Field(description="who handles this level: agent, team_lead, manager, legal")
    days_past_due: int | None = Field(description="of that installment when it was written")
    channel: str
    content: str
    result: str | None
    promised_date: date | None
    promised_amount: Decimal | None
    user_id: int | None
    created_at: datetime


class OverdueCollectionRow(OverdueRow):
    last_collection_at: datetime | None = Field(description="the loan's latest collection record")
    collections: int = Field(description="collection records on the loan so far")
