"""A commission plan's terms: how each loan's service fee and channel fee split among the agent,
the team lead and a partner org, the agent's tiers, the monthly cap, accrual and clawback."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

# fractions travel and are stored as strings (API.md), never floats
Fraction = Annotated[
    Decimal, Field(ge=0, le=1, decimal_places=6), PlainSerializer(str, return_type=str)
]
Amount = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("1000000000"), decimal_places=2),
    PlainSerializer(str, return_type=str),
]


class Split(BaseModel):
    """Shares of one fee; what is left stays with headquarters (the house)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: Fraction = Decimal(0)
    team_lead: Fraction = Decimal(0)
    org: Fraction = Field(Decimal(0), description="the partner org's share (返佣) of its loans")


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_volume: Amount = Field(description="the agent's disbursed amount in the month")
    agent_rate: Fraction


class PlanTerms(BaseModel):
    """Tiers, when given, set the agent's share of both fees by monthly disbursed volume and
    replace the splits' `agent`: `whole` pays the tier reached on the whole month, `marginal`
    pays each band of volume at its own rate (as income tax brackets do)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_fee_split: Split
    channel_fee_split: Split
    tiers: tuple[Tier, ...] = Field((), max_length=20)
    tier_mode: Literal["whole", "marginal"] = "whole"
    agent_monthly_cap: Amount | None = Field(None, description="most an agent earns in a month")
    accrue_on: Literal["disbursement", "fee_collected"] = Field(
        "disbursement", description="a fee's share counts when the loan is paid out, or only "
        "once the fee has been collected"
    )  # fmt: skip
    clawback_days: int = Field(90, ge=0, le=3650)
    clawback_overdue_days: int = Field(
        30, ge=1, le=365, description="overdue this long within clawback_days claws back"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PlanTerms:
        volumes = [t.min_volume for t in self.tiers]
        if self.tiers and (volumes[0] != 0 or volumes != sorted(set(volumes))):
            raise ValueError("tiers start at min_volume 0 and rise strictly")
        top = max((t.agent_rate for t in self.tiers), default=None)
        for name in ("service_fee_split", "channel_fee_split"):
            split: Split = getattr(self, name)
            agent = split.agent if top is None else top
            if agent + split.team_lead + split.org > 1:
                raise ValueError(f"{name}: the shares (with the top tier) exceed the whole fee")
        return self

    def agent_share(self, fee: str) -> Decimal:
        return getattr(self, f"{fee}_split").agent

    def bands(self) -> list[tuple[Decimal, Decimal | None, Decimal]]:
        """[(from volume, to volume or None, rate)] of the tiers."""
        ends = [t.min_volume for t in self.tiers[1:]] + [None]
        return [(t.min_volume, end, t.agent_rate) for t, end in zip(self.tiers, ends, strict=True)]
