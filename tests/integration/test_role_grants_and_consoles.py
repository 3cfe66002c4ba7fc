"""Nobody grants a role above their own (a manager cannot mint or take over a finance login),
and an open dialer console follows its agent's account."""

from __future__ import annotations

from tests.consoles import console_of
from tests.factories import Factory


def _headers(client, username, password=Factory.PASSWORD):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _me(client, headers):
    return set(client.get("/api/v1/me", headers=headers).json["permissions"])


def test_a_deactivated_agents_open_dialer_console_stops_working(app, client, make):
    """security.md V7: "a deactivated user loses access at once". A console connected before
    the deactivation must not go on changing state or reading the agent's calls."""
    org = make.org("partner")
    agent = make.user("partner_agent", org=org)
    admin = make.user("partner_admin", org=org)
    console = console_of(app, agent)
    off = client.patch(
        f"/api/v1/users/{agent.id}",
        headers=_headers(client, admin.username),
        json={"active": False},
    )
    assert off.status_code == 200
    answer = console.emit("agent_state", {"state": "available"}, namespace="/dialer", callback=True)
    assert answer["ok"] is False, answer
    resumed = console.emit("resume", {}, namespace="/dialer", callback=True)
    assert resumed["ok"] is False, resumed


def test_a_role_change_takes_effect_on_an_open_dialer_console(app, client, make):
    """An agent made a reviewer (no calls:dial) keeps a console connected as an agent: the
    connect check refuses a reviewer, so the events must too once the role has changed."""
    org = make.org("partner")
    agent = make.user("partner_agent", org=org)
    admin = make.user("partner_admin", org=org)
    console = console_of(app, agent)
    changed = client.patch(
        f"/api/v1/users/{agent.id}",
        headers=_headers(client, admin.username),
        json={"role": "reviewer"},
    )
    assert changed.status_code == 200
    assert "calls:dial" not in _me(client, _headers(client, agent.username))
    answer = console.emit("agent_state", {"state": "available"}, namespace="/dialer", callback=True)
    assert answer["ok"] is False, answer


def test_a_manager_cannot_grant_permissions_they_do_not_hold(client, make):
    """security.md V8: "nobody grants a role above their own". A manager lacks
    settlements:approve and commissions:manage, yet may create a finance user (with a password
    the manager chose) who holds both."""
    hq = make.org("hq")
    manager = make.user("manager", org=hq)
    headers = _headers(client, manager.username)
    created = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": "mgr_made_finance",
            "password": "chosen-by-the-manager",
            "display_name": "财务",
            "role": "finance",
            "org_id": hq.id,
        },
    )
    assert created.status_code == 403, created.json
    assert created.json["error"]["code"] == "forbidden"


def test_a_manager_cannot_take_over_a_finance_login_by_resetting_its_password(client, make):
    hq = make.org("hq")
    manager = make.user("manager", org=hq)
    finance = make.user("finance", org=hq)
    reset = client.patch(
        f"/api/v1/users/{finance.id}",
        headers=_headers(client, manager.username),
        json={"password": "now-the-manager-knows-it"},
    )
    assert reset.status_code == 403, reset.json
    # and had it gone through: the manager now approves settlements as finance
    assert "settlements:approve" not in _me(client, _headers(client, manager.username))
