"""Turning a period's loans into statement lines: each fee's share per payee, the agent's tier,
the monthly cap and clawbacks. Pure: the settlement job loads the facts and stores the lines.

Rounding rule: every line is rounded once, half up, to the cent, from its exact base × rate; a
statement's total is the sum of its rounded lines, so lines always add up to the total."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from crm.commissions.plan import PlanTerms

CENT = Decimal("0.01")
FEES = ("service_fee", "channel_fee")
RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Payee:
    key: str  # "user:12" | "org:3"
    role: str  # agent | team_lead | partner_org
    user_id: int | None = None
    org_id: int | None = None

    @classmethod
    def user(cls, user_id: int, role: str) -> Payee:
        return cls(f"user:{user_id}", role, user_id=user_id)

    @classmethod
    def org(cls, org_id: int) -> Payee:
        return cls(f"org:{org_id}", "partner_org", org_id=org_id)


@dataclass(frozen=True, slots=True)
class LoanFacts:
    loan_id: int
    amount: Decimal
    fees: dict[str, Decimal]  # service_fee, channel_fee
    disbursed_at: datetime
    month: str  # the org-local month of disbursement, "2026-11"
    agent_id: int | None
    team_lead_id: int | None
    partner_org_id: int | None  # the loan's org, when it is a partner
    accrues_in: dict[str, str | None]  # fee -> the period its shares accrue in (None: not yet)
    terms: PlanTerms  # the plan version in force when the loan was paid out


@dataclass(frozen=True, slots=True)
class LineDraft:
    payee: Payee
    kind: str
    amount: Decimal
    loan_id: int | None = None
    base: Decimal | None = None
    rate: Decimal | None = None
    note: str | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class PaidLine:
    """A fee line already in an approved statement, which a clawback reverses."""

    line_id: int
    payee: Payee
    loan_id: int
    base: Decimal | None
    rate: Decimal | None
    amount: Decimal


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def agent_rates(loans: Iterable[LoanFacts]) -> dict[int, tuple[Decimal, Decimal]]:
    """For loans under tiered plans: loan id -> (the agent's share of its fees as an exact
    fraction numerator over the loan amount, i.e. Σ band volume × band rate, and the amount).

    Volume is the agent's loans paid out in the loan's month; `whole` gives every loan the rate
    of the tier that total reaches, `marginal` walks the month in order of payout and pays each
    part of a loan at the band its volume falls in."""
    months: defaultdict[tuple[int, str], list[LoanFacts]] = defaultdict(list)
    for loan in loans:
        if loan.terms.tiers and loan.agent_id is not None:
            months[loan.agent_id, loan.month].append(loan)
    rates: dict[int, tuple[Decimal, Decimal]] = {}
    for month_loans in months.values():
        month_loans.sort(key=lambda f: (f.disbursed_at, f.loan_id))
        total = sum((f.amount for f in month_loans), Decimal(0))
        volume = Decimal(0)
        for loan in month_loans:
            bands = loan.terms.bands()
            if loan.terms.tier_mode == "whole":
                weighted = loan.amount * _tier_rate(bands, total)
            else:
                weighted = _banded(bands, volume, volume + loan.amount)
            rates[loan.loan_id] = (weighted, loan.amount)
            volume += loan.amount
    return rates


def _tier_rate(bands: list[tuple[Decimal, Decimal | None, Decimal]], volume: Decimal) -> Decimal:
    """The rate of the highest tier `volume` reaches (tiers start at 0, so one always is)."""
    return [rate for low, _, rate in bands if low <= volume][-1]


def _banded(
    bands: list[tuple[Decimal, Decimal | None, Decimal]], start: Decimal, end: Decimal
) -> Decimal:
    """Σ over bands of (the part of [start, end) inside the band) × its rate."""
    weighted = Decimal(0)
    for low, high, rate in bands:
        top = end if high is None else min(end, high)
        if top > max(start, low):
            weighted += (top - max(start, low)) * rate
    return weighted


def fee_lines(loans: Sequence[LoanFacts], period: str) -> list[LineDraft]:
    """Each payee's share of each fee that accrues in `period`."""
    tiered = agent_rates(loans)
    lines: list[LineDraft] = []
    for loan in loans:
        for fee in FEES:
            base = loan.fees[fee]
            if loan.accrues_in.get(fee) != period or not base:
                continue
            split = getattr(loan.terms, f"{fee}_split")
            shares: list[tuple[Payee, Decimal, Decimal]] = []
            if loan.agent_id is not None:
                payee = Payee.user(loan.agent_id, "agent")
                if loan.loan_id in tiered:
                    weighted, amount = tiered[loan.loan_id]
                    shares.append((payee, base * weighted / amount, weighted / amount))
                else:
                    shares.append((payee, base * split.agent, split.agent))
            if loan.team_lead_id is not None:
                payee = Payee.user(loan.team_lead_id, "team_lead")
                shares.append((payee, base * split.team_lead, split.team_lead))
            if loan.partner_org_id is not None:
                shares.append((Payee.org(loan.partner_org_id), base * split.org, split.org))
            for payee, exact, rate in shares:
                if not rate:
                    continue
                lines.append(
                    LineDraft(
                        payee=payee,
                        kind=fee,
                        amount=money(exact),
                        loan_id=loan.loan_id,
                        base=base,
                        rate=rate.quantize(RATE_PLACES, ROUND_HALF_UP),
                        dedupe_key=f"loan:{loan.loan_id}:{fee}:{payee.role}:{payee.key}",
                    )
                )
    return lines


