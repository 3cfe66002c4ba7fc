"""Lead-quality scoring rules: from a lead's facts to a 0-100 score an agent can read.

Every factor gives points up to its weight (crm/scoring/settings.py) with a one-line reason; the
score is the points won out of the points possible. No database, no Flask: the batch job, the
import, the request handlers and the benchmark all score through `Scorer`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from hashlib import blake2b
from typing import Any, NamedTuple

from crm.scoring.settings import FACTORS, ScoringSettings

LABELS = {
    "phone": "号码",
    "region": "属地",
    "completeness": "资料完整度",
    "qualifications": "资质",
    "income": "收入与需求",
    "age": "年龄",
    "source": "渠道质量",
    "engagement": "近期互动",
    "duplicates": "跨机构重复",
}
_QUALIFICATION_NAMES = {
    "provident_fund": "公积金",
    "social_security": "社保",
    "house": "房产",
    "car": "车产",
    "insurance_policy": "保单",
    "business_licence": "营业执照",
}
# stages whose contacts ended in a no: the person declined (lost) or the lender did (rejected)
_TURNED_DOWN = frozenset({"lost", "rejected"})
# what a complete record has; qualifications are scored on their own
_RECORD_FIELDS = ("has_name", "has_id_number", "city", "amount_wanted", "term_months", "purpose")


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What scoring reads of a lead: never the plain name, phone or ID number."""

    source: str
    is_mobile: bool = True
    carrier: str | None = None
    phone_city: str | None = None
    city: str | None = None
    has_name: bool = False
    has_id_number: bool = False
    birth_year: int | None = None
    amount_wanted: Decimal | None = None
    term_months: int | None = None
    purpose: str | None = None
    qualifications: Mapping[str, Any] = field(default_factory=dict)
    stage: str = "new"
    # the lead's surroundings, counted by the service in the same read as the lead
    other_orgs: int = 0  # other orgs holding the same phone number (blind index)
    recent_followups: int = 0
    recent_answered_calls: int = 0


@dataclass(frozen=True, slots=True)
class SourceRates:
    """Per source (leads, converted) in the org, and the org's own rate as the prior's mean."""

    by_source: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    org_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Context:
    """What every lead of a batch is scored against: the year, the org's cities, its sources."""

    year: int
    org_cities: frozenset[str] = frozenset()
    sources: SourceRates = SourceRates()


class FactorScore(NamedTuple):
    """One factor's result; stored as the JSON list [factor, points, max_points, detail]."""

    factor: str
    points: int
    max_points: int
    detail: str


@dataclass(frozen=True, slots=True)
class Score:
    value: int  # 0..100
    factors: tuple[FactorScore, ...]
    # a 64-bit digest of the stored breakdown, the same in every process: a re-score compares
    # it with the stored one and rewrites only breakdowns that changed
    fingerprint: int = 0

    def stored(self) -> list[FactorScore]:
        """Kept per lead as JSON: [[factor, points, max_points, detail], ...]."""
        return list(self.factors)


# A factor gives (fraction of its weight won, reason).
Rule = Callable[[LeadFacts, Context, ScoringSettings], tuple[float, str]]


