"""A dialer console left open follows its agent's account as the API does: deactivated, or moved
to a role without the dialer, it stops working at the next event, not at the next login."""

from __future__ import annotations

import pytest

from tests.consoles import console_of
from tests.integration.test_claims import org_with

pytestmark = pytest.mark.integration


def ack(console, event, data):
    return console.emit(event, data, namespace="/dialer", callback=True)


@pytest.mark.parametrize(
    ("change", "code"), [({"active": False}, "invalid_token"), ({"role": "reviewer"}, "forbidden")]
)
def test_an_open_console_stops_when_its_agent_loses_the_dialer(
    app, client, make, auth, change, code
):
    org = org_with(make)
    manager = make.user("manager", org=org)
    agent = make.user("agent", org=org)
    make.lead(org=org, phone="13900000011", score=90)
    console = console_of(app, agent)
    try:
        assert ack(console, "next_lead", {})["ok"]  # the best public lead, while allowed
        headers = auth.headers_for(manager.username)
        changed = client.patch(f"/api/v1/users/{agent.id}", json=change, headers=headers)
        assert changed.status_code == 200, changed.json
        for event, data in (("next_lead", {}), ("agent_state", {"state": "available"})):
            answer = ack(console, event, data)
            assert (answer["ok"], answer["code"]) == (False, code), (event, answer)
    finally:
        console.disconnect(namespace="/dialer")
