"""Lender names are unique within an org (lenders UNIQUE(org_id, name)); a partner's lender of
the same name must not stop headquarters from adding its own."""

from __future__ import annotations


def test_hq_can_add_a_lender_whose_name_a_partner_already_uses(client, auth, make):
    hq, partner = make.org("hq"), make.org("partner")
    partner_admin = auth.login("partner_admin", org=partner)
    hq_admin = auth.login("admin", org=hq)
    body = {"name": "深圳农商行", "kind": "bank"}
    assert client.post("/api/v1/lenders", json=body, headers=partner_admin).status_code == 201
    # the same name inside the partner org is refused, as it should be
    again = client.post("/api/v1/lenders", json=body, headers=partner_admin)
    assert again.status_code == 409

    response = client.post("/api/v1/lenders", json=body, headers=hq_admin)
    assert response.status_code == 201, response.json
    assert response.json["org_id"] == hq.id
