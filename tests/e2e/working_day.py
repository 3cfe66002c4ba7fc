"""Helpers of the working-day browser tests: fresh people in the demo's Beijing team (so no
test finds another's call or lead on its console), leads of their own, and the console ready."""

from __future__ import annotations

import itertools
from typing import Any

from crm.demo import DEMO_PASSWORD
from tests.live_server import LiveServer

_names = itertools.count(1)


def ensure_caller_id(live: LiveServer, admin: str = "manager", number: str = "01088886666") -> None:
    """The org needs an outbound number before anyone dials (the demo may not seed one)."""
    added = live.api(admin, "POST", "/caller-ids", json={"number": number})
    assert added.status_code in (201, 409), added.text


def new_user(live: LiveServer, role: str = "agent", team: str = "北京一组") -> dict:
    """A user of HQ's `team` (password DEMO_PASSWORD), made by the manager as an admin would."""
    teams = live.api("manager", "GET", "/teams", params={"per_page": 200}).json()["items"]
    [found] = [t for t in teams if t["name"] == team]
    username = f"wd_{role}{next(_names)}"
    body = {
        "username": username,
        "password": DEMO_PASSWORD,
        "display_name": f"{role}-{username[-4:]}",
        "role": role,
        "org_id": found["org_id"],
        "team_id": found["id"],
    }
    made = live.api("manager", "POST", "/users", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def agent_with_a_lead(live: LiveServer, login_page) -> tuple[dict, dict, Any]:
    """A new agent owning one lead (the best of the pool), logged in: (user, lead, page)."""
    agent = new_user(live)
    lead = live.claim_lead(agent["username"])
    return agent, lead, login_page(agent["username"])


def open_console(browsed, lead_id: int | None = None) -> None:
    """The console (on `lead_id` when given), connected and told where its agent stands."""
    browsed.open(f"/console?lead={lead_id}" if lead_id else "/console")
    page = browsed.page
    page.wait_for_selector("#live-status[data-status=connected]")
    page.locator("#my-state[data-state]").wait_for()
    if lead_id:
        page.wait_for_selector("#lead-card [data-testid=lead-phone]")
