"""A number on the do-not-call list is nobody's callback: a do_not_call outcome cannot promise
one, and the promises already made to that person close (no due list or reminder keeps telling
an agent to ring them)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.followups.models import ScheduledFollowup
from crm.followups.schemas import NewFollowup
from crm.followups.service import add_followup
from crm.leads.models import Lead
from dialer.models import CallerId, DncEntry
from dialer.schemas import DispositionIn
from dialer.service import end_call, plan_dial, record_disposition
from tests.integration.test_claims import org_with

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 20).date()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), SHANGHAI)


@pytest.fixture
def world(make):
    org = org_with(make)
    with db.unit_of_work(SYSTEM) as session:
        session.add(CallerId(org_id=org.id, number="01080000009", daily_cap=150))
    agent = make.user("agent", org=org)
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, agent.id)
    return org, agent, actor


def promise_callback(actor, lead, due: datetime) -> None:
    with db.unit_of_work(actor) as session:
        followup = NewFollowup(channel="wechat", content="约回电", next_followup_at=due)
        add_followup(session, actor, lead.id, followup, now=at(9, 30))


def ended_call(actor, lead) -> int:
    with db.unit_of_work(actor) as session:
        plan = plan_dial(session, actor, runtime.vault, lead.id, now=at(10))
        plan.call.answered_at = at(10) + timedelta(seconds=5)
        end_call(session, plan.call, "hangup", at(10, 1))
        return plan.call.id


def open_promises(lead) -> tuple[list[datetime], datetime | None]:
    with db.unit_of_work(SYSTEM) as session:
        due = session.scalars(
            select(ScheduledFollowup.due_at).where(
                ScheduledFollowup.lead_id == lead.id, ScheduledFollowup.closed_at.is_(None)
            )
        ).all()
        return list(due), session.get(Lead, lead.id).next_followup_at


def test_a_do_not_call_outcome_cannot_promise_a_callback(world, make):
    org, agent, actor = world
    lead = make.lead(org=org, owner=agent, phone="13900000013")
    outcome = DispositionIn(
        call_id=ended_call(actor, lead), disposition="do_not_call", next_followup_at=at(10, 2)
    )
    with pytest.raises(DomainError) as refused, db.unit_of_work(actor) as session:
        record_disposition(session, actor, outcome, at(10, 5))
    assert refused.value.code == "callback_on_do_not_call"
    assert open_promises(lead) == ([], None)
    with db.unit_of_work(SYSTEM) as session:  # nothing of the outcome was kept
        assert session.scalar(select(DncEntry.id).where(DncEntry.org_id == org.id)) is None


def test_a_do_not_call_outcome_closes_the_promises_made_before(world, make):
    org, agent, actor = world
    lead = make.lead(org=org, owner=agent, phone="13900000014")
    promise_callback(actor, lead, at(10) + timedelta(days=2))
    assert open_promises(lead)[1] is not None
    outcome = DispositionIn(call_id=ended_call(actor, lead), disposition="do_not_call")
    with db.unit_of_work(actor) as session:
        record_disposition(session, actor, outcome, at(10, 5))
    assert open_promises(lead) == ([], None)


def test_a_number_put_on_the_list_by_hand_closes_its_leads_promises(world, make, client, auth):
    org, agent, actor = world
    lead = make.lead(org=org, owner=agent, phone="13900000015")
    other = make.lead(org=org, owner=agent, phone="13900000016")
    promise_callback(actor, lead, at(10) + timedelta(days=2))
    promise_callback(actor, other, at(10) + timedelta(days=2))
    headers = auth.login("manager", org=org)
    body = {"phone": "139 0000 0015", "reason": "客户投诉，要求不再来电"}
    assert client.post("/api/v1/dnc", json=body, headers=headers).status_code == 201
    assert open_promises(lead) == ([], None)
    assert len(open_promises(other)[0]) == 1  # another person's callback stays
