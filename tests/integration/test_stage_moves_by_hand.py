"""Applying, the lender's decision and the payout are the loan application's to record: an agent
cannot move a lead to them by hand (the stage endpoint, a call's outcome), or the funnel and its
KPIs would count approvals nobody reviewed and loans nobody paid out."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_claims import org_with
from tests.integration.test_web_security import web_login

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("stage", "target", "allowed"),
    [
        ("qualified", "applied", ["lost"]),
        ("applied", "approved", ["lost"]),
        ("applied", "rejected", ["lost"]),
        ("approved", "disbursed", ["lost"]),
    ],
)
def test_an_agent_cannot_move_a_lead_to_a_stage_its_application_records(
    client, make, auth, stage, target, allowed
):
    org = org_with(make)
    agent = make.user("agent", org=org)
    lead = make.lead(org=org, owner=agent, stage=stage)
    headers = auth.headers_for(agent.username)
    moved = client.post(f"/api/v1/leads/{lead.id}/stage", json={"stage": target}, headers=headers)
    assert moved.status_code == 422, moved.json
    assert moved.json["error"]["code"] == "invalid_transition"
    assert moved.json["error"]["details"] == {"from": stage, "to": target, "allowed": allowed}
    assert client.get(f"/api/v1/leads/{lead.id}", headers=headers).json["stage"] == stage


def test_the_lead_page_offers_only_the_moves_made_by_hand(client, make):
    org = org_with(make)
    agent = make.user("agent", org=org)
    lead = make.lead(org=org, owner=agent, stage="qualified")
    response, _ = web_login(client, agent.username)
    assert response.status_code == 302
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    config = json.loads(page.split('id="lead-page">', 1)[1].split("</script>", 1)[0])
    assert config["transitions"]["qualified"] == ["lost"]
    assert config["transitions"]["contacted"] == ["lost", "qualified"]
