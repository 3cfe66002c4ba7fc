"""Dialer REST endpoints against a live server: DNC list, caller IDs and their rotation, the call
log's filters and org scope, and the signed telephony webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.integration.test_dialer_auto import public_lead_in
from tests.live_server import (
    Console,
    LiveServer,
    seed_where_calls_ring,
    serve,
)

pytestmark = pytest.mark.integration
WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("dialer-api")
    # nobody answers: a call rings for 3 s (until the carrier gives up) unless someone hangs up
    # or the webhook says otherwise
    env = {
        "SIM_TIME_SCALE": "0.1",
        "SIM_ANSWER_RATE": "0.0",
        "SIM_SEED": str(seed_where_calls_ring(40)),
        "TELEPHONY_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with serve(folder, **env) as live:
        added = live.api("manager", "POST", "/caller-ids", json={"number": "01066660001"})
        assert added.status_code == 201, added.text
        yield live


@pytest.fixture
def console(server: LiveServer) -> Iterator[Console]:
    opened = server.console("agent_bj1")
    yield opened
    opened.close()


def short_call(console: Console, lead_id: int) -> int:
    dialed = console.call("dial", {"lead_id": lead_id})
    assert dialed["ok"], dialed
    call_id = dialed["call_id"]
    assert console.call("hangup", {"call_id": call_id}) == {"ok": True}
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended")
    return call_id


def sql(server: LiveServer, query: str, **params) -> list[tuple]:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params)]
    finally:
        engine.dispose()


def test_adding_a_dnc_number_is_idempotent_and_shows_it_masked(server):
    lead = server.claim_lead("agent_bj2")
    phone = server.revealed_phone(lead["id"])
    national = re.sub(r"\D", "", phone)[-11:]
    spelled = f"+86 {national[:3]}-{national[3:7]}-{national[7:]}"
    first = server.api("manager", "POST", "/dnc", json={"phone": phone, "reason": "投诉"})
    again = server.api("manager", "POST", "/dnc", json={"phone": spelled, "reason": "又投诉"})
    assert first.status_code == 201, first.text
    assert again.status_code in {200, 201}, again.text
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["phone_masked"] == f"{national[:3]}****{national[7:]}"
    listed = server.api("manager", "GET", "/dnc")
    assert [e["id"] for e in listed.json()["items"]].count(first.json()["id"]) == 1
    for response in (first, again, listed):
        assert national not in response.text
    assert (
        server.api("agent_bj1", "POST", "/dnc", json={"phone": phone, "reason": "x"}).status_code
        == 403
    )
    invalid = server.api("manager", "POST", "/dnc", json={"phone": "abc", "reason": "x"})
    assert invalid.status_code == 422


def test_a_number_on_another_orgs_dnc_list_is_not_dialled_either(server, console):
    lead = server.claim_lead("agent_bj1")
    phone = server.revealed_phone(lead["id"])
    added = server.api("sz_admin", "POST", "/dnc", json={"phone": phone, "reason": "要求勿扰"})
    assert added.status_code == 201, added.text
    assert console.call("dial", {"lead_id": lead["id"]})["code"] == "dnc"
    hq_entries = server.api("manager", "GET", "/dnc").json()["items"]
    assert added.json()["org_id"] != lead["org_id"]
    assert {e["org_id"] for e in server.api("sz_admin", "GET", "/dnc").json()["items"]} == {
        added.json()["org_id"]
    }
    assert hq_entries  # headquarters sees every org's list


def test_caller_ids_are_added_listed_and_kept_per_org(server):
    added = server.api("sz_admin", "POST", "/caller-ids", json={"number": "075500000009"})
    assert added.status_code == 201, added.text
    assert added.json()["daily_cap"] == 150 and added.json()["active"] is True
    own = server.api("sz_admin", "GET", "/caller-ids").json()["items"]
    assert {c["org_id"] for c in own} == {added.json()["org_id"]}
    assert "075500000009" not in server.api("cd_admin", "GET", "/caller-ids").text
    assert server.api("agent_bj1", "GET", "/caller-ids").status_code == 403
    too_big = server.api("manager", "POST", "/caller-ids", json={"number": "01000", "daily_cap": 0})
    assert too_big.status_code == 422
    again = server.api("sz_admin", "POST", "/caller-ids", json={"number": "075500000009"})
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"]


def test_caller_ids_rotate_under_their_daily_caps_then_run_out(server):
    """Two numbers capped at 2 a day: four calls use each twice, alternating; the fifth fails."""
    numbers = []
    for number in ("075588880001", "075588880002"):
        body = {"number": number, "daily_cap": 2}
        added = server.api("cd_admin", "POST", "/caller-ids", json=body)
        assert added.status_code == 201, added.text
        numbers.append(added.json()["id"])
    leads = [server.claim_lead("cd_agent1") for _ in range(2)]
    console = server.console("cd_agent1")
    try:
        calls = [short_call(console, leads[n % 2]["id"]) for n in range(4)]
        refused = console.call("dial", {"lead_id": leads[0]["id"]})
    finally:
        console.close()
    assert refused["ok"] is False and refused["code"] == "no_caller_id"
    used = sql(
        server,
        "SELECT caller_id_id FROM calls WHERE id IN (:a, :b, :c, :d) ORDER BY id",
        **dict(zip("abcd", calls, strict=True)),
    )
    first, second, third, fourth = (row[0] for row in used)
    # the least used number each time: the two alternate (which one starts is a coin toss)
    assert {first, second} == {third, fourth} == set(numbers)
    days = sql(server, "SELECT caller_id_id, calls FROM caller_id_days ORDER BY caller_id_id")
    assert [(cid, n) for cid, n in days if cid in numbers] == [(numbers[0], 2), (numbers[1], 2)]


def test_the_call_log_filters_and_keeps_each_org_to_its_own_calls(server, console):
    mine, other = server.claim_lead("agent_bj1"), server.claim_lead("agent_bj1")
    first = short_call(console, mine["id"])
    assert console.call("disposition", {"call_id": first, "disposition": "no_answer"})["ok"]
    second = short_call(console, other["id"])
    agent_id = mine["owner_id"]

    assert [c["id"] for c in server.calls("agent_bj1", lead_id=mine["id"])] == [first]
    assert [c["id"] for c in server.calls("manager", disposition="no_answer")][:1] == [first]
    ids = [c["id"] for c in server.calls("manager", agent_id=agent_id)]
    assert ids[:2] == [second, first]  # newest first
    started = server.calls("manager", lead_id=other["id"])[0]["started_at"]
    since = datetime.fromisoformat(started)
    assert [c["id"] for c in server.calls("manager", agent_id=agent_id, **{"from": started})] == [
        second
    ]
    until = (since - timedelta(microseconds=1)).isoformat()
    assert second not in [c["id"] for c in server.calls("manager", to=until)]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert server.calls("manager", **{"from": future}) == []
    # agents see their own calls only; partners see nothing of headquarters
    assert server.calls("agent_bj2", lead_id=mine["id"]) == []
    assert server.calls("agent_bj2", agent_id=agent_id) == []
    assert server.calls("sz_admin", lead_id=mine["id"]) == []
    assert server.calls("sz_agent1", agent_id=agent_id) == []
    bad = server.api("manager", "GET", "/calls", params={"disposition": "maybe"})
    assert bad.status_code == 422


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Loanline-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def post_event(server: LiveServer, event: dict, headers: dict | None = None, secret=WEBHOOK_SECRET):
    body = json.dumps(event).encode()
    return requests.post(
        f"{server.base}/api/v1/telephony/events",
        data=body,
        headers=headers if headers is not None else signed(body, secret),
        timeout=5,
    )


def test_unsigned_or_badly_signed_webhook_events_are_refused(server):
    event = {"call_ref": "1", "state": "ended", "at": datetime.now(UTC).isoformat()}
    for response in (
        post_event(server, event, headers={"Content-Type": "application/json"}),
        post_event(server, event, headers={"X-Loanline-Signature": "sha256=00"}),
        post_event(server, event, secret="not-the-secret"),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_signature"
    body = json.dumps(event).encode()
    tampered = post_event(server, {**event, "call_ref": "2"}, headers=signed(body))
    assert tampered.status_code == 401


def test_signed_webhook_events_move_the_call_and_reach_the_console(server, console):
    lead = public_lead_in(server, "重复市")  # a number no other test put on the DNC list
    assert server.api("agent_bj1", "POST", f"/leads/{lead['id']}/claim").status_code == 200
    dialed = console.call("dial", {"lead_id": lead["id"]})
    call_id = dialed["call_id"]
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ringing")
    answered_at = datetime.now(UTC)
    ended_at = answered_at + timedelta(seconds=42)
    answered = {"call_ref": str(call_id), "state": "answered", "at": answered_at.isoformat()}
    assert post_event(server, answered).json() == {"ok": True}
    console.wait_for("screen_pop", lambda d: d["call_id"] == call_id)
    [call] = server.calls("agent_bj1", lead_id=lead["id"])
    assert call["state"] == "answered" and call["answered_at"] is not None

    ended = {
        "call_ref": str(call_id),
        "state": "ended",
        "at": ended_at.isoformat(),
        "end_reason": "callee_hangup",
        "recording_url": "https://recordings.example/1.mp3",
    }
    assert post_event(server, ended).status_code == 200
    state = console.wait_for(
        "call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended"
    )
    assert state["duration_s"] == 42 and state["end_reason"] == "callee_hangup"
    # a late or repeated event never reopens a call; an unknown call is ignored
    assert post_event(server, answered).status_code == 200
    assert post_event(server, {**answered, "call_ref": "99999999"}).status_code == 200
    [call] = server.calls("agent_bj1", lead_id=lead["id"])
    assert call["state"] == "ended" and call["duration_s"] == 42
    assert call["recording_url"] == ended["recording_url"]
    malformed = post_event(server, {"call_ref": str(call_id), "state": "exploded"})
    assert malformed.status_code == 422


def test_a_public_lead_that_did_not_answer_is_not_offered_again_within_the_hour(server, console):
    lead = public_lead_in(server, "重拨市")
    offered = console.call("next_lead", {"city": "重拨市", "auto_dial": True})
    assert offered["ok"] and offered["lead"]["id"] == lead["id"], offered
    assert console.call("hangup", {"call_id": offered["call_id"]}) == {"ok": True}
    console.wait_for(
        "call_state", lambda d: d["call_id"] == offered["call_id"] and d["state"] == "ended"
    )
    assert console.call("next_lead", {"city": "重拨市"})["code"] == "pool_empty"
    assert server.api("manager", "GET", f"/leads/{lead['id']}").json()["pool"] == "public"


def test_each_call_names_the_server_process_that_owns_it_and_that_server_beats(server, console):
    lead = server.claim_lead("agent_bj1")
    call_id = short_call(console, lead["id"])
    # the join finds the server's heartbeat row
    [(server_id,)] = sql(
        server,
        "SELECT c.server_id FROM calls c JOIN dialer_servers s ON s.id = c.server_id"
        " WHERE c.id = :id",
        id=call_id,
    )
    assert f":{server.process.pid}:" in server_id


def test_next_lead_never_offers_a_number_on_any_orgs_dnc_list(server, console):
    lead = public_lead_in(server, "勿扰市")
    phone = server.revealed_phone(lead["id"])
    added = server.api("sz_admin", "POST", "/dnc", json={"phone": phone, "reason": "要求勿扰"})
    assert added.status_code == 201, added.text
    assert console.call("next_lead", {"city": "勿扰市"})["code"] == "pool_empty"


def test_a_repeated_webhook_event_is_applied_once(server, console):
    """Providers deliver at least once: the same event twice moves the call, the agent's state
    and the console once."""
    lead = public_lead_in(server, "重复市")  # a number no other test put on the DNC list
    assert server.api("agent_bj1", "POST", f"/leads/{lead['id']}/claim").status_code == 200
    dialed = console.call("dial", {"lead_id": lead["id"]})
    assert dialed["ok"], dialed
    call_id = dialed["call_id"]
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ringing")
    answered = {"call_ref": str(call_id), "state": "answered", "at": datetime.now(UTC).isoformat()}
    ringing = {**answered, "state": "ringing"}
    for event in (answered, answered, ringing):
        assert post_event(server, event).json() == {"ok": True}
    ended = {**answered, "state": "ended", "end_reason": "callee_hangup"}
    for _ in range(2):
        assert post_event(server, ended).json() == {"ok": True}
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended")
    time.sleep(0.3)  # a second push, were there one, would have arrived by now

    def pushed(event: str, state: str | None = None) -> int:
        return sum(
            1
            for name, data in console.events
            if name == event and data["call_id"] == call_id and state in (None, data.get("state"))
        )

    assert (pushed("screen_pop"), pushed("call_state", "answered")) == (1, 1)
    assert pushed("call_state", "ended") == 1
    [(on_call,)] = sql(
        server,
        "SELECT count(*) FROM agent_state_spans s JOIN calls c ON c.agent_id = s.user_id"
        " WHERE c.id = :id AND s.state = 'on_call' AND s.started_at >= c.started_at",
        id=call_id,
    )
    [(call_events,)] = sql(
        server,
        "SELECT count(*) FROM lead_events WHERE lead_id = :lead AND kind = 'call'",
        lead=lead["id"],
    )
    assert (on_call, call_events) == (1, 1)


def test_a_replayed_socket_event_is_applied_once(server, console):
    lead = public_lead_in(server, "重放市")
    assert server.api("agent_bj1", "POST", f"/leads/{lead['id']}/claim").status_code == 200
    call_id = short_call(console, lead["id"])
    outcome = {"call_id": call_id, "disposition": "callback", "note": "明天再打"}
    assert console.call("disposition", outcome) == {"ok": True}
    replayed = console.call("disposition", outcome)
    assert replayed["ok"] is False and replayed["code"] == "already_dispositioned"
    [(followups,)] = sql(
        server, "SELECT count(*) FROM followups WHERE lead_id = :lead", lead=lead["id"]
    )
    assert followups == 1
