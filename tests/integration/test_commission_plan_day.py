"""GET /commissions/me is "the month so far, worked out live with the settlement's rules"; the
settlement picks the plan version by the org-local payout date (Asia/Shanghai). In the first
eight hours of a Shanghai month the console reads the previous month's plan version."""

from __future__ import annotations

from datetime import UTC, datetime


def _plan(effective_from: str, rate: str) -> dict:
    return {
        "name": f"方案 {effective_from}",
        "effective_from": effective_from,
        "service_fee_split": {"agent": rate},
        "channel_fee_split": {"agent": rate},
        "tiers": [{"min_volume": "0", "agent_rate": rate}],
    }


def test_the_month_so_far_uses_the_plan_in_force_in_the_orgs_month(client, auth, make, monkeypatch):
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    agent = make.user("agent", org=hq)
    for body in (_plan("2026-11-01", "0.10"), _plan("2026-12-01", "0.20")):
        assert (
            client.post("/api/v1/commission-plans", json=body, headers=finance).status_code == 201
        )
    # 2026-12-01 01:00 in Shanghai: December there, still 30 November in UTC
    monkeypatch.setattr(
        "crm.commissions.estimate.utcnow", lambda: datetime(2026, 11, 30, 17, tzinfo=UTC)
    )
    month = client.get("/api/v1/commissions/me", headers=auth.headers_for(agent.username)).json
    assert month["period"] == "2026-12"
    assert month["tier_rate"] == "0.20", month
