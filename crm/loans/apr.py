"""The all-in APR of a loan (年化利率, IRR method) from the borrower's real monthly cash flows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from crm.loans.fees import CENT, Fee, monthly_total, require_decimal, upfront_total
from crm.loans.schedule import DECIMAL_CONTEXT, Installment, build_schedule

RATE_PLACES = Decimal("0.0001")
PERIOD_RATE_PLACES = Decimal("1e-12")
# Stop when the NPV is within 1e-9 of the largest flow (the amount, for a loan) and a tenth of a
# cent, or the bracket is narrower than WIDTH_TOLERANCE. The width is far below the 1e-12 that
# would do for a ten-thousand-yuan loan because a 100-billion one over 600 months moves its NPV by
# a cent when the rate moves by 1e-17; 28 digits resolve that, and the NPV test stops sooner.
NPV_TOLERANCE = Decimal("1e-9")
MAX_NPV_TOLERANCE = Decimal("0.001")
WIDTH_TOLERANCE = Decimal("1e-20")
FIRST_STEP = Decimal("0.01")
# A monthly rate beyond 1000 (100,000 % a month) is no loan; stop looking for a bracket there.
LAST_STEP = Decimal("1000")
MAX_ITERATIONS = 200
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Quote:
    """A loan's schedule with what it costs the borrower, fees included."""

    schedule: list[Installment]
    upfront_fees: Decimal  # CNY taken at disbursement
    net_disbursed: Decimal  # amount - upfront_fees: what the borrower actually receives
    total_interest: Decimal
    total_fees: Decimal  # upfront plus every installment's fee
    total_repayment: Decimal  # the installments' totals
    period_rate: Decimal  # IRR per month
    apr: Decimal  # period_rate × 12: the nominal APR the regulator's IRR method states
    effective_rate: Decimal  # (1 + period_rate)^12 − 1


def quote(
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal,
    method: str,
    fees: Sequence[Fee],
    start: date,
) -> Quote:
    """Schedule, fee totals and APR of a loan; every fee is the borrower's to pay."""
    amount = require_decimal(amount, "amount")
    schedule = build_schedule(
        amount, term_months, annual_rate, method, start, monthly_total(fees, amount)
    )
    upfront = upfront_total(fees, amount)
    if upfront >= amount:
        raise ValueError("upfront fees take the whole amount")
    period_rate = irr(loan_cash_flows(amount, schedule, upfront))
    with localcontext(DECIMAL_CONTEXT):
        effective = (1 + period_rate) ** 12 - 1
    periodic_fees = sum((i.fee for i in schedule), ZERO)
    return Quote(
        schedule=schedule,
        upfront_fees=upfront,
        net_disbursed=amount - upfront,
        total_interest=sum((i.interest for i in schedule), ZERO),
        total_fees=upfront + periodic_fees,
        total_repayment=sum((i.total for i in schedule), ZERO),
        period_rate=period_rate.quantize(PERIOD_RATE_PLACES, ROUND_HALF_UP),
        apr=(period_rate * 12).quantize(RATE_PLACES, ROUND_HALF_UP),
        effective_rate=effective.quantize(RATE_PLACES, ROUND_HALF_UP),
    )


def loan_cash_flows(
    amount: Decimal, schedule: Sequence[Installment], upfront_fees: Decimal
) -> list[Decimal]:
    """The borrower's flows by month: +net received at 0, −installment total at each month.

    Months without an installment (all but the last of a bullet loan) are zeros, so the IRR
    sees when money is really paid, not just how much.
    """
    months = max((i.n for i in schedule), default=0)
    flows = [ZERO] * (months + 1)
    flows[0] = amount - upfront_fees
    for installment in schedule:
        flows[installment.n] -= installment.total
    return flows


def npv(rate: Decimal, flows: Sequence[Decimal]) -> Decimal:
    """Net present value at a per-period `rate`: flows[0] now, flows[k] k periods later."""
    if rate <= -1:
        raise ValueError("rate must be above -1")
    with localcontext(DECIMAL_CONTEXT):
        return _npv(rate, flows)


def _npv(rate: Decimal, flows: Sequence[Decimal]) -> Decimal:
    # Horner's scheme from the last period back: the discount factor is applied once per term
    # as a running product, so no term needs a power of its own.
    discount = 1 / (1 + rate)
    total = ZERO
    for flow in reversed(flows):
        total = total * discount + flow
    return total


def irr(flows: Sequence[Decimal]) -> Decimal:
    """The per-period rate at which the flows' NPV is zero (raises ValueError("no_irr"))."""
    flows = list(flows)
    nonzero = [f for f in flows if f]
    if not any(f > 0 for f in nonzero) or not any(f < 0 for f in nonzero):
        raise ValueError("no_irr")
    with localcontext(DECIMAL_CONTEXT):
        scale = max(abs(f) for f in nonzero)
        tolerance = min(scale * NPV_TOLERANCE, MAX_NPV_TOLERANCE)

        def at(rate: Decimal) -> Decimal:
            return _npv(rate, flows)

        at_zero = at(ZERO)
        if abs(at_zero) < tolerance:
            return ZERO
        # As the rate grows the NPV tends to the first flow's sign; as it nears -100 % the
        # last flow dominates. A sign at 0 unlike either end brackets a root on that side.
        if _sign(at_zero) != _sign(nonzero[0]):
            bracket = _bracket(at, at_zero, lambda step: step)
        elif _sign(at_zero) != _sign(nonzero[-1]):
            bracket = _bracket(at, at_zero, lambda step: 1 / (1 + step) - 1)
        else:
            raise ValueError("no_irr")
        rate, at_rate = _brent(at, *bracket, tolerance)
        # the answer is only as good as the NPV it gives: a cent is the most a quote may miss by
        if abs(at_rate) >= CENT:
            raise ValueError("irr_not_converged")
        return rate


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def _bracket(
    at: Callable[[Decimal], Decimal], at_zero: Decimal, rate_of: Callable[[Decimal], Decimal]
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Two rates whose NPVs differ in sign: steps doubling from 1 % per period away from 0."""
    low, at_low = ZERO, at_zero
    step = FIRST_STEP
    while step <= LAST_STEP:
        rate = rate_of(step)
        value = at(rate)
        if _sign(value) != _sign(at_low):
            return low, at_low, rate, value
        low, at_low = rate, value
        step *= 2
    raise ValueError("no_irr")


def _brent(
    at: Callable[[Decimal], Decimal],
    a: Decimal,
    fa: Decimal,
    b: Decimal,
    fb: Decimal,
    tolerance: Decimal,
) -> tuple[Decimal, Decimal]:
    """Brent's root finder (as Numerical Recipes' zbrent): inverse quadratic interpolation or
    secant steps while they behave, bisection when they do not: (root, its NPV)."""
    c, fc = b, fb
    d = e = b - a
    half_width = WIDTH_TOLERANCE / 2
    for _ in range(MAX_ITERATIONS):
        if _sign(fb) == _sign(fc):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        middle = (c - b) / 2
        if abs(fb) < tolerance or abs(middle) <= half_width:
            return b, fb
        if abs(e) >= half_width and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2 * middle * s, 1 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2 * middle * q * (q - r) - (b - a) * (r - 1))
                q = (q - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            p = abs(p)
            if 2 * p < min(3 * middle * q - abs(half_width * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = middle
        else:
            d = e = middle
        a, fa = b, fb
        b += d if abs(d) > half_width else half_width.copy_sign(middle)
        fb = at(b)
    raise ValueError("irr_not_converged")
