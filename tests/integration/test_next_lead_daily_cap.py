"""Power/preview dialing (next_lead) must offer a lead the dialer will dial, not one the
calling rules refuse for the rest of the day."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.extensions import db, runtime
from dialer import operations
from dialer.models import CallerId
from dialer.schemas import NextLeadIn
from dialer.service import DialRefused, end_call, plan_dial
from tests.integration.test_claims import org_with

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 20).date()


def at(hour: int) -> datetime:
    return datetime.combine(DAY, time(hour), SHANGHAI)


def actor_of(user):
    with db.unit_of_work(SYSTEM) as session:
        return actor_for_user(session, user.id)


def call_unanswered(actor, lead_id: int, when: datetime) -> None:
    with db.unit_of_work(actor) as session:
        plan = plan_dial(session, actor, runtime.vault, lead_id, claim_on_connect=True, now=when)
        end_call(session, plan.call, "no_answer", when)


def test_next_lead_skips_a_pool_lead_already_called_as_often_as_allowed_today(
    make, monkeypatch: pytest.MonkeyPatch
):
    org = org_with(make, max_calls_per_lead_per_day=3)
    agent = make.user("agent", org=org)
    with db.unit_of_work(SYSTEM) as session:
        session.add(CallerId(org_id=org.id, number="01080000001", daily_cap=150))
    best = make.lead(org=org, phone="13900000001", score=90)
    other = make.lead(org=org, phone="13900000002", score=50)
    actor = actor_of(agent)
    # the best pool lead rang three times this morning; nobody answered, it stays in the pool
    for hour in (10, 11, 12):
        call_unanswered(actor, best.id, at(hour))

    now = at(16)  # inside the calling hours, hours after the last attempt
    monkeypatch.setattr(operations, "utcnow", lambda: now)
    monkeypatch.setattr("crm.pools.service.utcnow", lambda: now)
    offered = runtime.dialer.next_lead(actor, NextLeadIn())["lead"]

    try:
        with db.unit_of_work(actor) as session:
            plan_dial(session, actor, runtime.vault, offered["id"], claim_on_connect=True, now=now)
        refused = None
    except DialRefused as err:
        refused = err.code
    # today: the lead at its daily cap is offered again (and again: the agent is stuck on it)
    assert refused is None, f"next_lead offered lead {offered['id']}, the dial says {refused}"
    assert offered["id"] == other.id
