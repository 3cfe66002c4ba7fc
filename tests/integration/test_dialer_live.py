"""The agent console end to end: real python-socketio clients against a live `python wsgi.py`."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import requests

from tests.live_server import (
    SECRET_KEY,
    Console,
    LiveServer,
    refusals,
    seed_where_calls_ring,
    serve,
)

pytestmark = pytest.mark.integration
AGENTS = [f"live{n:02d}" for n in range(1, 21)]


@contextmanager
def answering_server(folder: Path, **server_env: str) -> Iterator[LiveServer]:
    """Every call rings and is answered within ~0.1 s; the callee talks for 0.2-1.8 s; a console
    that disconnects loses its call at once (no grace period: tests/integration/test_console_grace
    covers it). HQ has one caller ID and the AGENTS."""
    env = {
        "SIM_TIME_SCALE": "0.01",
        "SIM_ANSWER_RATE": "1.0",
        "SIM_SEED": str(seed_where_calls_ring(60)),
        "CONSOLE_GRACE_SECONDS": "0",
        **server_env,
    }
    with serve(folder, AGENTS, **env) as live:
        added = live.api("manager", "POST", "/caller-ids", json={"number": "01088880001"})
        assert added.status_code == 201, added.text
        yield live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with answering_server(tmp_path_factory.mktemp("dialer-live")) as live:
        yield live


# the fixtures are named apart from their functions so test_dialer_auto can import them
@pytest.fixture(scope="module", name="fresh_agents")
def fresh_agents_fixture() -> Iterator[str]:
    return iter(AGENTS)


@pytest.fixture(name="agent")
def agent_fixture(server: LiveServer, fresh_agents: Iterator[str]) -> str:
    """An HQ agent nobody else uses: a console another test closed can never touch its calls."""
    return next(fresh_agents)


@pytest.fixture(name="connect")
def connect_fixture(server: LiveServer) -> Iterator[Callable[..., Console]]:
    """connect(username, namespace="/dialer"): a console closed after the test."""
    opened: list[Console] = []

    def open_console(username: str, namespace: str = "/dialer") -> Console:
        opened.append(server.console(username, namespace))
        return opened[-1]

    yield open_console
    for console in opened:
        console.close()


def answered_call(console: Console, lead_id: int) -> int:
    """Dial and wait until the callee picks up; returns the call id."""
    assert console.call("agent_state", {"state": "available"}) == {"ok": True}
    dialed = console.call("dial", {"lead_id": lead_id})
    assert dialed["ok"], dialed
    call_id = dialed["call_id"]
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "answered")
    return call_id


def hang_up(console: Console, call_id: int) -> dict:
    assert console.call("hangup", {"call_id": call_id}) == {"ok": True}
    return console.wait_for(
        "call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended"
    )


@contextmanager
def calling_hours(server: LiveServer, admin: str, org_id: int, start: str, end: str) -> Iterator:
    """The org's calling hours changed through the settings API, as its admin would, and back."""
    url = f"/orgs/{org_id}/settings"
    before = server.api(admin, "GET", url).json()
    hours = {"calling_hours_start": start, "calling_hours_end": end}
    changed = server.api(admin, "PATCH", url, json=hours)
    assert changed.status_code == 200, changed.text
    try:
        yield
    finally:
        keys = ("calling_hours_start", "calling_hours_end")
        server.api(admin, "PATCH", url, json={k: before[k] for k in keys})


def bad_tokens(server: LiveServer) -> dict[str, str | None]:
    good = server.login("agent_bj1")
    claims = jwt.decode(good, options={"verify_signature": False})
    past = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    header, _payload, signature = good.split(".")
    forged = json.dumps({**claims, "sub": str(int(claims["sub"]) + 1)}).encode()
    forged_payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    return {
        "unauthorized": None,
        "invalid_token": "x.y.z",
        "token_expired": jwt.encode({**claims, "iat": past, "exp": past + 60}, SECRET_KEY),
        "tampered": f"{header}.{forged_payload}.{signature}",
        "other_key": jwt.encode(claims, "another-key-that-is-long-enough-for-hs256!!"),
    }


