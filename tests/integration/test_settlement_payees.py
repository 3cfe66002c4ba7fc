"""An HQ manager may work a partner's lead (leads:assign across orgs) and sell it; the loan is the
partner's and the manager is its agent. When the same manager also sold an HQ loan that month,
both orgs' settlements state the payee "user:<id>" for the month; statements are unique per
(period, payee), so one settlement cannot be stored and the month never settles."""

from __future__ import annotations

from tests.integration.test_commissions import at, loan
from tests.loan_helpers import apply, make_product
from tests.loan_helpers import make_lender as api_lender
from tests.loan_rows import make_lender


def test_a_manager_with_loans_in_two_orgs_does_not_break_the_months_settlement(client, auth, make):
    hq, partner = make.org("hq"), make.org("partner")
    admin = auth.login("admin", org=hq)
    manager = make.user("manager", org=hq)
    manager_h = auth.headers_for(manager.username)
    finance = auth.login("finance", org=hq)

    # the API lets the HQ manager sell a partner's lead: the application is the partner's,
    # its agent the HQ manager
    product = make_product(client, admin, api_lender(client, admin, "平安银行"))
    offers = f"/api/v1/products/{product['id']}/offers"
    assert client.put(offers, json={"org_ids": [partner.id]}, headers=admin).status_code == 200
    partner_lead = make.lead(org=partner)
    app = apply(client, manager_h, partner_lead.id, product["id"])
    assert (app["org_id"], app["agent_id"]) == (partner.id, manager.id)

    # one loan of each org sold by the manager in November (written as the payouts would be)
    hq_team = make.team(org=hq, name="总部一组")
    partner_team = make.team(org=partner, name="深圳一组")
    _, hq_product = make_lender(hq)
    _, partner_product = make_lender(partner, "深圳农商行")
    loan(make, hq, hq_product, manager, hq_team, "50000", "1000", "500", at(3))
    loan(make, partner, partner_product, manager, partner_team, "30000", "900", "300", at(4))
    plan = {
        "name": "标准方案",
        "effective_from": "2026-10-01",
        "service_fee_split": {"agent": "0.10", "org": "0.30"},
        "channel_fee_split": {"agent": "0.10", "org": "0.30"},
    }
    assert client.post("/api/v1/commission-plans", json=plan, headers=finance).status_code == 201

    started = client.post("/api/v1/settlements", json={"period": "2026-11"}, headers=finance)
    assert started.status_code == 202, started.json
    job = client.get(f"/api/v1/jobs/{started.json['job_id']}", headers=finance).json
    statuses = [
        client.get(f"/api/v1/settlements/{sid}", headers=finance).json["status"]
        for sid in started.json["settlement_ids"]
    ]
    assert job["status"] == "finished", job
    assert statuses == ["draft", "draft"], statuses
