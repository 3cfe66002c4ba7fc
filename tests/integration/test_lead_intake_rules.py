"""Lead intake and the private-pool limit, as the API answers them."""

from __future__ import annotations

import pytest

from tests.integration.test_claims import org_with
from tests.integration.test_leads_api import new_lead


@pytest.mark.parametrize("prefixed", ["86 0755 8888 1234", "86-755-8888-1234"])
def test_a_landline_with_a_leading_86_is_accepted_like_plus_86(client, auth, prefixed):
    # DESIGN.md: "A leading 86/+86/0086, spaces, dashes and full-width digits are fine."
    headers = auth.login("manager")
    with_plus = client.post(
        "/api/v1/leads", json=new_lead(phone="+86 0755 8888 1234"), headers=headers
    )
    assert with_plus.status_code == 201, with_plus.json
    response = client.post("/api/v1/leads", json=new_lead(phone=prefixed), headers=headers)
    # the same number: reported as the duplicate it is, not refused as an invalid phone
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "duplicate_lead"


def test_an_agent_cannot_own_more_than_max_private_leads_by_creating_leads(client, make, auth):
    # DESIGN.md: "An agent may own at most max_private_leads leads"
    org = org_with(make, max_private_leads=2)
    agent = make.user("agent", org=org)
    headers = auth.headers_for(agent.username)
    for n in range(4):
        client.post("/api/v1/leads", json=new_lead(phone=f"1390000000{n}"), headers=headers)
    mine = client.get("/api/v1/leads?pool=mine", headers=headers).json
    assert mine["total"] <= 2, f"the agent owns {mine['total']} leads with a limit of 2"