class Scorer:
    """Scores leads under one org's settings and context. A factor's result depends on a few
    inputs only (the source, the age, the qualifications...), and a million leads have few
    distinct ones, so each is worked out once per scorer; build one per settings and context
    (a re-score run keeps one for all its batches)."""

    def __init__(self, settings: ScoringSettings, context: Context) -> None:
        self.settings = settings
        self.context = context
        # a factor with weight 0 is switched off: the lead's breakdown does not show it at all
        self._factors = [
            (INPUTS[name], {}, name, weight)
            for name in FACTORS
            if (weight := getattr(settings.weights, name))
        ]
        self._possible = sum(weight for *_, weight in self._factors)
        self._texts: dict[FactorScore, str] = {}

    def score(self, facts: LeadFacts) -> Score:
        # the hot loop of a million-lead re-score: a cache look-up per factor, nothing else
        factors, won, fingerprint = [], 0, 0
        for inputs_of, cache, name, weight in self._factors:
            key = inputs_of(facts)
            cached = cache.get(key)
            if cached is None:
                cached = cache[key] = self._work_out(name, weight, facts)
            factor, digest = cached
            factors.append(factor)
            won += factor[1]
            fingerprint = (fingerprint * _FINGERPRINT_BASE + digest) & _U64
        if fingerprint >> 63:  # stored as a signed BIGINT
            fingerprint -= 1 << 64
        return Score(round(100 * won / self._possible), tuple(factors), fingerprint)

    def stored_text(self, score: Score) -> str:
        """Score.stored() as JSON text, from each factor result's text, encoded once."""
        return "[" + ",".join(map(self._texts.__getitem__, score.factors)) + "]"

    def _work_out(self, name: str, weight: int, facts: LeadFacts) -> tuple[FactorScore, int]:
        fraction, detail = RULES[name](facts, self.context, self.settings)
        factor = FactorScore(name, round(weight * min(max(fraction, 0.0), 1.0)), weight, detail)
        text = self._texts[factor] = json.dumps(factor, ensure_ascii=False)
        return factor, int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


_FINGERPRINT_BASE = 1_000_003
_U64 = (1 << 64) - 1


