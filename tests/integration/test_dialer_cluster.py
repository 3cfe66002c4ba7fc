"""Several server processes behind one Redis message queue and one PostgreSQL database: an event
emitted in one process reaches consoles connected to another, and to every process from a
write-only emitter (as an RQ worker emits)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_socketio import SocketIO
from redis import Redis

from tests.live_server import (
    Console,
    LiveServer,
    prepare_database,
    seed_where_calls_ring,
    start_server,
    stop_server,
)
from tests.services import PG_URL, missing, pg_schema

pytestmark = pytest.mark.integration
REDIS_URL = "redis://127.0.0.1:6379/13"


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    env: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # any connection failure means the service is absent
        missing("Redis", exc)
    from crm.compliance.crypto import PiiKeyring

    folder = tmp_path_factory.mktemp("dialer-cluster")
    pii_keys = PiiKeyring.generate_json()
    with pg_schema(PG_URL) as url:
        prepare_database(url, pii_keys)
        # nobody answers: a call rings for 30 s unless the agent hangs up, longer than a loaded
        # machine takes to start another server (test_starting_another_process_...)
        env = {
            "PII_KEYS": pii_keys,
            "REDIS_URL": REDIS_URL,
            "SIM_TIME_SCALE": "1.0",
            "SIM_ANSWER_RATE": "0.0",
            "SIM_SEED": str(seed_where_calls_ring(20)),
        }
        a = start_server(env, url, folder / "a")
        try:
            b = start_server(env, url, folder / "b")
            try:
                added = a.api("manager", "POST", "/caller-ids", json={"number": "01077770001"})
                assert added.status_code == 201, added.text
                yield Cluster(a, b, env, folder)
            finally:
                stop_server(b)
        finally:
            stop_server(a)


@pytest.fixture
def consoles() -> Iterator[list[Console]]:
    opened: list[Console] = []
    yield opened
    for console in opened:
        console.close()


def test_a_wallboard_on_one_process_sees_an_agent_on_another(cluster, consoles):
    a, b = cluster.a, cluster.b
    lead = a.claim_lead("agent_bj1")
    agent_id = lead["owner_id"]
    board = b.console("manager", "/wallboard")
    consoles.append(board)
    board.wait_for("kpis")
    agent = a.console("agent_bj1")
    consoles.append(agent)

    assert agent.call("agent_state", {"state": "available"}) == {"ok": True}
    call_id = agent.call("dial", {"lead_id": lead["id"]})["call_id"]
    agent.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ringing")
    assert agent.call("hangup", {"call_id": call_id}) == {"ok": True}

    def of_call(state):
        return lambda d: d["call_id"] == call_id and d["state"] == state

    for state in ("dialing", "ringing", "ended"):
        seen = board.wait_for("call_state", of_call(state))
        assert seen["agent_id"] == agent_id
    board.wait_until(
        lambda: board.states_of(agent_id)[-3:] == ["available", "dialing", "wrap_up"],
        what="agent states from the other process",
    )
    board.wait_for("kpis", lambda d: d["org_id"] == lead["org_id"] and d["calls"] >= 1)


def test_a_write_only_emitter_reaches_consoles_on_every_process(cluster, consoles):
    a, b = cluster.a, cluster.b
    user_id = a.claim_lead("agent_bj2")["owner_id"]
    on_a, on_b = a.console("agent_bj2"), b.console("agent_bj2")
    consoles += [on_a, on_b]
    marker = uuid.uuid4().hex
    emitter = SocketIO(message_queue=REDIS_URL)  # no app: only emits, as a worker does
    emitter.emit(
        "notice", {"code": "test", "message": marker}, to=f"user:{user_id}", namespace="/dialer"
    )
    for console in (on_a, on_b):
        console.wait_for("notice", lambda d: d["message"] == marker)


def test_starting_another_process_leaves_the_calls_of_running_ones_open(cluster, consoles):
    """`python wsgi.py` closes calls left open by a crash; in a cluster those are live calls of the
    other processes, which must go on."""
    a = cluster.a
    lead = a.claim_lead("lead_bj")
    agent = a.console("lead_bj")
    consoles.append(agent)
    call_id = agent.call("dial", {"lead_id": lead["id"]})["call_id"]
    agent.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ringing")
    third = start_server(cluster.env, a.database_url, cluster.folder / "c")
    try:
        [call] = a.calls("lead_bj", lead_id=lead["id"])
    finally:
        stop_server(third)
    assert agent.call("hangup", {"call_id": call_id}) == {"ok": True}
    assert call["state"] != "ended", call


def test_a_deployment_on_its_own_channel_shares_redis_without_sharing_events(cluster, consoles):
    """SOCKETIO_CHANNEL: two deployments on one Redis each hear only their own emits."""
    a = cluster.a
    other = start_server(
        {**cluster.env, "SOCKETIO_CHANNEL": "loanline-staging"},
        a.database_url,
        cluster.folder / "s",
    )
    try:
        user_id = a.claim_lead("sz_agent1")["owner_id"]
        ours, theirs = a.console("sz_agent1"), other.console("sz_agent1")
        consoles += [ours, theirs]
        to_ours, to_theirs = uuid.uuid4().hex, uuid.uuid4().hex
        for channel, marker in (("flask-socketio", to_ours), ("loanline-staging", to_theirs)):
            SocketIO(message_queue=REDIS_URL, channel=channel).emit(
                "notice",
                {"code": "test", "message": marker},
                to=f"user:{user_id}",
                namespace="/dialer",
            )
        ours.wait_for("notice", lambda d: d["message"] == to_ours)
        theirs.wait_for("notice", lambda d: d["message"] == to_theirs)
        assert not any(e == "notice" and d["message"] == to_theirs for e, d in ours.events)
        assert not any(e == "notice" and d["message"] == to_ours for e, d in theirs.events)
    finally:
        stop_server(other)
