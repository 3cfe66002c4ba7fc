"""Each eligibility rule: what it asks of product and lead, and its words in zh-CN and English."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm.loans.eligibility import ProductTerms

Pair = tuple[str, str]  # the same words in Chinese and in English

EMPLOYMENT_LABELS: dict[str, Pair] = {
    "salaried": ("上班族", "salaried"),
    "self_employed": ("个体户", "self-employed"),
    "business_owner": ("企业主", "business owner"),
    "other": ("其他", "other"),
}
CREDIT_LABELS: dict[str, Pair] = {
    "good": ("良好", "good"),
    "minor_overdue": ("轻微逾期", "minor overdue"),
    "serious_overdue": ("严重逾期", "serious overdue"),
    "no_record": ("无征信记录", "no record"),
}
# a served-city list longer than this is cut short in messages: an agent reads them aloud
_CITIES_SHOWN = 5
_WAN = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Rule:
    """One admission rule: what a product asks for, and whether (and how) a lead meets it."""

    name: str  # Reason.rule, and the lead's value it reads
    code: str  # Reason.code when it excludes
    need: Callable[[ProductTerms], Pair | None]  # the requirement; None: the product has none
    met: Callable[[Mapping[str, Any], ProductTerms], bool | None]  # None: the lead's is unknown
    has: Callable[[Any], Pair]  # the lead's value, when it fails
    ask: Pair = ("请向客户确认", "ask the customer")


# --- words: each a (zh, en) pair


def _wan(amount: Decimal) -> str | None:
    """20 万 / 1.5 万 when that is exact to a thousand yuan, else None."""
    if amount >= _WAN and amount % 1000 == 0:
        return f"{(amount / _WAN).normalize():f} 万"
    return None


def _plain(amount: Decimal) -> str:
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def _money(amount: Decimal) -> Pair:
    return _wan(amount) or f"{_plain(amount)} 元", f"CNY {_plain(amount)}"


def _money_range(low: Decimal, high: Decimal) -> Pair:
    low_wan, high_wan = _wan(low), _wan(high)
    if low_wan and high_wan:
        zh = f"{low_wan[:-2]}–{high_wan}"
    elif not low_wan and not high_wan:
        zh = f"{_plain(low)}–{_plain(high)} 元"
    else:
        zh = f"{_money(low)[0]}–{_money(high)[0]}"
    return zh, f"CNY {_plain(low)}–{_plain(high)}"


def _duration(months: int) -> Pair:
    if months and months % 12 == 0:
        years = months // 12
        return f"{years} 年", f"{years} year{'s' if years > 1 else ''}"
    return f"{months} 个月", f"{months} month{'s' if months != 1 else ''}"


def _listed(labels: Mapping[str, Pair], keys: Sequence[str]) -> Pair:
    return "、".join(labels[k][0] for k in keys), ", ".join(labels[k][1] for k in keys)


def _known(value: Any, test: Callable[[Any], bool]) -> bool | None:
    return None if value is None else test(value)


# --- the rules, in the order their reasons are listed


def _amount_need(p: ProductTerms) -> Pair:
    zh, en = _money_range(p.min_amount, p.max_amount)
    return f"额度 {zh}", f"Amount must be {en}"


def _amount_has(amount: Decimal) -> Pair:
    zh, en = _money(amount)
    return f"客户需要 {zh}", f"the customer wants {en}"


def _age_need(p: ProductTerms) -> Pair | None:
    low, high = p.rules.age_min, p.rules.age_max
    if low is not None and high is not None:
        return f"年龄需在 {low}–{high} 岁之间", f"Age must be {low}–{high}"
    if low is not None:
        return f"年龄需满 {low} 岁", f"Age must be at least {low}"
    if high is not None:
        return f"年龄需不超过 {high} 岁", f"Age must be at most {high}"
    return None


def _age_met(v: Mapping[str, Any], p: ProductTerms) -> bool | None:
    low, high = p.rules.age_min or 0, p.rules.age_max or 1000
    return _known(v["age"], lambda age: low <= age <= high)


def _city_need(p: ProductTerms) -> Pair | None:
    cities = p.rules.cities
    if cities is None:
        return None
    shown = cities[:_CITIES_SHOWN]
    more = len(cities) - len(shown)
    return (
        f"仅服务{'、'.join(shown)}" + (f"等 {len(cities)} 个城市" if more else ""),
        f"Serves only {', '.join(shown)}" + (f" and {more} more cities" if more else ""),
    )


def _source_need(p: ProductTerms) -> Pair | None:
    refused = p.rules.excluded_sources
    if not refused:
        return None
    return f"不接受来自{'、'.join(refused)}渠道的客户", f"Refuses leads from {', '.join(refused)}"


def _income_need(p: ProductTerms) -> Pair | None:
    if p.rules.min_monthly_income is None:
        return None
    zh, en = _money(p.rules.min_monthly_income)
    return f"月收入需不低于 {zh}", f"Monthly income must be at least {en}"


def _income_has(income: Decimal) -> Pair:
    zh, en = _money(income)
    return f"客户 {zh}", f"the customer's is {en}"


def _one_of(name: str, labels: Mapping[str, Pair], title: Pair) -> Rule:
    """职业身份/征信: the customer's answer must be one the product accepts."""
    accepted_by = attrgetter(f"{name}_in")

    def need(p: ProductTerms) -> Pair | None:
        accepted = accepted_by(p.rules)
        if accepted is None:
            return None
        zh, en = _listed(labels, accepted)
        return f"{title[0]}需为{zh}", f"{title[1]} must be: {en}"

    def met(v: Mapping[str, Any], p: ProductTerms) -> bool | None:
        return _known(v.get(name), accepted_by(p.rules).__contains__)

    def has(value: str) -> Pair:
        zh, en = labels.get(value, (value, value))
        return f"客户为{zh}", f"the customer: {en}"

    return Rule(name, f"{name}_not_accepted", need, met, has)


