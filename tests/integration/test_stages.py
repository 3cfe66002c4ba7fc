"""Moving leads along the funnel through the API: allowed steps, refusals and who may move them."""

from __future__ import annotations

import pytest


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def agent(make, auth, org):
    """An agent of `org`, logged in: (user, request headers)."""
    user = make.user("agent", org=org)
    return user, auth.headers_for(user.username)


def move(client, lead_id, headers, **body):
    return client.post(f"/api/v1/leads/{lead_id}/stage", json=body, headers=headers)


def latest_event(client, lead_id, headers):
    return client.get(f"/api/v1/leads/{lead_id}/timeline", headers=headers).json["items"][0]


def test_owner_moves_a_lead_one_stage_on_and_the_timeline_records_it(client, make, org, agent):
    user, headers = agent
    lead = make.lead(org=org, owner=user, stage="contacted")

    moved = move(client, lead.id, headers, stage="qualified")

    assert moved.status_code == 200, moved.json
    assert (moved.json["id"], moved.json["stage"]) == (lead.id, "qualified")
    event = latest_event(client, lead.id, headers)
    assert (event["kind"], event["actor_id"]) == ("stage", user.id)
    assert event["data"] == {"from": "contacted", "to": "qualified"}


def test_skipping_stages_is_refused_with_the_allowed_next_stages(client, make, org, agent):
    user, headers = agent
    lead = make.lead(org=org, owner=user)

    refused = move(client, lead.id, headers, stage="applied")

    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"from": "new", "to": "applied", "allowed": ["contacted", "lost"]}
    assert client.get(f"/api/v1/leads/{lead.id}", headers=headers).json["stage"] == "new"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_losing_a_lead_without_a_reason_is_refused(client, make, org, agent, body):
    user, headers = agent
    lead = make.lead(org=org, owner=user)

    refused = move(client, lead.id, headers, stage="lost", **body)

    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "reason_required"


def test_lost_lead_records_its_reason_on_the_timeline(client, make, org, agent):
    user, headers = agent
    lead = make.lead(org=org, owner=user, stage="qualified")

    moved = move(client, lead.id, headers, stage="lost", reason="征信有严重逾期")

    assert moved.json["stage"] == "lost"
    assert latest_event(client, lead.id, headers)["data"] == {
        "from": "qualified",
        "to": "lost",
        "reason": "征信有严重逾期",
    }


def test_unknown_stage_is_a_validation_error(client, make, org, agent):
    user, headers = agent
    lead = make.lead(org=org, owner=user)

    refused = move(client, lead.id, headers, stage="signed")

    assert refused.json["error"]["code"] == "validation_error"


def test_agent_cannot_move_a_public_lead_or_see_a_colleagues(client, make, org, agent):
    _, headers = agent
    public = make.lead(org=org)
    colleagues = make.lead(org=org, owner=make.user("agent", org=org))

    refused = move(client, public.id, headers, stage="contacted")
    hidden = move(client, colleagues.id, headers, stage="contacted")

    assert (refused.status_code, refused.json["error"]["code"]) == (403, "not_owner")
    assert hidden.status_code == 404


@pytest.mark.parametrize("role", ["team_lead", "manager"])
def test_team_leads_and_managers_move_their_agents_leads(client, make, auth, org, agent, role):
    user, _ = agent
    lead = make.lead(org=org, owner=user)

    moved = move(client, lead.id, auth.login(role, org=org), stage="contacted")

    assert moved.status_code == 200 and moved.json["stage"] == "contacted"