@pytest.fixture(scope="module")
def refused(server: LiveServer) -> dict[str, dict | None]:
    """Every connection this module expects refused, tried at once (see refusals)."""
    attempts = {case: (token, "/dialer") for case, token in bad_tokens(server).items()}
    attempts["finance on /dialer"] = (server.login("finance"), "/dialer")
    attempts["agent on /wallboard"] = (server.login("agent_bj1"), "/wallboard")
    attempts["agent on /dialer"] = (server.login("agent_bj1"), "/dialer")
    return refusals(server.base, attempts)


def test_missing_bad_expired_or_tampered_tokens_are_refused_at_connect(refused):
    for case in ("unauthorized", "invalid_token", "token_expired", "tampered", "other_key"):
        assert refused[case] is not None, f"{case}: connected"
    assert refused["agent on /dialer"] is None  # the untouched token still connects


def test_roles_without_the_permission_are_refused_on_each_namespace(refused):
    assert refused["finance on /dialer"] is not None
    assert refused["agent on /wallboard"] is not None


def test_a_refused_console_gets_the_reason_as_a_machine_readable_code(refused):
    """Socket.IO clients read a refusal as `err.message` and `err.data`."""
    expected = {case: case for case in ("unauthorized", "invalid_token", "token_expired")}
    expected |= {"tampered": "invalid_token", "other_key": "invalid_token"}
    expected |= {"finance on /dialer": "forbidden", "agent on /wallboard": "forbidden"}
    for case, code in expected.items():
        assert refused[case].get("data") == {"code": code}, (case, refused[case])
        assert "code" not in refused[case]["message"]


def test_a_full_call_pops_the_masked_lead_and_the_disposition_lands_on_the_timeline(
    server, connect, agent
):
    lead = server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    pop = console.wait_for("screen_pop", lambda d: d["call_id"] == call_id)
    assert pop["lead"]["id"] == lead["id"]
    assert "****" in pop["lead"]["phone_masked"]
    ended = hang_up(console, call_id)
    assert ended["end_reason"] in {"agent_hangup", "callee_hangup"}
    assert isinstance(ended["duration_s"], int)
    assert console.call_states(call_id)[-1] == "ended"
    assert {"dialing", "ringing", "answered"} <= set(console.call_states(call_id))

    # the agent never receives the number, in any event
    digits = re.sub(r"\D", "", server.revealed_phone(lead["id"]))[-11:]
    assert digits not in json.dumps(console.events, ensure_ascii=False)

    outcome = {
        "call_id": call_id,
        "disposition": "interested",
        "note": "想贷20万, 周三再联系",
        "stage": "qualified",
    }
    assert console.call("disposition", outcome) == {"ok": True}
    again = console.call("disposition", outcome)
    assert again["code"] == "already_dispositioned"

    timeline = server.api(agent, "GET", f"/leads/{lead['id']}/timeline").json()["items"]
    kinds = [event["kind"] for event in timeline]
    assert {"call", "followup", "stage"} <= set(kinds)
    stages = [e["data"]["to"] for e in timeline if e["kind"] == "stage"]
    assert stages == ["qualified", "contacted"]  # newest first
    followups = server.api(agent, "GET", f"/leads/{lead['id']}/followups").json()["items"]
    assert followups[0]["content"] == outcome["note"]
    assert followups[0]["result"] == "interested" and followups[0]["channel"] == "call"
    [call] = server.calls(agent, lead_id=lead["id"])
    assert call["id"] == call_id and call["state"] == "ended"
    assert call["disposition"] == "interested" and call["note"] == outcome["note"]
    assert digits not in json.dumps(call)
    assert server.api(agent, "GET", f"/leads/{lead['id']}").json()["stage"] == "qualified"


