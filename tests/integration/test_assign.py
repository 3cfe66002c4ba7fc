"""Distribution (分配) through POST /api/v1/leads/assign: to an agent, round-robin, by free
capacity, by phone region; skipped leads carry reasons."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bench.assign_fairness import simulate, summary
from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.leads.models import Lead, LeadEvent
from crm.leads.phone import normalize_phone
from crm.orgs.schemas import OrgSettings
from crm.pools.models import Pool

SHENZHEN_MOBILE = "13510000000"
ANOTHER_SHENZHEN_MOBILE = "13510000001"
BEIJING_MOBILE = "13800138000"


def _assign(client, headers, **body) -> dict:
    response = client.post("/api/v1/leads/assign", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _team_of_agents(make, org, count: int, role: str = "agent"):
    team = make.team(org)
    return team, [make.user(role, org=org, team_id=team.id) for _ in range(count)]


def _owners(result: dict) -> Counter:
    return Counter(row["user_id"] for row in result["assigned"])


def _leads(make, org, count: int) -> list[int]:
    return [make.lead(org).id for _ in range(count)]


def test_round_robin_spreads_leads_evenly_over_the_team(client, make, auth):
    org = make.org()
    team, agents = _team_of_agents(make, org, 3)
    headers = auth.login("manager", org=org)

    first = _owners(
        _assign(
            client, headers, lead_ids=_leads(make, org, 10), strategy="round_robin", team_id=team.id
        )
    )
    second = _owners(
        _assign(
            client, headers, lead_ids=_leads(make, org, 11), strategy="round_robin", team_id=team.id
        )
    )

    assert sorted(first.values()) == [3, 3, 4]
    # whoever got the extra lead waits longest for the next one
    assert sorted((first + second).values()) == [7, 7, 7]
    assert set(first + second) == {agent.id for agent in agents}


def test_round_robin_serves_a_newcomer_first(client, make, auth):
    org = make.org()
    team, _ = _team_of_agents(make, org, 2)
    headers = auth.login("manager", org=org)
    _assign(client, headers, lead_ids=_leads(make, org, 4), strategy="round_robin", team_id=team.id)
    newcomer = make.user("agent", org=org, team_id=team.id)

    result = _assign(
        client, headers, lead_ids=_leads(make, org, 1), strategy="round_robin", team_id=team.id
    )

    assert _owners(result) == {newcomer.id: 1}


@pytest.mark.parametrize("strategy", ["round_robin", "capacity"])
def test_distribution_stays_fair_as_agents_join_and_leave(make, strategy):
    """The bench's scenario (bench/assign_fairness.py), smaller: 800 assignments."""
    org = make.org(settings=OrgSettings(max_private_leads=1000).model_dump())

    shares = simulate(org.id, strategy, assignments=800, batch=20, lifetime_rounds=5)
    figures = summary(shares)

    # agents present throughout get the same number of leads, give or take one
    assert figures["whole_time_spread"] * figures["whole_time_mean"] <= 1
    part_timers = [s for s in shares if not s.whole_time]
    if strategy == "round_robin":
        # and everyone else their pro-rata share of the leads handed out while they were there
        assert all(abs(s.received - s.fair) <= 2 for s in part_timers)
    else:
        # capacity first fills a joiner up to the team's level, then shares evenly
        assert all(s.received >= s.fair - 2 for s in part_timers)


def test_capacity_fills_the_emptiest_agent_first(client, make, auth):
    org = make.org()
    team, (full, half, empty) = _team_of_agents(make, org, 3)
    for agent, owned in ((full, 5), (half, 2)):
        for _ in range(owned):
            make.lead(org, owner=agent)
    headers = auth.login("manager", org=org)

    result = _assign(
        client, headers, lead_ids=_leads(make, org, 6), strategy="capacity", team_id=team.id
    )

    assert _owners(result) == {empty.id: 4, half.id: 2}


def test_manual_assign_beyond_max_private_leads_is_skipped(client, make, auth):
    org = make.org(settings=OrgSettings(max_private_leads=2).model_dump())
    agent = make.user("agent", org=org)
    make.lead(org, owner=agent)
    lead_ids = _leads(make, org, 3)

    result = _assign(client, auth.login("manager", org=org), lead_ids=lead_ids, to_user_id=agent.id)

    assert [row["lead_id"] for row in result["assigned"]] == lead_ids[:1]
    assert [(row["lead_id"], row["code"]) for row in result["skipped"]] == [
        (lead_ids[1], "private_pool_full"),
        (lead_ids[2], "private_pool_full"),
    ]


