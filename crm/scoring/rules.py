"""Lead-quality scoring rules: from a lead's facts to a 0-100 score an agent can read.

Every factor gives points up to its weight (crm/scoring/settings.py) with a one-line reason; the
score is the points won out of the points possible. No database, no Flask: the batch job, the
import, the request handlers and the benchmark all score through `Scorer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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


@dataclass(frozen=True, slots=True)
class SourceRates:
    """Per source (leads, converted) in the org, and the org's own rate as the prior's mean."""

    by_source: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    org_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Context:
    """Facts about the lead's surroundings, loaded in bulk by the service."""

    year: int
    org_cities: frozenset[str] = frozenset()
    sources: SourceRates = SourceRates()
    other_orgs: int = 0  # other orgs holding the same phone number (blind index)
    recent_followups: int = 0
    recent_answered_calls: int = 0


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

    def stored(self) -> list[FactorScore]:
        """Kept per lead as JSON: [[factor, points, max_points, detail], ...]."""
        return list(self.factors)


# A factor gives (fraction of its weight won, reason).
Rule = Callable[[LeadFacts, Context, ScoringSettings], tuple[float, str]]


class Scorer:
    """Scores leads under one org's settings. A factor's result depends on a few inputs only
    (the source, the age, the qualifications...), and a batch has few distinct ones, so each
    is worked out once per scorer (the service builds one per batch of leads). The cache assumes
    one org's cities and source figures, as a batch has."""

    def __init__(self, settings: ScoringSettings) -> None:
        self.settings = settings
        # a factor with weight 0 is switched off: the lead's breakdown does not show it at all
        self._weights = [(name, w) for name in FACTORS if (w := getattr(settings.weights, name))]
        self._possible = sum(w for _, w in self._weights)
        self._cache: dict[tuple[Any, ...], FactorScore] = {}

    def score(self, facts: LeadFacts, context: Context) -> Score:
        factors, won = [], 0
        for name, weight in self._weights:
            key = (name, *INPUTS[name](facts, context))
            result = self._cache.get(key)
            if result is None:
                fraction, detail = RULES[name](facts, context, self.settings)
                points = round(weight * min(max(fraction, 0.0), 1.0))
                result = self._cache[key] = FactorScore(name, points, weight, detail)
            factors.append(result)
            won += result.points
        return Score(round(100 * won / self._possible), tuple(factors))


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


def _years_of_income(facts: LeadFacts) -> float | None:
    """The amount wanted in years of income, to one decimal; None if either is unknown."""
    income = _decimal(facts.qualifications.get("monthly_income"))
    if not income or not facts.amount_wanted:
        return None
    return round(float(facts.amount_wanted) / (float(income) * 12), 1)


def _income(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    years = _years_of_income(facts)
    if years is None and not _decimal(facts.qualifications.get("monthly_income")):
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
    followups, answered = context.recent_followups, context.recent_answered_calls
    # an answered call says more than a follow-up note, which may record a failed attempt
    fraction = (followups + 2 * answered) / 4
    return fraction, f"近{settings.engagement_days}天跟进{followups}次，接通{answered}次"


def _duplicates(facts: LeadFacts, context: Context, settings: ScoringSettings) -> tuple[float, str]:
    others = context.other_orgs
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


# What each rule reads, as a cache key: the same inputs always give the same points and reason.
INPUTS: dict[str, Callable[[LeadFacts, Context], tuple[Any, ...]]] = {
    "phone": lambda f, c: (f.is_mobile, f.carrier),
    "region": lambda f, c: (f.phone_city, f.city),
    "completeness": lambda f, c: (
        f.has_name,
        f.has_id_number,
        not f.city,
        not f.amount_wanted,
        not f.term_months,
        not f.purpose,
    ),
    "qualifications": lambda f, c: tuple(map(f.qualifications.get, _QUALIFICATION_NAMES)),
    # the reason shows the amount and the ratio to one decimal: leads that share them share it
    "income": lambda f, c: (
        f.amount_wanted,
        _years_of_income(f),
        bool(_decimal(f.qualifications.get("monthly_income"))),
    ),
    "age": lambda f, c: (f.birth_year, c.year),
    "source": lambda f, c: (f.source,),
    "engagement": lambda f, c: (c.recent_followups, c.recent_answered_calls),
    "duplicates": lambda f, c: (c.other_orgs,),
}
