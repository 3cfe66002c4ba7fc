"""The console's session outlives its socket: real Socket.IO clients against a live server whose
calls ring for 0.5 s and talk for 10 s unless hung up, with a one-second grace period."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.live_server import Console, LiveServer, seed_where_calls_ring, serve

pytestmark = pytest.mark.integration
AGENTS = [f"grace{n}" for n in range(1, 6)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SIM_TIME_SCALE": "0.01",
        "SIM_ANSWER_RATE": "1.0",
        "SIM_RING_SECONDS": "50",
        "SIM_TALK_SECONDS": "1000",
        "SIM_SEED": str(seed_where_calls_ring(20)),
        "CONSOLE_GRACE_SECONDS": "1",
    }
    with serve(tmp_path_factory.mktemp("grace"), AGENTS, leads_each=2, **env) as live:
        added = live.api("manager", "POST", "/caller-ids", json={"number": "01077770001"})
        assert added.status_code == 201, added.text
        yield live


@pytest.fixture
def connect(server: LiveServer) -> Iterator[Callable[[str], Console]]:
    opened: list[Console] = []

    def open_console(username: str) -> Console:
        opened.append(server.console(username))
        return opened[-1]

    yield open_console
    for console in opened:
        console.close()


def own_lead(server: LiveServer, username: str) -> int:
    leads = server.api(username, "GET", "/leads", params={"pool": "mine"}).json()["items"]
    return leads[0]["id"]


def answered(console: Console, lead_id: int) -> int:
    dialed = console.call("dial", {"lead_id": lead_id})
    assert dialed["ok"], dialed
    call_id = dialed["call_id"]
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "answered")
    return call_id


def awaiting(server: LiveServer, username: str) -> list[int]:
    return [c["id"] for c in server.api(username, "GET", "/calls/awaiting-outcome").json()["items"]]


def test_a_console_back_within_the_grace_period_finds_its_call_up(server, connect):
    first = server.console(AGENTS[0])
    call_id = answered(first, own_lead(server, AGENTS[0]))
    first.close()
    time.sleep(0.3)
    console = connect(AGENTS[0])
    back = console.call("resume", {})
    assert (back["agent_state"], back["call"]["call_id"], back["call"]["state"]) == (
        "on_call",
        call_id,
        "answered",
    )
    time.sleep(1.5)  # past the first socket's grace period: the agent came back, the call stays
    assert server.calls(AGENTS[0])[0]["state"] == "answered"
    assert console.call("hangup", {"call_id": call_id}) == {"ok": True}
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended")
    assert awaiting(server, AGENTS[0]) == [call_id]
    assert console.call("disposition", {"call_id": call_id, "disposition": "interested"})["ok"]
    assert awaiting(server, AGENTS[0]) == []


def test_a_console_gone_past_the_grace_period_leaves_its_call_waiting_for_an_outcome(
    server, connect
):
    first = server.console(AGENTS[1])
    call_id = answered(first, own_lead(server, AGENTS[1]))
    first.close()
    call = server.wait_for_call(AGENTS[1], call_id, lambda c: c["state"] == "ended")
    assert (call["end_reason"], call["disposition"]) == ("console_lost", None)
    back = connect(AGENTS[1]).call("resume", {})
    assert (back["agent_state"], back["call"]) == ("offline", None)
    assert [c["call_id"] for c in back["awaiting_outcome"]] == [call_id]
    assert back["awaiting_total"] == 1 and awaiting(server, AGENTS[1]) == [call_id]


def test_an_unanswered_call_leaves_a_new_lead_new_whatever_outcome_is_picked(server, connect):
    console = connect(AGENTS[2])
    lead_id = own_lead(server, AGENTS[2])
    dialed = console.call("dial", {"lead_id": lead_id})
    assert console.call("hangup", {"call_id": dialed["call_id"]}) == {"ok": True}  # ringing
    end = console.wait_for(
        "call_state", lambda d: d["call_id"] == dialed["call_id"] and d["state"] == "ended"
    )
    assert "duration_s" not in end  # never answered
    saved = console.call("disposition", {"call_id": dialed["call_id"], "disposition": "interested"})
    assert saved["ok"], saved
    lead = server.api(AGENTS[2], "GET", f"/leads/{lead_id}").json()
    assert lead["stage"] == "new"
    [followup] = server.api(AGENTS[2], "GET", f"/leads/{lead_id}/followups").json()["items"]
    assert followup["reached"] is False


def test_a_callback_promised_on_a_pool_lead_makes_it_the_agents(server, connect):
    console = connect(AGENTS[3])
    offered = console.call("next_lead", {"auto_dial": True})  # preview dialing a pool lead
    assert offered["ok"], offered
    call_id = offered["call_id"]
    assert console.call("hangup", {"call_id": call_id}) == {"ok": True}  # nobody picked up
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended")
    due = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    saved = console.call(
        "disposition",
        {"call_id": call_id, "disposition": "no_answer", "next_followup_at": due},
    )
    assert saved["ok"], saved
    lead = server.api(AGENTS[3], "GET", f"/leads/{offered['lead']['id']}").json()
    assert lead["pool"] == "private" and lead["stage"] == "new"
    listed = server.api(AGENTS[3], "GET", "/followups/scheduled", params={"when": "today"})
    upcoming = server.api(AGENTS[3], "GET", "/followups/scheduled", params={"when": "upcoming"})
    promised = listed.json()["items"] + upcoming.json()["items"]
    assert [p["lead_id"] for p in promised] == [lead["id"]]
