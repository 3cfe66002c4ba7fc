"""Product eligibility: lenders' admission rules as data, and the products a lead qualifies for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm.loans.eligibility_rules import CREDIT_LABELS, EMPLOYMENT_LABELS, RULES, Pair, Rule

Employment = Literal["salaried", "self_employed", "business_owner", "other"]
CreditStatus = Literal["good", "minor_overdue", "serious_overdue", "no_record"]

# Reason.code of a rule that could not be checked because the lead lacks the data
UNKNOWN = "unknown"

__all__ = [
    "CREDIT_LABELS",
    "EMPLOYMENT_LABELS",
    "UNKNOWN",
    "Applicant",
    "Match",
    "ProductRules",
    "ProductTerms",
    "Reason",
    "city_key",
    "match_products",
]


def city_key(city: str) -> str:
    """深圳市 and 深圳 are the same city; a two-character name such as 芒市 stays whole."""
    city = city.strip()
    return city[:-1] if len(city) > 2 and city.endswith("市") else city


class ProductRules(BaseModel):
    """准入规则 of one product. A field left unset (None, False, empty) places no constraint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_min: int | None = Field(None, ge=18, le=100)
    age_max: int | None = Field(None, ge=18, le=100)
    cities: list[str] | None = Field(None, min_length=1, description="served; null = nationwide")
    min_monthly_income: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    employment_in: list[Employment] | None = Field(None, min_length=1)
    min_social_security_months: int | None = Field(None, ge=0, le=600)
    min_provident_fund_months: int | None = Field(None, ge=0, le=600)
    min_business_licence_months: int | None = Field(None, ge=0, le=1200)
    # owned outright or mortgaged both count: lenders ask whether there is an asset, not a lien
    requires_house: bool = False
    requires_car: bool = False
    requires_business_licence: bool = False
    requires_insurance_policy: bool = False
    credit_status_in: list[CreditStatus] | None = Field(None, min_length=1)
    max_credit_queries_3m: int | None = Field(None, ge=0, le=200)
    excluded_sources: list[str] = Field(default_factory=list, description="lead sources refused")

    @field_validator("cities")
    @classmethod
    def _city_keys(cls, cities: list[str] | None) -> list[str] | None:
        if cities is None:
            return None
        keys = list(dict.fromkeys(city_key(c) for c in cities))
        if "" in keys:
            raise ValueError("a city name is empty")
        return keys

    @model_validator(mode="after")
    def _ages_in_order(self) -> ProductRules:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min must not be greater than age_max")
        return self


@dataclass(frozen=True, slots=True)
class Applicant:
    """What matching knows of a lead; the caller works out the age from the ID number."""

    age: int | None
    city: str | None
    source: str | None
    amount_wanted: Decimal | None
    term_months: int | None
    qualifications: Mapping[str, Any]  # the stored JSON: money may be a string


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """What matching needs of a product; built once per product by the caller, not per match."""

    product_id: int
    name: str
    lender_name: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    apr: Decimal  # all-in APR at the product's typical terms, as a fraction
    channel_fee_rate: Decimal
    rules: ProductRules
    # the rules this product has, each with its requirement in words and its to-confirm reason:
    # worked out here once, since a match calls on them for every lead
    _checks: tuple[tuple[Rule, Pair, Reason], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checks", _compile(self))


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that excludes a product, or (code "unknown") that the agent must ask about."""

    rule: str
    code: str
    message: str  # zh-CN, read to the customer as it stands
    message_en: str


@dataclass(frozen=True, slots=True)
class Match:
    product: ProductTerms
    eligible: bool
    exclusions: list[Reason]  # every failing rule, not just the first
    to_confirm: list[Reason]  # rules the lead lacks the data for; eligible products may have some
    fit: tuple[Any, ...]  # the sort key match_products ranks by; smaller is a better fit


def match_products(applicant: Applicant, products: Sequence[ProductTerms]) -> list[Match]:
    """Every product checked against the applicant: eligible ones first, best fit first."""
    lead = _Lead.of(applicant)
    matches = [_match(lead, product) for product in products]
    matches.sort(key=attrgetter("fit"))
    return matches


def _match(lead: _Lead, product: ProductTerms) -> Match:
    exclusions: list[Reason] = []
    to_confirm: list[Reason] = []
    values = lead.values
    for rule, need, ask in product._checks:
        met = rule.met(values, product)
        if met is None:
            to_confirm.append(ask)
        elif not met:
            exclusions.append(lead.excluded(rule, need))
    if exclusions:
        fit: tuple[Any, ...] = (1, len(exclusions), product.name, product.product_id)
    else:
        # A product the customer surely qualifies for beats one that hinges on unanswered
        # questions; among those, the cheapest credit for the customer comes first (their
        # interest, and what the regulator expects of a broker's advice). The broker's own
        # channel fee only breaks ties, and the id keeps the order stable.
        fit = (0, len(to_confirm), product.apr, -product.channel_fee_rate, product.product_id)
    return Match(product, not exclusions, exclusions, to_confirm, fit)


@dataclass(frozen=True, slots=True)
class _Lead:
    """The applicant read once per call: its values by rule name, and the exclusions written so
    far. Many products state a rule alike (年龄需在 22–55 岁之间), and a reason is immutable, so
    each is written once per call and shared: fewer strings to build, fewer objects to collect."""

    values: Mapping[str, Any]
    words: dict[str, Pair] = field(default_factory=dict)
    reasons: dict[Pair, Reason] = field(default_factory=dict)

    @classmethod
    def of(cls, applicant: Applicant) -> _Lead:
        values = dict(applicant.qualifications)
        for name in ("social_security", "provident_fund", "business_licence"):
            # "no social security" is zero months of it, which excludes rather than asks
            if values.get(f"{name}_months") is None and values.get(name) is False:
                values[f"{name}_months"] = 0
        values.update(
            age=applicant.age,
            city=city_key(applicant.city) if applicant.city else None,
            source=applicant.source,
            amount=applicant.amount_wanted,
            term=applicant.term_months,
            monthly_income=_decimal(values.get("monthly_income")),
        )
        return cls(values)

    def excluded(self, rule: Rule, need: Pair) -> Reason:
        # a requirement's words are the rule's own, so they alone key its reason
        reason = self.reasons.get(need)
        if reason is None:
            has = self.words.get(rule.name)
            if has is None:
                has = self.words[rule.name] = rule.has(self.values[rule.name])
            zh, en = f"{need[0]}，{has[0]}", f"{need[1]}; {has[1]}"
            reason = self.reasons[need] = Reason(rule.name, rule.code, zh, en)
        return reason


def _decimal(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    # unreadable counts as unknown, so the agent asks; NaN would break the comparisons
    return value if value.is_finite() else None


def _compile(product: ProductTerms) -> tuple[tuple[Rule, Pair, Reason], ...]:
    checks = []
    for rule in RULES:
        need = rule.need(product)
        if need is not None:
            zh, en = f"{need[0]}，{rule.ask[0]}", f"{need[1]}; {rule.ask[1]}"
            checks.append((rule, need, Reason(rule.name, UNKNOWN, zh, en)))
    return tuple(checks)
