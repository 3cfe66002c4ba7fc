"""A clawback takes back what a loan's share actually paid: in a month the cap cut, a share the
cap had already taken off was never paid, so it is not taken back a second time."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.loans.models import Loan
from tests.integration.test_commissions import at, loan, settle
from tests.loan_rows import make_lender


def test_a_clawback_never_takes_back_more_than_the_capped_month_paid(client, auth, make):
    hq = make.org("hq")
    lead_user = make.user("team_lead", org=hq)
    agent = make.user("agent", org=hq)
    team = make.team(org=hq, name="一组", lead_user_id=lead_user.id)
    _, product = make_lender(hq)
    finance = auth.login("finance", org=hq)
    plan = {
        "name": "封顶方案",
        "effective_from": "2026-10-01",
        "service_fee_split": {"agent": "0.10"},
        "channel_fee_split": {},
        "agent_monthly_cap": "100.00",
        "clawback_days": 90,
    }
    assert client.post("/api/v1/commission-plans", json=plan, headers=finance).status_code == 201
    kept = loan(make, hq, product, agent, team, "50000", "1000", "0", at(5, month=10))
    cancelled = loan(make, hq, product, agent, team, "50000", "1000", "0", at(6, month=10))

    (october,) = settle(client, finance, "2026-10")
    key = f"user:{agent.id}"
    oct_total = {s["payee_key"]: Decimal(s["total"]) for s in october["statements"]}[key]
    assert oct_total == Decimal("100.00")  # 200.00 earned, capped at 100.00
    assert (
        client.post(f"/api/v1/settlements/{october['id']}/approve", headers=finance).status_code
        == 200
    )

    with db.unit_of_work(SYSTEM) as session:
        session.execute(
            update(Loan)
            .where(Loan.id == cancelled.id)
            .values(status="cancelled", cancelled_at=at(10), cancel_reason="借款人撤回")
        )
    (november,) = settle(client, finance, "2026-11")
    nov_total = {s["payee_key"]: Decimal(s["total"]) for s in november["statements"]}.get(
        key, Decimal(0)
    )
    # Without the cancelled loan October would have paid 100.00 (under the cap): the agent's
    # net over both months must stay 100.00 for the loan `kept`.
    assert oct_total + nov_total == Decimal("100.00"), (oct_total, nov_total, kept.id)
