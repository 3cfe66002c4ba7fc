"""Promised follow-ups (crm/followups/schedule.py) through the API: several per lead, kept or
replaced only by a contact that says so (or, by default, one that reached the person when the
promise was due), closed when the lead leaves the funnel, listed overdue / later today /
upcoming with counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

NOON = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@dataclass
class Desk:
    """An agent of a fresh org, recording follow-ups at a clock the test sets."""

    client: Any
    make: Any
    monkeypatch: Any
    org: Any
    agent: Any
    headers: dict

    def at(self, moment: datetime) -> None:
        self.monkeypatch.setattr("crm.followups.service.utcnow", lambda: moment)

    def lead(self, **fields) -> int:
        return self.make.lead(owner=self.agent, org=self.org, **fields).id

    def follow_up(self, lead_id: int, channel: str, next_at: datetime | None = None, **more):
        body = {"channel": channel, "content": "联系了客户", **more}
        if next_at is not None:
            body["next_followup_at"] = next_at.isoformat()
        url = f"/api/v1/leads/{lead_id}/followups"
        return self.client.post(url, json=body, headers=self.headers)

    def get(self, url: str, headers: dict | None = None):
        return self.client.get(f"/api/v1{url}", headers=headers or self.headers)

    def due_times(self, lead_id: int) -> list[datetime]:
        promises = self.get(f"/leads/{lead_id}/scheduled-followups").json
        return [datetime.fromisoformat(p["due_at"]) for p in promises]


@pytest.fixture
def desk(client, make, auth, monkeypatch) -> Desk:
    org = make.org()
    agent = make.user("agent", org=org)
    return Desk(client, make, monkeypatch, org, agent, auth.headers_for(agent.username))


def test_a_lead_keeps_every_promise_a_later_message_on_another_channel_does_not_name(desk):
    lead = desk.lead()
    desk.at(NOON)
    tomorrow, friday = NOON + timedelta(days=1), NOON + timedelta(days=3)
    assert desk.follow_up(lead, "call", tomorrow).status_code == 201
    assert desk.follow_up(lead, "wechat", friday).status_code == 201
    assert desk.follow_up(lead, "sms").status_code == 201  # no time: nothing replaced

    assert desk.due_times(lead) == [tomorrow, friday]
    shown = desk.get(f"/leads/{lead}").json
    assert datetime.fromisoformat(shown["next_followup_at"]) == tomorrow  # the earliest


def test_a_due_promise_is_kept_by_reaching_the_person_or_replaced_by_a_new_time(desk):
    lead = desk.lead()
    desk.at(NOON)
    desk.follow_up(lead, "call", NOON + timedelta(hours=1))
    desk.follow_up(lead, "call", NOON + timedelta(days=2))
    desk.at(NOON + timedelta(hours=2))  # the first is due now
    desk.follow_up(lead, "call", result="no_answer")  # tried, nobody there, no new time
    assert len(desk.due_times(lead)) == 2

    desk.follow_up(lead, "call", NOON + timedelta(hours=5), result="no_answer")  # rescheduled
    assert desk.due_times(lead) == [NOON + timedelta(hours=5), NOON + timedelta(days=2)]
    desk.at(NOON + timedelta(hours=6))
    desk.follow_up(lead, "visit")  # reached: the due one is kept, the one in two days stays
    assert desk.due_times(lead) == [NOON + timedelta(days=2)]


def test_replaces_closes_exactly_the_promises_named(desk):
    lead = desk.lead()
    desk.at(NOON)
    desk.follow_up(lead, "call", NOON + timedelta(days=1))
    desk.follow_up(lead, "call", NOON + timedelta(days=2))
    first, _second = desk.get(f"/leads/{lead}/scheduled-followups").json

    assert desk.follow_up(lead, "wechat", replaces=[first["id"]]).status_code == 201
    assert desk.due_times(lead) == [NOON + timedelta(days=2)]
    refused = desk.follow_up(lead, "wechat", replaces=[first["id"]])
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "unknown_scheduled_followup"


def test_a_lost_lead_has_no_promise_left(desk):
    lead = desk.lead(stage="contacted")
    desk.at(NOON)
    desk.follow_up(lead, "call", NOON + timedelta(days=1))
    lost = desk.client.post(
        f"/api/v1/leads/{lead}/stage",
        json={"stage": "lost", "reason": "已在别家办理"},
        headers=desk.headers,
    )
    assert lost.status_code == 200 and lost.json["next_followup_at"] is None
    assert desk.due_times(lead) == []


def test_the_lists_split_promises_into_overdue_later_today_and_upcoming(desk, auth):
    desk.at(NOON - timedelta(hours=2))
    due = {
        "overdue": NOON - timedelta(hours=1),
        "today": NOON + timedelta(hours=3),
        "upcoming": NOON + timedelta(days=1),
    }
    leads = {when: desk.lead() for when in due}
    for when, at in due.items():
        desk.follow_up(leads[when], "call", at)
    desk.follow_up(leads["today"], "sms", NOON + timedelta(hours=6))  # a second one, same lead
    desk.at(NOON)

    counts = desk.get("/followups/scheduled/counts").json
    assert counts == {"overdue": 1, "today": 2, "upcoming": 1}
    for when, expected in (("overdue", [leads["overdue"]]), ("today", [leads["today"]] * 2)):
        listed = desk.get(f"/followups/scheduled?when={when}").json
        assert [p["lead_id"] for p in listed["items"]] == expected
        assert listed["items"][0]["lead"]["phone_masked"].count("*") == 4

    theirs = f"/followups/scheduled/counts?owner_id={desk.agent.id}"
    assert desk.get(theirs, auth.login("team_lead", org=desk.org)).json == counts
    colleague = auth.login("agent", org=desk.org)
    assert desk.get(theirs, colleague).status_code == 403
