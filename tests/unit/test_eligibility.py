"""Product eligibility rule by rule: what excludes and in what words, what is left to confirm."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from crm.loans.eligibility import (
    UNKNOWN,
    Applicant,
    Match,
    ProductRules,
    ProductTerms,
    match_products,
)

# a customer every rule below can be checked against, and who passes all of them
QUALIFIED = {
    "monthly_income": "12000",
    "employment": "salaried",
    "social_security": True,
    "social_security_months": 36,
    "provident_fund": True,
    "provident_fund_months": 24,
    "house": "owned",
    "car": "mortgaged",
    "insurance_policy": True,
    "business_licence": True,
    "business_licence_months": 30,
    "credit_status": "good",
    "credit_queries_3m": 2,
}


def applicant(**overrides) -> Applicant:
    fields = {
        "age": 35,
        "city": "深圳",
        "source": "官网表单",
        "amount_wanted": Decimal("100000"),
        "term_months": 24,
        "qualifications": QUALIFIED,
    }
    return Applicant(**(fields | overrides))


def with_quals(**changes) -> Applicant:
    """The qualified customer with some answers changed; None removes the answer."""
    quals = {k: v for k, v in (QUALIFIED | changes).items() if v is not None}
    return applicant(qualifications=quals)


def product(product_id: int = 1, name: str = "薪享贷", **overrides) -> ProductTerms:
    rules = overrides.pop("rules", {})
    fields = {
        "product_id": product_id,
        "name": name,
        "lender_name": "某某消费金融",
        "min_amount": Decimal("10000"),
        "max_amount": Decimal("200000"),
        "min_term_months": 3,
        "max_term_months": 36,
        "apr": Decimal("0.18"),
        "channel_fee_rate": Decimal("0.02"),
        "rules": ProductRules(**rules),
    }
    return ProductTerms(**(fields | overrides))


def match_one(who: Applicant, terms: ProductTerms) -> Match:
    [match] = match_products(who, [terms])
    return match


EVERY_RULE = {
    "age_min": 22,
    "age_max": 55,
    "cities": ["深圳", "广州"],
    "min_monthly_income": Decimal("5000"),
    "employment_in": ["salaried", "self_employed"],
    "min_social_security_months": 12,
    "min_provident_fund_months": 6,
    "min_business_licence_months": 12,
    "requires_house": True,
    "requires_car": True,
    "requires_business_licence": True,
    "requires_insurance_policy": True,
    "credit_status_in": ["good", "no_record"],
    "max_credit_queries_3m": 6,
    "excluded_sources": ["购买名单"],
}


def test_a_product_without_rules_matches_everyone():
    anyone = product()
    assert match_one(applicant(), anyone).eligible
    nobody_known = Applicant(None, None, None, None, None, {})
    match = match_one(nobody_known, anyone)
    assert match.eligible
    assert match.exclusions == []
    # only the product's own amount and term ranges are left to ask about
    assert [r.rule for r in match.to_confirm] == ["amount", "term"]


def test_the_qualified_customer_passes_every_rule():
    strict = product(rules=EVERY_RULE)
    match = match_one(applicant(), strict)
    assert match.eligible
    assert match.exclusions == match.to_confirm == []


# (rules, the customer, rule, code, words of the Chinese message, words of the English one)
FAILURES = [
    (
        {},
        applicant(amount_wanted=Decimal("300000")),
        "amount",
        "amount_out_of_range",
        ["额度 1–20 万", "客户需要 30 万"],
        ["CNY 10,000–200,000", "CNY 300,000"],
    ),
    (
        {},
        applicant(term_months=48),
        "term",
        "term_out_of_range",
        ["期限 3–36 个月", "客户需要 48 个月"],
        ["3–36 months", "48 months"],
    ),
    (
        {"age_min": 22, "age_max": 55},
        applicant(age=58),
        "age",
        "age_out_of_range",
        ["年龄需在 22–55 岁之间", "客户 58 岁"],
        ["Age must be 22–55", "is 58"],
    ),
    (
        {"age_min": 22},
        applicant(age=20),
        "age",
        "age_out_of_range",
        ["年龄需满 22 岁", "客户 20 岁"],
        ["at least 22", "is 20"],
    ),
    (
        {"cities": ["北京", "上海"]},
        applicant(city="成都"),
        "city",
        "city_not_served",
        ["仅服务北京、上海", "客户在成都"],
        ["北京, 上海", "成都"],
    ),
    (
        {"excluded_sources": ["购买名单"]},
        applicant(source="购买名单"),
        "source",
        "source_excluded",
        ["不接受来自购买名单渠道"],
        ["购买名单"],
    ),
    (
        {"min_monthly_income": Decimal("5000")},
        with_quals(monthly_income="3000"),
        "monthly_income",
        "income_below_minimum",
        ["不低于 5,000 元", "客户 3,000 元"],
        ["CNY 5,000", "CNY 3,000"],
    ),
    (
        {"employment_in": ["salaried", "self_employed"]},
        with_quals(employment="business_owner"),
        "employment",
        "employment_not_accepted",
        ["上班族、个体户", "客户为企业主"],
        ["salaried, self-employed", "business owner"],
    ),
    (
        {"min_social_security_months": 12},
        with_quals(social_security_months=6),
        "social_security_months",
        "social_security_too_short",
        ["社保需连续缴纳满 1 年", "客户连续缴纳 6 个月"],
        ["1 year", "6 months"],
    ),
    (
        {"min_provident_fund_months": 18},
        with_quals(provident_fund_months=12),
        "provident_fund_months",
        "provident_fund_too_short",
        ["公积金需连续缴纳满 18 个月", "客户连续缴纳 1 年"],
        ["18 months", "1 year"],
    ),
    (
        {"min_business_licence_months": 24},
        with_quals(business_licence_months=6),
        "business_licence_months",
        "business_licence_too_short",
        ["营业执照需注册满 2 年", "客户注册 6 个月"],
        ["2 years", "6 months"],
    ),
    (
        {"requires_house": True},
        with_quals(house="none"),
        "house",
        "house_required",
        ["需有房产（全款或按揭均可）", "客户无房产"],
        ["owned or mortgaged", "has none"],
    ),
    (
        {"requires_car": True},
        with_quals(car="none"),
        "car",
        "car_required",
        ["需有车产", "客户无车产"],
        ["car", "has none"],
    ),
    (
        {"requires_business_licence": True},
        with_quals(business_licence=False),
        "business_licence",
        "business_licence_required",
        ["需有营业执照", "客户无营业执照"],
        ["business licence", "has none"],
    ),
    (
        {"requires_insurance_policy": True},
        with_quals(insurance_policy=False),
        "insurance_policy",
        "insurance_policy_required",
        ["需有保单", "客户无保单"],
        ["insurance policy", "has none"],
    ),
    (
        {"credit_status_in": ["good", "no_record"]},
        with_quals(credit_status="minor_overdue"),
        "credit_status",
        "credit_status_not_accepted",
        ["征信需为良好、无征信记录", "客户为轻微逾期"],
        ["good, no record", "minor overdue"],
    ),
    (
        {"max_credit_queries_3m": 6},
        with_quals(credit_queries_3m=9),
        "credit_queries_3m",
        "too_many_credit_queries",
        ["不超过 6 次", "客户 9 次"],
        ["At most 6", "has 9"],
    ),
]


@pytest.mark.parametrize(
    ("rules", "who", "rule", "code", "zh", "en"),
    FAILURES,
    ids=[f[2] + ":" + f[3] for f in FAILURES],
)
def test_each_rule_excludes_with_a_message_that_states_the_numbers(rules, who, rule, code, zh, en):
    match = match_one(who, product(rules=rules))
    assert not match.eligible
    [reason] = match.exclusions
    assert (reason.rule, reason.code) == (rule, code)
    for words in zh:
        assert words in reason.message
    for words in en:
        assert words in reason.message_en


def test_every_failing_rule_is_reported_not_just_the_first():
    who = replace(
        with_quals(monthly_income="3000", house="none", credit_status="serious_overdue"),
        age=60,
        city="成都",
    )
    match = match_one(who, product(rules=EVERY_RULE))
    assert {r.rule for r in match.exclusions} == {
        "age",
        "city",
        "monthly_income",
        "house",
        "credit_status",
    }
    assert match.to_confirm == []


UNKNOWNS = [
    ({}, applicant(amount_wanted=None), "amount"),
    ({}, applicant(term_months=None), "term"),
    ({"age_max": 55}, applicant(age=None), "age"),
    ({"cities": ["深圳"]}, applicant(city=None), "city"),
    ({"excluded_sources": ["购买名单"]}, applicant(source=None), "source"),
    ({"min_monthly_income": Decimal("5000")}, with_quals(monthly_income=None), "monthly_income"),
    (
        {"min_monthly_income": Decimal("5000")},
        with_quals(monthly_income="约八千"),
        "monthly_income",
    ),
    ({"employment_in": ["salaried"]}, with_quals(employment=None), "employment"),
    (
        {"min_social_security_months": 6},
        with_quals(social_security=None, social_security_months=None),
        "social_security_months",
    ),
    (
        {"min_provident_fund_months": 12},
        with_quals(provident_fund=True, provident_fund_months=None),
        "provident_fund_months",
    ),
    (
        {"min_business_licence_months": 12},
        with_quals(business_licence_months=None),
        "business_licence_months",
    ),
    ({"requires_house": True}, with_quals(house=None), "house"),
    ({"requires_car": True}, with_quals(car=None), "car"),
    ({"requires_business_licence": True}, with_quals(business_licence=None), "business_licence"),
    ({"requires_insurance_policy": True}, with_quals(insurance_policy=None), "insurance_policy"),
    ({"credit_status_in": ["good"]}, with_quals(credit_status=None), "credit_status"),
    ({"max_credit_queries_3m": 3}, with_quals(credit_queries_3m=None), "credit_queries_3m"),
]


@pytest.mark.parametrize(("rules", "who", "rule"), UNKNOWNS, ids=[u[2] for u in UNKNOWNS])
def test_unknown_data_is_left_to_confirm_never_excluded_nor_passed(rules, who, rule):
    match = match_one(who, product(rules=rules))
    assert match.eligible
    [reason] = match.to_confirm
    assert (reason.rule, reason.code) == (rule, UNKNOWN)
    assert reason.message and reason.message_en


def test_what_to_confirm_tells_the_agent_the_requirement_to_ask_about():
    match = match_one(with_quals(monthly_income=None), product(rules={"min_monthly_income": 5000}))
    [reason] = match.to_confirm
    assert reason.message == "月收入需不低于 5,000 元，请向客户确认"
    assert reason.message_en == "Monthly income must be at least CNY 5,000; ask the customer"


def test_an_excluded_product_still_lists_what_is_unknown():
    who = replace(with_quals(monthly_income=None), age=70)
    match = match_one(who, product(rules={"age_max": 55, "min_monthly_income": 5000}))
    assert [r.rule for r in match.exclusions] == ["age"]
    assert [r.rule for r in match.to_confirm] == ["monthly_income"]


def test_no_social_security_counts_as_zero_months_and_excludes():
    who = with_quals(social_security=False, social_security_months=None)
    [reason] = match_one(who, product(rules={"min_social_security_months": 6})).exclusions
    assert reason.message == "社保需连续缴纳满 6 个月，客户无社保"


def test_paying_social_security_meets_a_one_month_minimum_without_the_months():
    who = with_quals(social_security=True, social_security_months=None)
    match = match_one(who, product(rules={"min_social_security_months": 1}))
    assert match.eligible
    assert match.to_confirm == []


def test_no_licence_is_one_reason_when_a_product_requires_a_licence_of_some_age():
    who = with_quals(business_licence=False, business_licence_months=None)
    rules = {"requires_business_licence": True, "min_business_licence_months": 12}
    match = match_one(who, product(rules=rules))
    assert [r.code for r in match.exclusions] == ["business_licence_required"]


@pytest.mark.parametrize("held", ["owned", "mortgaged"])
def test_a_house_owned_outright_or_mortgaged_both_count(held):
    match = match_one(with_quals(house=held), product(rules={"requires_house": True}))
    assert match.eligible


def test_range_bounds_are_inclusive():
    who = applicant(age=55, amount_wanted=Decimal("200000"), term_months=3)
    assert match_one(who, product(rules={"age_min": 22, "age_max": 55})).eligible


def test_a_source_the_lender_does_not_refuse_passes():
    refusing = product(rules={"excluded_sources": ["购买名单", "短信营销"]})
    assert match_one(applicant(source="老客户转介绍"), refusing).eligible
    assert not match_one(applicant(source="短信营销"), refusing).eligible