def test_a_disposition_schedules_the_next_follow_up(server, connect, agent):
    """Socket payloads are JSON like API bodies: a time arrives as an ISO 8601 string."""
    lead = server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    next_at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    outcome = {
        "call_id": call_id,
        "disposition": "callback",
        "next_followup_at": next_at.isoformat(),
    }
    assert console.call("disposition", outcome) == {"ok": True}
    [followup] = server.api(agent, "GET", f"/leads/{lead['id']}/followups").json()["items"]
    assert datetime.fromisoformat(followup["next_followup_at"]) == next_at
    assert followup["content"] == "约回电"


def test_the_call_log_keeps_the_privacy_number_that_bridged_the_call(server, connect, agent):
    """The simulated carrier bridges every call through a middle number (AXB); the call log
    records it, a moment after the dial (written off the dial's ack)."""
    lead = server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    call = server.wait_for_call(agent, call_id, lambda c: c["privacy_number"] is not None)
    assert call["privacy_number"].startswith("+86170")
    callee = re.sub(r"\D", "", server.revealed_phone(lead["id"]))[-11:]
    assert callee not in call["privacy_number"]


def test_the_answered_call_and_its_follow_up_reach_the_leads_score_soon_after(
    server, connect, agent
):
    """The dialer re-scores its dispositions' leads together, a moment after the ack."""
    lead = server.claim_lead(agent)

    def engagement() -> dict:
        scored = server.api(agent, "GET", f"/leads/{lead['id']}").json()
        return next(f for f in scored["score_breakdown"] if f["factor"] == "engagement")

    assert engagement()["detail"] == "近14天跟进0次，接通0次"
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    outcome = {"call_id": call_id, "disposition": "interested"}
    assert console.call("disposition", outcome) == {"ok": True}
    deadline = time.monotonic() + 10
    while engagement()["detail"] != "近14天跟进1次，接通1次":
        assert time.monotonic() < deadline, engagement()
        time.sleep(0.1)
    assert engagement()["points"] > 0


def test_call_state_events_carry_the_fields_of_the_api_contract(server, connect, agent):
    """API.md: call_state {call_id, lead_id, state, at, duration_s?, caller_id_masked}, in the
    order dialing → ringing → answered → ended, `dialing` stamped when the call was placed."""
    lead = server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    states = [d for e, d in console.events if e == "call_state" and d["call_id"] == call_id]
    assert [d["state"] for d in states] == ["dialing", "ringing", "answered", "ended"]
    [call] = server.calls(agent, lead_id=lead["id"])
    assert datetime.fromisoformat(states[0]["at"]) == datetime.fromisoformat(call["started_at"])
    for payload in states:
        assert payload["caller_id_masked"] == "010****0001", payload


def test_a_number_on_the_dnc_list_is_never_dialled(server, connect, agent):
    lead = server.claim_lead(agent)
    phone = server.revealed_phone(lead["id"])
    first = server.api("manager", "POST", "/dnc", json={"phone": phone, "reason": "投诉"})
    assert first.status_code == 201, first.text
    console = connect(agent)
    refused = console.call("dial", {"lead_id": lead["id"]})
    assert refused["ok"] is False and refused["code"] == "dnc"
    assert server.calls(agent, lead_id=lead["id"]) == []


def test_a_do_not_call_disposition_puts_the_number_on_the_dnc_list(server, connect, agent):
    lead = server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    done = console.call("disposition", {"call_id": call_id, "disposition": "do_not_call"})
    assert done == {"ok": True}
    assert console.call("dial", {"lead_id": lead["id"]})["code"] == "dnc"
    entries = server.api("manager", "GET", "/dnc").json()["items"]
    assert any(e["source"] == "disposition" and "****" in e["phone_masked"] for e in entries)


