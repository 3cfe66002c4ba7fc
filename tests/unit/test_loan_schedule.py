"""Unit tests for repayment schedules: the four methods to the cent, due dates, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.loans.schedule import METHODS, Installment, build_schedule, due_date

D = Decimal
START = date(2024, 1, 31)
TWELVE_PERCENT = D("0.12")


def rows(schedule: list[Installment]) -> list[tuple[str, str, str]]:
    return [(str(i.principal), str(i.interest), str(i.total)) for i in schedule]


def test_equal_installment_pays_the_same_each_month_and_the_last_takes_the_residue() -> None:
    # 12,000 at 1 %/month over 12: payment = 12000·0.01·1.01¹²/(1.01¹²−1) = 1066.1854… → 1066.19;
    # interest = balance × 1 % rounded half up, principal = 1066.19 − interest
    schedule = build_schedule(D(12000), 12, TWELVE_PERCENT, "equal_installment", START)
    assert rows(schedule) == [
        ("946.19", "120.00", "1066.19"),
        ("955.65", "110.54", "1066.19"),
        ("965.21", "100.98", "1066.19"),
        ("974.86", "91.33", "1066.19"),
        ("984.61", "81.58", "1066.19"),
        ("994.46", "71.73", "1066.19"),
        ("1004.40", "61.79", "1066.19"),
        ("1014.44", "51.75", "1066.19"),
        ("1024.59", "41.60", "1066.19"),
        ("1034.83", "31.36", "1066.19"),
        ("1045.18", "21.01", "1066.19"),
        ("1055.58", "10.56", "1066.14"),  # the balance left, so principals add up to 12,000
    ]
    assert sum(i.principal for i in schedule) == D("12000.00")
    assert sum(i.interest for i in schedule) == D("794.23")
    assert sum(i.total for i in schedule) == D("12794.23")


def test_equal_installment_without_interest_splits_the_amount() -> None:
    schedule = build_schedule(D(10000), 12, D(0), "equal_installment", START)
    assert [i.total for i in schedule] == [D("833.33")] * 11 + [D("833.37")]
    assert all(i.interest == 0 for i in schedule)


def test_equal_principal_repays_a_fixed_share_with_interest_on_the_declining_balance() -> None:
    schedule = build_schedule(D(12000), 12, TWELVE_PERCENT, "equal_principal", START)
    assert rows(schedule)[:3] == [
        ("1000.00", "120.00", "1120.00"),
        ("1000.00", "110.00", "1110.00"),
        ("1000.00", "100.00", "1100.00"),
    ]
    assert rows(schedule)[-1] == ("1000.00", "10.00", "1010.00")
    assert sum(i.principal for i in schedule) == D("12000.00")
    assert sum(i.interest for i in schedule) == D("780.00")


def test_equal_principal_puts_the_rounding_residue_in_the_last_installment() -> None:
    # 10,000 / 12 = 833.33…; 11 × 833.33 = 9166.63, so the last repays 833.37 (interest 8.3337)
    schedule = build_schedule(D(10000), 12, TWELVE_PERCENT, "equal_principal", START)
    assert rows(schedule)[:3] == [
        ("833.33", "100.00", "933.33"),
        ("833.33", "91.67", "925.00"),
        ("833.33", "83.33", "916.66"),
    ]
    assert rows(schedule)[-1] == ("833.37", "8.33", "841.70")
    assert sum(i.principal for i in schedule) == D("10000.00")
    assert sum(i.interest for i in schedule) == D("650.00")


def test_interest_only_repays_the_principal_with_the_last_installment() -> None:
    schedule = build_schedule(D(12000), 12, TWELVE_PERCENT, "interest_only", START)
    assert rows(schedule)[:11] == [("0.00", "120.00", "120.00")] * 11
    assert rows(schedule)[-1] == ("12000.00", "120.00", "12120.00")
    assert sum(i.interest for i in schedule) == D("1440.00")


def test_bullet_is_one_installment_with_simple_interest_and_every_months_fee() -> None:
    schedule = build_schedule(D(12000), 12, TWELVE_PERCENT, "bullet", START, D("10"))
    assert schedule == [
        Installment(12, date(2025, 1, 31), D("12000.00"), D("1440.00"), D("120.00"))
    ]
    assert schedule[0].total == D("13560.00")


def test_monthly_fee_is_added_to_every_installment() -> None:
    schedule = build_schedule(D(10000), 12, D(0), "equal_principal", START, D("60"))
    assert [i.fee for i in schedule] == [D("60.00")] * 12
    assert [i.total for i in schedule] == [D("893.33")] * 11 + [D("893.37")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("amount", "term", "rate"),
    [(D("10000.01"), 7, D("0.1")), (D("333333.33"), 360, D("0.0835")), (D("10.00"), 600, D(0))],
)
def test_principals_always_add_up_exactly_to_the_amount(
    method: str, amount: Decimal, term: int, rate: Decimal
) -> None:
    schedule = build_schedule(amount, term, rate, method, START)
    assert sum(i.principal for i in schedule) == amount
    # 10.00 over 600 months rounds the share up to 0.02: repaid early, never below zero
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule)


def test_installments_fall_due_monthly_from_the_start() -> None:
    schedule = build_schedule(D(12000), 4, TWELVE_PERCENT, "equal_principal", START)
    assert [i.n for i in schedule] == [1, 2, 3, 4]
    assert [i.due_date for i in schedule] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 1, 31), 2, date(2023, 3, 31)),  # back to the 31st: no drift to the 28th
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 1, 15), 12, date(2025, 1, 15)),
        (date(2024, 5, 31), 360, date(2054, 5, 31)),
        (date(2024, 1, 15), 0, date(2024, 1, 15)),
    ],
)
def test_due_date_keeps_the_day_of_month_clamped_to_the_months_end(
    start: date, n: int, due: date
) -> None:
    assert due_date(start, n) == due


@pytest.mark.parametrize(
    "change",
    [
        {"amount": D(0)},
        {"amount": D(-100)},
        {"amount": D("100.001")},
        {"amount": 12000.0},
        {"term_months": 0},
        {"term_months": 601},
        {"term_months": 12.0},
        {"annual_rate": D("-0.01")},
        {"annual_rate": 0.12},
        {"method": "balloon"},
        {"monthly_fee": D(-1)},
        {"monthly_fee": D("NaN")},
    ],
)
def test_invalid_loan_terms_raise_value_error(change: dict[str, object]) -> None:
    args: dict[str, object] = {
        "amount": D(12000),
        "term_months": 12,
        "annual_rate": TWELVE_PERCENT,
        "method": "equal_installment",
        "start": START,
    } | change
    with pytest.raises(ValueError):
        build_schedule(**args)  # type: ignore[arg-type]


def test_due_date_refuses_a_negative_month() -> None:
    with pytest.raises(ValueError):
        due_date(START, -1)
