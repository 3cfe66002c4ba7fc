"""Funnel, agent and channel reports: hand-counted numbers, grouping, periods and org scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.followups.models import Followup
from crm.leads.models import LeadEvent, LeadSource
from dialer.models import Call
from tests.loan_rows import Due, make_lender, make_loan

# October 2026 in Beijing; every lead of a test is created inside it unless it tests the edges.
FROM, TO = "2026-10-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00"
START = datetime(2026, 9, 30, 16, tzinfo=UTC)
END = datetime(2026, 10, 31, 16, tzinfo=UTC)
IN_OCTOBER = datetime(2026, 10, 15, 4, tzinfo=UTC)
OCTOBER = {"from": FROM, "to": TO}

# 百度: ten leads, two of them lost (one before contact, one after qualifying), one rejected.
BAIDU = [("new", 0), ("lost", 0), ("contacted", 1), ("contacted", 1), ("lost", 2)]
BAIDU += [("qualified", 2), ("applied", 3), ("rejected", 3), ("approved", 4), ("disbursed", 5)]
# 抖音: three leads that stalled early, so later conversions have nothing to convert from.
DOUYIN = [("new", 0), ("new", 0), ("contacted", 1)]
# (stage, leads that reached it, conversion from the previous stage), counted by hand
EXPECTED_BAIDU = [
    ("new", 10, None),
    ("contacted", 8, "0.8000"),
    ("qualified", 6, "0.7500"),
    ("applied", 4, "0.6667"),
    ("approved", 2, "0.5000"),
    ("disbursed", 1, "0.5000"),
]
EXPECTED_DOUYIN = [
    ("new", 3, None),
    ("contacted", 1, "0.3333"),
    ("qualified", 0, "0.0000"),
    ("applied", 0, None),
    ("approved", 0, None),
    ("disbursed", 0, None),
]
EXPECTED_TOTAL = [
    ("new", 13, None),
    ("contacted", 9, "0.6923"),
    ("qualified", 6, "0.6667"),
    ("applied", 4, "0.6667"),
    ("approved", 2, "0.5000"),
    ("disbursed", 1, "0.5000"),
]


def save(*objects):
    with db.unit_of_work(SYSTEM) as session:
        session.add_all(objects)


def table(group):
    return [(s["stage"], s["count"], s["conversion"]) for s in group["stages"]]


def by_label(groups):
    return {g["label"]: g for g in groups}


def report(client, headers, name, **params):
    response = client.get(f"/api/v1/reports/{name}", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_funnel_counts_leads_that_reached_each_stage_as_counted_by_hand(client, make, auth):
    org = make.org()
    for source, leads in (("百度", BAIDU), ("抖音", DOUYIN)):
        for stage, rank in leads:
            make.lead(org=org, source=source, stage=stage, reached_rank=rank, created_at=IN_OCTOBER)
    body = report(client, auth.login("manager", org=org), "funnel", group_by="source", **OCTOBER)
    groups = by_label(body["groups"])
    assert [g["label"] for g in body["groups"]] == ["百度", "抖音"]
    assert table(groups["百度"]) == EXPECTED_BAIDU
    baidu = groups["百度"]
    assert (baidu["leads"], baidu["lost"], baidu["rejected"]) == (10, 2, 1)
    assert table(groups["抖音"]) == EXPECTED_DOUYIN
    assert (groups["抖音"]["lost"], groups["抖音"]["rejected"]) == (0, 0)
    assert table(body["total"]) == EXPECTED_TOTAL
    assert (body["total"]["lost"], body["total"]["rejected"]) == (2, 1)
    assert body["period"] == {"from": FROM, "to": TO}


def test_funnel_excludes_leads_created_outside_the_half_open_period(client, make, auth):
    org = make.org()
    edges = {
        START - timedelta(seconds=1): "before",
        START: "first",
        END - timedelta(microseconds=1): "last",
        END: "at_to",
    }
    for created_at, source in edges.items():
        make.lead(org=org, source=source, created_at=created_at)
    body = report(client, auth.login("manager", org=org), "funnel", **OCTOBER)
    assert sorted(g["label"] for g in body["groups"]) == ["first", "last"]
    assert body["total"]["leads"] == 2


def test_funnel_reads_bare_dates_as_midnight_in_the_org_time_zone(client, make, auth):
    org = make.org()
    make.lead(org=org, source="first", created_at=START)
    make.lead(org=org, source="before", created_at=START - timedelta(seconds=1))
    headers = auth.login("manager", org=org)
    body = report(client, headers, "funnel", **{"from": "2026-10-01", "to": "2026-11-01"})
    assert body["period"] == {"from": FROM, "to": TO}
    assert [g["label"] for g in body["groups"]] == ["first"]


@pytest.fixture
def sales_floor(make):
    """An HQ org with two teams and a partner org; leads spread over owners and cities."""
    hq, partner = make.org("hq"), make.org("partner")
    north, south = make.team(org=hq, name="北区"), make.team(org=hq, name="南区")
    zhang = make.user("agent", org=hq, display_name="张小明", team_id=north.id)
    li = make.user("agent", org=hq, display_name="李小红", team_id=south.id)
    wu = make.user("partner_agent", org=partner, display_name="吴电销")
    for owner, city, count in ((zhang, "北京", 3), (li, "上海", 2), (None, "北京", 1)):
        for _ in range(count):
            make.lead(org=hq, owner=owner, city=city, created_at=IN_OCTOBER)
    for _ in range(4):
        make.lead(org=partner, owner=wu, city="深圳", created_at=IN_OCTOBER)
    return hq, partner, {"zhang": zhang, "li": li, "wu": wu, "north": north, "south": south}


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("agent", {"吴电销": 4, "张小明": 3, "李小红": 2, None: 1}),
        ("team", {None: 5, "北区": 3, "南区": 2}),
        ("city", {"北京": 4, "深圳": 4, "上海": 2}),
        ("source", {"web_form": 10}),
    ],
)
def test_funnel_groups_by_each_dimension(client, auth, sales_floor, group_by, expected):
    hq, *_ = sales_floor
    body = report(client, auth.login("manager", org=hq), "funnel", group_by=group_by, **OCTOBER)
    assert {g["label"]: g["leads"] for g in body["groups"]} == expected
    assert body["total"]["leads"] == 10


def test_funnel_group_keys_are_owner_and_team_ids(client, auth, sales_floor):
    hq, _, people = sales_floor
    headers = auth.login("manager", org=hq)
    agents = report(client, headers, "funnel", group_by="agent", **OCTOBER)["groups"]
    assert {g["label"]: g["key"] for g in agents}["张小明"] == people["zhang"].id
    teams = report(client, headers, "funnel", group_by="team", **OCTOBER)["groups"]
    assert {g["label"]: g["key"] for g in teams}["南区"] == people["south"].id


def test_a_report_asked_again_and_again_is_planned_for_its_period(
    client, auth, sales_floor, database_url
):
    """psycopg prepares a statement on its fifth run on a connection, after which PostgreSQL
    may keep one generic plan, costed for a guessed share of the table: at 1M leads the agent
    funnel took twice as long from its eleventh run on a pooled connection. Reports are
    planned for the period they are asked for, every time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements' plans are PostgreSQL's")
    headers = auth.login("manager", org=sales_floor[0])
    for _ in range(12):
        report(client, headers, "funnel", group_by="agent", **OCTOBER)
    with db.unit_of_work(SYSTEM) as session:
        generic, custom = session.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT cohort.key%'"
            )
        ).one()
    assert (generic, custom >= 7) == (0, True)