def breakdown(stored: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """The stored compact form as the API shows it."""
    return [
        {"factor": f, "label": LABELS.get(f, f), "points": p, "max_points": m, "detail": d}
        for f, p, m, d in stored
    ]


def _phone(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    carrier = f"（{facts.carrier}）" if facts.carrier else ""
    if facts.is_mobile:
        return 1.0, f"手机号{carrier}"
    return 0.3, "固定电话，接通率低"


def _region(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    if not context.org_cities:
        return 1.0, "本机构不限城市"
    if facts.phone_city and facts.phone_city in context.org_cities:
        return 1.0, f"号码归属地{facts.phone_city}在服务范围"
    if facts.city and facts.city in context.org_cities:
        return 0.5, f"所在城市{facts.city}在服务范围，号码归属地{facts.phone_city or '未知'}不在"
    return 0.0, f"{facts.phone_city or facts.city or '城市未知'}不在服务范围"


def _completeness(
    facts: LeadFacts, context: Context, settings: ScoringSettings
) -> tuple[float, str]:
    filled = sum(1 for name in _RECORD_FIELDS if getattr(facts, name))
    return filled / len(_RECORD_FIELDS), f"资料填写 {filled}/{len(_RECORD_FIELDS)} 项"


def _qualifications(
    facts: LeadFacts, context: Context, settings: ScoringSettings
) -> tuple[float, str]:
    won, named = 0.0, []
    for key, share in settings.qualification_shares.items():
        value = facts.qualifications.get(key)
        if value is True or value == "owned":
            won += share
            named.append(_QUALIFICATION_NAMES[key])
        elif value == "mortgaged":
            won += share / 2
            named.append(f"{_QUALIFICATION_NAMES[key]}（按揭）")
    return won, "、".join(named) if named else "无已知资质"


def _years_of_income(amount: Decimal | None, income: float | None) -> float | None:
    """The amount wanted in years of income, to one decimal; None if either is unknown."""
    if not income or not amount:
        return None
    return round(float(amount) / (income * 12), 1)


def _income_inputs(facts: LeadFacts) -> tuple[Any, ...]:
    # the reason shows the amount and the ratio to one decimal: leads that share them share it
    income = _monthly_income(facts)
    return facts.amount_wanted, _years_of_income(facts.amount_wanted, income), bool(income)


def _monthly_income(facts: LeadFacts) -> float | None:
    raw = facts.qualifications.get("monthly_income")
    if raw is None or isinstance(raw, dict | list):
        return None
    return _income_value(raw)


@lru_cache(maxsize=65_536)  # a sheet repeats round figures; a re-score meets each many times
def _income_value(raw: str | float) -> float | None:
    value = _decimal(raw)
    return float(value) if value is not None and value.is_finite() else None


def _income(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    income = _monthly_income(facts)
    years = _years_of_income(facts.amount_wanted, income)
    if years is None and not income:
        return 0.0, "月收入未知"
    if years is None:
        return 0.5, "有月收入，需求金额未知"
    detail = f"需求{facts.amount_wanted:.0f}元，约为年收入的{years:.1f}倍"
    if years <= 1:
        return 1.0, detail
    if years <= 3:
        return 0.5, detail
    return 0.0, detail


def _age(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    if facts.birth_year is None:
        return 0.0, "年龄未知（无身份证号）"
    age = context.year - facts.birth_year
    (best_lo, best_hi), (fair_lo, fair_hi) = settings.best_age, settings.fair_age
    if best_lo <= age <= best_hi:
        return 1.0, f"{age}岁"
    if fair_lo <= age <= fair_hi:
        return 0.5, f"{age}岁，不在{best_lo}-{best_hi}岁之间"
    return 0.0, f"{age}岁，超出{fair_lo}-{fair_hi}岁"


def _source(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    rates = context.sources
    leads, converted = rates.by_source.get(facts.source, (0, 0))
    if rates.org_rate <= 0:
        return 0.5, f"渠道{facts.source}：机构尚无转化数据"
    # posterior mean of a Beta(prior_leads * org_rate, prior_leads * (1 - org_rate)) prior
    prior = settings.prior_leads
    smoothed = (converted + prior * rates.org_rate) / (leads + prior)
    lift = smoothed / rates.org_rate
    detail = (
        f"渠道{facts.source}：{leads}条中{converted}条转化，"
        f"平滑后{smoothed:.1%}，机构平均{rates.org_rate:.1%}"
    )
    # an average source gets half the points, twice the average two thirds, never-converting
    # none; it never saturates, so the best channel still stands out from a good one
    return lift / (lift + 1), detail


def _engagement(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    followups, answered = facts.recent_followups, facts.recent_answered_calls
    if facts.stage in _TURNED_DOWN:
        # those talks ended in a no: counted as interest, a lead lost last week would outrank
        # every fresh one in the pool, and claim-next would hand it back again and again
        return 0.0, f"已{'流失' if facts.stage == 'lost' else '被拒'}，近期跟进{followups}次不加分"
    # an answered call says more than a follow-up note, which may record a failed attempt
    fraction = (followups + 2 * answered) / 4
    return fraction, f"近{settings.engagement_days}天跟进{followups}次，接通{answered}次"


def _duplicates(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    others = facts.other_orgs
    if others == 0:
        return 1.0, "其他机构没有此号码"
    # a borrower shopping around several brokers is less likely to sign with this one
    return (0.5 if others == 1 else 0.0), f"另有{others}家机构有此号码"


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


RULES: dict[str, Rule] = {
    "phone": _phone,
    "region": _region,
    "completeness": _completeness,
    "qualifications": _qualifications,
    "income": _income,
    "age": _age,
    "source": _source,
    "engagement": _engagement,
    "duplicates": _duplicates,
}


# What each rule reads of a lead, as a cache key: within one scorer (one context), the same
# inputs always give the same points and reason.
INPUTS: dict[str, Callable[[LeadFacts], Any]] = {
    "phone": lambda f: (f.is_mobile, f.carrier),
    "region": lambda f: (f.phone_city, f.city),
    "completeness": lambda f: (
        f.has_name,
        f.has_id_number,
        not f.city,
        not f.amount_wanted,
        not f.term_months,
        not f.purpose,
    ),
    "qualifications": lambda f: tuple(map(f.qualifications.get, _QUALIFICATION_NAMES)),
    "income": _income_inputs,
    "age": lambda f: f.birth_year,
    "source": lambda f: f.source,
    "engagement": lambda f: (
        f.stage if f.stage in _TURNED_DOWN else None,
        f.recent_followups,
        f.recent_answered_calls,
    ),
    "duplicates": lambda f: f.other_orgs,
}
