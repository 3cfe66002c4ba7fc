"""Loan fees as the contract states them: who collects, on what basis, and what they cost in CNY."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEE_BASES = ("upfront_rate", "upfront_fixed", "monthly_rate", "monthly_fixed")
COLLECTORS = ("broker", "lender")
# The borrower pays every fee; the contract shows it next to the basis, so it is a constant here
# rather than a field someone could set to the lender and silently drop from the APR.
PAYER = "borrower"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """`value` rounded to the cent, half up, as amounts are printed on a contract."""
    return value.quantize(CENT, ROUND_HALF_UP)


def require_decimal(value: object, name: str) -> Decimal:
    """`value` as a finite Decimal; a float is refused because it has already lost the cents."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal, not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be finite")
    return value


@dataclass(frozen=True, slots=True)
class Fee:
    """One fee: `*_rate` bases are a fraction of the loan amount, `*_fixed` bases are CNY."""

    name: str  # as shown to the borrower, e.g. "服务费", "账户管理费"
    collector: str  # "broker" (our service fee) or "lender"
    basis: str  # one of FEE_BASES
    value: Decimal

    def __post_init__(self) -> None:
        if self.basis not in FEE_BASES:
            raise ValueError(f"unknown fee basis {self.basis!r}")
        if self.collector not in COLLECTORS:
            raise ValueError(f"unknown fee collector {self.collector!r}")
        value = require_decimal(self.value, "fee value")
        if value < 0:
            raise ValueError("fee value must not be negative")
        object.__setattr__(self, "value", value)

    @property
    def payer(self) -> str:
        return PAYER

    def upfront(self, amount: Decimal) -> Decimal:
        """CNY charged at disbursement (0 for the monthly bases)."""
        return self._charge(amount, "upfront")

    def monthly(self, amount: Decimal) -> Decimal:
        """CNY added to every installment (0 for the upfront bases)."""
        return self._charge(amount, "monthly")

    def _charge(self, amount: Decimal, when: str) -> Decimal:
        if not self.basis.startswith(when):
            return ZERO
        if self.basis.endswith("_rate"):
            return cents(amount * self.value)
        return cents(self.value)


def upfront_total(fees: Iterable[Fee], amount: Decimal) -> Decimal:
    """CNY of the fees taken at disbursement, each rounded to the cent as the contract lists it."""
    return sum((fee.upfront(amount) for fee in fees), ZERO)


def monthly_total(fees: Iterable[Fee], amount: Decimal) -> Decimal:
    """CNY of all fees added to each installment."""
    return sum((fee.monthly(amount) for fee in fees), ZERO)