def test_a_fourth_call_to_a_lead_on_one_day_is_refused(server, connect, agent):
    lead = server.claim_lead(agent)
    console = connect(agent)
    for _ in range(3):
        dialed = console.call("dial", {"lead_id": lead["id"]})
        assert dialed["ok"], dialed
        hang_up(console, dialed["call_id"])
    refused = console.call("dial", {"lead_id": lead["id"]})
    assert refused["ok"] is False and refused["code"] == "frequency_cap"
    assert len(server.calls(agent, lead_id=lead["id"])) == 3


def test_dialing_while_on_a_call_is_refused_busy(server, connect, agent):
    first, second = server.claim_lead(agent), server.claim_lead(agent)
    console = connect(agent)
    call_id = answered_call(console, first["id"])
    refused = console.call("dial", {"lead_id": second["id"]})
    assert refused["ok"] is False and refused["code"] == "busy"
    assert console.call("agent_state", {"state": "break"})["code"] == "busy"
    hang_up(console, call_id)
    assert server.calls(agent, lead_id=second["id"]) == []


def test_leads_the_agent_does_not_own_are_refused_without_saying_whose_they_are(
    server, connect, agent, fresh_agents
):
    colleague = next(fresh_agents)
    theirs = server.claim_lead(colleague)
    public = server.api(agent, "GET", "/leads", params={"pool": "public"}).json()["items"][0]
    console = connect(agent)

    assert console.call("dial", {"lead_id": public["id"]})["code"] == "not_owner"
    invisible = console.call("dial", {"lead_id": theirs["id"]})
    missing = console.call("dial", {"lead_id": 99_999_999})
    # a colleague's lead answers exactly like one that does not exist: no owner, no number
    assert invisible == missing
    assert invisible["ok"] is False and invisible["code"] == "not_found"
    assert server.calls("manager", lead_id=theirs["id"]) == []


def test_outside_the_orgs_calling_hours_the_dial_is_refused(server, connect):
    lead = server.claim_lead("cd_agent1")
    console = connect("cd_agent1")
    # it is about noon in every org (tests.live_server.noon_settings): 00:00-01:00 excludes now
    with calling_hours(server, "cd_admin", lead["org_id"], "00:00", "01:00"):
        refused = console.call("dial", {"lead_id": lead["id"]})
    assert refused["ok"] is False and refused["code"] == "outside_calling_hours"


def test_an_org_without_caller_ids_cannot_dial_and_is_told_so(server, connect):
    lead = server.claim_lead("cd_agent1")
    console = connect("cd_agent1")
    refused = console.call("dial", {"lead_id": lead["id"]})
    # not "every number reached its daily cap": there is no number at all
    assert refused["ok"] is False and refused["code"] == "no_caller_id_configured"
    assert "no outbound number is configured" in refused["message"]
    assert server.calls("cd_admin", lead_id=lead["id"]) == []


def test_a_console_that_disconnects_mid_call_closes_its_call(server, connect, agent):
    lead = server.claim_lead(agent)
    console = server.console(agent)
    call_id = answered_call(console, lead["id"])
    console.close()
    call = server.wait_for_call(agent, call_id, lambda c: c["state"] == "ended")
    assert call["end_reason"] == "console_lost"


def test_a_second_console_of_the_agent_keeps_its_call_when_the_first_disconnects(
    server, connect, agent
):
    """A reconnecting console: the old connection is found dead after the new one dialled."""
    lead = server.claim_lead(agent)
    stale = server.console(agent)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    stale.close()
    time.sleep(0.5)  # the server handles a disconnect in its own time: nothing to poll for
    [call] = server.calls(agent, lead_id=lead["id"])
    assert call["end_reason"] != "console_lost", call
    hang_up(console, call_id)


