"""Claiming (领取), claim-next, releasing (释放) and opening public-pool leads, as agents see it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.errors import DomainError
from crm.extensions import db
from crm.leads.models import Lead
from crm.orgs.schemas import OrgSettings
from crm.pools import service

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def org_with(make, kind: str = "hq", **settings):
    return make.org(kind, settings=OrgSettings(**settings).model_dump())


def as_user(user, fn, *args, **kwargs):
    """Call a pool service function as `user` in its own unit of work (time can be injected)."""
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, user.id)
    with db.unit_of_work(actor) as session:
        return fn(session, actor, *args, **kwargs)


def refusal(user, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        as_user(user, fn, *args, **kwargs)
    return caught.value


def error(response, status: int) -> dict:
    assert response.status_code == status, response.json
    return response.json["error"]


def claim(client, headers, lead_id):
    return client.post(f"/api/v1/leads/{lead_id}/claim", headers=headers)


def claim_next(client, headers, **body):
    return client.post("/api/v1/leads/claim-next", json=body, headers=headers)


def timeline_kinds(client, headers, lead_id) -> list[str]:
    events = client.get(f"/api/v1/leads/{lead_id}/timeline", headers=headers).json["items"]
    return [event["kind"] for event in events]


def test_agent_claims_a_public_lead_into_their_private_pool(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org=org)
    headers = auth.headers_for(agent.username)
    response = claim(client, headers, lead.id)
    assert response.status_code == 200, response.json
    assert (response.json["owner_id"], response.json["pool"]) == (agent.id, "private")
    assert timeline_kinds(client, headers, lead.id) == ["claimed", "created"]
    mine = client.get("/api/v1/leads?pool=mine", headers=headers).json["items"]
    assert [item["id"] for item in mine] == [lead.id]


def test_customers_past_the_application_do_not_fill_the_private_pool(client, make, auth):
    # an agent whose borrowers were paid out keeps them, and still has room for new leads;
    # the leads being worked (a lost one too: recycling takes those back) fill it
    org = org_with(make, max_private_leads=2)
    agent = make.user("agent", org=org)
    for stage in ("applied", "approved", "disbursed", "rejected"):
        make.lead(org=org, owner=agent, stage=stage)
    make.lead(org=org, owner=agent, stage="lost")
    first, second = make.lead(org=org), make.lead(org=org)
    headers = auth.headers_for(agent.username)
    assert claim_next(client, headers).json["id"] == first.id
    refused = error(claim_next(client, headers), 422)
    assert refused["code"] == "private_pool_full"
    assert refused["details"] == {"max_private_leads": 2, "owned": 2}
    assert error(claim(client, headers, second.id), 422)["code"] == "private_pool_full"


def test_claiming_an_owned_lead_answers_409_already_owned(client, make, auth):
    org = make.org()
    me, colleague = make.user("agent", org=org), make.user("agent", org=org)
    theirs, mine = make.lead(org=org, owner=colleague), make.lead(org=org, owner=me)
    headers = auth.headers_for(me.username)
    assert error(claim(client, headers, theirs.id), 409)["code"] == "already_owned"
    assert error(claim(client, headers, mine.id), 409)["code"] == "already_owned"


def test_claims_need_the_claim_permission(client, make, auth):
    org = make.org()
    lead = make.lead(org=org)
    headers = auth.login("reviewer", org=org)
    assert error(claim(client, headers, lead.id), 403)["code"] == "forbidden"
    assert error(claim_next(client, headers), 403)["code"] == "forbidden"


def test_private_pool_limit_refuses_claims_beyond_it(client, make, auth):
    org = org_with(make, max_private_leads=2)
    agent = make.user("agent", org=org)
    make.lead(org=org, owner=agent)
    first, second = make.lead(org=org), make.lead(org=org)
    headers = auth.headers_for(agent.username)
    assert claim(client, headers, first.id).status_code == 200
    refused = error(claim(client, headers, second.id), 422)
    assert refused["code"] == "private_pool_full"
    assert refused["details"] == {"max_private_leads": 2, "owned": 2}
    assert error(claim_next(client, headers), 422)["code"] == "private_pool_full"
    release = client.post(
        f"/api/v1/leads/{first.id}/release", json={"reason": "空号"}, headers=headers
    )
    assert release.status_code == 200
    assert claim(client, headers, second.id).status_code == 200


def test_daily_claim_cap_counts_claims_per_day_in_the_org_time_zone(make):
    org = org_with(make, daily_claim_cap=2, timezone="Asia/Shanghai")
    agent = make.user("agent", org=org)
    leads = [make.lead(org=org) for _ in range(4)]
    late_evening = datetime(2026, 11, 20, 15, 50, tzinfo=UTC)  # 23:50 in Shanghai
    as_user(agent, service.claim, leads[0].id, now=late_evening)
    as_user(agent, service.claim_next, now=late_evening)
    refused = refusal(agent, service.claim, leads[2].id, now=late_evening)
    assert (refused.code, refused.status) == ("daily_claim_cap", 422)
    assert refused.details == {"daily_claim_cap": 2, "day": "2026-11-20"}
    refused_next = refusal(agent, service.claim_next, now=late_evening)
    assert (refused_next.code, refused_next.details) == (refused.code, refused.details)
    after_midnight = late_evening + timedelta(minutes=20)  # 00:10 on the 21st in Shanghai
    assert as_user(agent, service.claim, leads[2].id, now=after_midnight).owner_id == agent.id


def test_refused_claims_do_not_use_up_the_daily_cap(client, make, auth):
    org = org_with(make, daily_claim_cap=1)
    agent, colleague = make.user("agent", org=org), make.user("agent", org=org)
    taken, free = make.lead(org=org, owner=colleague), make.lead(org=org)
    headers = auth.headers_for(agent.username)
    assert claim(client, headers, taken.id).status_code == 409
    assert claim(client, headers, free.id).status_code == 200


def test_release_then_reclaim_is_refused_during_the_cooldown_and_allowed_after(make):
    org = org_with(make, reclaim_cooldown_days=3)
    agent = make.user("agent", org=org)
    lead = make.lead(org=org)
    as_user(agent, service.claim, lead.id, now=T0)
    released = as_user(agent, service.release, lead.id, "客户暂无需求", now=T0)
    assert released.owner_id is None
    refused = refusal(agent, service.claim, lead.id, now=T0 + timedelta(days=2))
    assert (refused.code, refused.status) == ("reclaim_cooldown", 422)
    assert datetime.fromisoformat(refused.details["until"]) == T0 + timedelta(days=3)
    with pytest.raises(DomainError, match="no lead") as empty:
        as_user(agent, service.claim_next, now=T0 + timedelta(days=2))
    assert empty.value.code == "pool_empty"
    later = T0 + timedelta(days=3, seconds=1)
    assert as_user(agent, service.claim, lead.id, now=later).owner_id == agent.id


def test_cooldown_binds_only_the_former_owner(client, make, auth):
    org = make.org()
    agent, colleague = make.user("agent", org=org), make.user("agent", org=org)
    lead = make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    body = {"reason": "不是本地客户"}
    assert (
        client.post(f"/api/v1/leads/{lead.id}/release", json=body, headers=headers).status_code
        == 200
    )
    assert error(claim(client, headers, lead.id), 422)["code"] == "reclaim_cooldown"
    assert claim(client, auth.headers_for(colleague.username), lead.id).status_code == 200


def test_release_rules_and_timeline(client, make, auth):
    org = make.org()
    agent, colleague = make.user("agent", org=org), make.user("agent", org=org)
    manager = make.user("manager", org=org)
    mine, theirs, public = (
        make.lead(org=org, owner=agent),
        make.lead(org=org, owner=colleague),
        make.lead(org=org),
    )
    headers = auth.headers_for(agent.username)

    def release(lead, who=headers, reason="无效客户"):
        return client.post(f"/api/v1/leads/{lead.id}/release", json={"reason": reason}, headers=who)

    assert error(release(theirs), 404)["code"] == "not_found"
    assert error(release(public), 409)["code"] == "not_owned"
    assert error(release(mine, reason=""), 422)["code"] == "validation_error"
    response = release(mine)
    assert (response.status_code, response.json["pool"]) == (200, "public")
    events = client.get(f"/api/v1/leads/{mine.id}/timeline", headers=headers).json["items"]
    assert events[0]["kind"] == "released"
    assert events[0]["data"]["reason"] == "无效客户"
    assert events[0]["data"]["from_user_id"] == agent.id
    # a manager may take a lead back from an agent, and the agent's cooldown starts
    assert release(theirs, who=auth.headers_for(manager.username)).status_code == 200
    colleague_headers = auth.headers_for(colleague.username)
    assert error(claim(client, colleague_headers, theirs.id), 422)["code"] == "reclaim_cooldown"


def test_claim_next_gives_the_best_lead_first_then_pool_empty(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    low = make.lead(org=org, score=50)
    high_old = make.lead(org=org, score=80, created_at=T0 - timedelta(days=2))
    high_new = make.lead(org=org, score=80, created_at=T0 - timedelta(days=1))
    make.lead(org=org, score=99, owner=make.user("agent", org=org))
    headers = auth.headers_for(agent.username)
    got = [claim_next(client, headers).json["id"] for _ in range(3)]
    assert got == [high_old.id, high_new.id, low.id]
    assert error(claim_next(client, headers), 404)["code"] == "pool_empty"


def test_claim_next_leaves_no_stale_value_in_a_session_that_had_the_lead(make):
    """A claim's statement loads only some columns; the ones it changes are among them, so code
    that read the lead earlier in the same unit of work sees it as claimed."""
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org=org)
    with db.unit_of_work(SYSTEM) as session:
        session.get(Lead, lead.id).escalated_at = T0
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, agent.id)
    with db.unit_of_work(actor) as session:
        seen = session.get(Lead, lead.id)
        assert (seen.owner_id, seen.escalated_at) == (None, T0)
        claimed = service.claim_next(session, actor, now=T0 + timedelta(hours=1))
        assert claimed is seen
        assert (seen.owner_id, seen.escalated_at) == (agent.id, None)
        assert seen.claimed_at == seen.updated_at == T0 + timedelta(hours=1)


def test_claim_next_filters_by_city(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    make.lead(org=org, city="北京", score=90)
    shenzhen = make.lead(org=org, city="深圳", score=10)
    headers = auth.headers_for(agent.username)
    assert claim_next(client, headers, city="深圳").json["id"] == shenzhen.id
    assert error(claim_next(client, headers, city="深圳"), 404)["code"] == "pool_empty"


def test_partner_agent_cannot_claim_see_or_claim_next_another_orgs_leads(client, make, auth):
    hq, partner = make.org("hq"), make.org("partner")
    hq_lead = make.lead(org=hq, score=100)
    headers = auth.login("partner_agent", org=partner)
    assert error(claim(client, headers, hq_lead.id), 404)["code"] == "not_found"
    assert error(client.get(f"/api/v1/leads/{hq_lead.id}", headers=headers), 404)
    assert error(claim_next(client, headers), 404)["code"] == "pool_empty"
    own = make.lead(org=partner)
    assert claim_next(client, headers).json["id"] == own.id


def test_team_pools_are_claimed_by_their_team_and_city_pools_by_everyone(client, make, auth):
    org = make.org()
    team, other_team = make.team(org=org), make.team(org=org)
    member = make.user("agent", org=org, team_id=team.id)
    outsider = make.user("agent", org=org, team_id=other_team.id)
    manager_headers = auth.login("manager", org=org)

    def pool(**body):
        response = client.post("/api/v1/pools", json=body, headers=manager_headers)
        assert response.status_code == 201, response.json
        return response.json["id"]

    team_pool, city_pool = pool(name="一组池", team_id=team.id), pool(name="深圳池", city="深圳")
    team_lead = make.lead(org=org, pool_id=team_pool, score=90)
    city_lead = make.lead(org=org, pool_id=city_pool, score=10)
    member_headers = auth.headers_for(member.username)
    outsider_headers = auth.headers_for(outsider.username)
    assert error(claim(client, outsider_headers, team_lead.id), 404)["code"] == "not_found"
    assert (
        error(claim_next(client, outsider_headers, pool_id=team_pool), 404)["code"] == "not_found"
    )
    assert claim_next(client, outsider_headers).json["id"] == city_lead.id
    assert error(claim_next(client, outsider_headers), 404)["code"] == "pool_empty"
    assert claim_next(client, member_headers).json["id"] == team_lead.id


def test_claims_act_on_the_agents_team_role_and_account_as_an_admin_left_them(client, make, auth):
    """A claim reads the agent's row once, locked, instead of refreshing the actor first as
    other endpoints do: an admin's change still counts from the agent's next claim, whatever
    their access token says."""
    org = make.org()
    team = make.team(org=org)
    agent = make.user("agent", org=org)
    admin = auth.login("admin", org=org)
    team_pool = client.post(
        "/api/v1/pools", json={"name": "一组池", "team_id": team.id}, headers=admin
    ).json["id"]
    first, second, third = (make.lead(org=org, pool_id=team_pool, score=s) for s in (90, 80, 70))
    headers = auth.headers_for(agent.username)  # issued before every change below

    def change(**fields):
        response = client.patch(f"/api/v1/users/{agent.id}", json=fields, headers=admin)
        assert response.status_code == 200, response.json

    assert error(claim(client, headers, first.id), 404)["code"] == "not_found"
    assert error(claim_next(client, headers), 404)["code"] == "pool_empty"
    change(team_id=team.id)
    assert claim(client, headers, first.id).json["owner_id"] == agent.id
    assert claim_next(client, headers).json["id"] == second.id
    change(role="reviewer")
    assert error(claim_next(client, headers), 403)["code"] == "forbidden"
    change(role="agent", active=False)
    assert error(claim(client, headers, third.id), 401)["code"] == "invalid_token"
    assert error(claim_next(client, headers), 401)["code"] == "invalid_token"
    with db.unit_of_work(SYSTEM) as session:
        assert session.get(Lead, third.id).owner_id is None


def test_a_claim_reads_the_agents_row_in_one_statement(client, make, auth):
    """The lock and the actor's refresh are one round trip (a tenth of a claim's CPU)."""
    org = make.org()
    agent = make.user("agent", org=org)
    make.lead(org=org)
    headers = auth.headers_for(agent.username)
    statements: list[str] = []

    def seen(conn, cursor, statement, *_):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert claim_next(client, headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    reading_users = [s for s in statements if re.search(r"\b(FROM|JOIN) users\b", s)]
    assert len(reading_users) == 1, reading_users


def test_claim_next_takes_the_best_lead_over_every_allowed_pool(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    manager_headers = auth.login("manager", org=org)
    pool_id = client.post(
        "/api/v1/pools", json={"name": "上海池", "city": "上海"}, headers=manager_headers
    ).json["id"]
    main = make.lead(org=org, score=60)
    pooled = make.lead(org=org, pool_id=pool_id, score=70)
    headers = auth.headers_for(agent.username)
    assert error(claim_next(client, headers, pool_id=pool_id + 1000), 404)["code"] == "not_found"
    assert [claim_next(client, headers).json["id"] for _ in range(2)] == [pooled.id, main.id]


def test_opening_public_leads_beyond_the_daily_open_cap_is_429(client, make, auth):
    org = org_with(make, daily_open_cap=2)
    agent = make.user("agent", org=org)
    public, own = make.lead(org=org), make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    for _ in range(2):
        assert client.get(f"/api/v1/leads/{public.id}", headers=headers).status_code == 200
    refused = error(client.get(f"/api/v1/leads/{public.id}", headers=headers), 429)
    assert refused["code"] == "daily_open_cap"
    assert refused["details"]["daily_open_cap"] == 2
    # own leads are work, not scraping; managers hand leads out and are not counted either
    assert client.get(f"/api/v1/leads/{own.id}", headers=headers).status_code == 200
    manager_headers = auth.login("manager", org=org)
    for _ in range(3):
        assert client.get(f"/api/v1/leads/{public.id}", headers=manager_headers).status_code == 200
