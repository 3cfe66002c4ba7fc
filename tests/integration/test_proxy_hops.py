"""PROXY_HOPS: behind N trusted proxies the audit log records the browser's address from
X-Forwarded-For; with none, a client's own X-Forwarded-For is ignored."""

from __future__ import annotations

import pytest

from crm.http import behind_proxies

pytestmark = pytest.mark.integration

BROWSER = "203.0.113.7"
FORGED = "6.6.6.6"  # what the browser itself wrote into X-Forwarded-For
TEST_CLIENT = "127.0.0.1"  # the peer address Flask's test client sends from


def through(hops: int) -> str:
    """X-Forwarded-For as it reaches the app through `hops` proxies: each appends the address
    it was reached from (the browser's, then each proxy's but the last, which is the app's
    peer) to what the browser forged."""
    return ", ".join([FORGED, BROWSER, *(f"10.0.0.{n}" for n in range(2, hops + 1))])


def revealed_from(client, make, auth, forwarded_for: str) -> str:
    """Reveal a lead's phone with that X-Forwarded-For; the address its audit entry shows."""
    org = make.org()
    headers = auth.login("manager", org=org)
    lead = make.lead(org=org)
    revealed = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers={**headers, "X-Forwarded-For": forwarded_for},
        json={"fields": ["phone"], "purpose": "回访核实客户身份"},
    )
    assert revealed.status_code == 200, revealed.json
    log = client.get(f"/api/v1/audit?action=reveal&lead_id={lead.id}", headers=headers).json
    [entry] = log["items"]
    return entry["ip"]


@pytest.mark.parametrize("hops", [1, 2])
def test_behind_trusted_proxies_the_audit_log_shows_the_browsers_address(
    app, monkeypatch, client, make, auth, hops
):
    # the app as create_app builds it with PROXY_HOPS=hops
    monkeypatch.setattr(app, "wsgi_app", behind_proxies(app.wsgi_app, hops))
    assert revealed_from(client, make, auth, through(hops)) == BROWSER


def test_without_proxy_hops_a_forged_x_forwarded_for_is_ignored(client, make, auth):
    assert revealed_from(client, make, auth, through(2)) == TEST_CLIENT
