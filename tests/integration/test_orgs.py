"""Orgs, teams and users: tenant isolation and who may grant which role."""

from __future__ import annotations

import pytest


@pytest.fixture
def two_partners(make):
    return make.org("partner", cities=["深圳"]), make.org("partner", cities=["成都"])


def test_partner_admin_gets_404_for_another_orgs_user(client, make, auth, two_partners):
    mine, theirs = two_partners
    other_user = make.user("partner_agent", org=theirs)
    headers = auth.login("partner_admin", org=mine)
    response = client.patch(
        f"/api/v1/users/{other_user.id}", json={"display_name": "x"}, headers=headers
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_partner_admin_lists_only_own_org(client, make, auth, two_partners):
    mine, theirs = two_partners
    make.user("partner_agent", org=theirs)
    make.team(org=theirs)
    own_team = make.team(org=mine)
    headers = auth.login("partner_admin", org=mine)
    users = client.get("/api/v1/users?per_page=200", headers=headers).json["items"]
    assert users and {u["org_id"] for u in users} == {mine.id}
    teams = client.get("/api/v1/teams", headers=headers).json["items"]
    assert [t["id"] for t in teams] == [own_team.id]
    orgs = client.get("/api/v1/orgs", headers=headers).json["items"]
    assert [o["id"] for o in orgs] == [mine.id]


def test_partner_admin_cannot_create_a_team_in_another_org(client, auth, two_partners):
    mine, theirs = two_partners
    headers = auth.login("partner_admin", org=mine)
    response = client.post(
        "/api/v1/teams", json={"org_id": theirs.id, "name": "偷家"}, headers=headers
    )
    assert response.status_code == 404


def test_partner_admin_cannot_create_a_user_in_another_org(client, auth, two_partners):
    mine, theirs = two_partners
    headers = auth.login("partner_admin", org=mine)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": "sneaky",
            "password": "long-enough-pw",
            "display_name": "S",
            "role": "partner_agent",
            "org_id": theirs.id,
        },
    )
    assert response.status_code == 404


def test_partner_admin_cannot_escalate_a_user_to_admin(client, make, auth, two_partners):
    mine, _ = two_partners
    agent = make.user("partner_agent", org=mine)
    headers = auth.login("partner_admin", org=mine)
    response = client.patch(f"/api/v1/users/{agent.id}", json={"role": "admin"}, headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    created = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": "wannabe",
            "password": "long-enough-pw",
            "display_name": "W",
            "role": "admin",
            "org_id": mine.id,
        },
    )
    assert created.status_code == 403


def test_partner_admin_creates_an_agent_in_own_org(client, auth, two_partners):
    mine, _ = two_partners
    headers = auth.login("partner_admin", org=mine)
    created = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": "new.agent",
            "password": "long-enough-pw",
            "display_name": "新人",
            "role": "partner_agent",
            "org_id": mine.id,
        },
    )
    assert created.status_code == 201
    assert created.json["org_id"] == mine.id
    assert "password" not in created.json and "password_hash" not in created.json
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "new.agent", "password": "long-enough-pw"}
        ).status_code
        == 200
    )


def test_hq_admin_sees_every_org(client, make, auth, two_partners):
    headers = auth.login("admin")
    ids = {o["id"] for o in client.get("/api/v1/orgs?per_page=200", headers=headers).json["items"]}
    assert {o.id for o in two_partners} <= ids


def test_agent_cannot_manage_users(client, auth):
    headers = auth.login("agent")
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_only_admin_creates_orgs(client, auth):
    body = {"name": "广州城市合伙人", "kind": "partner", "cities": ["广州"]}
    assert client.post("/api/v1/orgs", json=body, headers=auth.login("manager")).status_code == 403
    created = client.post("/api/v1/orgs", json=body, headers=auth.login("admin"))
    assert created.status_code == 201
    assert created.json["settings"]["max_private_leads"] == 200
    again = client.post("/api/v1/orgs", json=body, headers=auth.login("admin"))
    assert again.status_code == 409


def test_partner_roles_do_not_exist_in_hq_and_vice_versa(client, make, auth):
    hq = make.org("hq")
    headers = auth.login("admin", org=hq)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": "misplaced",
            "password": "long-enough-pw",
            "display_name": "M",
            "role": "partner_agent",
            "org_id": hq.id,
        },
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "role_not_allowed_in_org"


def test_duplicate_username_is_a_409(client, make, auth):
    existing = make.user("agent")
    headers = auth.login("admin")
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": existing.username,
            "password": "long-enough-pw",
            "display_name": "D",
            "role": "agent",
            "org_id": existing.org_id,
        },
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_username"


