"""Eligibility across products: how they rank, how their terms read, and their rules schema."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from pydantic import ValidationError

from crm.leads.schemas import Qualifications
from crm.loans.eligibility import ProductRules, match_products
from tests.unit.test_eligibility import applicant, match_one, product, with_quals


def test_a_city_written_with_its_suffix_is_the_same_city():
    served = product(rules={"cities": ["深圳市", "广州"]})
    assert match_one(applicant(city="深圳"), served).eligible
    assert match_one(applicant(city="广州市"), served).eligible


@pytest.mark.parametrize(
    ("low", "high", "wanted", "zh"),
    [
        ("10000", "200000", "5000", "额度 1–20 万，客户需要 5,000 元"),
        ("20000", "500000", "15000", "额度 2–50 万，客户需要 1.5 万"),
        ("5000", "200000", "3000", "额度 5,000 元–20 万，客户需要 3,000 元"),
        ("5000", "8000", "12345", "额度 5,000–8,000 元，客户需要 12,345 元"),
        ("10000", "50000", "60000.50", "额度 1–5 万，客户需要 60,000.50 元"),
    ],
)
def test_money_reads_in_wan_where_exact_and_in_yuan_otherwise(low, high, wanted, zh):
    terms = product(min_amount=Decimal(low), max_amount=Decimal(high))
    [reason] = match_one(applicant(amount_wanted=Decimal(wanted)), terms).exclusions
    assert reason.message == zh


def test_eligible_products_rank_by_fewest_questions_then_lowest_apr_then_higher_channel_fee():
    who = with_quals(monthly_income=None)
    products = [
        product(1, "需确认收入", apr=Decimal("0.10"), rules={"min_monthly_income": 5000}),
        product(2, "贵", apr=Decimal("0.24")),
        product(3, "便宜低佣", apr=Decimal("0.12"), channel_fee_rate=Decimal("0.01")),
        product(4, "便宜高佣", apr=Decimal("0.12"), channel_fee_rate=Decimal("0.03")),
        product(5, "便宜高佣二", apr=Decimal("0.12"), channel_fee_rate=Decimal("0.03")),
    ]
    ranked = [m.product.product_id for m in match_products(who, products)]
    assert ranked == [4, 5, 3, 2, 1]


def test_excluded_products_follow_by_fewest_exclusions_then_name():
    who = applicant(age=60, city="成都")
    products = [
        product(1, "乙", rules={"age_max": 55, "cities": ["深圳"]}),
        product(2, "甲", rules={"age_max": 55}),
        product(3, "丙", rules={"cities": ["深圳"]}),
        product(4, "可做", apr=Decimal("0.30")),
    ]
    matches = match_products(who, products)
    assert [m.eligible for m in matches] == [True, False, False, False]
    # one exclusion each for 甲 and 丙, ordered by name (code point), then two for 乙
    assert [m.product.name for m in matches] == ["可做", *sorted(["甲", "丙"]), "乙"]


def test_rules_refuse_unknown_fields():
    with pytest.raises(ValidationError, match="extra"):
        ProductRules(min_income=5000)


def test_rules_refuse_a_minimum_age_above_the_maximum():
    with pytest.raises(ValidationError, match="age_min"):
        ProductRules(age_min=50, age_max=30)


def test_rules_refuse_an_empty_city_list_which_would_serve_nobody():
    with pytest.raises(ValidationError):
        ProductRules(cities=[])


def test_qualifications_take_the_durations_and_query_count():
    q = Qualifications(social_security_months=24, provident_fund_months=0, credit_queries_3m=4)
    assert q.model_dump(exclude_none=True) == {
        "social_security_months": 24,
        "provident_fund_months": 0,
        "credit_queries_3m": 4,
    }
    with pytest.raises(ValidationError):
        Qualifications(credit_queries_3m=-1)
    with pytest.raises(ValidationError):
        Qualifications(social_security_months="24")  # strict: a JSON body sends a number


def test_each_call_words_exclusions_with_that_customers_own_numbers():
    limited = [product(1, rules={"age_max": 55}), product(2, rules={"age_max": 55})]
    first = match_products(applicant(age=58), limited)
    second = match_products(applicant(age=61), limited)
    assert {m.exclusions[0].message for m in first} == {"年龄需不超过 55 岁，客户 58 岁"}
    assert {m.exclusions[0].message for m in second} == {"年龄需不超过 55 岁，客户 61 岁"}


def test_a_product_rebuilt_with_other_rules_is_checked_against_the_new_ones():
    served = product(rules={"cities": ["深圳"]})
    moved = replace(served, rules=ProductRules(cities=["成都"]))
    assert match_one(applicant(city="深圳"), served).eligible
    assert not match_one(applicant(city="深圳"), moved).eligible