def test_hq_manager_groups_the_funnel_by_org(client, auth, sales_floor):
    hq, partner, _ = sales_floor
    body = report(client, auth.login("manager", org=hq), "funnel", group_by="org", **OCTOBER)
    assert {g["key"]: (g["label"], g["leads"]) for g in body["groups"]} == {
        hq.id: (hq.name, 6),
        partner.id: (partner.name, 4),
    }


def test_partner_sees_only_its_own_org_in_every_report(client, auth, sales_floor):
    _, partner, _ = sales_floor
    headers = auth.login("partner_admin", org=partner)
    body = report(client, headers, "funnel", group_by="agent", **OCTOBER)
    assert [(g["label"], g["leads"]) for g in body["groups"]] == [("吴电销", 4)]
    cities = report(client, headers, "funnel", group_by="city", **OCTOBER)["groups"]
    assert [g["label"] for g in cities] == ["深圳"]
    agents = report(client, headers, "agents", **OCTOBER)["agents"]
    assert [a["display_name"] for a in agents] == ["吴电销"]
    channels = report(client, headers, "channels", **OCTOBER)["channels"]
    assert [(c["source"], c["leads"]) for c in channels] == [("web_form", 4)]


def test_partner_cannot_group_the_funnel_by_org(client, auth, sales_floor):
    _, partner, _ = sales_floor
    response = client.get(
        "/api/v1/reports/funnel",
        query_string={"group_by": "org", **OCTOBER},
        headers=auth.login("partner_admin", org=partner),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_reports_need_the_reports_permission(client, auth):
    headers = auth.login("partner_agent")
    for name in ("funnel", "agents", "channels"):
        response = client.get(f"/api/v1/reports/{name}", headers=headers)
        assert response.status_code == 403, name


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2025-01-01", "to": "2026-01-03"}, "period_too_long"),
        ({"from": "2026-11-01", "to": "2026-10-01"}, "invalid_period"),
        ({"from": "2026-10-01T00:00:00", "to": TO}, "validation_error"),
        ({"group_by": "province"}, "validation_error"),
    ],
)
def test_funnel_refuses_bad_periods_and_groupings(client, auth, params, code):
    response = client.get(
        "/api/v1/reports/funnel", query_string=params, headers=auth.login("manager")
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == code


def test_period_defaults_to_the_last_30_days(client, make, auth):
    org = make.org()
    now = datetime.now(UTC)
    make.lead(org=org, source="recent", created_at=now - timedelta(days=29))
    make.lead(org=org, source="old", created_at=now - timedelta(days=31))
    body = report(client, auth.login("manager", org=org), "funnel")
    assert [g["label"] for g in body["groups"]] == ["recent"]
    start = datetime.fromisoformat(body["period"]["from"])
    end = datetime.fromisoformat(body["period"]["to"])
    assert end - start == timedelta(days=30)


def test_channel_cost_is_leads_times_each_orgs_price_in_decimal(client, make, auth):
    hq, partner = make.org("hq"), make.org("partner")
    save(
        LeadSource(org_id=hq.id, name="百度", cost_per_lead=Decimal("12.35")),
        LeadSource(org_id=partner.id, name="百度", cost_per_lead=Decimal("20.10")),
        LeadSource(org_id=hq.id, name="抖音", cost_per_lead=Decimal("0.10")),
    )
    products = {org.id: make_lender(org)[1] for org in (hq, partner)}
    for org, rank, loan in (
        (hq, 5, "30000.00"),
        (hq, 3, None),
        (hq, 0, None),
        (partner, 5, "20000.55"),
    ):
        lead = make.lead(org=org, source="百度", reached_rank=rank, created_at=IN_OCTOBER)
        if loan:  # disbursed: the channel counts the loans
            make_loan(
                lead,
                products[org.id],
                [Due(date(2027, 1, 1), Decimal(loan))],
                disbursed_at=IN_OCTOBER,
            )
    for _ in range(3):
        make.lead(org=hq, source="抖音", created_at=IN_OCTOBER)
    make.lead(org=hq, source="转介绍", reached_rank=3, created_at=IN_OCTOBER)
    body = report(client, auth.login("manager", org=hq), "channels", **OCTOBER)
    # 百度: 3 × 12.35 + 1 × 20.10 = 57.15 over 4 leads (14.2875) and 2 disbursed (28.575)
    assert body["channels"] == [
        {
            "source": "百度",
            "leads": 4,
            "cost": "57.15",
            "applications": 3,
            "disbursed": 2,
            "disbursed_amount": "50000.55",
            "cost_per_lead": "14.29",
            "cost_per_disbursed": "28.58",
            # these loans carry no fees and no commission: the leads' cost is all lost
            "revenue": "0.00",
            "commission_cost": "0.00",
            "roi": "-1.0000",
        },
        {
            "source": "抖音",
            "leads": 3,
            "cost": "0.30",
            "applications": 0,
            "disbursed": 0,
            "disbursed_amount": "0.00",
            "cost_per_lead": "0.10",
            "cost_per_disbursed": None,
            "revenue": "0.00",
            "commission_cost": "0.00",
            "roi": "-1.0000",
        },
        {
            "source": "转介绍",
            "leads": 1,
            "cost": "0.00",
            "applications": 1,
            "disbursed": 0,
            "disbursed_amount": "0.00",
            "cost_per_lead": "0.00",
            "cost_per_disbursed": None,
            "revenue": "0.00",
            "commission_cost": "0.00",
            "roi": None,
        },
    ]


def stage_event(lead, actor, to, at):
    return LeadEvent(
        org_id=lead.org_id,
        lead_id=lead.id,
        kind="stage",
        actor_id=actor.id,
        at=at,
        data={"from": "qualified", "to": to},
    )


def followup(lead, user, at):
    return Followup(
        org_id=lead.org_id,
        lead_id=lead.id,
        user_id=user.id,
        channel="call",
        content="客户说下午再联系",
        created_at=at,
    )


def call(lead, agent, at, talked: int | None):
    answered = at + timedelta(seconds=10) if talked is not None else None
    return Call(
        org_id=lead.org_id,
        lead_id=lead.id,
        agent_id=agent.id,
        gateway="simulated",
        state="ended",
        started_at=at,
        answered_at=answered,
        duration_s=talked,
    )


def test_agent_report_counts_calls_followups_and_applications_in_the_period(client, make, auth):
    org = make.org()
    zhang = make.user("agent", org=org, display_name="张小明")
    idle = make.user("agent", org=org, display_name="赵空闲")
    manager = make.user("manager", org=org, display_name="王经理")
    make.user("manager", org=org, display_name="钱不动")
    lead = make.lead(org=org, owner=zhang)
    before = START - timedelta(minutes=1)
    save(
        followup(lead, zhang, START),
        followup(lead, zhang, END - timedelta(seconds=1)),
        followup(lead, zhang, before),
        followup(lead, zhang, END),
        followup(lead, manager, IN_OCTOBER),
        stage_event(lead, zhang, "applied", IN_OCTOBER),
        stage_event(lead, zhang, "applied", before),
        stage_event(lead, zhang, "approved", IN_OCTOBER),
        stage_event(lead, manager, "applied", IN_OCTOBER),
        call(lead, zhang, START, talked=95),
        call(lead, zhang, IN_OCTOBER, talked=None),
        call(lead, zhang, IN_OCTOBER, talked=30),
        call(lead, zhang, before, talked=600),
    )
    body = report(client, auth.headers_for(manager.username), "agents", **OCTOBER)
    rows = {a["display_name"]: a for a in body["agents"]}
    assert set(rows) == {"张小明", "赵空闲", "王经理"}
    counts = {name: (a["followups"], a["applications"]) for name, a in rows.items()}
    assert counts == {"张小明": (2, 1), "赵空闲": (0, 0), "王经理": (1, 1)}
    assert rows["赵空闲"]["user_id"] == idle.id
    calls = ("calls", "connected", "connect_rate", "talk_seconds")
    assert {k: rows["张小明"][k] for k in calls} == {
        "calls": 3,
        "connected": 2,
        "connect_rate": "0.6667",
        "talk_seconds": 125,
    }
    assert {k: rows["赵空闲"][k] for k in calls} == {
        "calls": 0,
        "connected": 0,
        "connect_rate": None,
        "talk_seconds": 0,
    }
    assert rows["张小明"]["disbursed_amount"] == "0.00"
