"""Request and response schemas for commission plans, settlements and statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from crm.commissions.plan import PlanTerms, Split, Tier
from crm.schemas import PageArgs, RequestBody, Response

# a month of this or the last century: "0000-01" has no first day to count from (found fuzzing)
PERIOD = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"


class NewPlan(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    org_id: int | None = Field(None, description="a partner's override; default: HQ's own plan")
    effective_from: date = Field(description="the first day of the month it takes effect")
    service_fee_split: Split
    channel_fee_split: Split
    tiers: list[Tier] = Field(default_factory=list, max_length=20)
    tier_mode: Literal["whole", "marginal"] = "whole"
    # strict=False: the date hook above hands pydantic a dict, where strict Decimal wants an
    # instance; a JSON string is what clients send
    agent_monthly_cap: Decimal | None = Field(None, ge=0, decimal_places=2, strict=False)
    accrue_on: Literal["disbursement", "fee_collected"] = "disbursement"
    clawback_days: int = Field(90, ge=0, le=3650)
    clawback_overdue_days: int = Field(30, ge=1, le=365)

    @model_validator(mode="before")
    @classmethod
    def _date_from_text(cls, value: Any) -> Any:
        # strict mode reads no date from a JSON string; ISO dates are what clients send
        if isinstance(value, dict) and isinstance(value.get("effective_from"), str):
            value = {**value, "effective_from": date.fromisoformat(value["effective_from"])}
        return value

    def terms(self) -> PlanTerms:
        return PlanTerms.model_validate(
            self.model_dump(exclude={"name", "org_id", "effective_from"})
        )

    @model_validator(mode="after")
    def _valid_terms(self) -> NewPlan:
        self.terms()
        return self


class PlanOut(Response):
    id: int
    org_id: int
    name: str
    effective_from: date
    terms: dict[str, Any]
    created_at: datetime


class PlanFilters(PageArgs):
    org_id: int | None = None


class NewSettlement(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    period: str = Field(pattern=PERIOD, description="a month that has ended, e.g. 2026-11")
    org_id: int | None = Field(None, description="one org; default: every org you see")


class SettlementStarted(Response):
    job_id: str
    settlement_ids: list[int]


class LineOut(Response):
    id: int
    kind: str
    loan_id: int | None
    base: Decimal | None
    rate: Decimal | None
    amount: Decimal
    note: str | None
    approver_id: int | None


class StatementOut(Response):
    id: int
    org_id: int
    settlement_id: int
    period: str
    payee_key: str
    payee_role: str
    payee_user_id: int | None
    payee_org_id: int | None
    payee_name: str
    status: str
    total: Decimal
    approved_by: int | None
    approved_at: datetime | None
    paid_at: datetime | None


class StatementDetail(StatementOut):
    lines: list[LineOut]


class SettlementOut(Response):
    id: int
    org_id: int
    period: str
    status: str
    job_id: str | None
    error: str | None
    created_at: datetime
    settled_at: datetime | None
    total: Decimal
    statements: list[StatementDetail]


class SettlementFilters(PageArgs):
    period: str | None = Field(None, pattern=PERIOD)


class StatementFilters(PageArgs):
    period: str | None = Field(None, pattern=PERIOD)
    org_id: int | None = None
    mine: bool = False


class NewAdjustment(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    payee_user_id: int | None = None
    payee_org_id: int | None = None
    amount: Decimal = Field(ge=Decimal("-1000000"), le=Decimal("1000000"), decimal_places=2)
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_payee(self) -> NewAdjustment:
        if (self.payee_user_id is None) == (self.payee_org_id is None):
            raise ValueError("name either payee_user_id or payee_org_id")
        if self.amount == 0:
            raise ValueError("an adjustment of 0 changes nothing")
        return self


class MyMonth(Response):
    period: str
    earned: Decimal = Field(description="so far this month, before approval")
    loans: int
    disbursed_volume: Decimal
    tier_rate: Decimal | None


class ApplicationEstimate(Response):
    application_id: int
    agent_amount: Decimal = Field(description="what this loan would add to your month")
    service_fee: Decimal
    channel_fee: Decimal
