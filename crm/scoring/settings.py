"""An org's lead-scoring weights (OrgSettings.scoring): how many points each factor may give."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from crm.schemas import RequestBody

FACTORS = (
    "phone",
    "region",
    "completeness",
    "qualifications",
    "income",
    "age",
    "source",
    "engagement",
    "duplicates",
)
Qualification = Literal[
    "provident_fund",
    "social_security",
    "house",
    "car",
    "insurance_policy",
    "business_licence",
]


class ScoringWeights(RequestBody):
    """The most points each factor can give; the score is the points won out of their sum, so
    any weights give 0-100 (the defaults add up to 100, so points read as the score itself)."""

    phone: int = Field(8, ge=0, le=100, description="a mobile number (landlines reach people less)")
    region: int = Field(10, ge=0, le=100, description="the number's city (归属地) is served")
    completeness: int = Field(7, ge=0, le=100, description="share of the record filled in")
    qualifications: int = Field(25, ge=0, le=100, description="公积金/社保/房产/车产/保单/营业执照")
    income: int = Field(12, ge=0, le=100, description="amount wanted against a year's income")
    age: int = Field(8, ge=0, le=100, description="age band, from the ID number")
    source: int = Field(15, ge=0, le=100, description="the source's past conversion in the org")
    engagement: int = Field(10, ge=0, le=100, description="recent follow-ups and answered calls")
    duplicates: int = Field(5, ge=0, le=100, description="no other org holds the number")

    @model_validator(mode="after")
    def _some_weight(self) -> ScoringWeights:
        if not any(getattr(self, factor) for factor in FACTORS):
            raise ValueError("at least one scoring weight must be above 0")
        return self


class ScoringSettings(RequestBody):
    weights: ScoringWeights = Field(default_factory=ScoringWeights)
    # share of the qualifications factor each one gives (capped at the whole factor); a
    # mortgaged house or car counts half of an owned one
    qualification_shares: dict[Qualification, float] = Field(
        default_factory=lambda: {
            "provident_fund": 0.35,
            "social_security": 0.25,
            "house": 0.3,
            "car": 0.15,
            "insurance_policy": 0.1,
            "business_licence": 0.15,
        }
    )
    # [youngest, oldest]; lists, not tuples, so the settings read back from JSON validate strictly
    best_age: list[int] = Field([25, 45], min_length=2, max_length=2, description="full points")
    fair_age: list[int] = Field([22, 55], min_length=2, max_length=2, description="half points")
    engagement_days: int = Field(14, ge=1, le=365)
    # a source's conversion is the share of its leads that reached this stage
    conversion_stage: Literal["contacted", "qualified", "applied", "approved", "disbursed"] = (
        "applied"
    )
    # Beta prior: a source with few leads is taken for an average one worth this many leads,
    # so three lucky leads do not make a channel look like gold
    prior_leads: int = Field(50, ge=1, le=100_000)

    @model_validator(mode="after")
    def _bands_nest(self) -> ScoringSettings:
        (best_lo, best_hi), (fair_lo, fair_hi) = self.best_age, self.fair_age
        if not fair_lo <= best_lo <= best_hi <= fair_hi:
            raise ValueError("best_age must lie inside fair_age, each as [youngest, oldest]")
        return self
