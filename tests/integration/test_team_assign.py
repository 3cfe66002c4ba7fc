"""Team leads hand out leads within their team (crm/pools/team_scope.py); managers across the
org. Through GET /leads/assignees and POST /leads/assign."""

from __future__ import annotations

import pytest


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def teams(make, org):
    """Two teams of two agents; the first led by a team lead."""
    mine, other = make.team(org), make.team(org)
    lead = make.user("team_lead", org=org, team_id=mine.id)
    return {
        "lead": lead,
        "mine": [make.user("agent", org=org, team_id=mine.id) for _ in range(2)],
        "other": [make.user("agent", org=org, team_id=other.id) for _ in range(2)],
        "other_team": other,
    }


def assign(client, headers, **body):
    return client.post("/api/v1/leads/assign", json=body, headers=headers)


def test_a_team_lead_is_offered_their_teams_agents_and_a_manager_the_orgs(
    client, make, auth, org, teams
):
    as_lead = auth.headers_for(teams["lead"].username)
    offered = client.get("/api/v1/leads/assignees", headers=as_lead).json
    assert {u["id"] for u in offered} == {u.id for u in teams["mine"]}
    as_manager = auth.login("manager", org=org)
    everyone = {u["id"] for u in client.get("/api/v1/leads/assignees", headers=as_manager).json}
    assert {u.id for u in teams["mine"] + teams["other"]} <= everyone


def test_a_team_lead_assigns_pool_and_teammates_leads_within_the_team(
    client, make, auth, org, teams
):
    as_lead = auth.headers_for(teams["lead"].username)
    pool_lead = make.lead(org)
    teammates = make.lead(org, owner=teams["mine"][0])
    other_teams = make.lead(org, owner=teams["other"][0])
    target = teams["mine"][1]

    result = assign(
        client, as_lead, lead_ids=[pool_lead.id, teammates.id, other_teams.id], to_user_id=target.id
    ).json

    assert [a["lead_id"] for a in result["assigned"]] == [pool_lead.id, teammates.id]
    skipped = [(s["lead_id"], s["code"]) for s in result["skipped"]]
    assert skipped == [(other_teams.id, "other_team")]


@pytest.mark.parametrize(
    "body",
    [
        {"to_user_id": "other_agent"},
        {"strategy": "round_robin", "team_id": "other_team"},
        {"strategy": "region"},
    ],
    ids=["to_another_teams_agent", "over_another_team", "by_region"],
)
def test_a_team_lead_cannot_assign_outside_the_team(client, make, auth, org, teams, body):
    as_lead = auth.headers_for(teams["lead"].username)
    values = {"other_agent": teams["other"][0].id, "other_team": teams["other_team"].id}
    body = {k: values.get(v, v) for k, v in body.items()}

    refused = assign(client, as_lead, lead_ids=[make.lead(org).id], **body)

    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["code"] in ("other_team", "forbidden")


def test_a_manager_assigns_to_any_team(client, make, auth, org, teams):
    as_manager = auth.login("manager", org=org)
    result = assign(
        client, as_manager, lead_ids=[make.lead(org).id], to_user_id=teams["other"][0].id
    ).json
    assert len(result["assigned"]) == 1 and result["skipped"] == []