def test_partner_agent_cannot_dial_or_see_hq_leads_and_gets_none_of_their_events(
    server, connect, agent
):
    hq_lead = server.claim_lead(agent)
    partner = connect("sz_agent1")
    partner_board = connect("sz_admin", "/wallboard")
    partner_board.wait_for("kpis")
    refused = partner.call("dial", {"lead_id": hq_lead["id"]})
    assert refused == partner.call("dial", {"lead_id": 99_999_999})
    assert refused["code"] == "not_found"
    assert server.api("sz_agent1", "GET", f"/leads/{hq_lead['id']}").status_code == 404
    assert server.calls("sz_admin", lead_id=hq_lead["id"]) == []

    hq_board = connect("manager", "/wallboard")
    hq = connect(agent)
    call_id = answered_call(hq, hq_lead["id"])
    hang_up(hq, call_id)
    hq_board.wait_for("kpis", lambda d: d["org_id"] == hq_lead["org_id"] and "at" in d)
    # a partner event after the HQ call: anything misrouted would have arrived before it
    assert partner.call("agent_state", {"state": "break"}) == {"ok": True}
    partner_board.wait_for(
        "agent_states", lambda d: d["agents"] and d["agents"][0]["state"] == "break"
    )
    leaked = json.dumps(partner.events + partner_board.events)
    assert f'"call_id": {call_id}' not in leaked
    assert f'"lead_id": {hq_lead["id"]}' not in leaked
    assert not any(
        e == "kpis" and d["org_id"] == hq_lead["org_id"] for e, d in partner_board.events
    )


def test_the_wallboard_sees_agent_states_calls_and_kpis_change(server, connect, agent):
    lead = server.claim_lead(agent)
    org_id, agent_id = lead["org_id"], lead["owner_id"]
    board = connect("manager", "/wallboard")
    snapshot = board.wait_for("kpis", lambda d: d["org_id"] == org_id)
    console = connect(agent)
    call_id = answered_call(console, lead["id"])
    hang_up(console, call_id)
    assert console.call("disposition", {"call_id": call_id, "disposition": "callback"})["ok"]

    lifecycle = ["available", "dialing", "on_call", "wrap_up", "available"]
    board.wait_until(lambda: board.states_of(agent_id)[-5:] == lifecycle, what="agent states")
    on_board = [
        d["state"] for e, d in board.events if e == "call_state" and d["call_id"] == call_id
    ]
    assert on_board[-1] == "ended" and "answered" in on_board
    assert all(
        d["agent_id"] == agent_id
        for e, d in board.events
        if e == "call_state" and d["call_id"] == call_id
    )
    # pushed within a second of the change (coalesced per org), not polled by the board
    after = board.wait_for(
        "kpis",
        lambda d: (
            d["org_id"] == org_id
            and (d["calls"], d["connected"]) == (snapshot["calls"] + 1, snapshot["connected"] + 1)
        ),
    )
    assert after["connect_rate"] is not None


def test_power_dialing_claims_a_public_lead_only_once_the_callee_answers(
    server, connect, agent, fresh_agents
):
    console, rival = connect(agent), connect(next(fresh_agents))
    offered = console.call("next_lead", {"auto_dial": True})
    assert offered["ok"], offered
    lead, call_id = offered["lead"], offered["call_id"]
    assert "****" in lead["phone_masked"] and lead["owner_id"] is None
    # ringing here (or already answered, so owned): it is not offered to another console
    assert rival.call("next_lead", {})["lead"]["id"] != lead["id"]
    assigned = console.wait_for("lead_assigned", lambda d: d["lead"]["id"] == lead["id"])
    me = int(jwt.decode(server.login(agent), options={"verify_signature": False})["sub"])
    assert assigned["lead"]["owner_id"] == me
    hang_up(console, call_id)
    assert server.api(agent, "GET", f"/leads/{lead['id']}").json()["owner_id"] == me


def test_the_telephony_webhook_is_off_without_a_secret(server):
    response = requests.post(f"{server.base}/api/v1/telephony/events", json={}, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "webhook_disabled"
