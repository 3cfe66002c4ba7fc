"""An org's public pools: creating them, counting what waits in them, moving and importing leads."""

from __future__ import annotations

import pytest

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.leads.importer import ImportOptions, run_import, store_upload

SHEET = "姓名,手机号码,城市\n张三,13800138001,深圳\n李四,13800138002,深圳\n".encode()


def create_pool(client, headers, **body):
    return client.post("/api/v1/pools", json=body, headers=headers)


def move(client, headers, lead_ids, pool_id):
    body = {"lead_ids": lead_ids, "pool_id": pool_id}
    return client.post("/api/v1/leads/move-to-pool", json=body, headers=headers)


def counts(client, headers) -> dict:
    return {
        pool["name"]: pool["unowned"] for pool in client.get("/api/v1/pools", headers=headers).json
    }


def test_manager_creates_pools_and_sees_what_waits_in_each(client, make, auth):
    org = make.org()
    team = make.team(org=org)
    headers = auth.login("manager", org=org)
    response = create_pool(client, headers, name="一组池", team_id=team.id)
    assert response.status_code == 201, response.json
    assert response.json | {"id": 0, "created_at": 0} == {
        "id": 0,
        "name": "一组池",
        "team_id": team.id,
        "city": None,
        "created_at": 0,
        "unowned": 0,
        "unowned_capped": False,
    }
    pool_id = response.json["id"]
    make.lead(org=org)
    make.lead(org=org, pool_id=pool_id)
    make.lead(org=org, pool_id=pool_id)
    make.lead(org=org, pool_id=pool_id, owner=make.user("agent", org=org))
    make.lead(org=make.org())
    assert counts(client, headers) == {"main": 1, "一组池": 2}


def test_pool_names_are_unique_per_org(client, make, auth):
    org = make.org()
    headers = auth.login("manager", org=org)
    assert create_pool(client, headers, name="深圳池", city="深圳").status_code == 201
    again = create_pool(client, headers, name="深圳池")
    assert (again.status_code, again.json["error"]["code"]) == (409, "duplicate_pool")
    other_org = auth.login("partner_admin", org=make.org("partner"))
    assert create_pool(client, other_org, name="深圳池").status_code == 201


def test_only_settings_managers_create_pools_and_only_for_their_own_teams(client, make, auth):
    org, partner = make.org(), make.org("partner")
    agent_headers = auth.login("agent", org=org)
    assert create_pool(client, agent_headers, name="我的池").status_code == 403
    foreign_team = make.team(org=org)
    partner_headers = auth.login("partner_admin", org=partner)
    response = create_pool(client, partner_headers, name="偷来的池", team_id=foreign_team.id)
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def test_agents_list_only_pools_they_may_claim_from(client, make, auth):
    org = make.org()
    team, other_team = make.team(org=org), make.team(org=org)
    manager = auth.login("manager", org=org)
    for name, body in (
        ("一组池", {"team_id": team.id}),
        ("二组池", {"team_id": other_team.id}),
        ("深圳池", {"city": "深圳"}),
    ):
        assert create_pool(client, manager, name=name, **body).status_code == 201
    agent = auth.login("agent", org=org, team_id=team.id)
    listed = client.get("/api/v1/pools", headers=agent).json
    assert [(p["team_id"], p["city"]) for p in listed] == [
        (None, None),
        (team.id, None),
        (None, "深圳"),
    ]
    assert len(client.get("/api/v1/pools", headers=manager).json) == 4


def test_move_to_pool_moves_unowned_leads_and_reports_the_rest(client, make, auth):
    org = make.org()
    headers = auth.login("manager", org=org)
    pool_id = create_pool(client, headers, name="再营销池").json["id"]
    free = make.lead(org=org)
    owned = make.lead(org=org, owner=make.user("agent", org=org))
    foreign = make.lead(org=make.org())
    response = move(client, headers, [free.id, owned.id, foreign.id, free.id], pool_id)
    assert response.status_code == 200, response.json
    assert response.json == {
        "moved": [free.id],
        "skipped": [
            {"lead_id": owned.id, "reason": "owned"},
            {"lead_id": foreign.id, "reason": "not_found"},
        ],
    }
    events = client.get(f"/api/v1/leads/{free.id}/timeline", headers=headers).json["items"]
    assert (events[0]["kind"], events[0]["data"]) == (
        "moved",
        {"from_pool_id": None, "to_pool_id": pool_id},
    )
    assert counts(client, headers) == {"main": 0, "再营销池": 1}
    back = move(client, headers, [free.id], None).json
    assert back["moved"] == [free.id]
    assert move(client, headers, [free.id], None).json["skipped"][0]["reason"] == "already_there"


def test_moving_needs_assign_rights_and_a_pool_of_ones_own_org(client, make, auth):
    org, other = make.org(), make.org()
    lead = make.lead(org=org)
    foreign_pool = create_pool(client, auth.login("manager", org=other), name="别家池").json["id"]
    assert move(client, auth.login("agent", org=org), [lead.id], None).status_code == 403
    response = move(client, auth.login("partner_admin", org=org), [lead.id], foreign_pool)
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def _import(user, options: ImportOptions) -> dict:
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, user.id)
    with db.unit_of_work(actor) as session:
        upload = store_upload(session, actor, runtime.vault, "leads.csv", SHEET)
        return run_import(
            session, actor, runtime.vault, upload.id, options, progress=lambda _: None
        )


def test_import_goes_straight_into_a_pool_of_the_org(client, make, auth):
    org = make.org()
    manager = make.user("manager", org=org)
    headers = auth.headers_for(manager.username)
    pool_id = create_pool(client, headers, name="深圳池", city="深圳").json["id"]
    assert _import(manager, ImportOptions(source="采购名单", pool_id=pool_id))["created"] == 2
    assert counts(client, headers) == {"main": 0, "深圳池": 2}


def test_import_into_another_orgs_pool_is_refused(client, make, auth):
    foreign_pool = create_pool(client, auth.login("manager"), name="别家池").json["id"]
    manager = make.user("manager", org=make.org())
    with pytest.raises(DomainError) as refused:
        _import(manager, ImportOptions(pool_id=foreign_pool))
    assert (refused.value.code, refused.value.status) == ("not_found", 404)
