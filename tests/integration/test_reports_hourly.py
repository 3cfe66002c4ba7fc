"""GET /api/v1/reports/hourly: the big screen's day hour by hour, in the org's time zone.

Calls and stage moves are made with the report tests' helpers (a call is answered when talked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_reports import call, save, stage_event

pytestmark = pytest.mark.integration
# 2026-10-15 in Beijing runs from 2026-10-14T16:00Z to 2026-10-15T16:00Z
DAY = "2026-10-15"
BEIJING_9AM = datetime(2026, 10, 15, 1, tzinfo=UTC)


def hourly(client, headers, **params):
    response = client.get("/api/v1/reports/hourly", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_calls_and_disbursements_fall_in_their_beijing_hour(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org=org)
    save(
        call(lead, agent, BEIJING_9AM, talked=30),
        call(lead, agent, BEIJING_9AM + timedelta(minutes=59), talked=None),
        call(lead, agent, BEIJING_9AM + timedelta(hours=1), talked=30),
        # 23:59 the evening before, Beijing time: another day
        call(lead, agent, BEIJING_9AM - timedelta(hours=9, minutes=1), talked=30),
        stage_event(lead, agent, "disbursed", BEIJING_9AM + timedelta(hours=5, minutes=30)),
    )
    body = hourly(client, auth.login("manager", org=org), date=DAY)
    assert body["day"] == DAY and body["timezone"] == "Asia/Shanghai"
    hours = {h["hour"]: h for h in body["hours"]}
    assert len(hours) == 24
    assert hours[9] == {"hour": 9, "calls": 2, "connected": 1, "disbursed": 0}
    assert hours[10] == {"hour": 10, "calls": 1, "connected": 1, "disbursed": 0}
    assert hours[14]["disbursed"] == 1
    assert sum(h["calls"] for h in body["hours"]) == 3


def test_partner_sees_only_its_own_calls(client, make, auth):
    hq, partner = make.org(), make.org(kind="partner")
    hq_lead, partner_lead = make.lead(org=hq), make.lead(org=partner)
    save(
        call(hq_lead, make.user("agent", org=hq), BEIJING_9AM, talked=30),
        call(partner_lead, make.user("partner_agent", org=partner), BEIJING_9AM, talked=None),
    )
    body = hourly(client, auth.login("partner_admin", org=partner), date=DAY)
    assert body["hours"][9] == {"hour": 9, "calls": 1, "connected": 0, "disbursed": 0}


def test_agents_may_not_read_it_and_a_bad_date_is_refused(client, make, auth):
    org = make.org()
    denied = client.get("/api/v1/reports/hourly", headers=auth.login("agent", org=org))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    bad = client.get(
        "/api/v1/reports/hourly",
        query_string={"date": "15/10/2026"},
        headers=auth.login("manager", org=org),
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_error"
