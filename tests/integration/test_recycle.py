"""Recycling (回收) and follow-up escalation: which leads move, who is told, and that a sweep is
batched, resumable and idempotent. Time is injected; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.extensions import db
from crm.leads.models import Lead, LeadEvent
from crm.notifications.models import Notification
from crm.orgs.models import Team
from crm.orgs.schemas import OrgSettings
from crm.pools import recycle as recycle_module
from crm.pools.models import ClaimBlock
from crm.pools.recycle import escalate, recycle
from dialer.models import Call
from dialer.schemas import DispositionIn
from dialer.service import end_call, record_disposition
from tests.consoles import console_of
from workers.jobs.console_push import push

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _transaction():
    return db.unit_of_work(SYSTEM)


def _lead_state(lead_id: int) -> Lead:
    with db.unit_of_work(SYSTEM) as session:
        return session.scalars(select(Lead).where(Lead.id == lead_id)).one()


def _notices(user_id: int) -> list[tuple[str, list[int]]]:
    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        )
        return [(n.code, n.data["lead_ids"]) for n in rows]


def _events(lead_id: int, kind: str) -> list[dict]:
    with db.unit_of_work(SYSTEM) as session:
        stmt = select(LeadEvent.data).where(LeadEvent.lead_id == lead_id, LeadEvent.kind == kind)
        return list(session.scalars(stmt))


@pytest.fixture
def now():
    # real time, so the claim endpoint (which reads the clock itself) sees the same cooldown
    return utcnow()


@pytest.fixture
def around_the_limits(make, now):
    """An agent's leads on both sides of each limit (default settings: 7 and 30 days)."""
    org = make.org()
    agent = make.user("agent", org=org)

    def owned(**fields):
        return make.lead(org, owner=agent, **fields).id

    due = {
        "silent just past 7 days": owned(claimed_at=now - 7 * DAY - MINUTE),
        "last follow-up just past 7 days": owned(
            claimed_at=now - 20 * DAY, last_followup_at=now - 7 * DAY - MINUTE
        ),
        "stage unchanged just past 30 days": owned(
            claimed_at=now - 40 * DAY,
            last_followup_at=now - DAY,
            stage="contacted",
            stage_changed_at=now - 30 * DAY - MINUTE,
        ),
        "never moved in 31 days of follow-ups": owned(
            claimed_at=now - 31 * DAY, last_followup_at=now - DAY
        ),
    }
    kept = {
        "silent exactly 7 days": owned(claimed_at=now - 7 * DAY),
        "followed up inside 7 days": owned(
            claimed_at=now - 20 * DAY, last_followup_at=now - 7 * DAY + MINUTE
        ),
        "stage moved inside 30 days": owned(
            claimed_at=now - 40 * DAY,
            last_followup_at=now - DAY,
            stage="contacted",
            stage_changed_at=now - 30 * DAY + MINUTE,
        ),
        # the old dates are a former owner's: the new owner's clock starts at the claim
        "claimed 2 days ago after a former owner": owned(
            claimed_at=now - 2 * DAY,
            last_followup_at=now - 50 * DAY,
            stage="contacted",
            stage_changed_at=now - 50 * DAY,
        ),
        "applied with a lender": owned(
            claimed_at=now - 40 * DAY, stage="applied", stage_changed_at=now - 40 * DAY
        ),
        "in the public pool": make.lead(org, claimed_at=now - 40 * DAY).id,
    }
    return SimpleNamespace(org=org, agent=agent, due=due, kept=kept)


def test_recycle_moves_exactly_the_leads_past_their_limits(around_the_limits, now):
    agent, due, kept = around_the_limits.agent, around_the_limits.due, around_the_limits.kept

    counts = recycle(_transaction, now, batch_size=2)

    assert counts == {"recycled": 4, "no_followup": 2, "stale": 2}
    assert {name for name, lead_id in due.items() if _lead_state(lead_id).owner_id is None} == set(
        due
    )
    still_owned = {name for name, lead_id in kept.items() if _lead_state(lead_id).owner_id}
    assert still_owned == set(kept) - {"in the public pool"}
    assert _events(due["silent just past 7 days"], "recycled") == [
        {"from_user_id": agent.id, "to_user_id": None, "reason": "no_followup"}
    ]
    assert _events(due["stage unchanged just past 30 days"], "recycled")[0]["reason"] == "stale"