def test_team_lead_must_belong_to_the_teams_org(client, make, auth, two_partners):
    mine, theirs = two_partners
    outsider = make.user("partner_agent", org=theirs)
    headers = auth.login("admin")
    response = client.post(
        "/api/v1/teams",
        headers=headers,
        json={"org_id": mine.id, "name": "A组", "lead_user_id": outsider.id},
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "wrong_org"


def settings_url(org) -> str:
    return f"/api/v1/orgs/{org.id}/settings"


def test_a_settings_patch_changes_the_keys_given_and_keeps_the_rest(client, auth, two_partners):
    org, _ = two_partners
    headers = auth.login("manager")
    changed = client.patch(
        settings_url(org),
        json={"calling_hours_start": "10:00", "max_calls_per_lead_per_day": 2},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json
    settings = client.get(settings_url(org), headers=headers).json
    assert settings == changed.json
    assert settings["calling_hours_start"] == "10:00"
    assert settings["max_calls_per_lead_per_day"] == 2
    assert settings["calling_hours_end"] == "20:00"
    assert settings["timezone"] == "Asia/Shanghai"


def test_a_settings_patch_of_one_nested_value_keeps_its_siblings(client, auth, two_partners):
    org, _ = two_partners
    headers = auth.login("admin")
    for change in ({"prior_leads": 80}, {"weights": {"phone": 20}}):
        response = client.patch(settings_url(org), json={"scoring": change}, headers=headers)
        assert response.status_code == 200, response.json
    scoring = client.get(settings_url(org), headers=headers).json["scoring"]
    assert scoring["prior_leads"] == 80
    assert (scoring["weights"]["phone"], scoring["weights"]["region"]) == (20, 10)


def test_partner_admin_manages_the_settings_of_its_own_org_only(client, auth, two_partners):
    mine, theirs = two_partners
    headers = auth.login("partner_admin", org=mine)
    assert (
        client.patch(settings_url(mine), json={"retention_days": 365}, headers=headers).status_code
        == 200
    )
    for response in (
        client.get(settings_url(theirs), headers=headers),
        client.patch(settings_url(theirs), json={"retention_days": 365}, headers=headers),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    theirs_now = client.get(settings_url(theirs), headers=auth.login("admin")).json
    assert theirs_now["retention_days"] == 730


def test_agents_and_team_leads_cannot_read_or_change_settings(client, auth, two_partners):
    org, _ = two_partners
    for role in ("partner_agent", "team_lead"):
        headers = auth.login(role, org=org)
        for response in (
            client.get(settings_url(org), headers=headers),
            client.patch(settings_url(org), json={"timezone": "UTC"}, headers=headers),
        ):
            assert response.status_code == 403
            assert response.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"timezone": "Mars/Olympus"}, "validation_error"),
        ({"calling_hours_end": "25:00"}, "validation_error"),
        ({"max_private_leads": 0}, "validation_error"),
        ({"max_private_leads": "200"}, "validation_error"),
        ({"calling_hours": "09-20"}, "validation_error"),
        ({"calling_hours_start": "21:00"}, "invalid_calling_hours"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(client, auth, two_partners, body, code):
    org, _ = two_partners
    headers = auth.login("admin")
    before = client.get(settings_url(org), headers=headers).json
    response = client.patch(settings_url(org), json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert client.get(settings_url(org), headers=headers).json == before


def test_a_settings_change_is_audited_with_the_changed_keys_before_and_after(
    client, auth, two_partners
):
    org, _ = two_partners
    headers = auth.login("admin")
    body = {"timezone": "Asia/Shanghai", "recycle_after_days": 10, "calling_hours_end": "21:00"}
    assert client.patch(settings_url(org), json=body, headers=headers).status_code == 200
    assert (
        client.patch(settings_url(org), json=body, headers=headers).status_code == 200
    )  # no change: no entry
    entries = client.get("/api/v1/audit?action=settings_changed", headers=headers).json["items"]
    [entry] = [e for e in entries if e["org_id"] == org.id]
    assert entry["details"]["changes"] == {
        "recycle_after_days": {"before": 7, "after": 10},
        "calling_hours_end": {"before": "20:00", "after": "21:00"},
    }


def test_two_orgs_asking_in_turn_each_see_only_their_own(client, make, auth, two_partners):
    # the org scope's criteria are built once per org and the compiled statement is shared:
    # the org's id must still be bound per request, whoever asked before
    teams = {org.id: make.team(org=org).id for org in two_partners}
    logins = {org.id: auth.login("partner_admin", org=org) for org in two_partners}
    for _ in range(3):
        for org_id, headers in logins.items():
            listed = client.get("/api/v1/teams", headers=headers).json["items"]
            assert [t["id"] for t in listed] == [teams[org_id]]