def cap_lines(lines: Sequence[LineDraft], caps: dict[str, Decimal]) -> list[LineDraft]:
    """A negative line bringing an agent's month down to their plan's cap, if they passed it."""
    earned: defaultdict[str, Decimal] = defaultdict(Decimal)
    payees: dict[str, Payee] = {}
    for line in lines:
        if line.payee.role == "agent" and line.kind in FEES:
            earned[line.payee.key] += line.amount
            payees[line.payee.key] = line.payee
    return [
        LineDraft(payee=payees[key], kind="cap", amount=caps[key] - total, note="超出月度上限")
        for key, total in sorted(earned.items())
        if key in caps and total > caps[key]
    ]


def clawback_lines(paid: Iterable[PaidLine], reasons: dict[int, str]) -> list[LineDraft]:
    """Reverse, line for line, what was paid on loans that were cancelled or went overdue
    within the clawback window (`reasons`: loan id -> why)."""
    return [
        LineDraft(
            payee=line.payee,
            kind="clawback",
            amount=-line.amount,
            loan_id=line.loan_id,
            base=line.base,
            rate=line.rate,
            note=reasons[line.loan_id],
            dedupe_key=f"clawback:{line.line_id}",
        )
        for line in paid
        if line.loan_id in reasons
    ]


@dataclass(frozen=True, slots=True)
class CappedMonth:
    """An approved agent statement that the monthly cap cut, whose loans are being clawed back:
    its fee lines' sum, the cap it was cut to, and the shares clawed back before and now."""

    payee: Payee
    period: str
    earned: Decimal
    cap: Decimal
    clawed_before: Decimal
    clawed_now: Decimal


def cap_refunds(months: Iterable[CappedMonth]) -> list[LineDraft]:
    """What clawback_lines reverses beyond what a capped month paid: a share the cap had cut was
    never paid, so it is not taken back. The month should end up paying min(earned − every share
    clawed back, cap); the line returns the difference to what the full reversals leave."""
    lines = []
    for m in months:
        before = min(m.earned - m.clawed_before, m.cap)
        after = min(m.earned - m.clawed_before - m.clawed_now, m.cap)
        refund = money(after - before + m.clawed_now)
        if refund > 0:
            note = f"{m.period} 的月度上限已扣减此部分，不予重复追回"
            lines.append(LineDraft(payee=m.payee, kind="clawback", amount=refund, note=note))
    return lines
