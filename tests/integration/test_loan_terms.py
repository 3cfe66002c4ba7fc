"""An application's terms once priced: a loan is paid out on the fees and repayment method its
contract states, whatever the product says later ("running loans keep theirs", 明示收费); an
application under way outlives HQ's offer of its product to the partner (an offer governs new
business)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.loan_helpers import (
    apply,
    disburse,
    hq_world,
    make_lender,
    make_product,
    post,
    product_body,
    signed_application,
)


def test_a_fee_added_to_the_product_after_signing_is_not_charged_on_the_loan(client, auth, make):
    w = hq_world(make, auth, client)
    app = signed_application(client, make, w)
    detail = client.get(f"/api/v1/applications/{app['id']}", headers=w.agent_h).json
    (contract,) = detail["contracts"]
    html = client.get(
        f"/api/v1/applications/{app['id']}/contracts/{contract['version']}.html",
        headers=w.agent_h,
    ).data.decode()
    assert "账户管理费" not in html  # the borrower signed a contract without this fee
    signed_schedule_total = sum(Decimal(r["total"]) for r in detail["schedule"])

    # the lender edits the product afterwards: a monthly account fee, still under the cap
    body = product_body(w.lender_id)
    body.pop("lender_id")
    body["fees"] = [{"name": "账户管理费", "basis": "monthly_fixed", "value": "50"}]
    edited = client.put(f"/api/v1/products/{w.product['id']}", json=body, headers=w.admin)
    assert edited.status_code == 200, edited.json

    loan = disburse(client, w, app["id"], "50000.00")
    assert loan.status_code == 201, loan.json
    fees = [Decimal(r["fee"]) for r in loan.json["schedule"]]
    assert fees == [Decimal("0.00")] * 12, fees
    assert sum(Decimal(r["total"]) for r in loan.json["schedule"]) <= signed_schedule_total + 1


def test_a_repayment_method_changed_after_signing_does_not_change_the_loan(client, auth, make):
    w = hq_world(make, auth, client)
    app = signed_application(client, make, w)
    body = product_body(w.lender_id)
    body.pop("lender_id")
    body["repayment_method"] = "bullet"
    assert (
        client.put(f"/api/v1/products/{w.product['id']}", json=body, headers=w.admin).status_code
        == 200
    )

    loan = disburse(client, w, app["id"], "50000.00")
    assert loan.status_code == 201, loan.json
    assert loan.json["repayment_method"] == "equal_installment"
    assert len(loan.json["schedule"]) == 12


def test_a_partner_application_is_still_readable_after_the_offer_is_withdrawn(client, auth, make):
    hq, partner = make.org("hq"), make.org("partner")
    admin = auth.login("admin", org=hq)
    product = make_product(client, admin, make_lender(client, admin))
    offers = f"/api/v1/products/{product['id']}/offers"
    assert client.put(offers, json={"org_ids": [partner.id]}, headers=admin).status_code == 200

    agent = make.user("partner_agent", org=partner)
    agent_h = auth.headers_for(agent.username)
    lead = make.lead(org=partner, owner=agent)
    app = apply(client, agent_h, lead.id, product["id"])
    assert client.get(f"/api/v1/applications/{app['id']}", headers=agent_h).status_code == 200

    assert client.put(offers, json={"org_ids": []}, headers=admin).status_code == 200
    listed = client.get("/api/v1/applications", headers=agent_h).json
    assert [a["id"] for a in listed["items"]] == [app["id"]]  # the list still shows it
    got = client.get(f"/api/v1/applications/{app['id']}", headers=agent_h)
    assert got.status_code == 200, got.json


def test_a_signed_partner_application_can_be_disbursed_after_the_offer_is_withdrawn(
    client, auth, make
):
    hq, partner = make.org("hq"), make.org("partner")
    admin = auth.login("admin", org=hq)
    product = make_product(client, admin, make_lender(client, admin))
    offers = f"/api/v1/products/{product['id']}/offers"
    assert client.put(offers, json={"org_ids": [partner.id]}, headers=admin).status_code == 200
    agent = make.user("partner_agent", org=partner)
    agent_h = auth.headers_for(agent.username)
    reviewer_h = auth.login("reviewer", org=partner)
    partner_admin = auth.login("partner_admin", org=partner)
    lead = make.lead(org=partner, owner=agent, stage="qualified", reached_rank=2)
    app = apply(client, agent_h, lead.id, product["id"])
    base = f"/applications/{app['id']}"
    assert post(client, agent_h, f"{base}/submit").status_code == 200
    assert post(client, reviewer_h, f"{base}/decision", {"approved": True}).status_code == 200
    assert post(client, agent_h, f"{base}/contract").status_code == 201
    assert post(client, agent_h, f"{base}/contract/sign", {}).status_code == 200

    # HQ stops offering the product to new business after the lender committed to this loan
    assert client.put(offers, json={"org_ids": []}, headers=admin).status_code == 200
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    paid = post(
        client, partner_admin, f"{base}/disburse", {"amount": "50000.00", "disbursed_at": when}
    )
    assert paid.status_code == 201, paid.json