def test_recycle_notifies_former_owners_who_then_cannot_reclaim_during_the_cooldown(
    client, auth, around_the_limits, now
):
    agent, due = around_the_limits.agent, around_the_limits.due
    recycle(_transaction, now, batch_size=2)

    notices = _notices(agent.id)
    assert {code for code, _ in notices} == {"lead_recycled"}
    assert sorted(i for _, ids in notices for i in ids) == sorted(due.values())
    with db.unit_of_work(SYSTEM) as session:
        blocks = session.execute(
            select(ClaimBlock.lead_id, ClaimBlock.user_id, ClaimBlock.until).where(
                ClaimBlock.lead_id.in_(due.values())
            )
        ).all()
    assert sorted(blocks) == sorted((i, agent.id, now + 3 * DAY) for i in due.values())

    lead_id = due["silent just past 7 days"]
    mine = client.post(f"/api/v1/leads/{lead_id}/claim", headers=auth.headers_for(agent.username))
    assert (mine.status_code, mine.json["error"]["code"]) == (422, "reclaim_cooldown")


def test_the_former_owner_hears_of_the_recycling_on_their_console(app, around_the_limits, now):
    agent, due = around_the_limits.agent, around_the_limits.due
    console = console_of(app, agent)

    recycle(_transaction, now, push, batch_size=2)

    heard = [m["args"][0] for m in console.get_received("/dialer") if m["name"] == "notice"]
    assert {notice["code"] for notice in heard} == {"lead_recycled"}
    assert sorted(i for notice in heard for i in notice["lead_ids"]) == sorted(due.values())
    console.disconnect(namespace="/dialer")


def test_a_second_recycle_run_moves_nothing_more(around_the_limits, now):
    recycle(_transaction, now)

    assert recycle(_transaction, now) == {"recycled": 0, "no_followup": 0, "stale": 0}
    assert len(_notices(around_the_limits.agent.id)) == 1


def test_a_recycle_stopped_midway_keeps_its_batches_and_a_rerun_finishes(
    around_the_limits, now, monkeypatch
):
    due = around_the_limits.due
    real_return, calls = recycle_module.return_to_pool, []

    def dies_on_the_third_lead(*args, **kwargs):
        calls.append(args[2].id)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real_return(*args, **kwargs)

    monkeypatch.setattr(recycle_module, "return_to_pool", dies_on_the_third_lead)
    with pytest.raises(RuntimeError):
        recycle(_transaction, now, batch_size=2)
    monkeypatch.undo()

    # the first batch of two stayed recycled; the rerun does the other two, each exactly once
    assert sum(_lead_state(i).owner_id is None for i in due.values()) == 2
    assert recycle(_transaction, now, batch_size=2)["recycled"] == 2
    assert all(len(_events(i, "recycled")) == 1 for i in due.values())


def test_recycle_follows_each_orgs_own_limits(make, now):
    strict = make.org(settings=OrgSettings(recycle_after_days=3).model_dump())
    default = make.org()
    in_strict = make.lead(strict, owner=make.user("agent", org=strict), claimed_at=now - 4 * DAY)
    in_default = make.lead(default, owner=make.user("agent", org=default), claimed_at=now - 4 * DAY)

    recycle(_transaction, now)

    assert _lead_state(in_strict.id).owner_id is None
    assert _lead_state(in_default.id).owner_id is not None


