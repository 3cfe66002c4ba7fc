"""Follow-ups through the API: recording contacts, their effect on the lead and its timeline,
who may follow up which lead, and the agents' due lists around midnight in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.leads.models import Lead
from crm.orgs.schemas import OrgSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def follow_up(client, lead_id, headers, **overrides):
    body = {"channel": "call", "content": "客户有意向，等工资到账再谈", **overrides}
    return client.post(f"/api/v1/leads/{lead_id}/followups", json=body, headers=headers)


def stored_lead(lead_id: int) -> Lead:
    with db.unit_of_work(SYSTEM) as session:
        return session.scalars(select(Lead).where(Lead.id == lead_id)).one()


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def agent(make, org):
    return make.user("agent", org=org)


@pytest.fixture
def clock(monkeypatch):
    """`clock(at)` pins the follow-up service's now; the rest of the app keeps real time."""
    return lambda at: monkeypatch.setattr("crm.followups.service.utcnow", lambda: at)


def test_follow_up_is_recorded_and_moves_the_new_lead_to_contacted(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=agent, escalated_at=datetime.now(UTC))
    headers = auth.headers_for(agent.username)
    next_at = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(days=2)

    created = follow_up(
        client,
        lead.id,
        headers,
        channel="wechat",
        result="interested",
        next_followup_at=next_at.isoformat(),
    )

    assert created.status_code == 201, created.json
    followup = created.json
    assert (followup["lead_id"], followup["user_id"]) == (lead.id, agent.id)
    assert (followup["channel"], followup["result"]) == ("wechat", "interested")
    assert datetime.fromisoformat(followup["next_followup_at"]) == next_at
    shown = client.get(f"/api/v1/leads/{lead.id}", headers=headers).json
    assert shown["stage"] == "contacted"
    assert datetime.fromisoformat(shown["next_followup_at"]) == next_at
    assert shown["last_followup_at"] == followup["created_at"]
    assert stored_lead(lead.id).escalated_at is None
    listed = client.get(f"/api/v1/leads/{lead.id}/followups", headers=headers).json
    assert [f["id"] for f in listed["items"]] == [followup["id"]]
    events = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json["items"]
    assert [e["kind"] for e in events] == ["stage", "followup", "created"]
    assert events[0]["data"] == {"from": "new", "to": "contacted"}
    assert events[1]["data"] == {
        "channel": "wechat",
        "result": "interested",
        "followup_id": followup["id"],
        "reached": True,
    }
    assert events[1]["actor_id"] == agent.id


def test_follow_up_without_next_time_clears_the_schedule_and_keeps_the_stage(
    client, make, auth, org, agent
):
    scheduled = datetime.now(UTC) + timedelta(days=1)
    lead = make.lead(org=org, owner=agent, stage="qualified", next_followup_at=scheduled)
    headers = auth.headers_for(agent.username)

    assert follow_up(client, lead.id, headers, channel="sms").status_code == 201

    shown = client.get(f"/api/v1/leads/{lead.id}", headers=headers).json
    assert shown["next_followup_at"] is None and shown["stage"] == "qualified"
    events = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json["items"]
    assert [e["kind"] for e in events] == ["followup", "created"]


