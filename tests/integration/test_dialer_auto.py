"""Auto mode (power dialing) and the browser's cookie login, with real python-socketio clients
against a live `python wsgi.py` whose callees all answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.integration.test_dialer_live import (  # noqa: F401 - the fixtures
    agent_fixture,
    answering_server,
    calling_hours,
    connect_fixture,
    fresh_agents_fixture,
    hang_up,
)
from tests.live_server import Console, LiveServer, Refused

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with answering_server(tmp_path_factory.mktemp("dialer-auto")) as live:
        yield live


def public_lead_in(server: LiveServer, city: str) -> dict:
    """A new lead of HQ's public pool, alone in `city`."""
    created = server.api(
        "manager",
        "POST",
        "/leads",
        json={
            "name": "王自动",
            "phone": f"139{datetime.now(UTC).microsecond:08d}",
            "city": city,
            "source": "百度推广",
            "consent": {
                "given_at": "2026-11-01T10:00:00+08:00",
                "method": "web_form",
                "text_version": "1",
            },
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def cookie_of(token: str) -> dict[str, str]:
    """What a browser sends with the HttpOnly cookie set at login."""
    return {"Cookie": f"access_token={token}"}


def answered_and_hung_up(console: Console, call_id: int) -> None:
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "answered")
    hang_up(console, call_id)


def first_auto_call(console: Console, city: str | None = None) -> dict:
    """Auto mode on; its first call answered and over, waiting for the disposition."""
    first = console.call("auto_mode", {"enabled": True, "city": city})
    assert first["ok"], first
    answered_and_hung_up(console, first["call_id"])
    return first


def dispose(console: Console, call_id: int, disposition: str = "callback") -> None:
    assert console.call("disposition", {"call_id": call_id, "disposition": disposition}) == {
        "ok": True
    }


def stopped(console: Console) -> dict:
    return console.wait_for("notice", lambda d: d["code"] == "auto_mode_stopped")


def test_auto_mode_dials_the_next_public_lead_after_each_wrap_up_until_a_break(
    server, connect, agent
):
    console = connect(agent)
    assert console.call("agent_state", {"state": "available"}) == {"ok": True}
    first = first_auto_call(console)
    assert first["lead"]["owner_id"] is None and "****" in first["lead"]["phone_masked"]
    dispose(console, first["call_id"], "interested")

    second = console.wait_for("auto_dial")
    assert second["lead"]["id"] != first["lead"]["id"]
    assert console.call_states(second["call_id"])[0] == "dialing"
    answered_and_hung_up(console, second["call_id"])
    # a break during wrap-up ends auto mode: the disposition then dials nothing
    assert console.call("agent_state", {"state": "break"}) == {"ok": True}
    assert stopped(console)["reason"] == "break"
    dispose(console, second["call_id"])
    calls = server.calls(agent)
    assert {c["lead_id"] for c in calls} == {first["lead"]["id"], second["lead"]["id"]}
    assert [e for e, _ in console.events].count("auto_dial") == 1


def test_auto_mode_stops_with_the_guards_reason_when_the_next_dial_is_refused(
    server, connect, agent
):
    console = connect(agent)
    first = first_auto_call(console)
    with calling_hours(server, "manager", first["lead"]["org_id"], "00:00", "01:00"):  # noon now
        dispose(console, first["call_id"])
    assert stopped(console)["reason"] == "outside_calling_hours"
    assert len(server.calls(agent)) == 1


def test_auto_mode_stops_when_the_pool_has_no_lead_left(server, connect, agent):
    console = connect(agent)
    nothing = console.call("auto_mode", {"enabled": True, "city": "无此城"})
    assert nothing["ok"] is False and nothing["code"] == "pool_empty"
    only = public_lead_in(server, "自动市")
    first = first_auto_call(console, "自动市")  # answered: the lead is now the agent's
    assert first["lead"]["id"] == only["id"]
    dispose(console, first["call_id"])
    assert stopped(console)["reason"] == "pool_empty"
    assert len(server.calls(agent)) == 1


def test_auto_mode_turned_off_dials_nothing_more(server, connect, agent):
    console = connect(agent)
    first = first_auto_call(console)
    assert console.call("auto_mode", {"enabled": False}) == {"ok": True}
    assert stopped(console)["reason"] == "off"
    dispose(console, first["call_id"])
    assert len(server.calls(agent)) == 1


def test_a_browser_console_logs_in_with_the_access_token_cookie(server, agent):
    console = Console(server.base, None, headers=cookie_of(server.login(agent)))
    board = Console(server.base, None, "/wallboard", cookie_of(server.login("manager")))
    try:
        assert console.call("agent_state", {"state": "available"}) == {"ok": True}
        board.wait_for("kpis")
    finally:
        console.close()
        board.close()
    with pytest.raises(Refused) as refused:
        Console(server.base, None, headers=cookie_of("x.y.z"))
    assert refused.value.reason["data"] == {"code": "invalid_token"}
