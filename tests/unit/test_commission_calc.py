"""The commission rules without a database: plan validation, tiers, the monthly cap, clawbacks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from crm.commissions.calc import (
    CappedMonth,
    LoanFacts,
    PaidLine,
    Payee,
    cap_lines,
    cap_refunds,
    clawback_lines,
    fee_lines,
)
from crm.commissions.plan import PlanTerms

SPLIT = {"agent": "0.10", "team_lead": "0.05", "org": "0"}


def terms(**overrides) -> PlanTerms:
    return PlanTerms.model_validate(
        {"service_fee_split": SPLIT, "channel_fee_split": SPLIT, **overrides}
    )


def facts(loan_id: int, amount: str, fee: str, day: int, plan: PlanTerms) -> LoanFacts:
    return LoanFacts(
        loan_id=loan_id,
        amount=Decimal(amount),
        fees={"service_fee": Decimal(fee), "channel_fee": Decimal(0)},
        disbursed_at=datetime(2026, 11, day, tzinfo=UTC),
        month="2026-11",
        agent_id=7,
        team_lead_id=None,
        partner_org_id=None,
        accrues_in={"service_fee": "2026-11", "channel_fee": "2026-11"},
        terms=plan,
    )


def test_shares_above_the_whole_fee_or_tiers_not_starting_at_zero_are_refused():
    with pytest.raises(ValidationError, match="exceed the whole fee"):
        terms(service_fee_split={"agent": "0.6", "team_lead": "0.3", "org": "0.2"})
    with pytest.raises(ValidationError, match="start at min_volume 0"):
        terms(tiers=[{"min_volume": "1000", "agent_rate": "0.1"}])
    with pytest.raises(ValidationError, match="exceed the whole fee"):
        terms(tiers=[{"min_volume": "0", "agent_rate": "0.99"}])


def test_a_marginal_band_splits_one_loan_across_tiers():
    plan = terms(
        tiers=[
            {"min_volume": "0", "agent_rate": "0.10"},
            {"min_volume": "1000", "agent_rate": "0.15"},
        ],
        tier_mode="marginal",
    )
    lines = fee_lines([facts(1, "999", "10", 1, plan), facts(2, "2", "10", 2, plan)], "2026-11")
    agent = [(x.loan_id, x.amount, x.rate) for x in lines if x.payee.role == "agent"]
    # the second loan straddles the tier: 1 at 10%, 1 at 15%, so 12.5% of its fee
    assert agent == [(1, Decimal("1.00"), Decimal("0.1")), (2, Decimal("1.25"), Decimal("0.125"))]


def test_each_line_is_rounded_once_half_up_to_the_cent():
    # 10% of 0.05 is 0.005: half up gives 0.01 where banker's rounding would give 0.00
    lines = fee_lines([facts(1, "1000", "0.05", 1, terms())], "2026-11")
    assert [x.amount for x in lines if x.payee.role == "agent"] == [Decimal("0.01")]


def test_the_cap_line_brings_an_agent_down_to_the_cap_and_no_further():
    agent, lead = Payee.user(7, "agent"), Payee.user(8, "team_lead")
    lines = fee_lines([facts(1, "50000", "3000", 3, terms())], "2026-11")
    capped = cap_lines(lines, {agent.key: Decimal("250.00"), lead.key: Decimal("1")})
    assert [(c.payee, c.amount) for c in capped] == [(agent, Decimal("-50.00"))]
    assert cap_lines(lines, {agent.key: Decimal("300.00")}) == []


def test_a_clawback_reverses_each_paid_line_once_and_only_for_the_loans_named():
    agent = Payee.user(7, "agent")
    paid = [
        PaidLine(11, agent, 1, Decimal("400"), Decimal("0.1"), Decimal("40.00")),
        PaidLine(12, agent, 2, Decimal("100"), Decimal("0.1"), Decimal("10.00")),
    ]
    (line,) = clawback_lines(paid, {1: "贷款取消"})
    assert (line.amount, line.loan_id, line.dedupe_key, line.note) == (
        Decimal("-40.00"),
        1,
        "clawback:11",
        "贷款取消",
    )


def test_a_team_lead_selling_their_own_loan_gets_both_shares_as_two_lines():
    own = facts(1, "10000", "100", 1, terms())
    own = LoanFacts(**{**{f: getattr(own, f) for f in own.__slots__}, "team_lead_id": 7})
    lines = fee_lines([own], "2026-11")
    service = [(x.payee.role, x.amount) for x in lines if x.kind == "service_fee"]
    assert service == [("agent", Decimal("10.00")), ("team_lead", Decimal("5.00"))]
    assert len({x.dedupe_key for x in lines}) == len(lines)


def test_clawbacks_of_a_capped_month_take_back_only_what_it_paid_over_the_months():
    # 300 earned on three loans of 100, capped at 100; the loans are cancelled one a month
    agent, d = Payee.user(1, "agent"), Decimal

    def refund(before: str, now: str) -> Decimal:
        month = CappedMonth(agent, "2026-10", d(300), d(100), d(before), d(now))
        return sum((line.amount for line in cap_refunds([month])), d(0))

    # each clawback line reverses 100; what comes back keeps the month's pay at min(left, cap)
    assert [refund("0", "100"), refund("100", "100"), refund("200", "100")] == [100, 100, 0]
    # net over the three months: −100, all the cap had let the agent earn
    assert (
        sum(r - 100 for r in (refund("0", "100"), refund("100", "100"), refund("200", "100")))
        == -100
    )
    # two at once, then the third: the same total
    assert refund("0", "200") - 200 + refund("200", "100") - 100 == -100
