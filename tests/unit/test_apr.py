"""Unit tests for fees, the IRR and the all-in APR of a quote, checked against worked figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from crm.loans.apr import irr, loan_cash_flows, npv, quote
from crm.loans.fees import Fee
from crm.loans.schedule import build_schedule

D = Decimal
START = date(2024, 1, 31)
MANAGEMENT_FEE = Fee("账户管理费", "lender", "monthly_rate", D("0.006"))


def independent_irr(flows: Sequence[Decimal]) -> Fraction:
    """Bisection in exact fractions with a power per term: shares nothing with crm.loans.apr."""

    def value(rate: Fraction) -> Fraction:
        return sum(Fraction(f) / (1 + rate) ** k for k, f in enumerate(flows))

    low, high = Fraction(-1, 2), Fraction(1)
    low_positive = value(low) > 0
    for _ in range(50):
        middle = (low + high) / 2
        if (value(middle) > 0) == low_positive:
            low = middle
        else:
            high = middle
    return low


def test_rate_fees_are_a_share_of_the_amount_rounded_to_the_cent() -> None:
    amount = D("33333.33")
    assert Fee("服务费", "broker", "upfront_rate", D("0.03")).upfront(amount) == D("1000.00")
    assert MANAGEMENT_FEE.monthly(amount) == D("200.00")  # 199.99998
    assert MANAGEMENT_FEE.upfront(amount) == D("0.00")


def test_fixed_fees_are_cny_whatever_the_amount() -> None:
    fee = Fee("手续费", "lender", "monthly_fixed", D(15))
    assert fee.monthly(D(10000)) == fee.monthly(D(500000)) == D("15.00")
    assert fee.upfront(D(10000)) == D("0.00")
    assert Fee("服务费", "broker", "upfront_fixed", D("299.5")).upfront(D(1)) == D("299.50")


def test_every_fee_is_paid_by_the_borrower() -> None:
    assert MANAGEMENT_FEE.payer == "borrower"


@pytest.mark.parametrize(
    ("collector", "basis", "value"),
    [
        ("borrower", "upfront_rate", D("0.01")),
        ("broker", "yearly_rate", D("0.01")),
        ("broker", "upfront_rate", D("-0.01")),
        ("broker", "upfront_rate", 0.01),
        ("broker", "upfront_fixed", D("Infinity")),
    ],
)
def test_invalid_fees_raise_value_error(collector: str, basis: str, value: Decimal) -> None:
    with pytest.raises(ValueError):
        Fee("服务费", collector, basis, value)


def test_worked_example_zero_interest_with_a_monthly_management_fee() -> None:
    # 10,000 over 12 months at 0 %, 0.6 %/month of the amount (60.00): the "0 interest" loan
    # costs 13.03 % a year by the IRR method
    q = quote(D(10000), 12, D(0), "equal_principal", [MANAGEMENT_FEE], START)
    assert [i.total for i in q.schedule] == [D("893.33")] * 11 + [D("893.37")]
    assert q.upfront_fees == D("0.00")
    assert q.net_disbursed == D("10000.00")
    assert q.total_interest == D("0.00")
    assert q.total_fees == D("720.00")
    assert q.total_repayment == D("10720.00")
    assert q.apr == D("0.1303")
    assert q.effective_rate == D("0.1384")

    flows = [D(10000)] + [D("-893.33")] * 11 + [D("-893.37")]
    assert loan_cash_flows(D(10000), q.schedule, q.upfront_fees) == flows
    assert abs(Fraction(q.period_rate) - independent_irr(flows)) < Fraction(1, 10**10)
    # the quoted rate is a root: NPV ~0 there and of opposite signs a hair either side
    assert abs(npv(q.period_rate, flows)) < D("0.01")
    assert npv(q.period_rate - D("0.0001"), flows) < 0 < npv(q.period_rate + D("0.0001"), flows)


@pytest.mark.parametrize("annual_rate", [D("0.06"), D("0.12"), D("0.18"), D("0.24")])
@pytest.mark.parametrize("term", [6, 12, 36, 360])
def test_without_fees_equal_installment_apr_is_the_nominal_rate(
    annual_rate: Decimal, term: int
) -> None:
    q = quote(D(200000), term, annual_rate, "equal_installment", [], START)
    assert q.apr == annual_rate
    assert q.total_fees == 0


def test_an_upfront_fee_raises_the_apr_above_the_nominal_rate() -> None:
    # 3 % service fee (360.00) taken at disbursement: the borrower receives 11,640 but repays
    # the schedule of 12,000 at 12 % (11 × 1066.19 + 1066.14)
    service_fee = Fee("服务费", "broker", "upfront_rate", D("0.03"))
    q = quote(D(12000), 12, D("0.12"), "equal_installment", [service_fee], START)
    assert q.upfront_fees == D("360.00")
    assert q.net_disbursed == D("11640.00")
    assert q.total_interest == D("794.23")
    assert q.total_fees == D("360.00")
    assert q.total_repayment == D("12794.23")
    # independently: monthly IRR 0.0148542030…, × 12 = 0.178250…, (1 + r)¹² − 1 = 0.193558…
    assert q.apr == D("0.1783")
    assert q.effective_rate == D("0.1936")
    flows = loan_cash_flows(D(12000), q.schedule, q.upfront_fees)
    assert abs(Fraction(q.period_rate) - independent_irr(flows)) < Fraction(1, 10**10)


def test_bullet_apr_counts_the_months_without_payments() -> None:
    # 12,000 at 12 % simple interest repaid as 13,440 after 12 months: (13440/12000)^(1/12) − 1
    # a month, 11.39 % nominal, exactly 12 % effective
    q = quote(D(12000), 12, D("0.12"), "bullet", [], START)
    flows = loan_cash_flows(D(12000), q.schedule, q.upfront_fees)
    assert flows == [D(12000)] + [D(0)] * 11 + [D("-13440.00")]
    assert q.apr == D("0.1139")
    assert q.effective_rate == D("0.1200")
    assert abs(Fraction(q.period_rate) - independent_irr(flows)) < Fraction(1, 10**10)


def test_bullet_with_a_monthly_fee_pays_every_month_of_it_at_the_end() -> None:
    q = quote(D(10000), 12, D(0), "bullet", [MANAGEMENT_FEE], START)
    assert [i.total for i in q.schedule] == [D("10720.00")]
    assert q.total_fees == D("720.00")
    assert q.effective_rate == D("0.0720")


def test_zero_rate_without_fees_has_zero_apr() -> None:
    q = quote(D(10000), 12, D(0), "equal_installment", [], START)
    assert q.apr == D("0.0000")
    assert q.period_rate == 0


def test_long_loan_totals_add_up() -> None:
    fees = [Fee("服务费", "broker", "upfront_rate", D("0.02")), MANAGEMENT_FEE]
    q = quote(D(500000), 360, D("0.049"), "equal_principal", fees, START)
    assert len(q.schedule) == 360
    assert sum(i.principal for i in q.schedule) == D("500000.00")
    assert q.total_fees == D("10000.00") + 360 * D("3000.00")
    assert q.total_repayment == D("500000.00") + q.total_interest + 360 * D("3000.00")
    assert q.apr > D("0.049")


@pytest.mark.parametrize(
    ("flows", "rate"),
    [
        ([D(-100), D(110)], D("0.1")),
        ([D(100), D(0), D(-121)], D("0.1")),
        ([D(100), D(-90)], D("-0.1")),  # the borrower repays less than received
        ([D(0), D(-100), D(0), D(121)], D("0.1")),
    ],
)
def test_irr_finds_the_rate_of_simple_flows(flows: list[Decimal], rate: Decimal) -> None:
    assert abs(irr(flows) - rate) < D("1e-9")
    assert abs(npv(rate, flows)) < D("1e-20")


@pytest.mark.parametrize("flows", [[D(100), D(10)], [D(-100), D(-10)], [D(0), D(0)], [D(100)], []])
def test_irr_refuses_flows_without_a_sign_change(flows: list[Decimal]) -> None:
    with pytest.raises(ValueError, match="no_irr"):
        irr(flows)


def test_quote_refuses_upfront_fees_that_take_the_whole_amount() -> None:
    fee = Fee("服务费", "broker", "upfront_fixed", D(1000))
    with pytest.raises(ValueError):
        quote(D(1000), 12, D("0.12"), "equal_installment", [fee], START)


@pytest.mark.parametrize(
    ("amount", "term", "rate", "method"),
    [
        (D(0), 12, D("0.12"), "equal_installment"),
        (D(10000), 0, D("0.12"), "equal_installment"),
        (D(10000), 12, D("-0.12"), "equal_installment"),
        (D(10000), 12, D("0.12"), "balloon"),
        (10000.0, 12, D("0.12"), "equal_installment"),
    ],
)
def test_quote_refuses_invalid_loans(
    amount: Decimal, term: int, rate: Decimal, method: str
) -> None:
    with pytest.raises(ValueError):
        quote(amount, term, rate, method, [MANAGEMENT_FEE], START)


def test_npv_discounts_each_period_once() -> None:
    schedule = build_schedule(D(1000), 2, D(0), "equal_principal", START)
    flows = loan_cash_flows(D(1000), schedule, D(0))
    assert flows == [D(1000), D(-500), D(-500)]
    # 1000 − 500/1.1 − 500/1.21 = 132.2314…
    assert npv(D("0.1"), flows).quantize(D("0.0001")) == D("132.2314")
