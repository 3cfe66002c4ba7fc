"""Numbers that agree (issue 21) through the API: one definition of each named period for every
page, the console's own day counted as the agents report counts it, channel prices set in admin
pricing the channel report, and an export people can read."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.orgs.schemas import OrgSettings
from tests.integration.test_reports import call, report, save

NOW = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("crm.reports.service.utcnow", lambda: NOW)
    monkeypatch.setattr("crm.reports.personal.utcnow", lambda: NOW)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("today", "2026-11-24T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
        ("yesterday", "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00"),
        ("last_7_days", "2026-11-18T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
        ("last_30_days", "2026-10-26T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
        ("this_month", "2026-11-01T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
        ("last_month", "2026-10-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00"),
    ],
)
def test_a_named_period_is_whole_days_in_the_orgs_zone(client, auth, clock, name, start, end):
    headers = auth.login("manager")
    for kind in ("funnel", "agents", "channels"):
        period = report(client, headers, kind, period=name)["period"]
        assert [datetime.fromisoformat(period[k]) for k in ("from", "to")] == [
            datetime.fromisoformat(start),
            datetime.fromisoformat(end),
        ]


def test_a_named_period_goes_alone(client, auth):
    refused = client.get(
        "/api/v1/reports/funnel?period=today&from=2026-11-01", headers=auth.login("manager")
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "validation_error"


def test_my_day_counts_as_the_agents_report_and_shows_the_orgs_targets(client, make, auth, clock):
    settings = OrgSettings(agent_daily_targets={"calls": 150, "connected": 50, "talk_minutes": 100})
    org = make.org(settings=settings.model_dump(mode="json"))
    agent = make.user("agent", org=org)
    lead = make.lead(org=org, owner=agent)
    save(
        call(lead, agent, NOW - timedelta(hours=3), talked=95),
        call(lead, agent, NOW - timedelta(hours=2), talked=None),
        call(lead, agent, NOW - timedelta(hours=13), talked=600),  # yesterday in Shanghai
    )
    mine = client.get("/api/v1/reports/my-day", headers=auth.headers_for(agent.username)).json
    rows = report(client, auth.login("manager", org=org), "agents", period="today")["agents"]
    [row] = [r for r in rows if r["user_id"] == agent.id]
    assert (mine["calls"], mine["connected"], mine["talk_seconds"]) == (2, 1, 95)
    assert (row["calls"], row["connected"], row["talk_seconds"]) == (2, 1, 95)
    assert mine["targets"] == {"calls": 150, "connected": 50, "talk_minutes": 100}


def test_a_channels_price_set_through_the_api_prices_the_channel_report(client, make, auth):
    org = make.org()
    for _ in range(4):
        make.lead(org=org, source="抖音信息流")
    admin = auth.login("manager", org=org)
    # the factory writes leads straight to the table: the channel is added as an admin would
    source = client.post("/api/v1/sources", json={"name": "抖音信息流"}, headers=admin).json
    priced = client.patch(
        f"/api/v1/sources/{source['id']}", json={"cost_per_lead": "12.50"}, headers=admin
    )
    assert priced.status_code == 200 and priced.json["cost_per_lead"] == "12.50"
    [row] = report(client, admin, "channels", period="today")["channels"]
    assert (row["cost"], row["cost_per_lead"], row["roi"]) == ("50.00", "12.50", "-1.0000")

    agent = auth.login("agent", org=org)
    denied = client.patch(f"/api/v1/sources/{source['id']}", json={"kind": "form"}, headers=agent)
    assert denied.status_code == 403
    stranger = auth.login("partner_admin")
    url = f"/api/v1/sources/{source['id']}"
    assert client.patch(url, json={"kind": "form"}, headers=stranger).status_code == 404
    again = client.post("/api/v1/sources", json={"name": "抖音信息流"}, headers=admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_source"
    assert Decimal(row["cost"]) == 4 * Decimal("12.50")


def test_an_export_names_stages_and_owners_in_words_at_the_orgs_time(client, make, auth):
    org = make.org(settings=OrgSettings(timezone="Asia/Shanghai").model_dump(mode="json"))
    owner = make.user("agent", org=org, display_name="张小明")
    made = datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    make.lead(org=org, owner=owner, stage="contacted", created_at=made)
    make.lead(org=org, created_at=made)
    response = client.get("/api/v1/leads/export", headers=auth.login("manager", org=org))
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    words = sorted((r["阶段"], r["负责人"]) for r in rows)
    assert words == [("已联系", "张小明"), ("新线索", "公海")]
    assert {r["创建时间"] for r in rows} == {"2026-11-24 09:05"}  # Shanghai, to the minute
    [stamp] = re.findall(r"leads-(\d{8}-\d{6})\.csv", response.headers["Content-Disposition"])
    named_at = datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=SHANGHAI)
    assert abs(datetime.now(UTC) - named_at) < timedelta(minutes=1)  # by the org's clock
