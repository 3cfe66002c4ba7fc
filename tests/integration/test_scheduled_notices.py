"""Follow-up reminders to the agent's console, stale-lead alerts to team leads and the daily KPI
snapshot: who hears of what, once, and what a snapshot counts. Time is injected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.extensions import db
from crm.funnel.stages import change_stage
from crm.leads.models import Lead
from crm.notifications.models import Notification
from crm.reminders.service import alert_stale_leads, remind_due_followups
from crm.reports.kpi_snapshots import snapshot_yesterday
from crm.reports.snapshot_models import KpiSnapshot
from dialer.models import Call
from tests.consoles import console_of
from workers.jobs.console_push import push

pytestmark = pytest.mark.integration

DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)


def _transaction():
    return db.unit_of_work(SYSTEM)


def _notices(user_id: int) -> list[tuple[str, list[int]]]:
    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        )
        return [(n.code, sorted(n.data["lead_ids"])) for n in rows]


class Pushes(list):
    def __call__(self, event, data, room, namespace):
        self.append((event, data["code"], sorted(data["lead_ids"]), room, namespace))


@pytest.fixture
def now():
    return utcnow()


def test_agents_hear_of_follow_ups_coming_due_once_per_due_time(make, now):
    org = make.org()
    agent, other = make.user("agent", org=org), make.user("agent", org=org)
    soon = make.lead(org, owner=agent, next_followup_at=now + 10 * MINUTE)
    make.lead(org, owner=agent, next_followup_at=now + 30 * MINUTE)  # later: next run
    make.lead(org, owner=agent, next_followup_at=now - 2 * DAY)  # escalation's business
    pushes = Pushes()

    first = remind_due_followups(_transaction, now, pushes)
    again = remind_due_followups(_transaction, now + 5 * MINUTE, pushes)

    assert (first, again) == ({"reminded": 1}, {"reminded": 0})
    assert _notices(agent.id) == [("followup_due", [soon.id])]
    assert _notices(other.id) == []
    assert pushes == [("notice", "followup_due", [soon.id], f"user:{agent.id}", "/dialer")]


def test_a_rescheduled_follow_up_is_reminded_again(make, now):
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org, owner=agent, next_followup_at=now + 10 * MINUTE)
    remind_due_followups(_transaction, now, Pushes())
    with db.unit_of_work(SYSTEM) as session:
        session.get(Lead, lead.id).next_followup_at = now + 2 * DAY

    again = remind_due_followups(_transaction, now + 2 * DAY - 5 * MINUTE, Pushes())

    assert again == {"reminded": 1}
    assert [code for code, _ in _notices(agent.id)] == ["followup_due", "followup_due"]


def test_the_reminder_reaches_the_agents_dialer_console(app, make, now):
    org = make.org()
    agent, other = make.user("agent", org=org), make.user("agent", org=org)
    lead = make.lead(org, owner=agent, next_followup_at=now + 5 * MINUTE)
    consoles = [console_of(app, user) for user in (agent, other)]

    remind_due_followups(_transaction, now, push)

    mine, theirs = (console.get_received("/dialer") for console in consoles)
    assert [(m["name"], m["args"][0]["code"], m["args"][0]["lead_ids"]) for m in mine] == [
        ("notice", "followup_due", [lead.id])
    ]
    assert theirs == []
    for console in consoles:
        console.disconnect(namespace="/dialer")


def test_team_leads_hear_of_applied_leads_left_untouched(make, now):
    org = make.org()
    team_lead = make.user("team_lead", org=org)
    team = make.team(org, lead_user_id=team_lead.id)
    agent = make.user("agent", org=org, team_id=team.id)
    long_ago = now - 31 * DAY
    stale = make.lead(org, owner=agent, stage="applied", created_at=long_ago, claimed_at=long_ago)
    make.lead(org, owner=agent, stage="applied", created_at=long_ago, last_followup_at=now - DAY)
    # a workable lead is recycling's business: it goes back to the pool, nobody is alerted
    make.lead(org, owner=agent, stage="contacted", created_at=long_ago, claimed_at=long_ago)
    pushes = Pushes()

    first = alert_stale_leads(_transaction, now, pushes)
    again = alert_stale_leads(_transaction, now + DAY, pushes)

    assert (first, again) == ({"alerted": 1}, {"alerted": 0})
    assert _notices(team_lead.id) == [("stale_lead", [stale.id])]
    assert _notices(agent.id) == []
    assert pushes == [("notice", "stale_lead", [stale.id], f"user:{team_lead.id}", "/dialer")]


# 2026-11-23 09:00 in Shanghai; "yesterday" there is 2026-11-22, from 16:00 UTC on the 21st
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAY_START = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)


def _call(session, lead, agent, started, talk: int | None):
    answered = started + timedelta(seconds=10) if talk is not None else None
    session.add(
        Call(
            org_id=lead.org_id,
            lead_id=lead.id,
            agent_id=agent.id,
            gateway="simulated",
            started_at=started,
            answered_at=answered,
            duration_s=talk,
        )
    )


def test_the_kpi_snapshot_counts_the_orgs_local_yesterday_once(make):
    org = make.org()
    agent = make.user("agent", org=org)
    lead = make.lead(org, owner=agent, created_at=DAY_START + MINUTE)
    make.lead(org, created_at=DAY_START - MINUTE)  # the day before
    make.lead(org, created_at=DAY_START + DAY)  # today in Shanghai
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, agent.id)
    with db.unit_of_work(actor) as session:
        moving = session.get(Lead, lead.id)
        for stage in ("contacted", "qualified", "applied"):
            change_stage(session, actor, moving, stage, now=DAY_START + 3 * MINUTE)
        _call(session, lead, agent, DAY_START + MINUTE, talk=95)
        _call(session, lead, agent, DAY_START + 2 * MINUTE, talk=None)
        _call(session, lead, agent, DAY_START + DAY + MINUTE, talk=30)  # today

    snapshot_yesterday(_transaction, NOW)
    snapshot_yesterday(_transaction, NOW + 3 * MINUTE)

    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(select(KpiSnapshot).where(KpiSnapshot.org_id == org.id)).all()
    assert [(r.day, r.calls, r.connected, r.talk_seconds, r.new_leads) for r in rows] == [
        (date(2026, 11, 22), 2, 1, 95, 1)
    ]
    assert rows[0].stage_reaches == {"contacted": 1, "qualified": 1, "applied": 1}
    assert rows[0].applications == 1