def _asset(name: str, title: Pair, counts: Callable[[Any], bool] = bool) -> Rule:
    """房产/车产/营业执照/保单: the product requires the customer to have it."""
    required_by = attrgetter(f"requires_{name}")
    need = (f"需有{title[0]}", f"Requires {title[1]}")
    if counts is _asset_held:
        need = (f"{need[0]}（全款或按揭均可）", f"{need[1]}, owned or mortgaged")
    has_none = (f"客户无{title[0]}", "the customer has none")
    return Rule(
        name,
        f"{name}_required",
        lambda p: need if required_by(p.rules) else None,
        lambda v, p: _known(v.get(name), counts),
        lambda _: has_none,
    )


def _months(name: str, title: Pair, verb: Pair) -> Rule:
    """社保/公积金 paid, 营业执照 held for at least the product's minimum number of months."""
    rule = f"{name}_months"
    minimum_of = attrgetter(f"min_{rule}")
    # a product that also requires having it at all already gives "has none" as a reason
    # (only the licence can be required: ProductRules has no requires_social_security)
    required = f"requires_{name}"

    def need(p: ProductTerms) -> Pair | None:
        minimum = minimum_of(p.rules)
        if not minimum:
            return None
        zh, en = _duration(minimum)
        return f"{title[0]}需{verb[0]}满 {zh}", f"{title[1]} must have been {verb[1]} {en} or more"

    def met(v: Mapping[str, Any], p: ProductTerms) -> bool | None:
        months, minimum = v.get(rule), minimum_of(p.rules)
        if months is None:
            # having it at all is a month's worth, all a one-month minimum asks
            return True if v.get(name) and minimum <= 1 else None
        if months == 0 and getattr(p.rules, required, False):
            return True
        return months >= minimum

    def has(months: int) -> Pair:
        if months == 0:
            return f"客户无{title[0]}", "the customer has none"
        zh, en = _duration(months)
        return f"客户{verb[0]} {zh}", f"the customer has {en}"

    return Rule(rule, f"{name}_too_short", need, met, has)


def _queries_need(p: ProductTerms) -> Pair | None:
    most = p.rules.max_credit_queries_3m
    if most is None:
        return None
    return (
        f"近 3 个月征信查询需不超过 {most} 次",
        f"At most {most} credit-report queries in the last 3 months",
    )


def _asset_held(value: Any) -> bool:
    return value in ("owned", "mortgaged")


RULES: tuple[Rule, ...] = (
    Rule(
        "amount",
        "amount_out_of_range",
        _amount_need,
        lambda v, p: _known(v["amount"], lambda a: p.min_amount <= a <= p.max_amount),
        _amount_has,
    ),
    Rule(
        "term",
        "term_out_of_range",
        lambda p: (
            f"期限 {p.min_term_months}–{p.max_term_months} 个月",
            f"Term must be {p.min_term_months}–{p.max_term_months} months",
        ),
        lambda v, p: _known(v["term"], lambda t: p.min_term_months <= t <= p.max_term_months),
        lambda term: (f"客户需要 {term} 个月", f"the customer wants {term} months"),
    ),
    Rule(
        "age",
        "age_out_of_range",
        _age_need,
        _age_met,
        lambda age: (f"客户 {age} 岁", f"the customer is {age}"),
    ),
    Rule(
        "city",
        "city_not_served",
        _city_need,
        lambda v, p: _known(v["city"], p.rules.cities.__contains__),
        lambda city: (f"客户在{city}", f"the customer is in {city}"),
    ),
    Rule(
        "source",
        "source_excluded",
        _source_need,
        lambda v, p: _known(v["source"], lambda s: s not in p.rules.excluded_sources),
        lambda source: (f"该客户来自{source}", f"this lead came from {source}"),
        ask=("请确认线索来源", "check the lead's source"),
    ),
    Rule(
        "monthly_income",
        "income_below_minimum",
        _income_need,
        lambda v, p: _known(v["monthly_income"], lambda i: i >= p.rules.min_monthly_income),
        _income_has,
    ),
    _one_of("employment", EMPLOYMENT_LABELS, ("职业身份", "Employment")),
    _months("social_security", ("社保", "Social security"), ("连续缴纳", "paid for")),
    _months("provident_fund", ("公积金", "The housing provident fund"), ("连续缴纳", "paid for")),
    _asset("house", ("房产", "a house"), _asset_held),
    _asset("car", ("车产", "a car"), _asset_held),
    _asset("business_licence", ("营业执照", "a business licence")),
    _months("business_licence", ("营业执照", "The business licence"), ("注册", "held for")),
    _asset("insurance_policy", ("保单", "an insurance policy")),
    _one_of("credit_status", CREDIT_LABELS, ("征信", "Credit report")),
    Rule(
        "credit_queries_3m",
        "too_many_credit_queries",
        _queries_need,
        lambda v, p: _known(
            v.get("credit_queries_3m"), lambda n: n <= p.rules.max_credit_queries_3m
        ),
        lambda n: (f"客户 {n} 次", f"the customer has {n}"),
    ),
)
