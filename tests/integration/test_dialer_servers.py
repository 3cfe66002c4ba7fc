"""Calls owned by a server process that died end as server_lost, through the periodic job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from dialer.models import AgentStateSpan, DialerServer
from dialer.operations import current_agent_states
from dialer.servers import Heartbeat
from tests.integration.test_reports import call as ended_call
from tests.integration.test_reports import save
from workers.execution import execute

JOB = "workers.jobs.lost_calls.run"


def open_call(lead, agent, server_id: str | None, minutes_ago: int = 3):
    call = ended_call(lead, agent, utcnow() - timedelta(minutes=minutes_ago), talked=None)
    call.state, call.answered_at, call.server_id = "answered", call.started_at, server_id
    return call


def on_call(agent, minutes_ago: int = 3) -> AgentStateSpan:
    return AgentStateSpan(
        org_id=agent.org_id,
        user_id=agent.id,
        state="on_call",
        started_at=utcnow() - timedelta(minutes=minutes_ago),
    )


def servers(dead: str = "web-1:100:dead", alive: str = "web-2:200:live"):
    now = utcnow()
    return (
        DialerServer(
            id=dead, started_at=now - timedelta(hours=1), beat_at=now - timedelta(minutes=2)
        ),
        DialerServer(
            id=alive, started_at=now - timedelta(hours=1), beat_at=now - timedelta(seconds=5)
        ),
    )


def calls_by_id(client, auth, org) -> dict[int, dict]:
    response = client.get("/api/v1/calls", headers=auth.login("manager", org=org))
    assert response.status_code == 200, response.json
    return {c["id"]: c for c in response.json["items"]}


def test_the_open_calls_of_a_server_that_stopped_beating_end_as_server_lost(client, make, auth):
    org = make.org()
    stranded, fine, old = (make.user("agent", org=org) for _ in range(3))
    lead = make.lead(org=org, owner=stranded)
    dead, alive = servers()
    lost, live, unowned = (
        open_call(lead, stranded, dead.id),
        open_call(make.lead(org=org, owner=fine), fine, alive.id),
        open_call(make.lead(org=org, owner=old), old, None),  # placed before servers were kept
    )
    save(dead, alive, lost, live, unowned, on_call(stranded), on_call(fine))

    assert execute(JOB) == {"ended": 1}
    assert execute(JOB) == {"ended": 0}  # idempotent
    calls = calls_by_id(client, auth, org)
    assert (calls[lost.id]["state"], calls[lost.id]["end_reason"]) == ("ended", "server_lost")
    assert calls[lost.id]["duration_s"] >= 180
    assert calls[live.id]["state"] == calls[unowned.id]["state"] == "answered"
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        states = {s["agent_id"]: s["state"] for s in current_agent_states(session, [org.id])}
    assert states == {fine.id: "on_call"}  # the stranded agent is offline
    timeline = client.get(
        f"/api/v1/leads/{lead.id}/timeline", headers=auth.login("manager", org=org)
    ).json["items"]
    assert timeline[0]["kind"] == "call" and timeline[0]["data"]["end_reason"] == "server_lost"


def test_an_agent_back_on_a_call_through_another_server_keeps_that_call(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org)
    dead, alive = servers()
    lost = open_call(make.lead(org=org, owner=agent), agent, dead.id, minutes_ago=5)
    again = open_call(make.lead(org=org, owner=agent), agent, alive.id, minutes_ago=1)
    save(dead, alive, lost, again, on_call(agent, minutes_ago=1))

    assert execute(JOB) == {"ended": 1}
    calls = calls_by_id(client, auth, org)
    assert calls[lost.id]["end_reason"] == "server_lost"
    assert calls[again.id]["state"] == "answered"
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        states = current_agent_states(session, [org.id])
    assert [(s["agent_id"], s["state"]) for s in states] == [(agent.id, "on_call")]


def test_a_server_beats_before_its_first_call_and_is_forgotten_a_day_after_it_stops(app, make):
    heartbeat = Heartbeat(db, every=3600)  # only the first, synchronous beat within this test
    heartbeat.ensure_started()
    gone = DialerServer(id="web-9:900:gone", beat_at=utcnow() - timedelta(days=2))
    save(gone)
    execute(JOB)
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        beats = dict(session.execute(select(DialerServer.id, DialerServer.beat_at)).all())
    assert set(beats) == {heartbeat.server_id}
    assert utcnow() - beats[heartbeat.server_id] < timedelta(seconds=30)