def test_follow_ups_are_listed_newest_first_page_by_page(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    ids = [follow_up(client, lead.id, headers, content=f"第{n}次").json["id"] for n in range(3)]

    first = client.get(f"/api/v1/leads/{lead.id}/followups?per_page=2", headers=headers).json
    second = client.get(f"/api/v1/leads/{lead.id}/followups?per_page=2&page=2", headers=headers)

    assert first["total"] == 3
    assert [f["id"] for f in first["items"] + second.json["items"]] == ids[::-1]


def test_timeline_pages_run_newest_first_through_the_created_event(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    follow_up(client, lead.id, headers)
    client.post(f"/api/v1/leads/{lead.id}/stage", json={"stage": "qualified"}, headers=headers)
    newest_first = ["stage", "stage", "followup", "created"]

    for per_page in (1, 2, 3, 4):
        kinds = []
        for page in (1, 2, 3, 4):
            body = client.get(
                f"/api/v1/leads/{lead.id}/timeline?per_page={per_page}&page={page}",
                headers=headers,
            ).json
            assert body["total"] == 4
            kinds += [e["kind"] for e in body["items"]]
        assert kinds == newest_first, per_page


@pytest.mark.parametrize(
    "next_at",
    [timedelta(minutes=-5), timedelta(0), timedelta(days=366)],
    ids=["past", "now", "beyond_a_year"],
)
def test_next_follow_up_must_be_in_the_future_and_within_a_year(
    client, make, auth, org, agent, next_at
):
    lead = make.lead(org=org, owner=agent)
    when = (datetime.now(UTC) + next_at).isoformat()

    refused = follow_up(client, lead.id, auth.headers_for(agent.username), next_followup_at=when)

    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "invalid_next_followup"
    assert stored_lead(lead.id).stage == "new"


def test_follow_up_needs_a_known_channel_and_some_content(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    for body in ({"channel": "fax"}, {"content": "   "}):
        refused = follow_up(client, lead.id, headers, **body)
        assert refused.json["error"]["code"] == "validation_error", body


def test_agent_cannot_see_or_follow_up_a_colleagues_lead(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=make.user("agent", org=org))
    headers = auth.headers_for(agent.username)

    assert follow_up(client, lead.id, headers).status_code == 404
    assert client.get(f"/api/v1/leads/{lead.id}/followups", headers=headers).status_code == 404


def test_agent_must_claim_a_public_lead_before_following_it_up(client, make, auth, org, agent):
    lead = make.lead(org=org)

    refused = follow_up(client, lead.id, auth.headers_for(agent.username))

    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "not_owner"
    assert "claim" in refused.json["error"]["message"]


def test_team_lead_can_follow_up_an_agents_lead(client, make, auth, org, agent):
    lead = make.lead(org=org, owner=agent)

    created = follow_up(client, lead.id, auth.login("team_lead", org=org))

    assert created.status_code == 201
    assert stored_lead(lead.id).owner_id == agent.id


@pytest.mark.parametrize("role", ["partner_agent", "partner_admin"])
def test_another_orgs_lead_is_not_found_on_every_endpoint(client, make, auth, role):
    lead = make.lead(org=make.org("partner"))
    headers = auth.login(role)
    url = f"/api/v1/leads/{lead.id}"

    answers = [
        follow_up(client, lead.id, headers),
        client.get(f"{url}/followups", headers=headers),
        client.post(f"{url}/stage", json={"stage": "contacted"}, headers=headers),
        client.get(f"{url}/timeline", headers=headers),
    ]

    assert [a.status_code for a in answers] == [404] * 4
    assert stored_lead(lead.id).stage == "new"


# Due lists: the clock is pinned just before and just after midnight in Shanghai, where a day
# computed in UTC would put 00:10 Shanghai on the previous day and 00:15 on the current one.
SCHEDULE = {
    "yesterday_late": shanghai(23, 23, 50),
    "today_early": shanghai(24, 0, 10),
    "today_late": shanghai(24, 23, 45),
    "tomorrow_early": shanghai(25, 0, 15),
}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (
            shanghai(24, 23, 30),
            {
                "today": ["today_early", "today_late"],
                "overdue": ["yesterday_late", "today_early"],
                "upcoming": ["tomorrow_early"],
            },
        ),
        (
            shanghai(25, 0, 5),
            {
                "today": ["tomorrow_early"],
                "overdue": ["yesterday_late", "today_early", "today_late"],
                "upcoming": [],
            },
        ),
    ],
    ids=["before_midnight", "after_midnight"],
)
def test_due_lists_follow_the_shanghai_calendar_day(
    client, make, auth, clock, org, agent, now, expected
):
    clock(now)
    ids = {
        name: make.lead(org=org, owner=agent, next_followup_at=at).id
        for name, at in SCHEDULE.items()
    }
    make.lead(org=org, owner=agent)  # nothing scheduled: on no list
    make.lead(org=org, owner=make.user("agent", org=org), next_followup_at=SCHEDULE["today_late"])
    headers = auth.headers_for(agent.username)

    for when, names in expected.items():
        body = client.get(f"/api/v1/followups/due?when={when}", headers=headers).json
        assert [lead["id"] for lead in body["items"]] == [ids[n] for n in names], when
        assert body["total"] == len(names)


def test_due_list_uses_the_orgs_own_time_zone(client, make, auth, clock):
    org = make.org(settings=OrgSettings(timezone="UTC").model_dump())
    agent = make.user("agent", org=org)
    clock(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))
    lead = make.lead(org=org, owner=agent, next_followup_at=SCHEDULE["tomorrow_early"])

    body = client.get("/api/v1/followups/due?when=today", headers=auth.headers_for(agent.username))

    assert [item["id"] for item in body.json["items"]] == [lead.id]


def test_team_lead_reads_an_agents_due_list_page_by_page(client, make, auth, org, agent):
    soon = datetime.now(UTC) + timedelta(days=3)
    ids = [
        make.lead(org=org, owner=agent, next_followup_at=soon + timedelta(hours=h)).id
        for h in (2, 1)
    ]
    headers = auth.login("team_lead", org=org)

    pages = [
        client.get(
            f"/api/v1/followups/due?when=upcoming&owner_id={agent.id}&per_page=1&page={page}",
            headers=headers,
        ).json
        for page in (1, 2)
    ]

    assert [p["total"] for p in pages] == [2, 2]
    assert [p["items"][0]["id"] for p in pages] == ids[::-1]


def test_agent_cannot_read_a_colleagues_due_list(client, make, auth, org, agent):
    colleague = make.user("agent", org=org)

    refused = client.get(
        f"/api/v1/followups/due?owner_id={colleague.id}", headers=auth.headers_for(agent.username)
    )

    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_partner_admin_gets_404_for_another_orgs_agents_due_list(client, make, auth):
    stranger = make.user("partner_agent", org=make.org("partner"))

    refused = client.get(
        f"/api/v1/followups/due?owner_id={stranger.id}", headers=auth.login("partner_admin")
    )

    assert refused.status_code == 404
