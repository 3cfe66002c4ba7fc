"""The funnel report read from funnel_daily equals the funnel counted lead by lead, whatever
happened to the leads in between: creates, imports, stage moves, edits, reassignments, deletes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.funnel.stages import SET_BY_APPLICATION, change_stage
from crm.leads.importer import ImportOptions, run_import, store_upload
from crm.leads.models import FUNNEL, Lead
from crm.reports.funnel import channel_report, funnel_report
from crm.reports.funnel_daily import FunnelDaily, rebuild
from crm.reports.service import Period

pytestmark = pytest.mark.integration

CONSENT = {"given_at": "2026-11-20T10:00:00+08:00", "method": "web_form", "text_version": "v3"}
SHEET = "电话,城市,来源\n13800138101,深圳,\n13800138102,,\n13800138103,北京,\n".encode()
NOW = utcnow()
SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime.combine(NOW.astimezone(SHANGHAI).date(), time.min, tzinfo=SHANGHAI)
UTC_MIDNIGHT = datetime.combine(NOW.date(), time.min, tzinfo=UTC)
PERIODS = {
    "whole days": Period(MIDNIGHT - timedelta(days=3), MIDNIGHT + timedelta(days=1)),
    "days of another time zone": Period(UTC_MIDNIGHT - timedelta(days=3), UTC_MIDNIGHT),
    "partial days at both ends": Period(NOW - timedelta(days=3, hours=5), NOW + timedelta(hours=1)),
    "less than a day": Period(NOW - timedelta(hours=2), NOW + timedelta(hours=1)),
    "a day that ended": Period(MIDNIGHT - timedelta(days=2), MIDNIGHT - timedelta(days=1)),
}


def counted_lead_by_lead(period: Period, group_by: str) -> dict[object, list[int]]:
    """The funnel as a person would count it: every lead created in the period, one by one."""
    key = {"source": "source", "city": "city", "org": "org_id"}[group_by]
    tally: dict[object, list[int]] = defaultdict(lambda: [0] * (len(FUNNEL) + 2))
    with db.unit_of_work(SYSTEM) as session:
        for lead in session.scalars(select(Lead)):
            if period.start <= lead.created_at < period.end:
                reached = [lead.reached_rank >= rank for rank in range(1, len(FUNNEL))]
                counts = [1, *reached, lead.stage == "lost", lead.stage == "rejected"]
                group = tally[getattr(lead, key) or None]
                group[:] = [a + b for a, b in zip(group, counts, strict=True)]
    return dict(tally)


def reported(actor, period: Period, group_by: str) -> dict[object, list[int]]:
    with db.unit_of_work(actor) as session:
        report = funnel_report(session, actor, period, group_by)
    return {
        group.key: [group.leads, *(s.count for s in group.stages[1:]), group.lost, group.rejected]
        for group in report.groups
    }


def stored_buckets() -> set[tuple]:
    with db.unit_of_work(SYSTEM) as session:
        return nonzero_buckets(session)


def nonzero_buckets(session) -> set[tuple]:
    rows = session.execute(select(FunnelDaily).where(FunnelDaily.leads != 0)).scalars()
    return {(r.org_id, r.dimension, r.day, r.value, r.reached_rank, r.stage, r.leads) for r in rows}


def create(client, headers, phone: str) -> int:
    body = {"name": "王五", "phone": phone, "source": "官网", "city": "深圳", "consent": CONSENT}
    response = client.post("/api/v1/leads", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def history(client, make, auth):
    """Two orgs' leads living through everything that can move their funnel counts; the HQ
    manager who reports on them."""
    hq, partner = make.org("hq"), make.org("partner")
    manager, agent = make.user("manager", org=hq), make.user("agent", org=hq)
    headers = auth.headers_for(manager.username)
    at = [NOW - timedelta(days=d, hours=h) for d in range(4) for h in (0, 7, 20)]
    cities = ["深圳", None, "北京", ""]
    sources = ["百度", "抖音", "转介绍"]
    old = [
        make.lead(org=hq, created_at=t, city=cities[n % 4], source=sources[n % 3])
        for n, t in enumerate(at)
    ]
    make.lead(org=partner, created_at=at[1], city="成都", source="百度", stage="contacted")
    created = [create(client, headers, f"1390013{n:04d}") for n in range(3)]
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager.id)
    with db.unit_of_work(actor) as session:
        upload = store_upload(session, actor, runtime.vault, "名单.csv", SHEET)
        options = ImportOptions(source="购买名单")
        run_import(session, actor, runtime.vault, upload.id, options, lambda _: None, now=at[4])
    for lead, path in zip(
        old,
        [
            ["contacted", "qualified", "applied", "rejected"],
            ["contacted", "lost", "contacted", "qualified"],
            ["lost"],
            ["contacted", "qualified", "applied", "approved"],
        ],
        strict=False,
    ):
        for stage in path:
            if stage in SET_BY_APPLICATION:  # as the lead's loan application moves it
                with db.unit_of_work(actor) as session:
                    change_stage(session, actor, session.get(Lead, lead.id), stage)
                continue
            body = {"stage": stage, "reason": "客户无需求" if stage == "lost" else None}
            moved = client.post(f"/api/v1/leads/{lead.id}/stage", json=body, headers=headers)
            assert moved.status_code == 200, moved.json
    edits = [
        (old[5].id, {"city": "上海"}),
        (old[6].id, {"source": "抖音", "city": None}),
        (created[0], {"city": ""}),
    ]
    for lead_id, body in edits:
        assert (
            client.patch(f"/api/v1/leads/{lead_id}", json=body, headers=headers).status_code == 200
        )
    assigned = client.post(
        "/api/v1/leads/assign",
        json={"lead_ids": [old[0].id, old[7].id], "to_user_id": agent.id},
        headers=headers,
    )
    assert assigned.status_code == 200, assigned.json
    with db.unit_of_work(SYSTEM) as session:
        session.delete(session.get(Lead, old[8].id))
        session.execute(delete(Lead).where(Lead.id.in_([old[9].id, created[1]])))
    return actor


@pytest.mark.parametrize("group_by", ["source", "city", "org"])
@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_pre_aggregated_funnel_equals_the_funnel_counted_lead_by_lead(history, period, group_by):
    expected = counted_lead_by_lead(period, group_by)
    assert expected, "every period holds leads, so the comparison means something"
    assert reported(history, period, group_by) == expected


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_channel_report_counts_the_same_leads_as_the_funnel_lead_by_lead(history, period):
    by_source = counted_lead_by_lead(period, "source")
    with db.unit_of_work(history) as session:
        channels = channel_report(session, history, period).channels
    applied, disbursed = FUNNEL.index("applied"), FUNNEL.index("disbursed")
    assert {c.source: (c.leads, c.applications, c.disbursed) for c in channels} == {
        source: (counts[0], counts[applied], counts[disbursed])
        for source, counts in by_source.items()
    }


def recounted() -> set[tuple]:
    """funnel_daily as a recount from the leads finds it (rolled back: nothing is changed)."""
    with db.unit_of_work(SYSTEM) as session:
        rebuild(session.connection())
        found = nonzero_buckets(session)
        session.rollback()
    return found


def test_funnel_daily_holds_what_a_recount_from_the_leads_finds(history):
    kept = stored_buckets()
    assert kept == recounted()
    assert any(bucket[4] > 0 for bucket in kept)


def test_an_import_that_fails_leaves_no_counts_behind(make):
    manager = make.user("manager")
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager.id)
    with pytest.raises(RuntimeError, match="worker died"), db.unit_of_work(actor) as session:
        upload = store_upload(session, actor, runtime.vault, "名单.csv", SHEET)
        run_import(session, actor, runtime.vault, upload.id, ImportOptions(), lambda _: None)
        raise RuntimeError("the worker died before the commit")
    assert stored_buckets() == recounted() == set()


def test_a_bulk_update_of_a_lead_stage_is_refused_rather_than_left_uncounted(make):
    lead = make.lead()
    with pytest.raises(RuntimeError, match="funnel_daily"), db.unit_of_work(SYSTEM) as session:
        session.execute(Lead.__table__.update().where(Lead.id == lead.id).values(stage="contacted"))