def test_recycle_command_runs_the_sweep_now(app, make):
    org = make.org()
    make.lead(org, owner=make.user("agent", org=org), claimed_at=utcnow() - 8 * DAY)

    result = app.test_cli_runner().invoke(args=["recycle"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "recycled: 1, no followup: 1, stale: 0"


@pytest.fixture
def team(make):
    """A team lead and three agents; the first agent owns a lead whose follow-up is 25h late."""
    org = make.org()
    team = make.team(org)
    team_lead = make.user("team_lead", org=org, team_id=team.id)
    with db.unit_of_work(SYSTEM) as session:
        session.execute(update(Team).where(Team.id == team.id).values(lead_user_id=team_lead.id))
    agents = [make.user("agent", org=org, team_id=team.id) for _ in range(3)]
    return SimpleNamespace(org=org, team=team, lead=team_lead, agents=agents)


def _late_lead(make, team, owner, now, late: timedelta) -> int:
    return make.lead(
        team.org, owner=owner, claimed_at=now - 10 * DAY, next_followup_at=now - late
    ).id


def test_escalation_notifies_the_team_lead_once_then_reassigns_within_the_team(make, team, now):
    owner, *others = team.agents
    late = _late_lead(make, team, owner, now, 25 * HOUR)
    not_yet = _late_lead(make, team, owner, now, 23 * HOUR)

    assert escalate(_transaction, now) == {"escalated": 1, "reassigned": 0, "returned": 0}
    assert escalate(_transaction, now + HOUR)["escalated"] == 0
    assert _notices(team.lead.id) == [("followup_overdue", [late])]
    assert _lead_state(late).owner_id == owner.id

    # past 72 hours: each lead goes to the teammate whose turn it is, never back to its owner;
    # `not_yet` crossed both limits between two runs, and its team lead still hears of it first
    counts = escalate(_transaction, now + 50 * HOUR)
    assert counts == {"escalated": 1, "reassigned": 2, "returned": 0}
    assert _notices(team.lead.id)[1:] == [("followup_overdue", [not_yet])]
    new_owner = _lead_state(late).owner_id
    assert new_owner in {agent.id for agent in others}
    assert _lead_state(not_yet).owner_id in {agent.id for agent in others} - {new_owner}
    assert ("lead_reassigned", [late, not_yet]) in _notices(owner.id)
    assert _events(late, "reassigned")[0]["reason"] == "followup_overdue"
    assert escalate(_transaction, now + 51 * HOUR) == {
        "escalated": 0,
        "reassigned": 0,
        "returned": 0,
    }


def test_escalation_returns_the_lead_to_the_pool_when_the_team_has_nobody_else(make, now):
    org = make.org()
    loner = make.user("agent", org=org, team_id=make.team(org).id)
    lead_id = _late_lead(make, SimpleNamespace(org=org), loner, now, 73 * HOUR)

    counts = escalate(_transaction, now)

    assert counts == {"escalated": 1, "reassigned": 0, "returned": 1}
    assert _lead_state(lead_id).owner_id is None
    assert _notices(loner.id) == [("lead_recycled", [lead_id])]
    with db.unit_of_work(SYSTEM) as session:
        blocked = session.scalar(
            select(func.count()).where(
                ClaimBlock.lead_id == lead_id, ClaimBlock.user_id == loner.id
            )
        )
    assert blocked == 1


def _call(lead_id: int, agent, started, **fields) -> int:
    with db.unit_of_work(SYSTEM) as session:
        call = Call(org_id=agent.org_id, lead_id=lead_id, agent_id=agent.id, gateway="simulated")
        call.started_at, call.state = started, "answered"
        call.answered_at = started + 10 * SECOND
        for name, value in fields.items():
            setattr(call, name, value)
        session.add(call)
        session.flush()
        return call.id


def test_a_lead_on_its_owners_call_is_not_taken_and_the_call_gets_its_outcome(make, team, now):
    """The sweeps ran while the owner was on the phone with an idle lead: recycled mid-call, the
    callback the agent then saved was refused (reclaim_cooldown) and the promise was lost."""
    owner = team.agents[0]
    silent = make.lead(team.org, owner=owner, claimed_at=now - 8 * DAY).id
    overdue = _late_lead(make, team, owner, now, 73 * HOUR)
    on_the_phone = _call(silent, owner, now - 4 * MINUTE)
    writing_up = _call(overdue, owner, now - 30 * MINUTE, state="ended", ended_at=now - 20 * MINUTE)

    assert recycle(_transaction, now)["recycled"] == 0
    assert escalate(_transaction, now)["reassigned"] == 0
    assert {_lead_state(silent).owner_id, _lead_state(overdue).owner_id} == {owner.id}

    with db.unit_of_work(SYSTEM) as session:
        end_call(session, session.get(Call, on_the_phone), "callee_hangup", now)
        agent = actor_for_user(session, owner.id)
        for call_id in (on_the_phone, writing_up):
            outcome = DispositionIn(
                call_id=call_id, disposition="callback", next_followup_at=now + DAY
            )
            record_disposition(session, agent, outcome, now + MINUTE)
    assert _lead_state(silent).next_followup_at == now + DAY
    assert _lead_state(overdue).owner_id == owner.id


def test_a_call_left_without_an_outcome_does_not_keep_the_lead_from_the_sweep(make, now):
    org = make.org()
    agent = make.user("agent", org=org)
    silent = make.lead(org, owner=agent, claimed_at=now - 8 * DAY).id
    _call(silent, agent, now - HOUR, state="ended", ended_at=now - 31 * MINUTE)

    assert recycle(_transaction, now)["recycled"] == 1
    assert _lead_state(silent).owner_id is None


def test_notices_of_a_sweep_carry_the_sweeps_clock(make, now):
    """A sweep run for an earlier moment (a catch-up, the demo's history) dated its notices
    with the wall clock."""
    org = make.org()
    agent = make.user("agent", org=org)
    make.lead(org, owner=agent, claimed_at=now - 20 * DAY)
    earlier = now - 2 * DAY

    recycle(_transaction, earlier)

    with db.unit_of_work(SYSTEM) as session:
        stamped = session.scalars(
            select(Notification.created_at).where(Notification.user_id == agent.id)
        ).all()
    assert stamped == [earlier]
