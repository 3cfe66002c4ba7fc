"""Repayment schedules (还款计划) for the four repayment methods, every amount to the cent."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from crm.loans.fees import ZERO, cents, require_decimal

# 等额本息, 等额本金, 先息后本, 到期还本付息
METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
MAX_TERM_MONTHS = 600
# Fixed precision whatever the caller's context says, so a schedule is the same everywhere; only
# the explicit cents() rounding (half up) reaches the borrower.
DECIMAL_CONTEXT = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)

Rows = list[tuple[Decimal, Decimal]]  # (principal, interest) per month


@dataclass(frozen=True, slots=True)
class Installment:
    """One month's due amounts; `n` counts months from the start (1 = a month after it)."""

    n: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


def due_date(start: date, n: int) -> date:
    """`n` months after `start` on the same day, clamped to the month's end.

    Always counted from `start`, never from the previous due date, so a loan started on 31 Jan
    falls due on 28/29 Feb and then 31 Mar again rather than drifting to the 28th.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    months = start.month - 1 + n
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def build_schedule(
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal,
    method: str,
    start: date,
    monthly_fee: Decimal = Decimal("0"),
) -> list[Installment]:
    """The installments of a loan; principals always add up exactly to `amount`.

    `annual_rate` is the nominal yearly rate as a fraction ("0.12" = 12 %); a month's rate is a
    twelfth of it. `monthly_fee` is added to every installment (a bullet loan's one installment
    carries all `term_months` of them).
    """
    amount = require_decimal(amount, "amount")
    annual_rate = require_decimal(annual_rate, "annual_rate")
    monthly_fee = require_decimal(monthly_fee, "monthly_fee")
    _validate(amount, term_months, annual_rate, method, monthly_fee)
    amount = cents(amount)  # 12000 -> 12000.00, so every principal prints alike
    with localcontext(DECIMAL_CONTEXT):
        rate = annual_rate / 12
        fee = cents(monthly_fee)
        if method == "bullet":
            # simple interest over the whole term, paid with the principal at the end
            interest = cents(amount * rate * term_months)
            end = due_date(start, term_months)
            return [Installment(term_months, end, amount, interest, fee * term_months)]
        rows = _ROWS[method](amount, term_months, rate)
        return [
            Installment(n, due_date(start, n), principal, interest, fee)
            for n, (principal, interest) in enumerate(rows, 1)
        ]


def _validate(
    amount: Decimal, term_months: int, annual_rate: Decimal, method: str, monthly_fee: Decimal
) -> None:
    if amount <= 0:
        raise ValueError("amount must be positive")
    if amount != cents(amount):
        raise ValueError("amount must be in whole cents")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise ValueError("term_months must be an integer")
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise ValueError(f"term_months must be between 1 and {MAX_TERM_MONTHS}")
    if annual_rate < 0:
        raise ValueError("annual_rate must not be negative")
    if monthly_fee < 0:
        raise ValueError("monthly_fee must not be negative")
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")


def _equal_installment(amount: Decimal, n: int, rate: Decimal) -> Rows:
    if rate:
        growth = (1 + rate) ** n  # once, not per month: Decimal powers are slow
        payment = cents(amount * rate * growth / (growth - 1))
    else:
        payment = cents(amount / n)
    return _amortize(amount, n, rate, lambda interest: payment - interest)


def _equal_principal(amount: Decimal, n: int, rate: Decimal) -> Rows:
    share = cents(amount / n)
    return _amortize(amount, n, rate, lambda interest: share)


def _amortize(
    amount: Decimal, n: int, rate: Decimal, principal_due: Callable[[Decimal], Decimal]
) -> Rows:
    """Interest on the declining balance; the last month repays whatever balance is left."""
    rows: Rows = []
    balance = amount
    for _ in range(n - 1):
        interest = cents(balance * rate)
        # a share rounded up (10.00 over 600 months is 0.02 a month) would repay a small loan
        # before its end and then go negative; stop at zero instead
        principal = min(principal_due(interest), balance)
        balance -= principal
        rows.append((principal, interest))
    rows.append((balance, cents(balance * rate)))
    return rows


def _interest_only(amount: Decimal, n: int, rate: Decimal) -> Rows:
    interest = cents(amount * rate)
    return [(ZERO, interest)] * (n - 1) + [(amount, interest)]


_ROWS: dict[str, Callable[[Decimal, int, Decimal], Rows]] = {
    "equal_installment": _equal_installment,
    "equal_principal": _equal_principal,
    "interest_only": _interest_only,
}