def test_another_orgs_lead_is_skipped_as_not_found(client, make, auth):
    partner = make.org("partner")
    agent = make.user("partner_agent", org=partner)
    mine, theirs = make.lead(partner), make.lead(make.org())

    result = _assign(
        client,
        auth.login("partner_admin", org=partner),
        lead_ids=[mine.id, theirs.id, 987654321],
        to_user_id=agent.id,
    )

    assert result["assigned"] == [
        {"lead_id": mine.id, "user_id": agent.id, "org_id": partner.id, "pool_id": None}
    ]
    assert [(row["lead_id"], row["code"]) for row in result["skipped"]] == [
        (theirs.id, "not_found"),
        (987654321, "not_found"),
    ]


def test_manager_reassigns_an_owned_lead_and_the_timeline_says_so(client, make, auth):
    org = make.org()
    before, after = make.user("agent", org=org), make.user("agent", org=org)
    lead = make.lead(org, owner=before)
    headers = auth.login("manager", org=org)

    result = _assign(client, headers, lead_ids=[lead.id], to_user_id=after.id)

    assert _owners(result) == {after.id: 1}
    timeline = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json["items"]
    assert timeline[0]["kind"] == "reassigned"
    assert timeline[0]["data"] == {
        "from_user_id": before.id,
        "to_user_id": after.id,
        "strategy": "manual",
    }


def test_region_sends_a_shenzhen_mobile_to_the_shenzhen_partner(client, make, auth):
    assert normalize_phone(SHENZHEN_MOBILE).city == "深圳"
    assert normalize_phone(ANOTHER_SHENZHEN_MOBILE).city == "深圳"
    assert normalize_phone(BEIJING_MOBILE).city == "北京"
    hq = make.org("hq", cities=["北京"])
    shenzhen = make.org("partner", cities=["深圳"])
    make.org("partner", cities=["成都"])
    beijing_pool = _pool(hq.id, "北京")
    make.lead(shenzhen, phone=ANOTHER_SHENZHEN_MOBILE)  # the partner already has this person
    to_partner = make.lead(hq, phone=SHENZHEN_MOBILE)
    duplicate = make.lead(hq, phone=ANOTHER_SHENZHEN_MOBILE)
    to_city_pool = make.lead(hq, phone=BEIJING_MOBILE)
    owned = make.lead(hq, owner=make.user("agent", org=hq))

    result = _assign(
        client,
        auth.login("manager", org=hq),
        strategy="region",
        lead_ids=[to_partner.id, duplicate.id, to_city_pool.id, owned.id],
    )

    assert result["assigned"] == [
        {"lead_id": to_partner.id, "user_id": None, "org_id": shenzhen.id, "pool_id": None},
        {"lead_id": to_city_pool.id, "user_id": None, "org_id": hq.id, "pool_id": beijing_pool},
    ]
    assert [(row["lead_id"], row["code"]) for row in result["skipped"]] == [
        (duplicate.id, "duplicate_in_target_org"),
        (owned.id, "already_assigned"),
    ]
    partner_view = client.get(
        f"/api/v1/leads/{to_partner.id}", headers=auth.login("partner_admin", org=shenzhen)
    )
    assert partner_view.status_code == 200
    assert partner_view.json["pool"] == "public"


def test_region_leaves_a_lead_no_org_serves_where_it_is(client, make, auth):
    hq = make.org("hq", cities=["北京"])
    lead = make.lead(hq, phone=SHENZHEN_MOBILE)  # no Shenzhen partner in this deployment

    result = _assign(client, auth.login("manager", org=hq), strategy="region", lead_ids=[lead.id])

    assert [row["code"] for row in result["skipped"]] == ["no_region_org"]
    with db.unit_of_work(SYSTEM) as session:
        assert session.scalar(select(Lead.org_id).where(Lead.id == lead.id)) == hq.id
        assert session.scalar(select(LeadEvent.id).where(LeadEvent.lead_id == lead.id)) is None


def test_assigning_needs_exactly_one_target_and_an_active_agent(client, make, auth):
    org = make.org()
    lead = make.lead(org)
    headers = auth.login("manager", org=org)
    gone = make.user("agent", org=org, active=False)

    both = client.post(
        "/api/v1/leads/assign",
        headers=headers,
        json={"lead_ids": [lead.id], "to_user_id": gone.id, "strategy": "region"},
    )
    inactive = client.post(
        "/api/v1/leads/assign", headers=headers, json={"lead_ids": [lead.id], "to_user_id": gone.id}
    )

    assert (both.status_code, both.json["error"]["code"]) == (422, "validation_error")
    assert (inactive.status_code, inactive.json["error"]["code"]) == (422, "not_an_agent")


def test_agents_cannot_assign_leads(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    response = client.post(
        "/api/v1/leads/assign",
        headers=auth.headers_for(agent.username),
        json={"lead_ids": [make.lead(org).id], "to_user_id": agent.id},
    )
    assert response.status_code == 403


def _pool(org_id: int, city: str) -> int:
    with db.unit_of_work(SYSTEM) as session:
        pool = Pool(org_id=org_id, name=f"{city}池", city=city)
        session.add(pool)
        session.flush()
        return pool.id
